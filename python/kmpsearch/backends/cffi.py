"""The C library (c/, libkmpsearch) through cffi: KMP and Aho-Corasick over pthreads.

``kmpsearch._kmp_cffi`` is an out-of-line API-mode cffi module linked to the static C
library (built by CMake with the package; its declarations are generated from
c/include/kmp.h). ``core`` is what the frontend calls (the core contract of ``kmpsearch._frontend``):
``core.compile_pattern(needle)``, ``core.compile_words(words, ignore_case)`` and
``core.plan(n, m, threads, min_chunk)``.

Buffers go to C without a copy (``ffi.from_buffer``) and cffi releases the GIL for each
``lib`` call, so a search runs without the GIL from start to end. Results come back from
the library's arrays as lists made ``LIST_SLICE`` entries at a time (``list.extend`` of a
memoryview slice: one C loop per slice), after which the arrays are freed; between slices other
threads get the GIL (the frontend's main thread runs its Ctrl-C handler there) and the
cancel flag is looked at, as the library does between blocks. Files are read by the
library with ``pread`` into bounded per-thread buffers; a file that turns out shorter
gives the matches in what could be read (KMP_ERR_TRUNCATED is not an error here, as in
grep).

No mutable state: a compiled pattern or word set is an immutable C object (freed by
``ffi.gc`` when its Python object goes), and every call makes its own options and result
arrays, so any number of threads may use one object at once (free-threaded builds too).
"""

from __future__ import annotations

import os
from array import array

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


def _options(threads: int, min_chunk: int, scan: str, simd: str, cancel=None, block: int = 0):
    """``(kmp_options *, keep)``: ``keep`` holds the cancel flag's cdata (``cancel``, a
    writable one-byte buffer, or None) alive for as long as the options are used."""
    try:
        scan_value, simd_value = _SCAN[scan], _SIMD[simd]
    except KeyError:
        raise ValueError(f"kmpsearch (cffi): scan must be one of {tuple(_SCAN)} and simd one of "
                         f"{tuple(_SIMD)}, got {scan!r} and {simd!r}") from None
    keep = ffi.NULL if cancel is None else ffi.from_buffer("unsigned char[]", cancel, require_writable=True)
    if keep != ffi.NULL and len(keep) < 1:
        raise ValueError("kmpsearch (cffi): cancel must be a writable buffer of at least one byte")
    opt = ffi.new("kmp_options *", {
        "threads": threads,
        "min_chunk": min_chunk,
        "scan": scan_value,
        "simd": simd_value,
        # KMP_DEFAULT_BLOCK_SIZE (1 MiB per thread) unless a test asks for smaller pieces
        "block_size": block,
        "cancel": keep,
    })
    return opt, keep


def _check(status: int, os_errno: int = 0, *, file: bool = False) -> None:
    """Raise for a failed call; a file that turned out shorter (TRUNCATED) is not an error."""
    if status != lib.KMP_OK and not (file and status == lib.KMP_ERR_TRUNCATED):
        raise _error(status, os_errno)


#: entries per slice when a result becomes a list: a few ms of holding the GIL each
LIST_SLICE = 1 << 20


def _cancelled(cancel) -> bool:
    return cancel is not None and cancel[0] != 0


def _sliced(n: int, piece, cancel) -> list:
    """A list of ``n`` entries built ``LIST_SLICE`` at a time (``out.extend(piece(start,
    end))``); KeyboardInterrupt once ``cancel`` is set. (This is Python code between the
    slices: the interpreter hands the GIL to a thread waiting for it there, the main
    thread's signal handler included.)"""
    out: list = []
    for start in range(0, n, LIST_SLICE):
        if _cancelled(cancel):
            raise _error(lib.KMP_ERR_CANCELLED)
        out.extend(piece(start, start + LIST_SLICE))
    return out


def _tolist(view: memoryview, cancel) -> list:
    """``view.tolist()``, sliced (``list.extend`` of a memoryview makes the ints straight
    into the list, as fast as one ``tolist``)."""
    if len(view) <= LIST_SLICE:
        return view.tolist()
    return _sliced(len(view), lambda a, b: view[a:b], cancel)


def _zip(offsets: memoryview, words: memoryview, cancel) -> list:
    """``list(zip(offsets, words))``, sliced (no lists of ints in between: faster than
    ``list(zip(offsets.tolist(), words.tolist()))``)."""
    return _sliced(len(offsets), lambda a, b: zip(offsets[a:b], words[a:b]), cancel)


def _offsets(matches, as_array: bool = False, cancel=None, status: int = lib.KMP_OK, os_errno: int = 0,
             file: bool = False):
    """A kmp_matches as a list (``_tolist``) or an array('q') (one copy), after ``_check``
    of the call's status; freed in any case."""
    try:
        _check(status, os_errno, file=file)
        if not matches.len:
            return array("q") if as_array else []
        raw = ffi.buffer(matches.offsets, matches.len * 8)
        if as_array:
            out = array("q")
            out.frombytes(raw)
            return out
        with memoryview(raw) as view, view.cast("q") as offsets:
            return _tolist(offsets, cancel)
    finally:
        lib.kmp_matches_free(matches)


