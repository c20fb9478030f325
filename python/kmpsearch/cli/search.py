"""The command's search: files in walk order, searched in parallel, printed in order.

Each input is searched by the core as a whole when it is a regular file (``FileRange``:
``pread``, the chunk plan) -- ``threads`` files at once, each with one core thread, a big
file with all of them -- and its matches (or only their number, when that is all the output
needs) come back to the main thread in walk order. Lines are made only for files with
matches (or every file with ``-v``): the file is read again in line-aligned blocks and
``LineScan`` picks the lines. Standard input, FIFOs and files whose size reads as 0 are
read in line-aligned blocks, each searched in memory.
"""

from __future__ import annotations

import collections
import errno
import os
import stat
import sys
from array import array
from bisect import bisect_left


from .. import _many
from .._calls import run
from .._contract import BIG, STREAM, FileRange
from .._files import open_file, with_path
from .._many import results
from .._semantics import Chooser
from .lines import LineScan, plain_lines
from .printers import StandardPrinter

__all__ = ["BIG_FILE", "BLOCK", "BINARY_GRAIN", "Searcher"]

#: bytes per read when a file's lines are made (a line longer than this is held whole): the
#: matches of one block are held at a time (``Searcher.block``)
BLOCK = 256 << 10
#: a file at least this big is not searched in a batch: its count by the core with every
#: thread, its lines a block at a time (so that however dense its matches, the matches of
#: one block are held at a time)
BIG_FILE = _many.BIG_FILE
#: a binary file's output stops at the start of the 32 KiB piece holding its first NUL byte
#: (where grep, which reads in such pieces, notices it)
BINARY_GRAIN = 32 << 10
#: how a file is opened to read its lines
_READ = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
#: what one file's search may raise without ending the run (a write error is the output's)
FILE_ERRORS = (OSError, MemoryError, ValueError, RuntimeError)


