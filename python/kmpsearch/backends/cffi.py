"""The C library (c/, libkmpsearch) through cffi: KMP and Aho-Corasick over pthreads.

``kmpsearch._kmp_cffi`` is an out-of-line API-mode cffi module linked to the static C
library (built by CMake with the package; its declarations are generated from
c/include/kmp.h). ``core`` is the core contract's object (``kmpsearch._contract``):
``core.compile_pattern(needle)`` and ``core.compile_words(words, ignore_case)`` give objects
with one ``search(source, want, options)``; ``core.plan(n, m, threads, min_chunk)`` is the
library's chunk plan.

Buffers go to C without a copy (``ffi.from_buffer``) and cffi releases the GIL for each
``lib`` call, so a search runs without the GIL from start to end. Results come back from
the library's arrays as ``array`` objects (one copy), after which the library's arrays are
freed. Files are read by the
library with ``pread`` into bounded per-thread buffers; a file that turns out shorter
gives the matches in what could be read (KMP_ERR_TRUNCATED is not an error here, as in
grep). A ``FileBatch`` is one library call (``kmp_batch_search_packed``): the files are
opened, read and searched in C, ``options.threads`` at once, without the GIL. Whole words
and match kinds (``options.whole``, ``options.kind``) are chosen by the library too: the
candidates of a memory search (``kmp_find_all`` / ``kmp_wordset_find_all``), then
``kmp_choose`` over its arrays in place, in the same call without the GIL.

No mutable state: a compiled pattern or word set is an immutable C object (freed by
``ffi.gc`` when its Python object goes), and every call makes its own options and result
arrays, so any number of threads may use one object at once (free-threaded builds too).
"""

from __future__ import annotations

import os
from array import array

from .._contract import WANTS, FileBatch, FileRange
from .._kmp_cffi import ffi, lib

_SCAN = {"fast": lib.KMP_SCAN_FAST, "textbook": lib.KMP_SCAN_TEXTBOOK}
_SIMD = {"auto": lib.KMP_SIMD_AUTO, "scalar": lib.KMP_SIMD_SCALAR, "sse2": lib.KMP_SIMD_SSE2,
         "avx2": lib.KMP_SIMD_AVX2}


def simd() -> str:
    """The SIMD level ``simd="auto"`` uses on this CPU: ``"avx2"``, ``"sse2"`` or ``"scalar"``."""
    return ffi.string(lib.kmp_simd_name(lib.KMP_SIMD_AUTO)).decode("ascii")


def _error(status: int, os_errno: int = 0) -> BaseException:
    """The exception for a library status: MemoryError, OSError(errno, strerror) (no file
    name: the frontend adds it), ValueError (an argument the frontend never passes)."""
    if status == lib.KMP_ERR_NOMEM:
        return MemoryError("kmpsearch (cffi): out of memory")
    if status == lib.KMP_ERR_IO:
        err = os_errno or 5  # EIO when the library could not tell
        return OSError(err, os.strerror(err))
    if status == lib.KMP_ERR_CANCELLED:
        return KeyboardInterrupt("kmpsearch (cffi): the search was cancelled")
    message = ffi.string(lib.kmp_strerror(status)).decode("utf-8", "replace")
    return ValueError(f"kmpsearch (cffi): {message}")


def _options(opts):
    """``(kmp_options *, keep)`` of an ``Options``: ``keep`` holds the cancel flag's cdata
    alive for as long as the options are used."""
    try:
        scan_value, simd_value = _SCAN[opts.scan], _SIMD[opts.simd]
    except KeyError:
        raise ValueError(f"kmpsearch (cffi): scan must be one of {tuple(_SCAN)} and simd one of "
                         f"{tuple(_SIMD)}, got {opts.scan!r} and {opts.simd!r}") from None
    cancel = opts.cancel
    keep = ffi.NULL if cancel is None else ffi.from_buffer("unsigned char[]", cancel, require_writable=True)
    if keep != ffi.NULL and len(keep) < 1:
        raise ValueError("kmpsearch (cffi): cancel must be a writable buffer of at least one byte")
    opt = ffi.new("kmp_options *", {
        "threads": opts.threads,
        "min_chunk": opts.min_chunk,
        "scan": scan_value,
        "simd": simd_value,
        "block_size": opts.block,  # 0: KMP_DEFAULT_BLOCK_SIZE
        "cancel": keep,
    })
    return opt, keep


