"""Reading an input of unknown length in overlapping windows, with bounded memory.

The one reader of kmpsearch: ``finditer``, ``redact_stream``, the ``kmpsearch`` command
(files, pipes, standard input) and the file functions for files whose size reads as 0
(``/proc``) all search what ``read_windows`` yields. Sources that are not binary file
objects (an iterable of chunks, a text stream) are given to it through ``ChunkReader``.
"""

from __future__ import annotations

import io
import select
from typing import Callable, Iterator

#: bytes that continue a UTF-8 sequence: every other byte starts a code point
UTF8_CONTINUATION = bytes(range(0x80, 0xC0))


def _readable_now(f) -> bool:
    """Whether a read from ``f`` would return at once (more data or end of input)."""
    try:
        return bool(select.select([f], [], [], 0)[0])
    except (OSError, ValueError, TypeError):  # e.g. select() on a Windows pipe, no fileno()
        return False


def read_windows(f, longest: int, chunk: int, regular: bool,
                 on_read: Callable[[int], None] | None = None) -> Iterator[tuple[int, memoryview, int]]:
    """Read ``f`` in overlapping windows; yield ``(base, view, own)``.

    ``view`` holds the bytes from offset ``base`` on; the window *owns* the start
    offsets ``[base, base + own)``. ``view`` holds at least ``own + longest - 1`` bytes
    except at the end of the input, so a word of length m is searched in
    ``view[:own + m - 1]`` and every match found there starts in the window's own range:
    each match is reported exactly once and in ascending order. Memory: one buffer of
    ``chunk + longest - 1`` bytes. A regular file fills each window; another input
    (a pipe, a terminal, a socket) fills the window while data is ready and is searched as soon
    as a read would block, so output keeps up with a slow writer. ``view`` is valid until
    the next window is asked for; the caller must not write to it.
    """
    keep = longest - 1
    cap = chunk + keep
    buf = bytearray(cap)
    mv = memoryview(buf)
    readinto = f.readinto if regular else _read_once(f)
    filled = 0
    base = 0
    eof = False
    while not eof:
        while filled < cap:
            n = readinto(mv[filled:cap])
            if n is None:  # non-blocking descriptor without data: wait for it
                select.select([f], [], [])
                continue
            if n == 0:
                eof = True
                break
            filled += n
            if on_read is not None:
                on_read(n)
            if not regular and not _readable_now(f):
                break  # search what we have rather than wait for a slow writer
        own = filled if eof else filled - keep
        if own <= 0:
            continue  # not enough bytes yet to own a start position
        yield base, mv[:filled], own
        tail = bytes(mv[own:filled])
        mv[:len(tail)] = tail
        filled = len(tail)
        base += own


def _read_once(f):
    """``readinto`` for a stream that is not a regular file: it returns what is there.

    A buffered stream (``sys.stdin.buffer``, ``socket.makefile("rb")``, ``gzip`` over a
    pipe) would wait to fill the whole window with ``readinto``; its ``read1`` returns the
    bytes it holds, or what one read of the underlying stream gives (``readinto1`` would
    make that read even when it holds some, and wait for a writer). A raw stream's
    ``readinto`` is one read already."""
    read1 = getattr(f, "read1", None)
    if read1 is None:
        return f.readinto

    def readinto(target: memoryview) -> int | None:
        data = read1(len(target))
        if data is None:  # non-blocking, nothing there
            return None
        target[:len(data)] = data
        return len(data)

    return readinto


class ChunkReader:
    """``readinto`` over an iterable of chunks, for ``read_windows``.

    Chunks are bytes-like (any C-contiguous buffer) or, with ``text``, ``str`` (encoded as
    UTF-8, lone surrogates included through ``surrogatepass``, chunk by chunk: a surrogate
    pair split across two chunks is two code points, as it is in one ``str``). ``check``
    turns a bytes-like chunk into a 1-D byte view or raises TypeError. ``text`` is None
    until the first non-empty chunk says which kind the source holds; a chunk of the other
    kind is a TypeError.
    """

    def __init__(self, chunks, check: Callable[[object], memoryview], text: bool | None = None) -> None:
        self._chunks = iter(chunks)
        self._check = check
        self._pending = memoryview(b"")
        self.text = text

    def _next(self) -> bool:
        for chunk in self._chunks:
            if isinstance(chunk, str):
                if self.text is False:
                    raise TypeError("a str chunk where bytes-like ones were expected (bytes-like words, a "
                                    "binary-only use, or bytes-like chunks before it)")
                self.text = True
                view = memoryview(chunk.encode("utf-8", "surrogatepass"))
            else:
                if self.text:
                    raise TypeError(f"a text source must give str chunks, not {type(chunk).__name__}")
                view = self._check(chunk)
                self.text = False
            if len(view):
                self._pending = view
                return True
        return False

    def readinto(self, target: memoryview) -> int:
        if not len(self._pending) and not self._next():
            return 0
        n = min(len(target), len(self._pending))
        target[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


class TextReader(ChunkReader):
    """``readinto`` over a text stream (``read(n)`` gives ``str``): its UTF-8 encoding."""

    def __init__(self, stream, size: int) -> None:
        read = stream.read
        super().__init__(iter(lambda: read(size), ""), None, text=True)  # type: ignore[arg-type]


def write_all(out, data) -> None:
    """Write all of ``data`` to the binary file object ``out``: a raw stream may take part
    of it, or return None when it is non-blocking and full; any other writer returning
    None (not a count) took it all."""
    view = memoryview(data)
    while view:
        n = out.write(view)
        if n is None:
            if not isinstance(out, io.RawIOBase):
                return
            select.select([], [out], [])  # a non-blocking destination that is full
            continue
        view = view[n:]
