"""The Cython backend: kmpsearch's own KMP and Aho-Corasick core in typed Cython (``cython/``).

Not a wrapper of the C library: ``kmpsearch._kmp_cython`` has its own failure function,
scans, Aho-Corasick automaton and start filters, chunk plan and file reader. The search runs
with the GIL released, its chunks in parallel on POSIX threads; buffers are never copied;
files are read with ``pread`` into bounded per-thread buffers. ``scan="fast"`` (default)
jumps with a SIMD pair search while no partial match is in progress (word sets: a filter on
word starts with exact verification); ``scan="textbook"`` is the plain automaton.

``core`` is the extension module itself (the core contract of ``kmpsearch._contract``):
``compile_pattern(needle)``, ``compile_words(words, ignore_case)`` and
``plan(n, m, threads, min_chunk)``. The SIMD level is ``"auto"`` (chosen at run time:
AVX2 where the CPU has it, else SSE2 or portable C); tests may force ``"scalar"``,
``"sse2"`` or ``"avx2"`` (a level the CPU lacks runs the best one below it, as in cffi).
"""

from __future__ import annotations

from .. import _kmp_cython as core
from .._api import make_api
from . import info

globals().update(make_api(info("cython"), core))
