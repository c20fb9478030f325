"""The Cython backend: kmpsearch's own KMP and Aho-Corasick core in typed Cython (``cython/``).

Not a wrapper of the C library: ``kmpsearch._kmp_cython`` has its own failure function,
scans, Aho-Corasick automaton and start filter, chunk plan and file reader. The search runs
with the GIL released, its chunks in parallel on POSIX threads; buffers are never copied;
files are read with ``pread`` into bounded per-thread buffers. ``scan="fast"`` (default)
jumps with a SIMD pair search while no partial match is in progress (word sets: a filter on
word starts with exact verification); ``scan="textbook"`` is the plain automaton.

``core`` is the extension module itself: it follows the core contract
(``compile_pattern``, ``compile_words``, ``plan``; notes/CONTRACT.md).
"""

from __future__ import annotations

import os

from .._frontend import make_api
from .. import _kmp_cython as core

SCANS = ("fast", "textbook")
DEFAULT_SCAN = "fast"


# --- the previous kernel interface, over the compiled objects (until the new make_api lands)

def _count(buf, needle, threads, min_chunk, scan):
    return core.compile_pattern(needle).count(buf, threads, min_chunk, scan, "auto")


def _find_all(buf, needle, threads, min_chunk, scan):
    return core.compile_pattern(needle).find_all(buf, threads, min_chunk, scan, "auto")


def _file_kernel(method: str):
    def kernel(fd, path, needle, threads, min_chunk, scan):
        pattern = core.compile_pattern(needle)
        try:
            size = os.fstat(fd).st_size
            return getattr(pattern, method)(fd, size, threads, min_chunk, scan, "auto")
        except OSError as exc:
            if exc.filename is None and exc.errno is not None:
                raise OSError(exc.errno, exc.strerror, path) from None
            raise
    return kernel


_count_fd, _find_all_fd = _file_kernel("count_fd"), _file_kernel("find_all_fd")

find_all, count, find_all_in_file, count_in_file = make_api(
    "cython", count=_count, find_all=_find_all, count_fd=_count_fd, find_all_fd=_find_all_fd,
    scans=SCANS, default_scan=DEFAULT_SCAN)

__all__ = ["DEFAULT_SCAN", "SCANS", "core", "count", "count_in_file", "find_all", "find_all_in_file"]
