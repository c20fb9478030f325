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

_count, _find_all, _count_fd, _find_all_fd = _core._count, _core._find_all, _core._count_fd, _core._find_all_fd



class _LegacyPattern:
    """Temporary: the old kernels behind the new core contract (until the core is rebuilt)."""

    __slots__ = ("needle", "memory_bytes")

    def __init__(self, needle):
        self.needle = needle
        self.memory_bytes = 0

    def count(self, buf, threads, min_chunk, scan, simd):
        return _count(buf, self.needle, threads, min_chunk, scan)

    def find_all(self, buf, threads, min_chunk, scan, simd):
        return _find_all(buf, self.needle, threads, min_chunk, scan)

    def count_fd(self, fd, size, threads, min_chunk, scan, simd):
        return _count_fd(fd, None, self.needle, threads, min_chunk, scan)

    def find_all_fd(self, fd, size, threads, min_chunk, scan, simd):
        return _find_all_fd(fd, None, self.needle, threads, min_chunk, scan)


class _LegacyCore:
    compile_pattern = _LegacyPattern

    @staticmethod
    def compile_words(words, ignore_case):
        from .._pycore import PyCore
        return PyCore().compile_words(words, ignore_case)


core = _LegacyCore()
globals().update(make_api('cython', core))
