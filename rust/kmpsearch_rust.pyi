"""Extension module of kmpsearch's Rust backend: KMP (memmem skip) for one pattern,
Aho-Corasick with a start filter (Teddy / hashed bitmap) for word sets, on a reused pool
of threads.

Use it through ``kmpsearch`` (``KMPSEARCH_BACKEND=rust`` or
``kmpsearch.get_backend("rust")``), which validates arguments and handles ``str``: this
module is the backend's *core* (``compile_pattern``, ``compile_words``, ``plan``).

Buffers are searched in place, without a copy, with the GIL released (detached) for the
whole search, so other Python threads run meanwhile: the caller must not mutate a buffer
(bytearray, writable mmap, ...) while it is being searched. The module does not need the
GIL (``gil_used = false``); compiled objects are immutable and thread-safe.

Threads: chunk 0 of a search runs on the calling thread, the others on one process-wide
pool, grown to the largest number of threads asked (at most ``MAX_POOL_THREADS``) and
reused; a forked child builds its own. When threads cannot be started, every chunk runs
on the calling thread (never an error).

Errors: ValueError for arguments the frontend never passes (``threads`` outside 1..256,
``min_chunk`` < 1, an unknown ``scan`` or ``simd``, empty needle or
word), TypeError for a non-contiguous buffer, MemoryError (never an abort), OSError
with ``errno`` set for failed reads in the file searches, and KeyboardInterrupt when the
cancel flag stopped a search.
"""

import sys
from array import array
from typing import Final, Literal, final

if sys.version_info >= (3, 12):
    from collections.abc import Buffer
else:
    from typing_extensions import Buffer

__version__: Final[str]
#: least number of candidate start positions per chunk the frontend passes by default (1 MiB)
DEFAULT_MIN_CHUNK: Final[int]
#: bytes each thread reads per pread in the file searches (1 MiB)
DEFAULT_BLOCK_SIZE: Final[int]
#: the scans offered; the first is the default
SCANS: Final[tuple[Literal["fast"], Literal["textbook"]]]
#: the SIMD levels accepted: "auto", or one forced for tests (a level the CPU lacks runs the
#: best one below it); they choose the single pattern's skip and the word-set filter ("scalar":
#: no Teddy); memchr's own dispatch and aho-corasick's Teddy choose theirs at run time
SIMD_LEVELS: Final[tuple[Literal["auto"], Literal["scalar"], Literal["sse2"], Literal["avx2"]]]
#: most helper threads of the shared pool
MAX_POOL_THREADS: Final[int]

_Scan = Literal["fast", "textbook"]
_Simd = Literal["auto", "scalar", "sse2", "avx2"]
#: the cancel flag (the frontend's ``bytearray(1)``): another thread sets byte 0 to stop the
#: search, which then raises KeyboardInterrupt; each thread looks at it before each block
#: (``_block`` bytes, 1 MiB by default: memory too is scanned in such blocks when a flag is given)
_Flag = Buffer

@final
class Pattern:
    """A compiled pattern (``compile_pattern``): immutable, thread-safe, cheap to keep."""

    @property
    def needle(self) -> bytes: ...
    @property
    def memory_bytes(self) -> int:
        """Bytes held: the needle, and its failure table once a search built it."""
    def count(self, buf: Buffer, threads: int, min_chunk: int, scan: _Scan, simd: _Simd, cancel: _Flag | None = None, /, *, _block: int = 0) -> int:
        """Number of occurrences in ``buf`` (a C-contiguous buffer of bytes), overlaps included."""
    def find_all(self, buf: Buffer, threads: int, min_chunk: int, scan: _Scan, simd: _Simd, cancel: _Flag | None = None, /, *, _block: int = 0) -> list[int]:
        """Start offsets of every occurrence in ``buf``, ascending."""
    def find_array(self, buf: Buffer, threads: int, min_chunk: int, scan: _Scan, simd: _Simd, cancel: _Flag | None = None, /, *, _block: int = 0) -> array[int]:
        """``find_all`` as an ``array('q')`` (no Python ints)."""
    def count_fd(self, fd: int, size: int, threads: int, min_chunk: int, scan: _Scan, simd: _Simd, cancel: _Flag | None = None, /, *, start: int = 0, _block: int = 0) -> int:
        """Number of occurrences in the bytes ``[start, start + size)`` of the regular file
        open on ``fd``, read with ``pread`` (position neither used nor moved, ``fd`` not
        closed); every fd method searches that range and gives file offsets. A file that
        turns out shorter gives the matches in what could be read, with no error."""
    def find_all_fd(self, fd: int, size: int, threads: int, min_chunk: int, scan: _Scan, simd: _Simd, cancel: _Flag | None = None, /, *, start: int = 0, _block: int = 0) -> list[int]:
        """Byte offsets of every occurrence in the file open on ``fd``, ascending; as ``count_fd``."""
    def find_array_fd(self, fd: int, size: int, threads: int, min_chunk: int, scan: _Scan, simd: _Simd, cancel: _Flag | None = None, /, *, start: int = 0, _block: int = 0) -> array[int]:
        """``find_all_fd`` as an ``array('q')``."""