def _check(status: int, os_errno: int = 0, *, file: bool = False) -> None:
    """Raise for a failed call; a file that turned out shorter (TRUNCATED) is not an error."""
    if status != lib.KMP_OK and not (file and status == lib.KMP_ERR_TRUNCATED):
        raise _error(status, os_errno)


#: items copied between two looks at the cancel flag when a result array is made
_COPY_SLICE = 1 << 20


def _array(code: str, pointer, n: int, item: int, cancel=None) -> array:
    """A new ``array(code)`` holding a copy of the library's ``n`` items at ``pointer``,
    ``_COPY_SLICE`` items at a time, looking at ``cancel`` (the options' flag) before each
    slice but the first: a set flag raises KeyboardInterrupt (between slices other threads
    run, the main thread's Ctrl-C handler among them)."""
    out = array(code)
    if n:
        step = _COPY_SLICE * item
        with memoryview(ffi.buffer(pointer, n * item)) as view:
            for start in range(0, len(view), step):
                if start and cancel is not None and cancel[0]:
                    raise _error(lib.KMP_ERR_CANCELLED)
                out.frombytes(view[start:start + step])
    return out


def _run(call_memory, call_fd, source, opts, result):
    """Call the library on ``source`` (memory or a FileRange) with the options; raise for a
    failed call (a file that turned out shorter gives what could be read)."""
    opt, keep = _options(opts)
    if isinstance(source, FileRange):
        err = ffi.new("int *")
        status = call_fd(source.fd, source.start, source.size, opt, result, err)
        return status, err[0], True
    with ffi.from_buffer("char[]", source) as data:  # no copy; read-only buffers too
        status = call_memory(data, len(data), opt, result)
    return status, 0, False


_KIND = {"overlapping": lib.KMP_KIND_OVERLAPPING, "leftmost-longest": lib.KMP_KIND_LEFTMOST_LONGEST,
         "leftmost-first": lib.KMP_KIND_LEFTMOST_FIRST}
_WORD_CHARS = 0x110000  # code points: the length of options.word_chars


def _semantics(source, opts):
    """``None`` when every occurrence is a match (the defaults), else ``(whole, kind,
    word_chars)`` for ``kmp_choose``; ValueError for what cannot be chosen (a file, an unknown
    kind, whole words without the table)."""
    whole, kind = bool(opts.whole), opts.kind
    if not whole and kind == "overlapping":
        return None
    if kind not in _KIND:
        raise ValueError(f"kmpsearch (cffi): kind must be one of {', '.join(_KIND)}, got {kind!r}")
    if isinstance(source, (FileRange, FileBatch)):
        raise ValueError("kmpsearch (cffi): whole words and match kinds are chosen in memory only "
                         "(not a FileRange or FileBatch)")
    table = ffi.NULL
    if whole:
        if opts.word_chars is None or len(opts.word_chars) != _WORD_CHARS:
            raise ValueError(f"kmpsearch (cffi): whole words need word_chars of {_WORD_CHARS} bytes")
        table = ffi.from_buffer("unsigned char[]", opts.word_chars)
    return whole, _KIND[kind], table


def _chosen(find, matches, words: bool, lengths, nwords: int, source, want: str, opts, semantics):
    """The matches chosen in memory: ``find(data, n, opt, matches)`` gives the candidates, then
    ``kmp_choose`` keeps the chosen ones at the front of ``matches``' arrays (``words``: they
    have word indices, else every match is word 0), then the result for ``want``."""
    whole, kind, table = semantics
    opt, keep = _options(opts)
    counts = ffi.new("uint64_t[]", nwords) if want == "each" else ffi.NULL
    try:
        with ffi.from_buffer("char[]", source) as data:  # no copy; read-only buffers too
            status = find(data, len(data), opt, matches)
            if status == lib.KMP_OK:
                status = lib.kmp_choose(data, len(data), lengths, nwords, whole, kind, table, opt, matches.offsets,
                                        matches.words if words else ffi.NULL, ffi.addressof(matches, "len"),
                                        counts)
        _check(status)
        if want == "count":
            return int(matches.len)
        if want == "each":
            return _array("q", counts, nwords, 8)  # counts < 2**63: the same bytes
        offsets = _array("q", matches.offsets, matches.len, 8, opts.cancel)
        if want == "offsets":
            return offsets
        if words:
            return offsets, _array("i", matches.words, matches.len, 4, opts.cancel)  # uint32 < 2**31: the same bytes
        return offsets, array("i", bytes(4 * len(offsets)))
    finally:
        (lib.kmp_word_matches_free if words else lib.kmp_matches_free)(matches)


