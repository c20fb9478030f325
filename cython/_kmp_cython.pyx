# cython: language_level=3
# cython: boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
# cython: freethreading_compatible=True, autotestdict=False
"""kmpsearch's Cython core: its own KMP and Aho-Corasick engines, in typed Cython.

Not a wrapper of the C library in ``c/``: failure functions, scans, the Aho-Corasick
automaton and its start filters, the chunk plan, the POSIX-threads runner and the pread file
reader are written here; only the SIMD pair search, byte count and word filters are C,
inside this module (``_simd.pxi``). The pieces, included in this order:

* ``_tuning.pxi``: the tuning constants shared with the C and Rust cores;
* ``_simd.pxi``: the C kernels; ``_runner.pxi``: the chunk plan, the threads, pread, the
  checks of a search's source, want and options;
* ``_choose.pxi``: the match semantics (whole words, match kinds): the matches chosen of a
  memory search's candidates;
* ``_pattern.pxi``: ``Pattern`` (one needle: KMP, the fast and textbook scans);
* ``_words_build.pxi``, ``_words_scan.pxi``, ``_words.pxi``: ``WordSet`` (many words:
  compiling the automaton and the filters, the scans, the object and ``compile_words``).

The core contract (``kmpsearch._contract``), what the Python layer calls:

* ``compile_pattern(needle) -> Pattern`` and ``compile_words(words, ignore_case) ->
  WordSet``: immutable compiled objects (the failure table, the automaton and the filters
  are built once), safe to share between threads, free-threaded builds included;
* one entry on each, ``search(source, want, options)``: ``source`` a byte buffer, a
  ``FileRange(fd, start, size)`` or a ``FileBatch(paths, max_size)``, ``want`` "count" (an
  int), "each" (``array('q')`` per word), "offsets" (``array('q')``) or "pairs" (with
  ``array('i')`` word indices) -- for a batch ``(status, found)``, ``found`` file by file
  (CSR bounds for the offsets); ``options`` the ``Options`` of ``kmpsearch._contract``
  (threads, min_chunk, scan "fast"/"textbook", simd "auto" or a level forced for tests --
  "scalar", "sse2", "avx2", capped at the CPU's --, block, cancel, and the match
  semantics whole, kind, word_chars), read by attribute name. Results are arrays, never
  lists;
* ``memory_bytes``; ``plan(n, m, threads, min_chunk)``: the chunk plan the searches use.

How a search runs:

* with the GIL released from the first byte to the last; buffers come in as typed
  memoryviews (read-only ones and mmaps too), never copied; NUL is an ordinary byte;
* chunk ``i`` of ``k`` owns the starts ``[P*i//k, P*(i+1)//k)`` and reads ``m - 1`` bytes
  more (``kmpsearch._plan``); chunk 0 runs on the calling thread, the others on POSIX
  threads (no OpenMP runtime); a thread that cannot start has its chunk run by the caller;
* every thread looks at ``cancel`` (a relaxed atomic load) before each block it reads or
  scans -- memory too is scanned in blocks of ``block`` bytes (1 MiB), the scan's state
  carried across -- and a set flag ends the search with KeyboardInterrupt;
* files: ``pread`` into a bounded per-chunk buffer, never mmap; a file that turns out
  shorter than the size given gives the matches in what could be read;
* a ``FileBatch``: ``threads`` workers take the files one at a time (an atomic counter),
  each opening, fstat'ing, reading (pread into one buffer it keeps for all its files) and
  searching them with the file kernels above, one window per file; results land at each
  file's index, the matches copied out in path order at the end;
* whole words and match kinds (memory only): the chunks keep their candidates as for
  "pairs", each block's cut as it is scanned to what does not depend on the chunks before
  (the whole words, the kind's one per offset); then one pass over the chunks in order,
  on the calling thread without the GIL, applies the kind's rule that carries from chunk
  to chunk, and the result is made of the matches left (``_choose.pxi``);
* result arrays are filled in place (``array.clone``, advised for huge pages);
* no module-level mutable state: everything is per call or inside the compiled objects.
"""

from libc.stdint cimport int64_t, uint8_t, uint16_t, uint32_t, uint64_t, int32_t, INT64_MAX
from libc.stdlib cimport malloc, calloc, realloc, free, qsort
from libc.string cimport memchr, memcmp, memcpy, memmove, memset, strerror
from libc.errno cimport errno, EINTR, ENOMEM, EISDIR, EIO
from posix.unistd cimport pread, close
from posix.fcntl cimport open as c_open, O_RDONLY, O_CLOEXEC, O_NOCTTY, O_NONBLOCK
from posix.stat cimport struct_stat, fstat, S_ISDIR, S_ISREG
from posix.types cimport off_t
from cpython.number cimport PyNumber_Index
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython cimport array as carray

include "_tuning.pxi"
include "_simd.pxi"
include "_runner.pxi"
include "_choose.pxi"
include "_pattern.pxi"
include "_words_build.pxi"
include "_words_scan.pxi"
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
