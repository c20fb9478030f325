"""The chunk plan: how every backend splits one search across threads or processes.

This is the contract the pure-Python cores, the C library, the Cython module and the
Rust crate all follow, so that a search gives the same answer whatever its backend and
its ``threads``.

For a haystack of ``n`` bytes and a needle of ``m`` bytes::

    if m > n: no chunks (no match is possible)
    P = n - m + 1                               # candidate start positions
    k = max(1, min(threads, P // min_chunk))    # chunks, i.e. threads actually used
    chunk i (0 <= i < k) owns start positions [P*i//k, P*(i+1)//k)
            and scans bytes        [P*i//k, P*(i+1)//k + m - 1)

Each chunk scans its own range plus ``m - 1`` bytes of overlap. A match found inside a
chunk's window ``[s, e + m - 1)`` starts at some ``p`` with ``p + m <= e + m - 1``, that
is ``p < e``: it starts inside the chunk's own range. So every match is found by exactly
one chunk, no filtering is needed, and concatenating the chunks' results in chunk order
gives the offsets in ascending order.

Word sets (many words in one pass) follow the same plan with ``m = min(L, n)``, ``L`` the
longest word (``plan_word_chunks``): chunk ``i`` still scans its own start positions plus
``m - 1`` bytes, so every match *starting* in its own range is inside its window; but a
shorter word can also match inside the overlap, starting in the next chunk's range, so a
word-set chunk keeps only the matches that start before the next chunk's first position
(the last chunk: before ``n``). A haystack shorter than the longest word is one chunk.

Small inputs stay on one chunk: a chunk gets at least ``min_chunk`` start positions
(``DEFAULT_MIN_CHUNK``, 1 MiB), because starting a thread costs more than scanning a
few kilobytes. Tests lower ``min_chunk`` (the public functions' private ``_min_chunk=``
keyword) to put chunk boundaries everywhere.
"""

from __future__ import annotations

__all__ = ["DEFAULT_MIN_CHUNK", "plan_chunks", "plan_word_chunks"]

DEFAULT_MIN_CHUNK = 1 << 20


def plan_chunks(n: int, m: int, threads: int, min_chunk: int = DEFAULT_MIN_CHUNK) -> list[tuple[int, int]]:
    """Return the chunks of a search as ``(scan_start, scan_end)`` byte ranges.

    ``scan_end - scan_start`` is the chunk's own start positions plus ``m - 1`` bytes.
    An empty list means there is nothing to scan (the needle is longer than the haystack).

    >>> plan_chunks(10, 3, threads=2, min_chunk=1)
    [(0, 6), (4, 10)]
    >>> plan_chunks(10, 3, threads=4, min_chunk=4)   # 8 positions, at least 4 each
    [(0, 6), (4, 10)]
    >>> plan_chunks(2, 3, threads=2, min_chunk=1)
    []
    """
    if m < 1 or threads < 1 or min_chunk < 1:
        raise ValueError("plan_chunks needs m >= 1, threads >= 1 and min_chunk >= 1")
    if m > n:
        return []
    positions = n - m + 1
    k = max(1, min(threads, positions // min_chunk))
    return [(positions * i // k, positions * (i + 1) // k + m - 1) for i in range(k)]


def plan_word_chunks(n: int, longest: int, threads: int,
                     min_chunk: int = DEFAULT_MIN_CHUNK) -> list[tuple[int, int, int]]:
    """The chunks of a word-set search as ``(scan_start, scan_end, own_end)``.

    The plan of ``plan_chunks(n, min(longest, n), ...)``; a chunk keeps the matches that
    start in ``[scan_start, own_end)``: the next chunk's ``scan_start``, ``n`` for the last.

    >>> plan_word_chunks(10, 3, threads=2, min_chunk=1)
    [(0, 6, 4), (4, 10, 10)]
    >>> plan_word_chunks(2, 3, threads=2, min_chunk=1)   # shorter than the longest word
    [(0, 2, 2)]
    >>> plan_word_chunks(0, 3, threads=2, min_chunk=1)
    []
    """
    if longest < 1:
        raise ValueError("plan_word_chunks needs longest >= 1")
    if n <= 0:
        return []
    chunks = plan_chunks(n, min(longest, n), threads, min_chunk)
    own_ends = [start for start, _ in chunks[1:]] + [n]
    return [(start, end, own) for (start, end), own in zip(chunks, own_ends)]
