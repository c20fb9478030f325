"""How the command prints: grep's lines (``StandardPrinter``) and ripgrep's JSON Lines
(``JsonPrinter``). Counts and file names are printed by ``kmpsearch.cli.search``.

A printer gets, per file, ``begin``, then lines (``line``: a selected line, ``:``; a context
line, ``-``), ``separator`` between non-adjacent groups of context, ``match`` for ``-o``,
``binary`` when a binary file matches, and ``end``; ``finish`` at the very end. Lines are
the bytes of one input line without its newline; ``spans`` the matches in it (start, end),
relative to the line, ascending by start.
"""

from __future__ import annotations

import base64
import json
import os
import time
from typing import Any

__all__ = ["JsonPrinter", "StandardPrinter", "json_text"]

# grep's default GREP_COLORS: ms=01;31 (match), fn=35 (file name), ln=32 (line number),
# bn=32 (byte offset), se=36 (separator)
_SGR = "\033[{}m\033[K"
_END = "\033[m\033[K"


def _colored(code: str, text: bytes) -> bytes:
    return _SGR.format(code).encode() + text + _END.encode()


def json_text(raw: bytes) -> dict[str, str]:
    """``{"text": ...}`` for UTF-8, else ``{"bytes": base64}``: ripgrep's --json data."""
    try:
        return {"text": raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {"bytes": base64.b64encode(raw).decode("ascii")}


class StandardPrinter:
    """grep's output: ``[FILE:][LINE:][OFFSET:]TEXT``, ``-`` instead of ``:`` for context
    lines, a separator line between non-adjacent groups, ``--color``'s markers."""

    def __init__(self, out, *, with_filename: bool, line_number: bool, byte_offset: bool, null: bool,
                 color: bool, separator: bytes | None, line_buffered: bool, replace: bytes | None = None) -> None:
        self.write = out.write
        self.flush_out = out.flush
        self.with_filename = with_filename
        self.line_number = line_number
        self.byte_offset = byte_offset
        self.null = null
        self.color = color
        self.separator_line = None if separator is None else (
            _colored("36", separator) if color else separator) + b"\n"
        self.line_buffered = line_buffered
        self.prefix = {}  # kind -> the file name part of the prefix
        self.printed_any = False  # a separator goes between groups, also of different files
        self.replace = replace
        self.leftmost_first = False  # --leftmost: --replace replaces leftmost-first
        self.wants_spans = color or replace is not None  # the matches' places, to color or replace them

    def begin(self, label: str) -> None:
        name = os.fsencode(label)
        if not self.with_filename:
            self.prefix = {":": b"", "-": b""}
        elif self.null:
            shown = _colored("35", name) if self.color else name
            self.prefix = {":": shown + b"\0", "-": shown + b"\0"}
        elif self.color:
            shown = _colored("35", name)
            self.prefix = {":": shown + _colored("36", b":"), "-": shown + _colored("36", b"-")}
        else:
            self.prefix = {":": name + b":", "-": name + b"-"}

    def _head(self, kind: str, lineno: int, offset: int) -> bytes:
        head = self.prefix[kind]
        sep = _colored("36", kind.encode()) if self.color else kind.encode()
        if self.line_number:
            head += (_colored("32", b"%d" % lineno) if self.color else b"%d" % lineno) + sep
        if self.byte_offset:
            head += (_colored("32", b"%d" % offset) if self.color else b"%d" % offset) + sep
        return head

    def separator(self) -> None:
        if self.separator_line is not None and self.printed_any:
            self.write(self.separator_line)

    def line(self, kind: str, lineno: int, offset: int, text: bytes, spans, newline: bool = True) -> None:
        self.printed_any = True
        if self.replace is not None and kind == ":" and spans:
            pieces = []
            prev = 0
            for start, end in _chosen(spans, self.leftmost_first):
                pieces.append(text[prev:start])
                pieces.append(_colored("01;31", self.replace) if self.color else self.replace)
                prev = end
            pieces.append(text[prev:])
            text = b"".join(pieces)
        elif self.color and kind == ":" and spans:
            pieces = []
            prev = 0
            for start, end in _merged(spans):
                pieces.append(text[prev:start])
                pieces.append(_colored("01;31", text[start:end]))
                prev = end
            pieces.append(text[prev:])
            text = b"".join(pieces)
        self.write(self._head(kind, lineno, offset) + text + b"\n")
        if self.line_buffered:
            self.flush_out()

    def match(self, lineno: int, offset: int, text: bytes) -> None:
        self.printed_any = True
        if self.replace is not None:
            text = self.replace
        self.write(self._head(":", lineno, offset) + (_colored("01;31", text) if self.color else text) + b"\n")
        if self.line_buffered:
            self.flush_out()

    def binary(self, label: str) -> None:
        """A binary file matches: said on standard error by the caller (grep 3.5+)."""

    def end(self, label: str, stats: dict) -> None:
        pass

    def finish(self, stats: dict) -> None:
        pass


def _chosen(spans, first: bool = False):
    """Non-overlapping spans (what ``--replace`` replaces): leftmost-longest, or with
    ``first`` leftmost-first (the spans of one start come in the words' order)."""
    out = []
    end = -1
    k = 0
    while k < len(spans):
        start = spans[k][0]
        best = spans[k][1]
        while k < len(spans) and spans[k][0] == start:
            if not first:
                best = max(best, spans[k][1])
            k += 1
        if start >= end:
            out.append((start, best))
            end = best
    return out


def _merged(spans):
    """Overlapping spans as one (a word inside another is colored once); adjacent ones stay
    apart, as grep colors each match."""
    out = []
    for start, end in spans:
        if out and start < out[-1][1]:
            if end > out[-1][1]:
                out[-1][1] = end
        else:
            out.append([start, end])
    return out


class JsonPrinter:
    """ripgrep's ``--json`` (JSON Lines): ``begin``, ``match``/``context``, ``end`` per file
    with a selected line, and a closing ``summary``; paths, lines and matches as
    ``{"text": ...}``, or ``{"bytes": base64}`` where they are not UTF-8."""

    wants_spans = True  # every match is a submatch

    def __init__(self, out, *, line_buffered: bool) -> None:
        self.write = out.write
        self.flush_out = out.flush
        self.line_buffered = line_buffered
        self.path: dict[str, str] = {}
        self.started = 0.0
        self.begun = False
        self.label = ""
        self.total_start = time.perf_counter()
        self.printed = 0

    def _emit(self, obj: dict[str, Any]) -> None:
        data = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
        self.printed += len(data)
        self.write(data)
        if self.line_buffered:
            self.flush_out()

    def begin(self, label: str) -> None:
        self.path = json_text(os.fsencode(label))
        self.label = label
        self.started = time.perf_counter()
        self.begun = False

    def _begin_now(self) -> None:
        if not self.begun:
            self.begun = True
            self._emit({"type": "begin", "data": {"path": self.path}})

    def separator(self) -> None:
        pass

    def line(self, kind: str, lineno: int, offset: int, text: bytes, spans, newline: bool = True) -> None:
        self._begin_now()
        self._emit({"type": "match" if kind == ":" else "context", "data": {
            "path": self.path, "lines": json_text(text + b"\n" if newline else text), "line_number": lineno,
            "absolute_offset": offset,
            "submatches": [{"match": json_text(text[s:e]), "start": s, "end": e} for s, e in spans]}})

    def match(self, lineno: int, offset: int, text: bytes) -> None:  # -o with --json: the line form
        self.line(":", lineno, offset, text, [(0, len(text))])

    def binary(self, label: str) -> None:
        pass

    def end(self, label: str, stats: dict) -> None:
        if not self.begun:
            return
        self.begun = False
        elapsed = time.perf_counter() - self.started
        printed = self.printed
        self._emit({"type": "end", "data": {"path": self.path, "binary_offset": stats.get("binary_offset"),
                                            "stats": _stats(stats, elapsed, printed)}})
        self.printed = printed  # as ripgrep's, bytes_printed counts the begin, match and context lines

    def finish(self, stats: dict) -> None:
        elapsed = time.perf_counter() - self.total_start
        self._emit({"data": {"elapsed_total": _elapsed(elapsed), "stats": _stats(stats, elapsed, self.printed)},
                    "type": "summary"})


def _elapsed(seconds: float) -> dict[str, Any]:
    return {"secs": int(seconds), "nanos": int(seconds % 1 * 1e9), "human": f"{seconds:.6f}s"}


def _stats(stats: dict, elapsed: float, printed: int) -> dict[str, Any]:
    return {"elapsed": _elapsed(elapsed), "searches": stats.get("searches", 1),
            "searches_with_match": stats.get("searches_with_match", 0),
            "bytes_searched": stats.get("bytes_searched", 0), "bytes_printed": printed,
            "matched_lines": stats.get("matched_lines", 0), "matches": stats.get("matches", 0)}