def _pairs(matches, as_array: bool = False, cancel=None, status: int = lib.KMP_OK, os_errno: int = 0,
           file: bool = False):
    """A kmp_word_matches as [(offset, word index), ...] (``_zip``), or as the arrays
    ``(array('q') offsets, array('i') word indices)``, after ``_check`` of the call's
    status; freed in any case."""
    try:
        _check(status, os_errno, file=file)
        n = matches.len
        if as_array:
            offsets, words = array("q"), array("i")
            if n:
                offsets.frombytes(ffi.buffer(matches.offsets, n * 8))
                words.frombytes(ffi.buffer(matches.words, n * 4))  # uint32 < 2**31: the same bytes
            return offsets, words
        if not n:
            return []
        with memoryview(ffi.buffer(matches.offsets, n * 8)) as raw_o, raw_o.cast("q") as offsets, \
                memoryview(ffi.buffer(matches.words, n * 4)) as raw_w, raw_w.cast("I") as words:
            return _zip(offsets, words, cancel)
    finally:
        lib.kmp_word_matches_free(matches)


def _counts(array, n: int) -> list[int]:
    with memoryview(ffi.buffer(array, n * 8)) as raw, raw.cast("Q") as counts:
        return counts.tolist()


class _Immutable:
    __slots__ = ()

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} objects are immutable")

    def __delattr__(self, name):
        raise AttributeError(f"{type(self).__name__} objects are immutable")


class _CPattern(_Immutable):
    """A compiled pattern (kmp_searcher): count / find_all in memory or in a file."""

    __slots__ = ("_s", "needle")

    def __init__(self, needle: bytes):
        out = ffi.new("kmp_searcher **")
        status = lib.kmp_searcher_new(needle, len(needle), out)
        if status != lib.KMP_OK:
            raise _error(status)
        object.__setattr__(self, "_s", ffi.gc(out[0], lib.kmp_searcher_free))
        object.__setattr__(self, "needle", bytes(needle))

    def __len__(self) -> int:
        return len(self.needle)

    # every method: (buf | fd, size), threads, min_chunk, scan, simd[, cancel]; ``_block``:
    # bytes per read / per look at ``cancel`` (tests; 0: the library's 1 MiB)
    def count(self, buf, threads, min_chunk, scan, simd, cancel=None, *, _block=0) -> int:
        opt, keep = _options(threads, min_chunk, scan, simd, cancel, _block)
        result = ffi.new("uint64_t *")
        with ffi.from_buffer("char[]", buf) as data:  # no copy; read-only buffers too
            status = lib.kmp_count(self._s, data, len(data), opt, result)
        _check(status)
        return int(result[0])

    def _find(self, buf, opts, cancel, block, as_array):
        opt, keep = _options(*opts, cancel, block)
        result = ffi.new("kmp_matches *")
        with ffi.from_buffer("char[]", buf) as data:
            status = lib.kmp_find_all(self._s, data, len(data), opt, result)
        return _offsets(result, as_array, cancel, status)  # frees the array

    def find_all(self, buf, threads, min_chunk, scan, simd, cancel=None, *, _block=0) -> list[int]:
        return self._find(buf, (threads, min_chunk, scan, simd), cancel, _block, False)

    def find_array(self, buf, threads, min_chunk, scan, simd, cancel=None, *, _block=0) -> array:
        return self._find(buf, (threads, min_chunk, scan, simd), cancel, _block, True)

    # fd methods: bytes [start, start + size) of the file; offsets are file offsets
    def count_fd(self, fd, size, threads, min_chunk, scan, simd, cancel=None, *, start=0, _block=0) -> int:
        opt, keep = _options(threads, min_chunk, scan, simd, cancel, _block)
        result, err = ffi.new("uint64_t *"), ffi.new("int *")
        status = lib.kmp_count_fd_range(self._s, fd, start, size, opt, result, err)
        _check(status, err[0], file=True)  # TRUNCATED: the matches in what was read
        return int(result[0])

    def _find_fd(self, fd, start, size, opts, cancel, block, as_array):
        opt, keep = _options(*opts, cancel, block)
        result, err = ffi.new("kmp_matches *"), ffi.new("int *")
        status = lib.kmp_find_all_fd_range(self._s, fd, start, size, opt, result, err)
        return _offsets(result, as_array, cancel, status, err[0], file=True)

    def find_all_fd(self, fd, size, threads, min_chunk, scan, simd, cancel=None, *, start=0,
                    _block=0) -> list[int]:
        return self._find_fd(fd, start, size, (threads, min_chunk, scan, simd), cancel, _block, False)

    def find_array_fd(self, fd, size, threads, min_chunk, scan, simd, cancel=None, *, start=0,
                      _block=0) -> array:
        return self._find_fd(fd, start, size, (threads, min_chunk, scan, simd), cancel, _block, True)


