"""Extension module of kmpsearch's Rust backend (KMP with a memchr skip, rayon threads).

Use it through ``kmpsearch`` (``KMPSEARCH_BACKEND=rust`` or ``kmpsearch.get_backend("rust")``),
which validates arguments and handles ``str``; the functions here are its kernels.

Buffers are searched in place, without a copy, with the GIL released (detached) for the
whole search, so other Python threads run meanwhile: the caller must not mutate a buffer
(bytearray, writable mmap, ...) while it is being searched. The module does not need the
GIL (``gil_used = false``): it runs in parallel on free-threaded builds.

Errors: ValueError for bad arguments (empty needle, ``threads`` or ``min_chunk`` < 1, an
unknown ``scan``), TypeError for a non-contiguous buffer, MemoryError, and OSError with
``errno`` set for failed reads in the file searches.
"""

import sys
from typing import Final, Literal

if sys.version_info >= (3, 12):
    from collections.abc import Buffer
else:
    from typing_extensions import Buffer

__version__: Final[str]
#: least number of candidate start positions per chunk when none is given (1 MiB)
DEFAULT_MIN_CHUNK: Final[int]
#: bytes each thread reads per pread in the file searches (1 MiB)
DEFAULT_BLOCK_SIZE: Final[int]
#: the scans offered; the first is the default
SCANS: Final[tuple[Literal["fast"], Literal["textbook"]]]

_Scan = Literal["fast", "textbook"]

def count(haystack: Buffer, needle: Buffer, threads: int = 1, min_chunk: int = ...,
          scan: _Scan = "fast") -> int:
    """Number of occurrences of ``needle`` in ``haystack`` (overlaps included).

    ``haystack``: a C-contiguous buffer of unsigned bytes (bytes, bytearray, mmap,
    memoryview), searched in place with the GIL released: do not mutate it meanwhile.
    ``needle``: non-empty bytes-like. ``threads`` >= 1 and ``min_chunk`` >= 1 drive the
    chunk plan (at most ``threads`` chunks of at least ``min_chunk`` start positions).
    """

def find_all(haystack: Buffer, needle: Buffer, threads: int = 1, min_chunk: int = ...,
             scan: _Scan = "fast") -> list[int]:
    """Start offsets of every occurrence of ``needle`` in ``haystack``, ascending
    (overlaps included); arguments as for ``count``."""

def count_fd(fd: int, needle: Buffer, threads: int = 1, min_chunk: int = ...,
             scan: _Scan = "fast") -> int:
    """Number of occurrences of ``needle`` in the regular file open for reading on ``fd``.

    Reads from offset 0 to the file's size at the start with ``pread`` (the descriptor's
    position is neither used nor moved) into one bounded buffer per thread; ``fd`` is not
    closed. A file that shrinks meanwhile gives the matches in what could be read.
    """

def find_all_fd(fd: int, needle: Buffer, threads: int = 1, min_chunk: int = ...,
                scan: _Scan = "fast") -> list[int]:
    """Byte offsets of every occurrence of ``needle`` in the file open on ``fd``,
    ascending; as ``count_fd``."""
