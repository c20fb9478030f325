"""Knuth-Morris-Pratt in plain Python: the kernel of the pure-Python rungs.

``failure(needle)`` computes the failure function once; ``scan_window`` runs the automaton
over one chunk's window, reading it in bounded blocks and carrying the automaton's state
from block to block (so memory stays bounded and any needle length works with any block
size). Two scans are offered, as in the native cores:

* ``"textbook"``: the automaton reads every byte (the talk's pure-Python KMP);
* ``"fast"``: while the automaton is in state 0 (no partial match), it jumps to the next
  occurrence of the needle's first byte with ``bytes.find`` (memchr in C), then continues
  the automaton. The worst case stays linear: the scan never moves backwards.
"""

from __future__ import annotations

import os
from typing import Any, Callable

from ._plan import plan_chunks

__all__ = ["BLOCK", "failure", "merge", "run_chunks", "scan_block", "scan_window"]

#: bytes read per step; a window is never copied whole
BLOCK = 1 << 20


def failure(needle: bytes) -> list[int]:
    """``fail[i]``: length of the longest proper border of ``needle[:i + 1]``."""
    fail = [0] * len(needle)
    k = 0
    for i in range(1, len(needle)):
        c = needle[i]
        while k and needle[k] != c:
            k = fail[k - 1]
        if needle[k] == c:
            k += 1
        fail[i] = k
    return fail


def _scan_textbook(block: bytes, base: int, needle: bytes, fail: list[int], k: int, out: list[int] | None) -> tuple[int, int]:
    last = len(needle) - 1
    count = 0
    for i, c in enumerate(block):
        while k and needle[k] != c:
            k = fail[k - 1]
        if needle[k] == c:
            if k == last:
                count += 1
                if out is not None:
                    out.append(base + i - last)
                k = fail[last]
            else:
                k += 1
    return k, count


def _scan_fast(block: bytes, base: int, needle: bytes, fail: list[int], k: int, out: list[int] | None) -> tuple[int, int]:
    last = len(needle) - 1
    first = needle[:1]
    find = block.find
    n = len(block)
    count = 0
    i = 0
    while i < n:
        if k == 0:
            i = find(first, i)
            if i < 0:
                break
        c = block[i]
        while k and needle[k] != c:
            k = fail[k - 1]
        if needle[k] == c:
            if k == last:
                count += 1
                if out is not None:
                    out.append(base + i - last)
                k = fail[last]
            else:
                k += 1
        i += 1
    return k, count


def scan_block(block: bytes, base: int, needle: bytes, fail: list[int], k: int, fast: bool,
               out: list[int] | None) -> tuple[int, int]:
    """Run the automaton from state ``k`` over ``block`` (whose first byte is at offset ``base``).

    Appends match start offsets to ``out`` when it is a list. Returns ``(state, count)``.
    """
    return (_scan_fast if fast else _scan_textbook)(block, base, needle, fail, k, out)


def scan_window(read: Callable[[int, int], bytes], start: int, end: int, needle: bytes, fail: list[int],
                fast: bool, out: list[int] | None, block: int = BLOCK) -> int:
    """Scan bytes ``[start, end)`` obtained through ``read(offset, size)``; return the count.

    A short read (a file that shrank) ends the scan with the matches found so far.
    """
    k = 0
    total = 0
    pos = start
    while pos < end:
        data = read(pos, min(block, end - pos))
        if not data:
            break
        k, c = scan_block(data, pos, needle, fail, k, fast, out)
        total += c
        pos += len(data)
    return total


def run_chunks(read: Callable[[int, int], bytes], n: int, needle: bytes, threads: int, min_chunk: int,
               fast: bool, collect: bool, make_pool: Callable[[int], Any] | None = None) -> int | list[int]:
    """Search ``n`` bytes (read through ``read``) along the shared chunk plan.

    With more than one chunk and a ``make_pool(k)`` (e.g. ``ThreadPoolExecutor``), the
    chunks run in that pool; otherwise here, one after the other.
    """
    chunks = plan_chunks(n, len(needle), threads, min_chunk)
    if not chunks:
        return [] if collect else 0
    fail = failure(needle)

    def work(chunk: tuple[int, int]) -> int | list[int]:
        out: list[int] | None = [] if collect else None
        c = scan_window(read, chunk[0], chunk[1], needle, fail, fast, out)
        return out if out is not None else c

    if len(chunks) > 1 and make_pool is not None:
        with make_pool(len(chunks)) as pool:
            results = list(pool.map(work, chunks))
    else:
        results = [work(chunk) for chunk in chunks]
    return merge(results, collect)


def merge(results: list, collect: bool) -> int | list[int]:
    """Combine per-chunk results (chunk order is offset order)."""
    if not collect:
        return sum(results)
    if len(results) == 1:
        return results[0]
    return [off for part in results for off in part]


def kernels(make_pool: Callable[[int], Any] | None = None) -> dict[str, Callable[..., Any]]:
    """The four kernels of ``_frontend.make_api`` for the in-process pure-Python rungs.

    Without ``make_pool`` the search runs on the calling thread alone (whatever ``threads``).
    """

    def read_view(buf: memoryview) -> Callable[[int, int], bytes]:
        return lambda off, size: buf[off:off + size].tobytes()

    def read_fd(fd: int) -> Callable[[int, int], bytes]:
        return lambda off, size: os.pread(fd, size, off)

    def nthreads(threads: int) -> int:
        return threads if make_pool is not None else 1

    def count(buf, needle, threads, min_chunk, scan):
        return run_chunks(read_view(buf), len(buf), needle, nthreads(threads), min_chunk, scan == "fast", False, make_pool)

    def find_all(buf, needle, threads, min_chunk, scan):
        return run_chunks(read_view(buf), len(buf), needle, nthreads(threads), min_chunk, scan == "fast", True, make_pool)

    def count_fd(fd, path, needle, threads, min_chunk, scan):
        return run_chunks(read_fd(fd), os.fstat(fd).st_size, needle, nthreads(threads), min_chunk, scan == "fast", False, make_pool)

    def find_all_fd(fd, path, needle, threads, min_chunk, scan):
        return run_chunks(read_fd(fd), os.fstat(fd).st_size, needle, nthreads(threads), min_chunk, scan == "fast", True, make_pool)

    return {"count": count, "find_all": find_all, "count_fd": count_fd, "find_all_fd": find_all_fd}