class Searcher:
    """What every input of one run shares: the compiled words, the options, the output.

    ``emit(label, selected, matches)`` prints what a file's counts say (``-c``, ``-l``...);
    ``binary_message(label)`` says a binary file matches; ``error(label, exc)`` reports.
    """

    def __init__(self, cfg, wordset, lengths, opts, printer, *, counts_only: bool, emit, binary_message,
                 error) -> None:
        self.cfg = cfg
        self.wordset = wordset
        self.core = wordset._core if wordset is not None else None
        self.searcher = wordset if wordset is not None else _NoWordsSearcher()
        self.lengths = lengths
        self.opts = opts
        self.printer = printer
        self.counts_only = counts_only
        self.emit = emit
        self.binary_message = binary_message
        self.error = error
        self.matched = False
        # a file's answer needs its lines (not only the core's count of matches)
        filtered = cfg.word or cfg.line or cfg.invert or cfg.leftmost
        self.want = "count" if counts_only and not filtered and cfg.count != "lines" else "pairs"
        self.stats = collections.Counter()
        self.stream_from = None  # a regular file bigger than this is read as a stream (a progress bar moves)
        self.block = BLOCK  # bytes per read of a big file's or a stream's lines
        self.progress = None

    # ---- the files of a walk

    def run(self, files) -> None:
        """Search the ``kmpsearch._tree.File``s ``files`` (an iterator) in order: batches
        searched on a worker thread (``kmpsearch._many``) while this one walks and prints."""
        max_size = BIG_FILE if self.stream_from is None else min(BIG_FILE, self.stream_from + 1)
        count = self.want == "count"
        cfg = self.cfg
        invert, without = cfg.invert, cfg.binary_files == "without-match"
        plain = (not self.counts_only and isinstance(self.printer, StandardPrinter) and not self.printer.color
                 and not (cfg.before_lines or cfg.after_lines or invert or cfg.word or cfg.line or cfg.only_matching
                          or cfg.max_count is not None or cfg.line_buffered or cfg.leftmost or cfg.replace)
                 and cfg.binary_files != "without-match")
        lines_counted = self.counts_only and cfg.count == "lines" and not (
            invert or cfg.word or cfg.line or cfg.leftmost or without)
        for file, st, found in results(self.searcher, files, self.want, self.opts, max_size):
            label = file.label
            try:
                if st > 0:
                    self.error(label, OSError(st, os.strerror(st), label))
                elif st == STREAM:
                    self.stream_path(file.path, label)
                elif st == BIG:
                    self.big(file.path, label)
                elif count:
                    self.stats["searches"] += 1
                    if found and without:
                        self.known(label, file.path, found)
                    else:
                        self._answer(label, 1 if found else 0, found)
                elif not len(found[0]) and not invert:
                    if not plain:  # (lines without a match: nothing to print, nothing to count)
                        self.stats["searches"] += 1
                        if cfg.json:  # its stats say how many bytes were searched
                            self.stats["bytes_searched"] += os.stat(file.path).st_size
                        self._answer(label, 0, 0)
                elif plain:
                    self._plain(file.path, label, found[0])
                elif lines_counted:
                    self._count_lines(file.path, label, found[0])
                else:
                    self.known(label, file.path, found)
            except FILE_ERRORS as exc:
                self._failed(label, exc)

    def _count_lines(self, path: str, label: str, offsets) -> None:
        """``-c`` of a small file with a match: its lines that hold one (a file read again
        only when it has more than one match)."""
        self.stats["searches"] += 1
        if len(offsets) == 1:
            self._answer(label, 1, 1)
            return
        fd = os.open(path, _READ)
        try:
            data = os.pread(fd, BIG_FILE, 0)
        finally:
            os.close(fd)
        self.stats["bytes_searched"] += len(data)
        selected = matches = 0
        end = -1  # where the line of the last counted match ends
        for off in offsets:
            if off >= len(data):
                break  # the file is shorter by now: what was read
            matches += 1
            if off > end:
                selected += 1
                end = data.find(b"\n", off)
                if end < 0:
                    end = len(data)
        self._answer(label, selected, matches)

    def _plain(self, path: str, label: str, offsets) -> None:
        """A small file's lines, in the common case (no context, color or filter): read
        whole, printed in one loop (``plain_lines``)."""
        fd = os.open(path, _READ)
        try:
            data = os.pread(fd, BIG_FILE, 0)
        finally:
            os.close(fd)
        self.stats["searches"] += 1
        self.stats["bytes_searched"] += len(data)
        nul = data.find(b"\0") if self.cfg.binary_files == "binary" else -1
        printer = self.printer
        printer.begin(label)
        text, selected, matches, binary = plain_lines(data, offsets, printer.prefix[":"], printer.line_number,
                                                      printer.byte_offset, nul - nul % BINARY_GRAIN if nul >= 0
                                                      else len(data) + 1)
        if text:
            printer.printed_any = True
            printer.write(text)
        if binary:
            self.binary_message(label)
        self._answer(label, selected, matches, len(data))

    def big(self, path: str, label: str) -> None:
        """A file too big for a batch: searched by the core with every thread (or read as a
        stream when a progress bar is to move)."""
        if self.stream_from is not None:
            self.stream_path(path, label)
            return
        try:
            f, st = open_file(path, regular=False)
        except OSError as exc:
            self.error(label, exc)
            return
        with f:
            try:
                if not stat.S_ISREG(st.st_mode) or st.st_size == 0 or self.want != "count":
                    # its lines: line-aligned blocks searched one by one (the matches of one
                    # block in memory at a time, however dense)
                    self.stream(f, label, regular=stat.S_ISREG(st.st_mode))
                    return
                found = run(self.core, FileRange(f.fileno(), 0, st.st_size), "count", self.opts) \
                    if self.core is not None else 0
                self.regular(f, st, found, label)
            except FILE_ERRORS as exc:
                self._failed(label, exc)

    # ---- answers

    def regular(self, fh, st, found, label: str) -> None:
        """A regular file the core has searched: ``found`` its count or its pairs."""
        cfg = self.cfg
        self.stats["searches"] += 1
        self.stats["bytes_searched"] += st.st_size
        if cfg.binary_files == "without-match" and b"\0" in os.pread(fh.fileno(), BINARY_GRAIN, 0):
            self.emit(label, 0, 0)
            return
        if self.want == "count":
            self._answer(label, 1 if found else 0, found)
            return
        offsets, words = found
        if not len(offsets) and not cfg.invert:
            self._answer(label, 0, 0)
            return
        scan = self._scan(label)
        fd = fh.fileno()
        size = st.st_size
        step = self.block
        for base, block in _line_blocks(lambda pos: os.pread(fd, step, pos) if pos < size else b""):
            lo, hi = bisect_left(offsets, base), bisect_left(offsets, base + len(block))
            self._binary(scan, base, block)
            if not scan.feed(base, block, *self._chosen(scan, base, block, offsets[lo:hi], words[lo:hi], base)):
                break
        self._close(scan, label, size)

    def stream_path(self, path: str, label: str) -> None:
        try:
            f, st = open_file(path, regular=False)
        except OSError as exc:
            self.error(label, exc)
            return
        meter = self.progress.meter(label, st.st_size if stat.S_ISREG(st.st_mode) else None) \
            if self.progress is not None else None
        with f:
            try:
                self.stream(f, label, meter.advance if meter is not None else None)
            except FILE_ERRORS as exc:
                self._failed(label, exc)
            finally:
                if meter is not None:
                    meter.close()

    def known(self, label: str, path: str, found) -> None:
        """A file searched elsewhere (``--dask``): ``found`` its count or pairs."""
        try:
            f, st = open_file(path, regular=True)
        except OSError as exc:
            self.error(label, exc)
            return
        with f:
            try:
                self.regular(f, st, found, label)
            except FILE_ERRORS as exc:
                self._failed(label, exc)

    def _failed(self, label: str, exc: BaseException) -> None:
        """A file's search failed (not the output's): reported, and the next file searched."""
        if isinstance(exc, BrokenPipeError):
            raise exc
        self.error(label, with_path(exc, label) if isinstance(exc, OSError) else exc)

    def stream(self, f, label: str, on_read=None, regular: bool = False) -> None:
        """Standard input, a FIFO, a file whose size reads as 0, a big file's lines:
        line-aligned blocks, each searched in memory as it arrives (``regular``: read with
        ``pread``, the file's own position unused)."""
        self.stats["searches"] += 1
        scan = self._scan(label)
        if regular:
            fd = f.fileno()

            def read(size: int, at=[0]) -> bytes:  # noqa: B006 - this call's position
                data = os.pread(fd, size, at[0])
                at[0] += len(data)
                return data
        else:
            read = getattr(f, "read1", None) or f.read

        step = self.block

        def reads(_pos: int) -> bytes:
            data = read(step)
            if data:
                self.stats["bytes_searched"] += len(data)
                if on_read is not None:
                    on_read(len(data))
            return data

        first = True
        size = 0
        for base, block in _line_blocks(reads):
            size = base + len(block)
            if first and self.cfg.binary_files == "without-match" and b"\0" in block[:BINARY_GRAIN]:
                self.emit(label, 0, 0)
                return
            first = False
            offsets, words = self._search_block(block)
            self._binary(scan, base, block)
            if not scan.feed(base, block, *self._chosen(scan, base, block, offsets, words, 0)):
                break
            if not regular and scan.printer is not None:
                scan.printer.flush_out()  # a pipe's lines as they come, not when it ends
        self._close(scan, label, size)

    def _search_block(self, block: bytes):
        if self.core is None or not block:
            return _NO_PAIRS
        with memoryview(block) as view:
            return run(self.core, view, "pairs", self.opts)

    # ---- lines

    def _scan(self, label: str) -> LineScan:
        cfg = self.cfg
        printing = not self.counts_only
        if printing:
            self.printer.begin(label)
        scan = LineScan(self.lengths, self.printer if printing else None, invert=cfg.invert, word=cfg.word,
                        line=cfg.line, before=cfg.before_lines, after=cfg.after_lines, max_count=cfg.max_count,
                        only=cfg.only_matching, numbers=cfg.line_number or cfg.json,
                        stop_at_first=cfg.quiet or cfg.files is not None)
        scan.chooser = Chooser(self.lengths, False, "leftmost-first") if cfg.leftmost else None
        return scan

    def _chosen(self, scan: LineScan, base: int, block: bytes, offsets, words, origin: int):
        """``(offsets, words, origin)`` to feed: with ``--leftmost`` the non-overlapping
        matches (``kmpsearch._semantics.Chooser``, leftmost-first), offsets then absolute."""
        if scan.chooser is None:
            return offsets, words, origin
        if origin == 0 and base:
            offsets = array("q", (o + base for o in offsets))
        return (*scan.chooser.keep(block, base, offsets, words, b"\n"), base)

    def _binary(self, scan: LineScan, base: int, block: bytes) -> None:
        if scan.binary_at is None and self.cfg.binary_files == "binary" and not self.counts_only \
                and not self.cfg.json:
            nul = block.find(b"\0")
            if nul >= 0:
                at = base + nul
                scan.binary_at = at - at % BINARY_GRAIN

    def _close(self, scan: LineScan, label: str, size: int) -> None:
        if scan.binary:
            self.binary_message(label)
        self._answer(label, scan.selected, scan.matches, size)

    def _answer(self, label: str, selected: int, matches: int, size: int = 0) -> None:
        if selected:
            self.matched = True
            self.stats["searches_with_match"] += 1
        self.stats["matched_lines"] += selected if not self.cfg.invert else 0
        self.stats["matches"] += matches
        if self.printer is not None and not self.counts_only:
            self.printer.end(label, {"matched_lines": selected, "matches": matches, "bytes_searched": size,
                                     "searches_with_match": 1 if selected else 0})
        self.emit(label, selected, matches)


