"""Reading an input of unknown length in overlapping windows, with bounded memory.

Used by the ``kmpsearch`` command (files, pipes, standard input) and by the file
functions for files whose size reads as 0 (``/proc``).
"""

from __future__ import annotations

import select
from typing import Callable, Iterator


def _readable_now(f) -> bool:
    """Whether a read from ``f`` would return at once (more data or end of input)."""
    try:
        return bool(select.select([f], [], [], 0)[0])
    except (OSError, ValueError):  # e.g. select() on a Windows pipe
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
    (a pipe, a terminal) fills the window while data is ready and is searched as soon
    as a read would block, so output keeps up with a slow writer.
    """
    keep = longest - 1
    cap = chunk + keep
    buf = bytearray(cap)
    mv = memoryview(buf)
    filled = 0
    base = 0
    eof = False
    while not eof:
        while filled < cap:
            n = f.readinto(mv[filled:cap])
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