def _check_want(want: str) -> None:
    if want not in WANTS:
        raise ValueError(f"kmpsearch (cffi): want must be one of {', '.join(WANTS)}, got {want!r}")


_WANT = {"count": lib.KMP_WANT_COUNT, "each": lib.KMP_WANT_EACH, "offsets": lib.KMP_WANT_OFFSETS,
         "pairs": lib.KMP_WANT_PAIRS}
_MAX_SIZE = (1 << 64) - 1


def _batch(s, ws, batch: FileBatch, want: str, opts):
    """A ``FileBatch`` searched by the library (kmp_batch_search_packed: the paths end to end,
    each ended by a NUL, one buffer): ``(status, found)`` as the core contract says, each
    array one copy of the library's."""
    paths = batch.paths
    n = len(paths)
    packed = b"\0".join(paths) + b"\0" if n else b""
    max_size = min(max(batch.max_size, 0), _MAX_SIZE)
    opt, keep = _options(opts)
    out = ffi.new("kmp_batch_result *")
    try:
        status = lib.kmp_batch_search_packed(s, ws, packed, len(packed), n, max_size, _WANT[want], opt, out)
        if status == lib.KMP_ERR_INVALID and packed.count(0) != n:
            raise ValueError("kmpsearch (cffi): embedded null byte in a path")
        _check(status)
        statuses = _array("q", out.status, n, 8)
        if want == "count" or want == "each":
            return statuses, _array("q", out.counts, n * out.nwords, 8)  # counts < 2**63: the same bytes
        found = (_array("q", out.bounds, n + 1, 8), _array("q", out.offsets, out.len, 8, opts.cancel))
        if want == "pairs":
            found += (_array("i", out.words, out.len, 4, opts.cancel),)  # uint32 < 2**31: the same bytes
        return statuses, found
    finally:
        lib.kmp_batch_result_free(out)


class _Immutable:
    __slots__ = ()

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} objects are immutable")

    def __delattr__(self, name):
        raise AttributeError(f"{type(self).__name__} objects are immutable")


class _CPattern(_Immutable):
    """A compiled pattern (kmp_searcher): the core contract's object."""

    __slots__ = ("_s", "_lens", "needle")
    memory_bytes = 0

    def __init__(self, needle: bytes):
        out = ffi.new("kmp_searcher **")
        status = lib.kmp_searcher_new(needle, len(needle), out)
        if status != lib.KMP_OK:
            raise _error(status)
        object.__setattr__(self, "_s", ffi.gc(out[0], lib.kmp_searcher_free))
        object.__setattr__(self, "_lens", ffi.new("size_t[]", [len(needle)]))  # for kmp_choose
        object.__setattr__(self, "needle", bytes(needle))

    def __len__(self) -> int:
        return len(self.needle)

    def search(self, source, want: str, opts):
        """The core contract's search (``kmpsearch._contract``)."""
        _check_want(want)
        s = self._s
        semantics = _semantics(source, opts)
        if semantics is not None:
            return _chosen(lambda d, n, o, r: lib.kmp_find_all(s, d, n, o, r), ffi.new("kmp_matches *"), False,
                           self._lens, 1, source, want, opts, semantics)
        if isinstance(source, FileBatch):
            return _batch(s, ffi.NULL, source, want, opts)
        if want in ("count", "each"):
            result = ffi.new("uint64_t *")
            status, err, file = _run(lambda d, n, o, r: lib.kmp_count(s, d, n, o, r),
                                     lambda fd, a, n, o, r, e: lib.kmp_count_fd_range(s, fd, a, n, o, r, e),
                                     source, opts, result)
            _check(status, err, file=file)
            return int(result[0]) if want == "count" else array("q", [result[0]])
        matches = ffi.new("kmp_matches *")
        try:
            status, err, file = _run(lambda d, n, o, r: lib.kmp_find_all(s, d, n, o, r),
                                     lambda fd, a, n, o, r, e: lib.kmp_find_all_fd_range(s, fd, a, n, o, r, e),
                                     source, opts, matches)
            _check(status, err, file=file)
            offsets = _array("q", matches.offsets, matches.len, 8, opts.cancel)
        finally:
            lib.kmp_matches_free(matches)
        return (offsets, array("i", bytes(4 * len(offsets)))) if want == "pairs" else offsets