_NO_PAIRS = (array("q"), array("i"))


class _NoWords:
    """The core of a run without any word (an empty patterns file): files are still opened
    (errors are reported, as grep), nothing matches."""

    memory_bytes = 0

    def search(self, source, want, opts):
        from .._pycore import search_batch

        return search_batch(source, want, opts, lambda r, w, o: 0 if w == "count" else _NO_PAIRS, 1)


class _NoWordsSearcher:
    _core = _NoWords()
    _nwords = 1


def _line_blocks(read):
    """``(base, block)``: the input, read by ``read(offset)`` (``b""`` at its end), in blocks
    of whole lines (the last one maybe without its newline); a line longer than a read is
    held until it ends, its reads joined once (linear in its length)."""
    base = pos = 0
    held: list = []  # the reads of a line not ended yet
    while True:
        data = read(pos)
        pos += len(data)
        if not data:
            if held:
                yield base, b"".join(held)
            return
        cut = data.rfind(b"\n") + 1
        if not cut:
            held.append(data)
            continue
        if held:
            held.append(data[:cut])
            block = b"".join(held)
        else:
            block = data if cut == len(data) else data[:cut]
        held = [data[cut:]] if cut < len(data) else []
        yield base, block
        base += len(block)


def stdin_file():
    """Standard input as an unbuffered binary file (not closed with it), or OSError."""
    try:
        fd = sys.stdin.fileno()
        f = open(fd, "rb", buffering=0, closefd=False)  # noqa: SIM115
    except (OSError, ValueError, AttributeError) as exc:
        if isinstance(exc, OSError):
            raise
        raise OSError(errno.EBADF, os.strerror(errno.EBADF)) from None
    return f
