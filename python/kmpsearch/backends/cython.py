"""The Cython backend: kmpsearch's own KMP and Aho-Corasick core in typed Cython (``cython/``).

Not a wrapper of the C library: ``kmpsearch._kmp_cython`` has its own failure function,
scans, Aho-Corasick automaton and start filters, chunk plan and file reader. The search runs
with the GIL released, its chunks in parallel on POSIX threads; buffers are never copied;
files are read with ``pread`` into bounded per-thread buffers. ``scan="fast"`` (default)
jumps with a SIMD pair search while no partial match is in progress (word sets: a filter on
word starts with exact verification); ``scan="textbook"`` is the plain automaton.

``core`` is the extension module itself: it follows the core contract (notes/CONTRACT.md):
``core.compile_pattern(needle)``, ``core.compile_words(words, ignore_case)`` and
``core.plan(n, m, threads, min_chunk)``; its only SIMD level is ``"auto"`` (chosen at run
time: AVX2 where the CPU has it, else SSE2 or portable C).
"""

from __future__ import annotations

import inspect
import os

from .. import _kmp_cython as core
from .._frontend import make_api

__all__ = ["DEFAULT_SCAN", "SCANS", "SIMD_LEVELS", "core"]

SCANS = ("fast", "textbook")
DEFAULT_SCAN = "fast"
SIMD_LEVELS = ("auto",)

# --- the public functions. The frontend that takes a core (make_api(name, core)) gives them
# all; until it is here, thin wrappers over the compiled objects serve the kernel-based one.

if "core" in inspect.signature(make_api).parameters:
    globals().update(make_api("cython", core))
else:  # the kernel-based frontend: count(buf, needle, threads, min_chunk, scan) and so on
    __all__ += ["count", "count_in_file", "find_all", "find_all_in_file"]

    def _count(buf, needle, threads, min_chunk, scan):
        return core.compile_pattern(needle).count(buf, threads, min_chunk, scan, "auto")

    def _find_all(buf, needle, threads, min_chunk, scan):
        return core.compile_pattern(needle).find_all(buf, threads, min_chunk, scan, "auto")

    def _file_kernel(method: str):
        def kernel(fd, path, needle, threads, min_chunk, scan):
            try:
                pattern = core.compile_pattern(needle)
                return getattr(pattern, method)(fd, os.fstat(fd).st_size, threads, min_chunk, scan, "auto")
            except OSError as exc:  # that frontend expects the path in the error
                raise OSError(exc.errno, exc.strerror, path) from None
        return kernel

    find_all, count, find_all_in_file, count_in_file = make_api(
        "cython", count=_count, find_all=_find_all, count_fd=_file_kernel("count_fd"),
        find_all_fd=_file_kernel("find_all_fd"), scans=SCANS, default_scan=DEFAULT_SCAN)
