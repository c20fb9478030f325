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

Each compiled object has one search entry, ``search(source, want, options)`` (the core
contract, ``kmpsearch._contract``); results are arrays, never lists.

A ``FileBatch(paths, max_size)`` searches many files in one call, detached from the
interpreter: ``options.threads`` threads (the caller's and the pool's) take the files one
after the other, each opening, ``fstat``-ing, reading (into a buffer it reuses) and
searching a file whole, then closing it.

Errors: ValueError for arguments the Python layer never passes (``threads`` outside
1..256, ``min_chunk`` < 1, an unknown ``scan``, ``simd``, ``kind`` or ``want``, empty needle or
word, ``whole`` without a ``word_chars`` table, ``whole`` or a ``kind`` with a file range or
a batch), TypeError for a non-contiguous buffer, MemoryError (never an abort),
OSError(errno, strerror) for a bad descriptor or a failed read in the file searches (no
file name; a batch gives each file's errno in its status instead), and KeyboardInterrupt
when the cancel flag stopped a search.
"""

import sys
from array import array
from typing import Final, Literal, Protocol, final, overload

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

class _Options(Protocol):
    """What ``search`` reads of its options, by attribute name: ``kmpsearch._contract.Options``."""

    @property
    def threads(self) -> int: ...
    @property
    def min_chunk(self) -> int: ...
    @property
    def scan(self) -> str: ...
    @property
    def simd(self) -> str: ...
    @property
    def block(self) -> int: ...
    @property
    def cancel(self) -> bytearray | None: ...
    @property
    def whole(self) -> bool: ...
    @property
    def kind(self) -> str: ...
    @property
    def word_chars(self) -> bytes | None: ...

#: what a search reads: a buffer, or a file range ``(fd, start, size)``
#: (``kmpsearch._contract.FileRange``, or any tuple of three ints)
_Source = Buffer | tuple[int, int, int]
#: a "pairs" result: (offsets, word indices)
_Pairs = tuple[array[int], array[int]]
#: many files: ``(paths, max_size)`` (``kmpsearch._contract.FileBatch``), the paths as bytes
_Batch = tuple[tuple[bytes, ...], int]
#: a batch's "count" or "each": (status, counts) -- status: one entry per path, 0 searched,
#: an errno (> 0; EISDIR for a directory), -1 (STREAM: not a regular file, or size 0) or
#: -2 (BIG: ``max_size`` bytes or more); counts: one per path ("each": one per path and word)
_BatchCounts = tuple[array[int], array[int]]
#: a batch's "offsets": (status, (bounds, offsets)); file i's are offsets[bounds[i]:bounds[i + 1]]
_BatchOffsets = tuple[array[int], tuple[array[int], array[int]]]
#: a batch's "pairs": (status, (bounds, offsets, word indices))
_BatchPairs = tuple[array[int], tuple[array[int], array[int], array[int]]]

@final
class Pattern:
    """A compiled pattern (``compile_pattern``): immutable, thread-safe, cheap to keep."""

    @property
    def needle(self) -> bytes: ...
    @property
    def memory_bytes(self) -> int:
        """Bytes held: the needle, and its failure table once a search built it."""
    @overload
    def search(self, source: _Source, want: Literal["count"], options: _Options, /) -> int:
        """The core contract's search (``kmpsearch._contract``).

        ``source``: a C-contiguous buffer of bytes (searched in place, never written), or
        ``(fd, start, size)``: bytes ``[start, start + size)`` of the regular file open on
        ``fd``, read with ``pread`` (position neither used nor moved, ``fd`` not closed),
        offsets are file offsets; a file that turns out shorter gives the matches in what
        could be read, with no error.
        ``want``: ``"count"`` -> int; ``"each"`` -> ``array('q')`` of one count;
        ``"offsets"`` -> ``array('q')`` of every start offset, ascending; ``"pairs"`` ->
        ``(array('q') offsets, array('i') word indices)``, the indices all 0.
        ``options``: ``threads``, ``min_chunk``, ``scan``, ``simd``, ``block`` (bytes between
        two looks at ``cancel``; 0: 1 MiB), ``cancel`` (``None`` or a ``bytearray(1)``:
        another thread sets byte 0 to stop the search, which raises KeyboardInterrupt);
        ``whole``, ``kind`` (``"overlapping"``, ``"leftmost-longest"``, ``"leftmost-first"``)
        and ``word_chars`` (``bytes`` of 0x110000, 1 = word character; read when ``whole``,
        borrowed): a buffer's result is that of the matches chosen from every occurrence
        as ``kmpsearch._semantics.Chooser`` chooses them (whole words, then the kind), in
        one pass after the search; with a file range or a batch, a ValueError.

        ``source`` may also be ``(paths, max_size)``: each path (bytes) opened read-only and
        non-blocking, ``fstat``-ed and, when a regular file of 1 to ``max_size - 1`` bytes,
        read (``block`` bytes at a time) and searched whole by one thread, ``threads`` files at
        once; the result is ``(status, found)`` (``_BatchCounts``, ``_BatchOffsets``,
        ``_BatchPairs``), the files' results in the order of ``paths``."""
    @overload
    def search(self, source: _Source, want: Literal["each", "offsets"], options: _Options, /) -> array[int]: ...
    @overload
    def search(self, source: _Source, want: Literal["pairs"], options: _Options, /) -> _Pairs: ...
    @overload
    def search(self, source: _Batch, want: Literal["count", "each"], options: _Options, /) -> _BatchCounts: ...
    @overload
    def search(self, source: _Batch, want: Literal["offsets"], options: _Options, /) -> _BatchOffsets: ...
    @overload
    def search(self, source: _Batch, want: Literal["pairs"], options: _Options, /) -> _BatchPairs: ...

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
    @overload
    def search(self, source: _Source, want: Literal["count"], options: _Options, /) -> int:
        """The core contract's search, as ``Pattern.search``: ``"count"`` -> the number of
        matches; ``"each"`` -> ``array('q')``, the matches of each word (``len(words)``
        counts); ``"offsets"`` -> ``array('q')``, the offsets of ``"pairs"`` (an offset
        repeated where several words start); ``"pairs"`` -> ``(array('q') offsets,
        array('i') word indices)``, sorted by offset, then index. A batch ``(paths,
        max_size)`` as ``Pattern.search``; its ``"each"`` has ``len(paths) * len(words)``
        counts, file by file."""
    @overload
    def search(self, source: _Source, want: Literal["each", "offsets"], options: _Options, /) -> array[int]: ...
    @overload
    def search(self, source: _Source, want: Literal["pairs"], options: _Options, /) -> _Pairs: ...
    @overload
    def search(self, source: _Batch, want: Literal["count", "each"], options: _Options, /) -> _BatchCounts: ...
    @overload
    def search(self, source: _Batch, want: Literal["offsets"], options: _Options, /) -> _BatchOffsets: ...
    @overload
    def search(self, source: _Batch, want: Literal["pairs"], options: _Options, /) -> _BatchPairs: ...

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
