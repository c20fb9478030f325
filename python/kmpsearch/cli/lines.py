"""From matches to lines: which lines a file's matches select, with grep's context, counts,
``-m``, ``-v``, ``-w``, ``-x`` and binary files.

``LineScan`` is fed a file block by block -- ``feed(base, data, offsets, words)``: ``data``
the bytes from offset ``base`` on, whole lines (it ends with a newline, but at the end of
the file), ``offsets``/``words`` the matches that start in it (ascending) -- and reports
selected lines, context and separators to a printer. Matches never cross lines (a pattern
holds no newline), so a block is searched on its own.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque

from .._semantics import whole_word

__all__ = ["LineScan"]


class LineScan:
    """The lines of one file.

    ``lengths[word]``: each word's length in bytes. ``printer``: None counts only (``-c``,
    ``-l``, ``-L``, ``-q``). ``only``: ``-o`` (each match printed, not its line).
    ``binary_at``: where the file's binary part starts (None: text); the first selected
    line there stops the scan with ``binary = True`` (grep prints "binary file matches").
    ``stop_at_first``: ``-l``, ``-L``, ``-q``: the first selected line answers.
    """

    def __init__(self, lengths, printer=None, *, invert=False, word=False, line=False, before=0, after=0,
                 max_count=None, only=False, numbers=False, stop_at_first=False, binary_at=None) -> None:
        self.lengths = lengths
        self.printer = printer
        self.invert = invert
        self.word = word
        self.whole_line = line
        self.before = before if printer is not None and not only else 0
        self.after = after if printer is not None and not only else 0
        self.max_count = max_count
        self.only = only
        self.numbers = numbers or self.before > 0 or self.after > 0
        self.stop_at_first = stop_at_first
        self.binary_at = binary_at
        self.binary = False
        self.filtered = word or line
        # each match's place is needed: -o, --color, --json (the printer says)
        self.want_spans = printer is not None and (only or getattr(printer, "wants_spans", False))
        self.selected = 0   # selected lines
        self.matches = 0    # matches in them (not with -v)
        self.lineno = 0     # lines before self.counted (with numbers)
        self.counted = 0    # absolute offset up to which lines are counted
        self.last = 0       # line number of the last line printed (0: none)
        self.after_left = 0  # trailing context lines still to print
        self.tail: deque = deque(maxlen=self.before or 1)  # (lineno, offset, text) not yet printed
        self.done = False
        self._resume = 0    # with -m: where the trailing context goes on in the last block
        self.chooser = None  # --leftmost: the matches kept of the candidates
        self.origin = 0     # what the offsets of the block being fed count from

    # ---- matches

    def _spans(self, data, base: int, ls: int, le: int, offsets, words, i: int, n: int):
        """The matches of the line ``data[ls:le]`` from match ``i`` on, kept by -w/-x:
        ``(spans relative to the line, how many, the next match index)``; ``spans`` is
        ``()`` when nothing needs them (plain lines: only whether there is one counts)."""
        origin = self.origin
        if not self.filtered and not self.want_spans:
            j = bisect_left(offsets, origin + le, i, n)
            return (), j - i, j
        spans = []
        lengths = self.lengths
        while i < n:
            s = offsets[i] - origin
            if s >= le:
                break
            e = s + lengths[words[i]]
            i += 1
            if e > le:
                continue
            if self.whole_line and (s != ls or e != le):
                continue
            if self.word and not whole_word(data, s, e):
                continue
            spans.append((s - ls, e - ls))
        return spans, len(spans), i

    def _count_to(self, data, base: int, rel: int) -> None:
        """Count the lines up to ``data[rel]`` (when numbers are needed)."""
        start = self.counted - base
        if rel > start:
            self.lineno += data.count(b"\n", start, rel)
            self.counted = base + rel

    # ---- output

    def _group(self, lineno: int) -> None:
        """A separator before a line that does not follow the last one printed (with context)."""
        if not self.last or lineno > self.last + 1:
            self.printer.separator()

    def _context_line(self, lineno: int, offset: int, text: bytes, newline: bool = True) -> None:
        self._group(lineno)
        self.printer.line("-", lineno, offset, text, (), newline)
        self.last = lineno

    def _select(self, data, base: int, ls: int, le: int, spans, kept: int, lineno: int) -> None:
        """A selected line: before context, the line (or its matches), after context next."""
        self.selected += 1
        self.matches += kept
        printer = self.printer
        if printer is None:
            if self.stop_at_first or (self.max_count is not None and self.selected >= self.max_count):
                self.done = True
            return
        if self.binary_at is not None and base + ls >= self.binary_at:
            self.binary = True
            self.done = True
            return
        text = data[ls:le]
        if self.only:
            for s, e in spans:
                printer.match(lineno, base + ls + s, text[s:e])
        else:
            for n, off, t in self.tail:
                if self.last < n < lineno:
                    self._context_line(n, off, t)
            self.tail.clear()
            if self.before or self.after:
                self._group(lineno)
            printer.line(":", lineno, base + ls, text, spans, le < len(data))
        self.last = lineno
        self.after_left = self.after
        if self.max_count is not None and self.selected >= self.max_count:
            self.done = True  # (the trailing context is still printed: see feed)

    def _unselected(self, data, base: int, ls: int, le: int, lineno: int) -> None:
        """A line that is not selected: trailing context, or kept as leading context."""
        if self.printer is None:
            return
        if self.after_left > 0:
            self.after_left -= 1
            self._context_line(lineno, base + ls, data[ls:le], le < len(data))
        elif self.before:
            self.tail.append((lineno, base + ls, data[ls:le]))

    # ---- blocks

    def feed(self, base: int, data, offsets, words, origin: int | None = None) -> bool:
        """One block (see the module docstring); False once the file needs no more.
        ``origin``: the offset ``offsets`` count from (default ``base``: absolute; 0: the
        block's own)."""
        if self.done:
            return self._finish_after(base, data)
        self.origin = base if origin is None else origin
        if self.invert:
            self._feed_inverted(base, data, offsets, words)
        else:
            self._feed(base, data, offsets, words)
        if self.done:
            return False if self.after_left <= 0 or self.binary else self._finish_after(base, data, resume=True)
        if self.numbers:
            self._count_to(data, base, len(data))
        return True

    def _feed(self, base: int, data, offsets, words) -> None:
        n = len(offsets)
        size = len(data)
        context = self.printer is not None and (self.before or self.after)
        i = 0
        pos = 0  # relative: the lines before it are handled
        origin = self.origin
        while i < n:
            off = offsets[i] - origin
            ls = data.rfind(b"\n", 0, off) + 1
            le = data.find(b"\n", off)
            if le < 0:
                le = size
            spans, kept, i = self._spans(data, base, ls, le, offsets, words, i, n)
            if not kept:
                continue
            if context:
                self._lines_between(data, base, pos, ls)
            lineno = 0
            if self.numbers:
                self._count_to(data, base, ls)
                lineno = self.lineno + 1
            self._select(data, base, ls, le, spans, kept, lineno)
            pos = le + 1
            if self.done:
                self._resume = pos
                return
        if context:
            self._lines_between(data, base, pos, size)

    def _lines_between(self, data, base: int, pos: int, end: int) -> None:
        """The unselected lines ``data[pos:end]`` (whole lines): the trailing context of the
        last selected line, then the last ``before`` of them kept as leading context."""
        while pos < end and self.after_left > 0:
            le = data.find(b"\n", pos, end)
            if le < 0:
                le = end
            self._count_to(data, base, pos)
            self.after_left -= 1
            self._context_line(self.lineno + 1, base + pos, data[pos:le], le < len(data))
            pos = le + 1
        if pos >= end or not self.before:
            return
        start = end
        for _ in range(self.before):
            if start <= pos:
                break
            nl = data.rfind(b"\n", pos, start - 1)
            start = nl + 1 if nl >= 0 else pos
        while start < end:
            le = data.find(b"\n", start, end)
            if le < 0:
                le = end
            self._count_to(data, base, start)
            self.tail.append((self.lineno + 1, base + start, data[start:le]))
            start = le + 1

    def _feed_inverted(self, base: int, data, offsets, words) -> None:
        n = len(offsets)
        size = len(data)
        i = 0
        pos = 0
        while pos < size:
            le = data.find(b"\n", pos)
            if le < 0:
                le = size
            spans, kept, i = self._spans(data, base, pos, le, offsets, words, i, n)
            self._count_to(data, base, pos)
            lineno = self.lineno + 1
            if kept:
                self._unselected(data, base, pos, le, lineno)
            else:
                self._select(data, base, pos, le, (), 0, lineno)
                if self.done:
                    self._resume = le + 1
                    return
            pos = le + 1

    def _finish_after(self, base: int, data, resume: bool = False) -> bool:
        """After ``-m``'s last selected line: its trailing context, then stop."""
        if self.after_left <= 0 or self.printer is None or self.binary:
            return False
        pos = self._resume if resume else 0
        size = len(data)
        while pos < size and self.after_left > 0:
            le = data.find(b"\n", pos)
            if le < 0:
                le = size
            lineno = 0
            if self.numbers:
                self._count_to(data, base, pos)
                lineno = self.lineno + 1
            self.after_left -= 1
            self._context_line(lineno, base + pos, data[pos:le], le < len(data))
            pos = le + 1
        if self.numbers:
            self._count_to(data, base, size)
        return self.after_left > 0


def plain_lines(data: bytes, offsets, prefix: bytes, numbers: bool, byte_offset: bool, binary_at: int):
    """The common case in one loop: the lines of ``data`` (a whole file) that hold a match
    at ``offsets`` (ascending), each once, as grep prints them without context, color or
    filters: ``(output, selected lines, matches, binary)``; a line from ``binary_at`` on
    stops it (``binary``)."""
    out = []
    append = out.append
    size = len(data)
    end = -1      # where the last selected line ends (a match before it: the same line)
    lineno = 0    # lines before `counted`
    counted = 0
    selected = matches = 0
    for off in offsets:
        if off >= size:
            break  # the file is shorter by now: what was read
        matches += 1
        if off < end:
            continue
        ls = data.rfind(b"\n", 0, off) + 1
        if ls >= binary_at:
            return b"".join(out), selected, matches, True
        le = data.find(b"\n", off)
        if le < 0:
            le = size
        head = prefix
        if numbers:
            lineno += data.count(b"\n", counted, ls)
            counted = ls
            head += b"%d:" % (lineno + 1)
        if byte_offset:
            head += b"%d:" % ls
        append(head + data[ls:le] + b"\n")
        selected += 1
        end = le + 1
    return b"".join(out), selected, matches, False
