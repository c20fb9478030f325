"""The Rust rung: KMP in Rust with a SIMD skip (memchr) and rayon threads, through PyO3.

The kernels live in the extension module ``kmpsearch_rust`` (distribution
``kmpsearch-rust``, built from ``rust/`` by maturin: ``bash ci/build-rust.sh``). They
search the caller's buffer in place, with the GIL released for the whole search, on a
rayon pool of exactly as many threads as the chunk plan has chunks (one chunk: the
calling thread), and read files with ``pread`` into bounded per-thread buffers.

Do not mutate a buffer (bytearray, writable mmap) while it is being searched.
"""

from __future__ import annotations

try:
    import kmpsearch_rust as _ext
except ImportError as exc:  # the frontend turns this into "backend 'rust' is not available: ..."
    raise ImportError(
        f"the extension module kmpsearch_rust is not installed ({exc}); "
        "build it with `bash ci/build-rust.sh` (needs cargo)", name=__name__) from exc

from .._frontend import make_api



# the in-memory kernels take the frontend's arguments as they are: no Python frame between
_count = _ext.count
_find_all = _ext.find_all


# the file kernels read the descriptor the frontend opened (and closes); no need for the path
def _count_fd(fd, path, needle, threads, min_chunk, scan):
    return _ext.count_fd(fd, needle, threads, min_chunk, scan)


def _find_all_fd(fd, path, needle, threads, min_chunk, scan):
    return _ext.find_all_fd(fd, needle, threads, min_chunk, scan)


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
globals().update(make_api('rust', core))
