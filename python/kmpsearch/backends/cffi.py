"""The C library (c/, libkmpsearch) through cffi: pthreads chunked KMP with a SIMD skip.

``kmpsearch._kmp_cffi`` is an out-of-line API-mode cffi module linked to the static C
library (built by CMake with the package). Buffers go to C without a copy
(``ffi.from_buffer``), cffi releases the GIL for each ``lib`` call, and offsets come back
from the library's int64 array with one C loop (a memoryview's ``tolist``), after
which the array is freed. Files are read by the library with ``pread`` into bounded
per-thread buffers; a file that shrinks during a search gives the matches found in what
could still be read, as the pure-Python backends do.

The module holds no mutable state: every call makes (and frees) its own searcher, options
and result array, so any number of threads may use it at once (free-threaded builds too).
"""

from __future__ import annotations

import os

from .._frontend import make_api
from .._kmp_cffi import ffi, lib




def simd() -> str:
    """The SIMD level the fast scan uses on this CPU: ``"avx2"``, ``"sse2"`` or ``"scalar"``."""
    return ffi.string(lib.kmp_simd_name(lib.KMP_SIMD_AUTO)).decode("ascii")


def _fail(status: int, os_errno: int = 0, path: str | None = None) -> BaseException:
    message = ffi.string(lib.kmp_strerror(status)).decode("utf-8", "replace")
    if status == lib.KMP_ERR_NOMEM:
        return MemoryError(f"kmpsearch (cffi): {message}")
    if status == lib.KMP_ERR_IO:
        err = os_errno or 5  # EIO when the library could not tell
        return OSError(err, os.strerror(err), path) if path is not None else OSError(err, os.strerror(err))
    return ValueError(f"kmpsearch (cffi): {message}")


def _options(threads: int, min_chunk: int, scan: str):
    return ffi.new("kmp_options *", {
        "threads": threads,
        "min_chunk": min_chunk,
        "scan": lib.KMP_SCAN_TEXTBOOK if scan == "textbook" else lib.KMP_SCAN_FAST,
        "simd": lib.KMP_SIMD_AUTO,
        "block_size": 0,  # KMP_DEFAULT_BLOCK_SIZE (1 MiB per thread)
    })


def _searcher(needle: bytes):
    out = ffi.new("kmp_searcher **")
    status = lib.kmp_searcher_new(needle, len(needle), out)
    if status != lib.KMP_OK:
        raise _fail(status)
    return out[0]


def _offsets(matches) -> list[int]:
    """The library's int64 array as a list (one C loop: memoryview.tolist, a little faster
    than ffi.unpack), then the array is freed."""
    try:
        if not matches.len:
            return []
        with memoryview(ffi.buffer(matches.offsets, matches.len * 8)) as raw, raw.cast("q") as offsets:
            return offsets.tolist()
    finally:
        lib.kmp_matches_free(matches)


# --- kernels (arguments validated by kmpsearch._frontend) --------------------------------

def _with_searcher(needle: bytes, call):
    """``call(searcher)`` with a searcher made for this call and freed after it."""
    searcher = _searcher(needle)
    try:
        return call(searcher)
    finally:
        lib.kmp_searcher_free(searcher)


def _memory_kernel(collect: bool):
    search = lib.kmp_find_all if collect else lib.kmp_count

    def kernel(buf: memoryview, needle: bytes, threads: int, min_chunk: int, scan: str):
        if len(needle) > len(buf):
            return [] if collect else 0
        opt = _options(threads, min_chunk, scan)
        result = ffi.new("kmp_matches *" if collect else "uint64_t *")

        def call(searcher):
            with ffi.from_buffer("char[]", buf) as data:  # no copy; read-only buffers too
                return search(searcher, data, len(buf), opt, result)

        status = _with_searcher(needle, call)
        found = _offsets(result) if collect else int(result[0])  # _offsets frees the array
        if status != lib.KMP_OK:
            raise _fail(status)
        return found
    return kernel


def _file_kernel(collect: bool):
    search = lib.kmp_find_all_fd if collect else lib.kmp_count_fd

    def kernel(fd: int, path: str, needle: bytes, threads: int, min_chunk: int, scan: str):
        opt = _options(threads, min_chunk, scan)
        result = ffi.new("kmp_matches *" if collect else "uint64_t *")
        os_errno = ffi.new("int *")
        status = _with_searcher(needle, lambda searcher: search(searcher, fd, opt, result, os_errno))
        found = _offsets(result) if collect else int(result[0])
        # KMP_ERR_TRUNCATED: the file shrank during the search: the matches in what was read
        if status not in (lib.KMP_OK, lib.KMP_ERR_TRUNCATED):
            raise _fail(status, os_errno[0], path)
        return found
    return kernel


_count, _find_all = _memory_kernel(False), _memory_kernel(True)
_count_fd, _find_all_fd = _file_kernel(False), _file_kernel(True)


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
globals().update(make_api('cffi', core))