class _CWordSet(_Immutable):
    """A compiled set of words (kmp_wordset, Aho-Corasick + prefilter): the core contract's
    object."""

    __slots__ = ("_ws", "_n", "_lens")

    def __init__(self, words: list[bytes], ignore_case: bool):
        lens = ffi.new("size_t[]", [len(w) for w in words])  # kept for kmp_choose
        out = ffi.new("kmp_wordset **")
        blob = b"".join(words)  # one buffer, no per-word pointers to make in Python
        status = lib.kmp_wordset_new_packed(blob, lens, len(words), lib.KMP_IGNORE_CASE if ignore_case else 0,
                                            out)
        if status != lib.KMP_OK:
            raise _error(status)
        object.__setattr__(self, "_ws", ffi.gc(out[0], lib.kmp_wordset_free))
        object.__setattr__(self, "_n", len(words))
        object.__setattr__(self, "_lens", lens)

    def __len__(self) -> int:
        return self._n

    @property
    def memory_bytes(self) -> int:
        """Bytes the compiled set holds (automaton, prefilter, verification table)."""
        return int(lib.kmp_wordset_memory(self._ws))

    def search(self, source, want: str, opts):
        """The core contract's search (``kmpsearch._contract``)."""
        _check_want(want)
        ws = self._ws
        semantics = _semantics(source, opts)
        if semantics is not None:
            return _chosen(lambda d, n, o, r: lib.kmp_wordset_find_all(ws, d, n, o, r), ffi.new("kmp_word_matches *"),
                           True, self._lens, self._n, source, want, opts, semantics)
        if isinstance(source, FileBatch):
            return _batch(ffi.NULL, ws, source, want, opts)
        if want == "count":
            result = ffi.new("uint64_t *")
            status, err, file = _run(lambda d, n, o, r: lib.kmp_wordset_count(ws, d, n, o, r),
                                     lambda fd, a, n, o, r, e: lib.kmp_wordset_count_fd_range(ws, fd, a, n, o, r, e),
                                     source, opts, result)
            _check(status, err, file=file)
            return int(result[0])
        if want == "each":
            counts = ffi.new("uint64_t[]", self._n)
            status, err, file = _run(
                lambda d, n, o, r: lib.kmp_wordset_count_each(ws, d, n, o, r),
                lambda fd, a, n, o, r, e: lib.kmp_wordset_count_each_fd_range(ws, fd, a, n, o, r, e),
                source, opts, counts)
            _check(status, err, file=file)
            return _array("q", counts, self._n, 8)  # counts < 2**63: the same bytes
        matches = ffi.new("kmp_word_matches *")
        try:
            status, err, file = _run(
                lambda d, n, o, r: lib.kmp_wordset_find_all(ws, d, n, o, r),
                lambda fd, a, n, o, r, e: lib.kmp_wordset_find_all_fd_range(ws, fd, a, n, o, r, e),
                source, opts, matches)
            _check(status, err, file=file)
            offsets = _array("q", matches.offsets, matches.len, 8, opts.cancel)
            if want == "offsets":
                return offsets
            return offsets, _array("i", matches.words, matches.len, 4, opts.cancel)  # uint32 < 2**31: the same bytes
        finally:
            lib.kmp_word_matches_free(matches)


class _Core(_Immutable):
    """What the Python layer calls (the core contract of kmpsearch._contract)."""

    __slots__ = ()
    name = "cffi"

    # (private class names: make_api puts the public Pattern and WordSet in this module)
    @staticmethod
    def compile_pattern(needle: bytes) -> _CPattern:
        return _CPattern(needle)

    @staticmethod
    def compile_words(words: list[bytes], ignore_case: bool) -> _CWordSet:
        return _CWordSet(words, ignore_case)

    @staticmethod
    def plan(n: int, m: int, threads: int, min_chunk: int) -> list[tuple[int, int]]:
        """The library's own chunk plan (kmp_plan), the one its searches use."""
        k = ffi.new("size_t *")
        status = lib.kmp_plan(n, m, threads, min_chunk, ffi.NULL, 0, k)
        if status != lib.KMP_OK:
            raise _error(status)
        chunks = ffi.new("kmp_chunk[]", max(1, k[0]))
        status = lib.kmp_plan(n, m, threads, min_chunk, chunks, k[0], k)
        if status != lib.KMP_OK:
            raise _error(status)
        return [(chunks[i].start, chunks[i].end) for i in range(k[0])]

    @staticmethod
    def simd() -> str:
        return simd()


core = _Core()


from .._api import make_api  # noqa: E402  (after the core: make_api adds the public classes)
from . import info  # noqa: E402

globals().update(make_api(info("cffi"), core))
