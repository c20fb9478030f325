"""The Cython backend: kmpsearch's own KMP core in typed Cython (``cython/``).

Not a wrapper of the C library: ``kmpsearch._kmp_cython`` has its own failure function,
scans, chunk plan and file reader. The search runs with the GIL released, its chunks in
parallel on POSIX threads; buffers are never copied; files are read with ``pread`` into
bounded per-thread buffers. ``scan="fast"`` (default) skips with ``memchr`` while no
partial match is in progress; ``scan="textbook"`` is the plain automaton.
"""

from __future__ import annotations

from .._frontend import make_api
from .. import _kmp_cython as _core

SCANS = ("fast", "textbook")
DEFAULT_SCAN = "fast"

find_all, count, find_all_in_file, count_in_file = make_api(
    "cython", count=_core._count, find_all=_core._find_all, count_fd=_core._count_fd,
    find_all_fd=_core._find_all_fd, scans=SCANS, default_scan=DEFAULT_SCAN)

__all__ = ["DEFAULT_SCAN", "SCANS", "count", "count_in_file", "find_all", "find_all_in_file"]
