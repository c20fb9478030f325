"""The Rust backend: KMP and Aho-Corasick in Rust (memchr, Teddy), on a reused thread pool, through PyO3.

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

try:
    import kmpsearch_rust as _ext
except ImportError as exc:  # the frontend turns this into "backend 'rust' is not available: ..."
    raise ImportError(
        f"the extension module kmpsearch_rust is not installed ({exc}); "
        "build it with `bash ci/build-rust.sh` (needs cargo)", name=__name__) from exc

from .._api import make_api
from . import info

#: the core contract's object: the extension module itself
core = _ext
globals().update(make_api(info("rust"), core))