class _CWordSet(_Immutable):
    """A compiled set of words (kmp_wordset, Aho-Corasick + prefilter): every occurrence
    of every word, overlapping ones included, as (offset, word index) sorted by offset then
    index; counts in total or per word; in memory or in a file."""

    __slots__ = ("_ws", "_n")

    def __init__(self, words: list[bytes], ignore_case: bool):
        lens = ffi.new("size_t[]", [len(w) for w in words])
        out = ffi.new("kmp_wordset **")
        blob = b"".join(words)  # one buffer, no per-word pointers to make in Python
        status = lib.kmp_wordset_new_packed(blob, lens, len(words), lib.KMP_IGNORE_CASE if ignore_case else 0,
                                            out)
        if status != lib.KMP_OK:
            raise _error(status)
        object.__setattr__(self, "_ws", ffi.gc(out[0], lib.kmp_wordset_free))
        object.__setattr__(self, "_n", len(words))

    def __len__(self) -> int:
        return self._n

    @property
    def memory_bytes(self) -> int:
        """Bytes the compiled set holds (automaton, prefilter, verification table)."""
        return int(lib.kmp_wordset_memory(self._ws))

    def count(self, buf, threads, min_chunk, scan, simd, cancel=None, *, _block=0) -> int:
        opt, keep = _options(threads, min_chunk, scan, simd, cancel, _block)
        result = ffi.new("uint64_t *")
        with ffi.from_buffer("char[]", buf) as data:
            status = lib.kmp_wordset_count(self._ws, data, len(data), opt, result)
        _check(status)
        return int(result[0])

    def count_each(self, buf, threads, min_chunk, scan, simd, cancel=None, *, _block=0) -> list[int]:
        opt, keep = _options(threads, min_chunk, scan, simd, cancel, _block)
        counts = ffi.new("uint64_t[]", self._n)
        with ffi.from_buffer("char[]", buf) as data:
            status = lib.kmp_wordset_count_each(self._ws, data, len(data), opt, counts)
        _check(status)
        return _counts(counts, self._n)

    def _find(self, buf, opts, cancel, block, as_array):
        opt, keep = _options(*opts, cancel, block)
        result = ffi.new("kmp_word_matches *")
        with ffi.from_buffer("char[]", buf) as data:
            status = lib.kmp_wordset_find_all(self._ws, data, len(data), opt, result)
        return _pairs(result, as_array, cancel, status)  # frees the arrays

    def find_all(self, buf, threads, min_chunk, scan, simd, cancel=None, *, _block=0) -> list[tuple[int, int]]:
        return self._find(buf, (threads, min_chunk, scan, simd), cancel, _block, False)

    def find_array(self, buf, threads, min_chunk, scan, simd, cancel=None, *, _block=0) -> tuple[array, array]:
        return self._find(buf, (threads, min_chunk, scan, simd), cancel, _block, True)

    def count_fd(self, fd, size, threads, min_chunk, scan, simd, cancel=None, *, start=0, _block=0) -> int:
        opt, keep = _options(threads, min_chunk, scan, simd, cancel, _block)
        result, err = ffi.new("uint64_t *"), ffi.new("int *")
        status = lib.kmp_wordset_count_fd_range(self._ws, fd, start, size, opt, result, err)
        _check(status, err[0], file=True)
        return int(result[0])

    def count_each_fd(self, fd, size, threads, min_chunk, scan, simd, cancel=None, *, start=0,
                      _block=0) -> list[int]:
        opt, keep = _options(threads, min_chunk, scan, simd, cancel, _block)
        counts, err = ffi.new("uint64_t[]", self._n), ffi.new("int *")
        status = lib.kmp_wordset_count_each_fd_range(self._ws, fd, start, size, opt, counts, err)
        _check(status, err[0], file=True)
        return _counts(counts, self._n)

    def _find_fd(self, fd, start, size, opts, cancel, block, as_array):
        opt, keep = _options(*opts, cancel, block)
        result, err = ffi.new("kmp_word_matches *"), ffi.new("int *")
        status = lib.kmp_wordset_find_all_fd_range(self._ws, fd, start, size, opt, result, err)
        return _pairs(result, as_array, cancel, status, err[0], file=True)

    def find_all_fd(self, fd, size, threads, min_chunk, scan, simd, cancel=None, *, start=0,
                    _block=0) -> list[tuple[int, int]]:
        return self._find_fd(fd, start, size, (threads, min_chunk, scan, simd), cancel, _block, False)

    def find_array_fd(self, fd, size, threads, min_chunk, scan, simd, cancel=None, *, start=0,
                      _block=0) -> tuple[array, array]:
        return self._find_fd(fd, start, size, (threads, min_chunk, scan, simd), cancel, _block, True)


class _Core(_Immutable):
    """What the frontend calls (the core contract of kmpsearch._frontend)."""

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


from .._frontend import make_api  # noqa: E402  (after the core: make_api adds the public classes)

globals().update(make_api("cffi", core))
