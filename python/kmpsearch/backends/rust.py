"""The Rust rung: KMP and Aho-Corasick in Rust (memchr, Teddy), on a reused thread pool, through PyO3.

The core lives in the extension module ``kmpsearch_rust`` (distribution ``kmpsearch-rust``,
built from ``rust/`` by maturin: ``bash ci/build-rust.sh``), which *is* this backend's
``core`` object of the core contract: ``compile_pattern(needle)``, ``compile_words(words,
ignore_case)`` and ``plan(n, m, threads, min_chunk)``; the compiled objects are frozen and
thread-safe. Searches read the caller's buffer in place, with the GIL released for the whole
search; chunk 0 runs on the calling thread and the others on a process-wide pool of threads
that is reused from call to call (rebuilt in a forked child; when threads cannot be
started, every chunk runs on the calling thread). Files are read with ``pread`` into bounded
per-thread buffers.

Do not mutate a buffer (bytearray, writable mmap) while it is being searched.
"""

from __future__ import annotations

import inspect
import os

try:
    import kmpsearch_rust as _ext
except ImportError as exc:  # the frontend turns this into "backend 'rust' is not available: ..."
    raise ImportError(
        f"the extension module kmpsearch_rust is not installed ({exc}); "
        "build it with `bash ci/build-rust.sh` (needs cargo)", name=__name__) from exc

from .._frontend import make_api

#: the core contract's object: the extension module itself
core = _ext

SCANS = ("fast", "textbook")
DEFAULT_SCAN = "fast"


def _uses_core_contract() -> bool:
    """Whether ``make_api`` takes a core object (the new frontend) rather than kernels."""
    params = inspect.signature(make_api).parameters
    return not ("count" in params and params["count"].kind is inspect.Parameter.KEYWORD_ONLY)


if _uses_core_contract():
    globals().update(make_api("rust", core))
else:
    # The frontend that still takes four kernels: they compile the needle and call the
    # compiled pattern (until make_api(name, core) lands).
    _compile = _ext.compile_pattern

    def _count(buf, needle, threads, min_chunk, scan):
        return _compile(needle).count(buf, threads, min_chunk, scan, "auto")

    def _find_all(buf, needle, threads, min_chunk, scan):
        return _compile(needle).find_all(buf, threads, min_chunk, scan, "auto")

    # the file kernels read the descriptor the frontend opened (and closes), from 0 to its size
    def _count_fd(fd, path, needle, threads, min_chunk, scan):
        return _compile(needle).count_fd(fd, os.fstat(fd).st_size, threads, min_chunk, scan, "auto")

    def _find_all_fd(fd, path, needle, threads, min_chunk, scan):
        return _compile(needle).find_all_fd(fd, os.fstat(fd).st_size, threads, min_chunk, scan, "auto")

    find_all, count, find_all_in_file, count_in_file = make_api(
        "rust", count=_count, find_all=_find_all, count_fd=_count_fd, find_all_fd=_find_all_fd,
        scans=SCANS, default_scan=DEFAULT_SCAN)
