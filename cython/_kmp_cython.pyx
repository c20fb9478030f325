# cython: language_level=3
# cython: boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
# cython: freethreading_compatible=True, autotestdict=False
"""kmpsearch's Cython core: its own KMP and Aho-Corasick engines, in typed Cython.

Not a wrapper of the C library in ``c/``: failure functions, scans, the Aho-Corasick
automaton and its prefilter, the chunk plan, the POSIX-threads runner and the pread file
reader are written here (``_runner.pxi``, ``_pattern.pxi``, ``_words.pxi``); only the SIMD
pair search and byte count are C, inside this module (``_simd.pxi``).

The core contract (the docstring of kmpsearch._frontend), what ``kmpsearch._frontend`` calls:

* every search method takes a trailing ``cancel`` (the frontend's ``bytearray(1)``, or
  None): each thread looks at it (a relaxed atomic load) before each block it reads or
  scans -- memory too is scanned in blocks of ``_block`` bytes (1 MiB), the scan's state
  carried across -- and a set flag ends the search with KeyboardInterrupt;
  ``find_array``/``find_array_fd`` give ``array('q')`` (word sets: and ``array('i')``);
* ``compile_pattern(needle) -> Pattern`` and ``compile_words(words, ignore_case) ->
  WordSet``: immutable compiled objects (the failure table, the automaton and the filter
  are built once), safe to share between threads, free-threaded builds included;
* ``Pattern.count/find_all(buf, threads, min_chunk, scan, simd)`` and
  ``count_fd/find_all_fd(fd, size, ...)``; ``WordSet`` adds ``count_each`` and
  ``count_each_fd``, and its ``find_all`` gives ``(start, word index)`` tuples; ``simd``
  is "auto" or a level forced for tests, "scalar", "sse2" or "avx2" (capped at the CPU's);
* ``plan(n, m, threads, min_chunk)``: the chunk plan the searches use.

How a search runs:

* with the GIL released from the first byte to the last; buffers come in as typed
  memoryviews (read-only ones and mmaps too), never copied; NUL is an ordinary byte;
* chunk ``i`` of ``k`` owns the starts ``[P*i//k, P*(i+1)//k)`` and reads ``m - 1`` bytes
  more (``kmpsearch._plan``); chunk 0 runs on the calling thread, the others on POSIX
  threads (no OpenMP runtime); a thread that cannot start has its chunk run by the caller;
* files: ``pread`` into a bounded per-chunk buffer, never mmap; a file that turns out
  shorter than the size given gives the matches in what could be read;
* no module-level mutable state: everything is per call or inside the compiled objects.
"""

from libc.stdint cimport int64_t, uint8_t, uint16_t, uint32_t, uint64_t, int32_t, INT64_MAX
from libc.stdlib cimport malloc, calloc, realloc, free, qsort
from libc.string cimport memchr, memcmp, memcpy, memmove, memset, strerror
from libc.errno cimport errno, EINTR, ENOMEM
from posix.unistd cimport pread
from posix.types cimport off_t
from cpython.list cimport PyList_New, PyList_SET_ITEM
from cpython.number cimport PyNumber_Index
from cpython.ref cimport Py_INCREF
from cpython cimport array as carray

include "_simd.pxi"
include "_runner.pxi"
include "_pattern.pxi"
include "_words.pxi"


def plan(n, m, threads, min_chunk):
    """This core's chunk plan: ``[(scan_start, scan_end), ...]`` for ``n`` bytes and a
    pattern of ``m`` bytes, exactly ``kmpsearch._plan.plan_chunks`` (no chunks if m > n)."""
    cdef int64_t nn = check_size(n)
    cdef object mm = PyNumber_Index(m)
    cdef int64_t t = check_threads(threads)
    cdef int64_t c = check_min_chunk(min_chunk)
    cdef Py_ssize_t k, i
    cdef int64_t m64
    if mm < 1:
        raise ValueError(f"m must be >= 1, got {mm}")
    if mm > nn:
        return []
    m64 = <int64_t> mm
    k = plan_count(nn, m64, t, c)
    return [(plan_start(nn, m64, k, i), plan_start(nn, m64, k, i + 1) + (m64 - 1))
            for i in range(k)]