@final
class WordSet:
    """A compiled set of words (``compile_words``): immutable, thread-safe, cheap to keep.

    Matches are ``(start offset, word index)``: every occurrence of every word, overlapping
    ones included, sorted by offset then by index. ``ignore_case`` folds ASCII letters only.
    """

    @property
    def memory_bytes(self) -> int:
        """Bytes held: the words, the start filter, and the Aho-Corasick automaton once
        built (by the first textbook search or fast-scan fallback, or ``build_automaton``)."""
    @property
    def ignore_case(self) -> bool: ...
    @property
    def longest(self) -> int: ...
    def __len__(self) -> int: ...
    def build_automaton(self) -> None:
        """Build the Aho-Corasick automaton now (it is otherwise built when first needed)."""
    def stats(self) -> dict[str, int | bool]:
        """What the set holds (words, word_bytes, automaton_bytes, automaton_built,
        filter_bytes, bitmap_bits, prefix_len, stride, teddy)."""
    def count(self, buf: Buffer, threads: int, min_chunk: int, scan: _Scan, simd: _Simd, cancel: _Flag | None = None, /, *, _block: int = 0) -> int:
        """Total number of matches in ``buf``."""
    def count_each(self, buf: Buffer, threads: int, min_chunk: int, scan: _Scan, simd: _Simd, cancel: _Flag | None = None, /, *, _block: int = 0) -> list[int]:
        """Number of matches of each word in ``buf`` (``len(words)`` counts)."""
    def find_all(self, buf: Buffer, threads: int, min_chunk: int, scan: _Scan, simd: _Simd, cancel: _Flag | None = None, /, *, _block: int = 0) -> list[tuple[int, int]]:
        """Every match in ``buf`` as ``(start offset, word index)``, sorted."""
    def find_array(self, buf: Buffer, threads: int, min_chunk: int, scan: _Scan, simd: _Simd, cancel: _Flag | None = None, /, *, _block: int = 0) -> tuple[array[int], array[int]]:
        """``find_all`` as ``(array('q') offsets, array('i') word indices)``."""
    def count_fd(self, fd: int, size: int, threads: int, min_chunk: int, scan: _Scan, simd: _Simd, cancel: _Flag | None = None, /, *, start: int = 0, _block: int = 0) -> int:
        """Total number of matches in the bytes ``[start, start + size)`` of the file open on ``fd``."""
    def count_each_fd(self, fd: int, size: int, threads: int, min_chunk: int, scan: _Scan, simd: _Simd, cancel: _Flag | None = None, /, *, start: int = 0, _block: int = 0) -> list[int]:
        """Number of matches of each word in the file open on ``fd``."""
    def find_all_fd(self, fd: int, size: int, threads: int, min_chunk: int, scan: _Scan, simd: _Simd, cancel: _Flag | None = None, /, *, start: int = 0, _block: int = 0) -> list[tuple[int, int]]:
        """Every match in the file open on ``fd`` as ``(start offset, word index)``, sorted."""
    def find_array_fd(self, fd: int, size: int, threads: int, min_chunk: int, scan: _Scan, simd: _Simd, cancel: _Flag | None = None, /, *, start: int = 0, _block: int = 0) -> tuple[array[int], array[int]]:
        """``find_all_fd`` as ``(array('q') offsets, array('i') word indices)``."""

def compile_pattern(needle: Buffer, /) -> Pattern:
    """Compile a non-empty needle (copied)."""

def compile_words(words: list[bytes], ignore_case: bool, /) -> WordSet:
    """Compile at least one non-empty, distinct word (distinct after ASCII case folding
    when ``ignore_case``); match indices are positions in ``words``."""

def plan(n: int, m: int, threads: int, min_chunk: int, /) -> list[tuple[int, int]]:
    """This core's own chunk plan: ``(scan_start, scan_end)`` byte ranges, as
    ``kmpsearch._plan.plan_chunks``."""

def pool_threads() -> int:
    """Helper threads of the shared search pool in this process now (0: none yet)."""
