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
import itertools
import os
import stat
import sys
from array import array
from bisect import bisect_left
from concurrent.futures import ThreadPoolExecutor


from .._calls import run, shutdown, submit
from .._contract import FileRange
from .._files import open_file, with_path
from .lines import LineScan

__all__ = ["BIG_FILE", "BLOCK", "BINARY_GRAIN", "Searcher"]

#: bytes per read when a file's lines are made (a line longer than this is held whole)
BLOCK = 1 << 20
#: a regular file at least this big is searched with every thread (smaller: one each)
BIG_FILE = 8 << 20
#: a binary file's output stops at the start of the 32 KiB piece holding its first NUL byte
#: (where grep, which reads in such pieces, notices it)
BINARY_GRAIN = 32 << 10
#: files a worker searches in one go, and batches searched ahead of the one being printed
BATCH = 32
AHEAD = 8
#: how the workers open a file: read-only, and not waiting for a FIFO's writer (a FIFO is then
#: read as a stream by the main thread, which opens it again)
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_NONBLOCK", 0)
#: a file to read as a stream
STREAM = object()


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
        self.lengths = lengths
        self.opts = opts
        self.printer = printer
        self.counts_only = counts_only
        self.emit = emit
        self.binary_message = binary_message
        self.error = error
        self.matched = False
        # a file's answer needs its lines (not only the core's count of matches)
        filtered = cfg.word or cfg.line or cfg.invert
        self.want = "count" if counts_only and not filtered and cfg.count != "lines" else "pairs"
        self.stats = collections.Counter()
        self.stream_from = None  # a regular file bigger than this is read as a stream (a progress bar moves)
        self.progress = None
        self.listed_without = False  # -L listed a file

    # ---- regular files, a batch at a time on a worker thread

    def _search_batch(self, files, flag: bytearray) -> list:
        """``(fd, st, found)`` per file of ``files``: ``fd`` left open when its lines are
        needed (else None), ``found`` its count or pairs; ``(None, st, STREAM)`` when it
        must be read as a stream (not a regular file, size 0, or a progress bar to move);
        ``(None, exc, None)`` when it cannot be searched."""
        out = []
        core, want, invert = self.core, self.want, self.cfg.invert
        one = self.opts._replace(threads=1, cancel=flag)
        every = self.opts._replace(cancel=flag)
        stream_from = self.stream_from
        for f in files:
            if flag[0]:
                break
            try:
                fd = os.open(f.path, _OPEN_FLAGS)
            except OSError as exc:
                out.append((None, with_path(exc, f.label), None))
                continue
            try:
                st = os.fstat(fd)
                if stat.S_ISDIR(st.st_mode):
                    raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), f.label)
                size = st.st_size
                if not stat.S_ISREG(st.st_mode) or size == 0 or (stream_from is not None and size > stream_from):
                    os.close(fd)
                    out.append((None, st, STREAM))
                    continue
                if core is None:
                    found = 0 if want == "count" else _NO_PAIRS
                else:
                    found = core.search(FileRange(fd, 0, size), want, every if size >= BIG_FILE else one)
                if (not found if want == "count" else not len(found[0]) and not invert) or (
                        want == "count" and not self.cfg.binary_files == "without-match"):
                    os.close(fd)  # its lines are not needed (-I: a match needs its first bytes read)
                    fd = None
                out.append((fd, st, found))
            except BaseException as exc:
                os.close(fd)
                if isinstance(exc, OSError):
                    exc = with_path(exc, f.label)
                elif not isinstance(exc, Exception):
                    raise
                out.append((None, exc, None))
        return out

    # ---- the files of a walk, in order

    def run(self, files) -> None:
        """Search the ``kmpsearch._tree.File``s ``files`` (an iterator) in order."""
        pool = ThreadPoolExecutor(max_workers=max(1, self.opts.threads), thread_name_prefix="kmpsearch-file")
        pending: collections.deque = collections.deque()  # (files, cancel flag, task)
        files = iter(files)
        try:
            while True:
                batch = list(itertools.islice(files, BATCH))
                if not batch:
                    break
                flag = bytearray(1)
                pending.append((batch, flag, submit(pool, self._search_batch, batch, flag)))
                if len(pending) >= AHEAD:
                    self._finish(*pending.popleft())
            while pending:
                self._finish(*pending.popleft())
        finally:
            for _, flag, _ in pending:  # Ctrl-C, -q, a broken pipe: the searches in flight stop
                flag[0] = 1
            for _, _, task in pending:
                try:
                    got = task.result()
                except BaseException:
                    continue
                for fd, _, _ in got:
                    if fd is not None:
                        os.close(fd)
            shutdown(pool)

    def _finish(self, batch, flag, task) -> None:
        results = task.result()
        for k, (file, (fd, st, found)) in enumerate(zip(batch, results)):
            try:
                if fd is None and isinstance(st, BaseException):
                    self.error(file.label, st)
                elif found is STREAM:
                    self.stream_path(file.path, file.label)
                elif fd is None:
                    self.regular(None, st, found, file.label)
                else:
                    with open(fd, "rb", buffering=0) as fh:
                        fd = None
                        self.regular(fh, st, found, file.label)
            except OSError as exc:
                self.error(file.label, with_path(exc, file.label))
            except BaseException:
                for fd_, _, _ in results[k + 1:]:  # the files this batch still holds open
                    if fd_ is not None:
                        os.close(fd_)
                if fd is not None:
                    os.close(fd)
                raise

    # ---- answers

    def regular(self, fh, st, found, label: str) -> None:
        """A regular file the core has searched: ``found`` its count or its pairs."""
        cfg = self.cfg
        self.stats["searches"] += 1
        self.stats["bytes_searched"] += st.st_size
        if cfg.binary_files == "without-match" and fh is not None and b"\0" in os.pread(fh.fileno(), BINARY_GRAIN, 0):
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
        for base, block in _line_blocks(lambda pos: os.pread(fd, BLOCK, pos) if pos < size else b""):
            lo, hi = bisect_left(offsets, base), bisect_left(offsets, base + len(block))
            self._binary(scan, base, block)
            if not scan.feed(base, block, offsets[lo:hi], words[lo:hi]):
                break
        self._close(scan, label)

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
            except OSError as exc:
                self.error(label, with_path(exc, label))
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
            except OSError as exc:
                self.error(label, with_path(exc, label))

    def stream(self, f, label: str, on_read=None) -> None:
        """Standard input, a FIFO, a file whose size reads as 0: line-aligned blocks, each
        searched in memory as it arrives."""
        self.stats["searches"] += 1
        scan = self._scan(label)
        read = getattr(f, "read1", None) or f.read

        def reads(_pos: int) -> bytes:
            data = read(BLOCK)
            if data:
                self.stats["bytes_searched"] += len(data)
                if on_read is not None:
                    on_read(len(data))
            return data

        first = True
        for base, block in _line_blocks(reads):
            if first and self.cfg.binary_files == "without-match" and b"\0" in block[:BINARY_GRAIN]:
                self.emit(label, 0, 0)
                return
            first = False
            offsets, words = self._search_block(block)
            self._binary(scan, base, block)
            if not scan.feed(base, block, offsets, words, 0):
                break
        self._close(scan, label)

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
        return LineScan(self.lengths, self.printer if printing else None, invert=cfg.invert, word=cfg.word,
                        line=cfg.line, before=cfg.before_lines, after=cfg.after_lines, max_count=cfg.max_count,
                        only=cfg.only_matching, numbers=cfg.line_number or cfg.json,
                        stop_at_first=cfg.quiet or cfg.files is not None)

    def _binary(self, scan: LineScan, base: int, block: bytes) -> None:
        if scan.binary_at is None and self.cfg.binary_files == "binary" and not self.counts_only \
                and not self.cfg.json:
            nul = block.find(b"\0")
            if nul >= 0:
                at = base + nul
                scan.binary_at = at - at % BINARY_GRAIN

    def _close(self, scan: LineScan, label: str) -> None:
        if scan.binary:
            self.binary_message(label)
        self._answer(label, scan.selected, scan.matches, scan)

    def _answer(self, label: str, selected: int, matches: int, scan: LineScan | None = None) -> None:
        if selected:
            self.matched = True
            self.stats["searches_with_match"] += 1
        self.stats["matched_lines"] += selected if not self.cfg.invert else 0
        self.stats["matches"] += matches
        if self.printer is not None and not self.counts_only:
            self.printer.end(label, {"matched_lines": selected, "matches": matches, "bytes_searched": 0,
                                     "searches_with_match": 1 if selected else 0})
        self.emit(label, selected, matches)


_NO_PAIRS = (array("q"), array("i"))


def _line_blocks(read):
    """``(base, block)``: the input, read by ``read(offset)`` (``b""`` at its end), in blocks
    of whole lines (the last one maybe without its newline); a line longer than a read is
    held until it ends."""
    base = pos = 0
    carry = b""
    while True:
        data = read(pos)
        pos += len(data)
        buf = carry + data if carry else data
        if data:
            cut = buf.rfind(b"\n") + 1
            if not cut:
                carry = buf
                continue
        else:
            cut = len(buf)
            if not cut:
                return
        yield base, buf[:cut]
        carry = buf[cut:]
        base += cut
        if not data:
            return


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
