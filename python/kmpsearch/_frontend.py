"""The one place where arguments are checked, files are opened and results are shaped.

Every backend module is ``make_api(name, core)``: the public ``Pattern`` and ``WordSet``
classes bound to that backend's *core*, ``compile`` and the top-level functions. So every
backend accepts and rejects exactly the same inputs, raises the same exceptions, reads files
the same way and handles ``str`` the same way; a core only compiles and scans.

The core contract
-----------------
``core.compile_pattern(needle: bytes) -> P`` (``needle`` non-empty) and
``core.compile_words(words: list[bytes], ignore_case: bool) -> W`` (at least one word, none
empty, all distinct -- after ASCII case folding when ``ignore_case``). P and W are
immutable and may be used by any number of threads at once. Their methods take positional
arguments, always all of them::

    P.count(buf, threads, min_chunk, scan, simd, cancel) -> int
    P.find_all(buf, threads, min_chunk, scan, simd, cancel) -> list[int]     ascending
    P.find_array(buf, ...) -> array.array('q')                               the same offsets
    P.count_fd(fd, size, threads, min_chunk, scan, simd, cancel) / P.find_all_fd(...)
        / P.find_array_fd(...)
    W.count(...) -> int, W.count_each(...) -> list[int] (one per word),
    W.find_all(...) -> list[(offset, word index)]   sorted by offset, then word index
    W.find_array(...) -> (array.array('q') offsets, array.array('i') word indices), same order
    W.count_fd / W.count_each_fd / W.find_all_fd / W.find_array_fd (fd, size, ...),
    W.memory_bytes

* ``buf``: a 1-D C-contiguous memoryview of format 'B' (maybe read-only or empty),
  searched in place;
* ``fd``: an open regular file, read with ``pread`` only (never closed, position unused)
  over bytes ``[0, size)``, ``size`` from this module's one ``fstat``; a file that turns out
  shorter (it shrank during the search) gives the matches in what could be read, no error.
  The native cores' fd methods also take a keyword ``start``: bytes ``[start, start +
  size)``, the same plan over that range, offsets still file offsets (``finditer`` of a
  path searches a file range by range so);
* ``threads`` 1..MAX_THREADS, ``min_chunk`` 1..2**63-1 (the chunk plan, ``_plan.py``),
  ``scan`` one of the backend's scans, ``simd`` "auto" or a level of the backend's table row;
* ``cancel``: a ``bytearray(1)`` made by ``_run`` for the call (the only place that makes
  one). Another thread sets ``cancel[0] = 1`` to stop the search: a native core looks at it
  (every thread of it) before each block it reads or scans -- at most ``_block`` bytes
  apart, 1 MiB by default; memory is scanned in such pieces, the scan's state carried
  across, so results never depend on them -- and raises KeyboardInterrupt. A native core
  makes a result list (which needs the GIL) a slice of about a million entries at a time,
  and between slices lets waiting threads take the GIL (the main thread's Ctrl-C handler
  runs there) and looks at ``cancel`` the same way. Native cores take a private keyword
  ``_block`` (tests lower it to put piece boundaries everywhere); the pure-Python cores
  say ``interruptible = True`` (``_run`` then calls them directly) and look at ``cancel``
  between their blocks too;
* every occurrence, overlapping ones included; results never depend on the options;
* MemoryError when memory runs out; OSError(errno, strerror) for a failed read -- without a
  filename: this module adds the path; a chunk whose thread cannot start runs on the caller.

``str`` is searched as UTF-8 (lone surrogates included, through ``surrogatepass``). UTF-8
is self-synchronising: an encoded word can only match at a character boundary, so counts
are exact, and byte offsets are turned back into code point offsets, which is exactly what
``str.find`` would give. Pure-ASCII text needs no conversion at all.

Streams -- ``finditer``, ``redact_stream``, the command, a file whose size reads as 0 -- are
read by one reader, ``_windows.read_windows``, in overlapping windows searched with the
in-memory methods (``_Search._windows``); a window owns the matches that start in it.
(``finditer`` of a regular file with a native core leaves the reading to the core: ranges
of the file through ``find_array_fd(..., start=)``, the same ownership rule.)
``as_array`` and ``redact`` use ``find_array``/``find_array_fd`` (``array('q')``; a word
set: with ``array('i')`` word indices), which every core has.
"""

from __future__ import annotations

import collections
import errno
import io
import itertools
import operator
import os
import stat
import sys
import threading
import time
from array import array
from bisect import bisect_left
from concurrent.futures import ThreadPoolExecutor
from pickle import PickleBuffer
from typing import Any, Iterable, Iterator, Union

from ._plan import DEFAULT_MIN_CHUNK
from ._pycore import submit, to_arrays
from ._windows import UTF8_CONTINUATION, ChunkReader, TextReader, read_windows, write_all
from .backends import info as _backend_info

__all__ = ["MAX_THREADS", "Pattern", "WordSet", "default_threads", "make_api", "resolve_threads"]

#: ``threads`` above this are treated as this many (results never depend on threads)
MAX_THREADS = 256
#: bytes read per window for files whose size reads as 0 (``/proc``)
STREAM_WINDOW = 16 << 20
#: bytes per window of ``finditer`` and ``redact_stream``: the window is searched while it
#: is in the CPU's cache, and a window where every byte matches stays a few MB of results
ITER_WINDOW = 1 << 20
#: bytes per range of ``finditer`` over a regular file with a native core (``threads``
#: ranges searched at once, one core thread each): large enough that a range's fixed costs
#: stay small beside its search, small enough that its matches do (measured: 1 MiB 1.6x,
#: 4 MiB 1.16x, 16 MiB 1.12x the time of ``find_all_in_file`` on 1 GiB, 2 threads)
FILE_RANGE = 4 << 20

StrPath = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

# what a search returns: the core methods for memory and for a descriptor
_KINDS = {"count": ("count", "count_fd"), "each": ("count_each", "count_each_fd"),
          "list": ("find_all", "find_all_fd"), "array": ("find_array", "find_array_fd")}


# --------------------------------------------------------------------------- arguments

def default_threads() -> int:
    """Every CPU this process may use."""
    if hasattr(os, "process_cpu_count"):  # Python 3.13+
        n = os.process_cpu_count()
    elif hasattr(os, "sched_getaffinity"):
        n = len(os.sched_getaffinity(0))
    else:  # pragma: no cover - platforms without affinity
        n = os.cpu_count()
    return max(1, n or 1)


def resolve_threads(threads: object) -> int:
    """``None`` -> every usable CPU; an int >= 1 as is (capped at MAX_THREADS)."""
    if threads is None:
        return min(default_threads(), MAX_THREADS)
    if isinstance(threads, bool):
        raise TypeError("threads must be an int or None, not bool")
    try:
        n = operator.index(threads)
    except TypeError:
        raise TypeError(f"threads must be an int or None, not {type(threads).__name__}") from None
    if n < 1:
        raise ValueError(f"threads must be >= 1, got {n}")
    return min(n, MAX_THREADS)


def _check_positive(value: object, what: str, default: int) -> int:
    """An int >= 1, or ``default`` for None."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int")
    if value < 1:
        raise ValueError(f"{what} must be >= 1")
    return value


def _check_min_chunk(value: object) -> int:
    # larger means "one chunk" all the same; fits every core's u64/i64
    return min(_check_positive(value, "_min_chunk", DEFAULT_MIN_CHUNK), 2**63 - 1)


def _check_choice(value: object, what: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    value = str.__str__(value)  # a str subclass (enum.StrEnum) as the plain str the cores expect
    if value not in choices:
        raise ValueError(f"{what} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def _byte_view(obj: object, what: str) -> memoryview:
    """A zero-copy, 1-D, format 'B' view of a C-contiguous buffer."""
    try:
        mv = memoryview(obj)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{what} must be str or a bytes-like object, not {type(obj).__name__}") from None
    if not mv.c_contiguous:
        mv.release()
        raise TypeError(f"{what} must be a C-contiguous buffer")
    if mv.ndim == 1 and mv.format == "B":
        return mv
    if any(code in mv.format for code in "OP&"):  # e.g. numpy dtype=object: the bytes are pointers
        fmt = mv.format
        mv.release()
        raise TypeError(f"{what} must hold bytes, characters or numbers, not objects or pointers (format {fmt!r})")
    return PickleBuffer(mv).raw()  # any C-contiguous buffer as unsigned bytes, no copy


def _word_bytes(word: object, what: str) -> bytes:
    """A bytes-like word or needle as bytes (a copy: compiled objects own their words)."""
    with _byte_view(word, what) as mv:
        data = mv.tobytes()
    if not data:
        raise ValueError(f"{what} must not be empty")
    return data


def _encode_text(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _char_offsets(data: bytes, offsets: list[int]) -> list[int]:
    """Turn ascending byte offsets into UTF-8 ``data`` into code point offsets."""
    view = memoryview(data)
    out = []
    prev_byte = prev_char = 0
    for off in offsets:
        prev_char += len(str(view[prev_byte:off], "utf-8", "surrogatepass"))
        prev_byte = off
        out.append(prev_char)
    return out


def open_file(path: object, regular: bool) -> tuple[io.FileIO, os.stat_result]:
    """Open ``path`` read-only: ``(unbuffered binary file, its fstat)`` -- the one open and
    the one ``fstat`` of every file kmpsearch reads (the searches, ``finditer``,
    ``redact_stream``, the command), so the size the cores get and the checks agree.

    A directory is IsADirectoryError. ``regular``: regular files only (anything else is
    OSError(EINVAL); opening does not wait for a FIFO's writer); otherwise any readable file
    (a FIFO, a device: read as a stream). The errors name the path.
    """
    p = os.fspath(path)  # TypeError for anything that is not a path
    # O_NONBLOCK: opening a FIFO must not wait for a writer; no effect on regular files
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    if regular:
        flags |= getattr(os, "O_NONBLOCK", 0)
    f = open(p, "rb", buffering=0, opener=lambda name, _: os.open(name, flags))  # noqa: SIM115
    try:
        st = os.fstat(f.fileno())
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), p)
        if regular and not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file (read it yourself and search the bytes)", p)
        return f, st  # type: ignore[return-value]
    except BaseException:
        f.close()
        raise


def _check_bool(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{what} must be a bool, not {type(value).__name__}")
    return value


def _check_mask(mask: object, text: bool) -> str | bytes:
    """The mask of ``redact``: one character for str, one byte for bytes (a bytes-like
    object of length 1, or a str of one ASCII character such as the default ``"*"``)."""
    if text:
        if not isinstance(mask, str):
            raise TypeError(f"mask must be a str of one character for a str haystack, not {type(mask).__name__}")
        if len(mask) != 1:
            raise ValueError(f"mask must be one character, got {len(mask)}: {mask!r}")
        return str.__str__(mask)
    if isinstance(mask, str):
        if len(mask) != 1 or not mask.isascii():
            raise ValueError(f"mask must be one byte: one ASCII character or a bytes object of length 1, got {mask!r}")
        return mask.encode("ascii")
    try:
        with memoryview(mask) as mv:  # type: ignore[arg-type]
            data = mv.tobytes()
    except TypeError:
        raise TypeError(f"mask must be a bytes object of length 1 or a str of one ASCII character, "
                        f"not {type(mask).__name__}") from None
    if len(data) != 1:
        raise ValueError(f"mask must be one byte, got {len(data)} bytes: {data!r}")
    return data


def _is_path(source: object) -> bool:
    return isinstance(source, (str, bytes)) or hasattr(source, "__fspath__")


def _is_regular(f) -> bool:
    try:
        return stat.S_ISREG(os.fstat(f.fileno()).st_mode)
    except (AttributeError, OSError, ValueError, TypeError):  # io.BytesIO, a closed file, no fileno
        return True  # a read never waits on a writer: fill every window


def _read_chunks(read, size: int):
    while True:
        chunk = read(size)
        if not chunk:
            return
        yield chunk


#: an in-memory search of more bytes than this runs on a helper thread (see ``_run``)
HELPER_MIN_BYTES = 4 << 20


# --------------------------------------------------------------------------- calling a core

def _run(method, *args):
    """Every call of a core method goes through here (one place for what surrounds a scan).

    ``args`` are the method's arguments but the last: ``_run`` makes a new cancel flag
    (``bytearray(1)``) for the call and passes it last. A native core scans without the
    GIL and cannot see Ctrl-C, so on the main thread a search that may be long (a file, or
    more than ``HELPER_MIN_BYTES`` in memory) runs on a helper thread while the main thread
    waits (interruptibly); on KeyboardInterrupt the flag is set, the core stops at its next
    block (every thread of it looks at the flag between blocks), the helper is joined --
    no thread is left running -- and the KeyboardInterrupt goes on. Cores whose compiled
    objects say ``interruptible = True`` (the pure-Python ones: they run Python code, which
    sees Ctrl-C, and stop their own workers) are called here directly, as is every call
    off the main thread or too small to matter, or when no thread can be started.
    """
    cancel = bytearray(1)
    if (getattr(getattr(method, "__self__", None), "interruptible", False)
            or threading.current_thread() is not threading.main_thread()
            or (not isinstance(args[0], int) and len(args[0]) <= HELPER_MIN_BYTES)):
        return method(*args, cancel)
    # entered / finished: the helper may use the arguments from the first to the second
    # (list appends: atomic); done: released when it has an outcome. No lock is ever held by
    # this thread across a point where Ctrl-C may strike, and Thread.join does not wait for the
    # search (on 3.11 a join interrupted by Ctrl-C marks a running thread as stopped).
    outcome: list = []
    entered: list = []
    finished: list = []
    done = threading.Lock()
    done.acquire()

    def helper() -> None:
        try:
            entered.append(True)
            if not cancel[0]:  # the caller may have given up before this thread ran
                outcome.append(method(*args, cancel))
        except BaseException as exc:  # handed to the caller
            outcome.append(_Failed(exc))
        finally:
            finished.append(True)
            done.release()

    worker = threading.Thread(target=helper, name="kmpsearch-search", daemon=True)
    try:
        try:
            worker.start()
        except RuntimeError:  # no thread can be started here: search on this thread
            if not worker.is_alive():
                cancel[0] = 1  # (should it start after all, it does nothing)
                return method(*args, bytearray(1))
            raise
        done.acquire()
    except BaseException:  # KeyboardInterrupt (or another exception from a signal handler)
        cancel[0] = 1  # the core stops at its next block
        # a helper that has not entered yet never will use the arguments (it sees the flag);
        # one that has: wait until it is done with them, through further Ctrl-C too
        while entered and not finished:
            try:
                time.sleep(0.002)
            except BaseException:
                continue
        if entered:
            try:
                _end(worker)
            except BaseException:
                pass  # the first interrupt is the one that goes on
        raise
    _end(worker)  # the thread is ending: no thread outlives the call
    result = outcome[0]
    if isinstance(result, _Failed):
        try:
            raise result.exc
        finally:
            del result, outcome
    return result


def _uninterrupted(step) -> None:
    """Call ``step()`` until it returns true, through Ctrl-C (or any other exception a
    signal handler raises), then raise the first such: waiting for threads to end must
    not be cut short, or one could outlive the caller."""
    caught = None
    while True:
        try:
            if step():
                break
        except BaseException as exc:
            caught = caught or exc
    if caught is not None:
        raise caught


def _end(worker: threading.Thread) -> None:
    """Join ``worker`` (about to end) even through Ctrl-C, then raise the first such."""
    _uninterrupted(lambda: worker.join(0.05) or not worker.is_alive())


def _shutdown(pool: ThreadPoolExecutor) -> None:
    """Drop ``pool``'s queued work and join its threads even through Ctrl-C, then raise
    the first such."""
    _uninterrupted(lambda: pool.shutdown(wait=True, cancel_futures=True) or True)


def _length(haystack: object, text: bool) -> int:
    """The length of a haystack in the needle's units (code points for a str needle, else
    bytes); ``sys.maxsize`` when it is not of the needle's kind (the search says so)."""
    if text:
        return len(haystack) if isinstance(haystack, str) else sys.maxsize
    if isinstance(haystack, str):
        return sys.maxsize
    try:
        with memoryview(haystack) as mv:  # type: ignore[arg-type]
            return mv.nbytes
    except TypeError:
        return sys.maxsize


class _NoMatch:
    """The core of a one-shot search whose needle is longer than its haystack."""

    interruptible = True  # nothing to interrupt

    def count(self, *args):
        return 0

    def find_all(self, *args):
        return []

    def find_array(self, *args):
        return array("q")


_NO_MATCH = _NoMatch()


class _Failed:
    """What a helper thread's core call raised."""

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc



# --------------------------------------------------------------------------- the classes

class _Api:
    """What a backend's classes and functions share: its name, table row and core."""

    __slots__ = ("name", "module", "row", "core", "Pattern", "WordSet")

    def __init__(self, name: str, core: Any) -> None:
        self.name = name
        self.module = f"kmpsearch.backends.{name}"
        self.row = _backend_info(name)
        self.core = core

    def options(self, threads: object, scan: object, min_chunk: object, simd: object) -> tuple:
        row = self.row
        return (resolve_threads(threads), _check_min_chunk(min_chunk),
                row.default_scan if scan is None else _check_choice(scan, "scan", row.scans),
                "auto" if simd is None else _check_choice(simd, "_simd", row.simd))


def _default_api() -> _Api:
    import kmpsearch  # the package picks (and caches) the default backend

    return kmpsearch._default_backend()._api


class _Search:
    """The search methods Pattern and WordSet share; subclasses set the slots below."""

    __slots__ = ("_core", "_text", "_longest")
    _api: _Api | None = None
    _what = "haystack"
    _pairs = False  # find_all gives (offset, word index) pairs

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} objects are immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} objects are immutable")

    @property
    def backend(self) -> str:
        """The name of the backend that compiled this object."""
        return self._api.name

    # ---- in memory

    def _view(self, haystack: object) -> tuple[memoryview, bytes | None]:
        """``(view, utf8)``: the bytes to search; ``utf8`` is set when offsets need converting."""
        if self._text:
            if not isinstance(haystack, str):
                raise TypeError(f"{self._what} is str, so the haystack must be str, not {type(haystack).__name__}")
            if haystack.isascii():
                return memoryview(haystack.encode("ascii")), None
            data = _encode_text(haystack)
            return memoryview(data), data
        if isinstance(haystack, str):
            raise TypeError(f"haystack is str but the {self._what} is bytes-like: use the same kind for both")
        return _byte_view(haystack, "haystack"), None

    def _call(self, kind: str, on_fd: bool, args: tuple, opts: tuple):
        """The core method for ``kind`` over a buffer (or a descriptor and its size)."""
        return _run(getattr(self._core, _KINDS[kind][on_fd]), *args, *opts)

    def _memory(self, haystack: object, kind: str, threads, scan, min_chunk, simd, as_array: object = False):
        opts = self._api.options(threads, scan, min_chunk, simd)
        if _check_bool(as_array, "as_array"):
            kind = "array"
        view, utf8 = self._view(haystack)
        with view:
            found = self._call(kind, False, (view,), opts)
        if utf8 is not None and kind in ("list", "array"):
            offsets = found[0] if kind == "array" and self._pairs else found
            if not offsets:
                return found
            if self._pairs and kind == "list":
                chars = _char_offsets(utf8, [off for off, _ in found])
                return [(c, i) for c, (_, i) in zip(chars, found)]
            chars = _char_offsets(utf8, offsets)
            if kind == "array":
                return (array("q", chars), found[1]) if self._pairs else array("q", chars)
            return chars
        return found

    # ---- files

    def _file(self, path: StrPath, kind: str, threads, scan, min_chunk, simd, as_array: object = False):
        opts = self._api.options(threads, scan, min_chunk, simd)
        if _check_bool(as_array, "as_array"):
            kind = "array"
        f, st = open_file(path, regular=True)
        with f:
            return self._search_fd(f.fileno(), st.st_size, kind, opts, f.name)

    def _search_fd(self, fd: int, size: int, kind: str, opts: tuple, shown: StrPath):
        """Search the regular file open on ``fd`` whose fstat size is ``size``."""
        try:
            if size == 0:  # empty, or a /proc-style file whose size says nothing: read it to its end
                return self._stream_fd(fd, kind, opts)
            return self._call(kind, True, (fd, size), opts)
        except OSError as exc:
            raise _with_path(exc, shown) from None

    def _stream_fd(self, fd: int, kind: str, opts: tuple):
        listed = "list" if kind == "array" else kind
        with open(fd, "rb", buffering=0, closefd=False) as f:
            parts = [got for _, _, _, got in self._windows(f, listed, opts, STREAM_WINDOW, True)]
        found = _merge(parts, listed, self._words_count())
        return to_arrays(found, self._pairs) if kind == "array" else found

    def _words_count(self) -> int:
        return 1

    def _windows(self, f, kind: str, opts: tuple, window: int, regular: bool,
                 on_read=None) -> Iterator[tuple[int, memoryview, int, Any]]:
        """Search ``f`` (a binary file object, or anything with ``readinto``) in overlapping
        windows of ``window`` bytes; yield ``(base, view, own, result)`` per window: ``view``
        the window's bytes (valid until the next one) from offset ``base`` on, of which it
        owns the start offsets ``[base, base + own)``; ``result`` only the matches that start
        there, offsets absolute. Memory: one window. The one search of a stream."""
        for base, view, own in read_windows(f, self._longest, window, regular, on_read):
            yield base, view, own, self._owned(view, own, kind, opts, base)

    def _owned(self, view: memoryview, own: int, kind: str, opts: tuple, base: int = 0):
        """Search ``view``, the bytes from offset ``base`` of a larger input, for the matches
        that start in its first ``own`` bytes (offsets absolute): the ownership rule of the
        chunk plan, for a window or a block. ``view`` holds the own range plus the next
        longest - 1 bytes (fewer only at the input's end)."""
        count = getattr(self._core, _KINDS[kind][0])
        end = min(len(view), own + self._longest - 1)  # every match starting in [0, own) ends here
        got = _run(count, view[:end], *opts)
        if kind == "list":
            # a shorter word may also match in the overlap: that one belongs to the next window
            if self._pairs:
                return [(off + base, i) for off, i in got[:bisect_left(got, (own, -1))]]
            # one length: every match found in view[:end] starts in the own range
            return [off + base for off in got] if base else got
        if kind == "array":  # compact: 8 (+ 4) bytes a match however dense the window
            offsets = got[0] if self._pairs else got
            cut = bisect_left(offsets, own) if self._pairs else len(offsets)
            if cut < len(offsets):
                got = (offsets[:cut], got[1][:cut])
                offsets = got[0]
            if base and offsets:
                offsets = array("q", map(base.__add__, offsets))
                got = (offsets, got[1]) if self._pairs else offsets
            return got
        if end > own:
            over = _run(count, view[own:end], *opts)  # exactly the matches starting at own or later
            got = got - over if kind == "count" else [a - b for a, b in zip(got, over)]
        return got

    # ---- streams

    def _reader(self, source: object, window: int, text: bool):
        """``(reader, regular)`` for a source that is not a path: ``reader`` has ``readinto``
        (the source itself, or a ``ChunkReader`` over it). Raises TypeError for what cannot
        be a source; ``text`` False: a text source neither."""
        chunks_text = None if self._text and text else False
        if isinstance(source, io.TextIOBase):
            if not text:
                raise TypeError("redact_stream reads bytes: give a path, a binary file object or bytes-like "
                                "chunks, not a text stream")
            if not self._text:
                raise TypeError(f"a text stream gives str: the {self._what} must be str too "
                                "(or open the file in binary mode)")
            return TextReader(source, window), True
        if hasattr(source, "readinto"):
            return source, _is_regular(source)
        if hasattr(source, "read"):  # a file-like object with read() only
            return ChunkReader(_read_chunks(source.read, window), self._chunk_view, chunks_text), True
        try:
            with memoryview(source):  # type: ignore[arg-type]
                pass
        except TypeError:
            pass
        else:
            raise TypeError(f"source must be a path, a file object or an iterable of chunks, not "
                            f"{type(source).__name__} (search bytes in memory with find_all, or pass [data])")
        try:
            chunks = iter(source)  # type: ignore[call-overload]
        except TypeError:
            raise TypeError(f"source must be a path, a file object or an iterable of chunks, not "
                            f"{type(source).__name__}") from None
        return ChunkReader(chunks, self._chunk_view, chunks_text), True

    @staticmethod
    def _chunk_view(chunk: object) -> memoryview:
        return _byte_view(chunk, "each chunk")

    def _stream_windows(self, source: object, kind: str, opts: tuple, window: int, on_read=None,
                        text: bool = True):
        """``(reader, windows)``: the source checked (TypeError now), then a generator of
        ``_windows`` over it that opens a path on first use and closes it at the end or
        when closed early; an OSError while reading names the path."""
        if _is_path(source):
            os.fspath(source)  # type: ignore[arg-type]
            reader = None
        else:
            reader, regular = self._reader(source, window, text)

        def windows():
            if reader is not None:
                yield from self._windows(reader, kind, opts, window, regular, on_read)
                return
            f, st = open_file(source, regular=False)
            with f:
                try:
                    yield from self._windows(f, kind, opts, window, stat.S_ISREG(st.st_mode), on_read)
                except OSError as exc:
                    raise _with_path(exc, f.name) from None

        return reader, windows()

    def _finditer(self, source: object, threads, scan, min_chunk, simd, window) -> Iterator[Any]:
        opts = self._api.options(threads, scan, min_chunk, simd)
        window = _check_positive(window, "_window", 0)
        if _is_path(source) and self._api.row.native:
            os.fspath(source)  # type: ignore[arg-type]  # TypeError now
            return self._iterate_path(source, opts, window or FILE_RANGE)
        reader, windows = self._stream_windows(source, "list", opts, window or ITER_WINDOW)
        return self._iterate(reader, windows)

    def _iterate_path(self, path: StrPath, opts: tuple, width: int) -> Iterator[Any]:
        """``finditer`` of a path with a native core.

        A regular file of known size is searched by the core itself in ranges of ``width``
        bytes (``find_array_fd`` with ``start``: ``pread`` into the core's buffer, no copy
        through Python), ``threads`` ranges at once, each on a worker thread of this
        generator with one thread of the core: in order, the matches of the oldest range
        are yielded (from compact arrays) while the next ones are searched. A range owns the
        starts in it and is read with the next ``longest - 1`` bytes. As with
        ``find_all_in_file`` the file is searched to the size it had when opened (one that
        shrinks: the matches in what could be read). Memory: ``threads`` ranges' matches.
        The workers end with the generator -- exhausted, closed early, or left by an
        exception (Ctrl-C included: every search in flight is told to stop and joined).
        Anything else (a FIFO, a device, a file whose size reads as 0) is read as a stream.
        """
        f, st = open_file(path, regular=False)
        with f:
            regular = stat.S_ISREG(st.st_mode)
            try:
                size = st.st_size if regular else 0
                if size:
                    yield from self._ranges(f.fileno(), size, opts, width)
                else:
                    yield from self._iterate(None, self._windows(f, "list", opts, ITER_WINDOW, regular))
            except OSError as exc:
                raise _with_path(exc, f.name) from None

    def _ranges(self, fd: int, size: int, opts: tuple, width: int) -> Iterator[Any]:
        """The matches of bytes ``[0, size)`` of ``fd``, range by range (see _iterate_path)."""
        find, pairs, more = self._core.find_array_fd, self._pairs, self._longest - 1
        one = (1, *opts[1:])  # one core thread per range: the ranges are the parallelism
        starts = iter(range(0, size, width))
        pending: collections.deque = collections.deque()  # (start, cancel flag, task), in order
        pool = ThreadPoolExecutor(max_workers=opts[0], thread_name_prefix="kmpsearch-range")

        def search(start: int, flag: bytearray):
            return find(fd, min(size - start, width + more), *one, flag, start=start)

        def launch(start: int) -> None:
            flag = bytearray(1)
            pending.append((start, flag, submit(pool, search, start, flag)))  # no thread: searched here

        try:
            for start in itertools.islice(starts, opts[0]):
                launch(start)
            while pending:
                start, _, done = pending.popleft()
                got = done.result()
                for nxt in itertools.islice(starts, 1):
                    launch(nxt)
                if pairs:  # a shorter word may match in the overlap: that one is the next range's
                    offsets, words = got
                    cut = bisect_left(offsets, start + width)
                    if cut < len(offsets):
                        offsets, words = offsets[:cut], words[:cut]
                    yield from zip(offsets, words)
                else:  # one length: every match found starts in the range
                    yield from got
        finally:
            for _, flag, _ in pending:  # the searches in flight stop at their next block
                flag[0] = 1
            _shutdown(pool)

    def _iterate(self, reader, windows) -> Iterator[Any]:
        text = None  # a text source: byte offsets become code point offsets
        byte = char = 0  # the code point offset of byte offset ``byte``
        pairs = self._pairs
        for base, view, own, got in windows:
            if text is None:  # known once a chunk has been read
                text = isinstance(reader, ChunkReader) and bool(reader.text)
            if not text:
                yield from got
                continue
            # byte >= base: every byte before the window has been counted
            for item in got:
                off = item[0] if pairs else item
                char += len(view[byte - base:off - base].tobytes().translate(None, UTF8_CONTINUATION))
                byte = off
                yield (char, item[1]) if pairs else char
            char += len(view[byte - base:own].tobytes().translate(None, UTF8_CONTINUATION))
            byte = base + own

    # ---- redaction

    def _lengths(self, text: bool):
        """Length of each word in what the offsets count: code points for str, else bytes
        (a list indexed by word index for a word set, an int for a Pattern)."""
        if self._pairs:
            if text or not self._text:
                return [len(w) for w in self._words]
            return [len(_encode_text(w)) for w in self._words]
        return len(self._needle) if text else self._longest

    def _covered(self, found, lengths, start: int = -1, end: int = -1) -> Iterator[tuple[int, int]]:
        """The union of the spans ``[offset, offset + length)`` of the matches ``found``
        (ascending offsets for a Pattern; ``(offset, word index)`` pairs for a word set) and
        of ``[start, end)`` (which starts before them all), as disjoint ascending
        ``(start, end)`` pairs: overlapping and adjacent spans merged."""
        if self._pairs:
            for off, i in found:
                stop = off + lengths[i]
                if off <= end:
                    if stop > end:
                        end = stop
                    continue
                if end > start:
                    yield start, end
                start, end = off, stop
        else:
            m = lengths
            for off in found:
                if off <= end:
                    end = off + m
                    continue
                if end > start:
                    yield start, end
                start, end = off, off + m
        if end > start:
            yield start, end

    def _redact(self, haystack: object, mask: object, threads, scan, min_chunk, simd):
        text = isinstance(haystack, str)
        fill = _check_mask(mask, text)
        if text:
            return self._redact_found(haystack, self._memory(haystack, "array", threads, scan, min_chunk, simd),
                                      True, fill)
        opts = self._api.options(threads, scan, min_chunk, simd)
        view, _ = self._view(haystack)
        with view:
            return self._redact_found(view, self._call("array", False, (view,), opts), False, fill)

    def _redact_found(self, data, found, text: bool, fill):
        """``data`` masked where the matches ``found`` (``find_array``'s result) cover it."""
        n = len(found[0]) if self._pairs else len(found)
        lengths = self._lengths(text)
        matches = zip(*found) if self._pairs else found
        return self._mask(data, 0, len(data), matches, n, lengths, _runs(lengths, fill), fill)[0]

    def _mask(self, data, base: int, stop: int, found, n: int, lengths, runs, fill, carry: int = -1):
        """``(masked, end)``: ``data[:stop - base]`` (a str, or a byte view of the input from
        offset ``base`` on) with every item covered by the ``n`` matches ``found`` (ascending
        offsets, or (offset, word index) pairs; absolute, none before ``base``) or by
        ``[base, carry)`` replaced by ``fill``; ``end``: where the coverage ends, past
        ``stop`` for a match that goes on in the next window. ``lengths`` and ``runs``: each
        word's length and fill run (an int and a run for a Pattern)."""
        limit = stop - base
        if isinstance(data, str) or not _dense(n, limit):
            spans = self._covered(found, lengths, base, carry) if carry > base else self._covered(found, lengths)
            return _joined(data, base, limit, spans, fill)
        # many matches: a mutable copy, masked match by match (overlaps masked twice: the same
        # bytes). A slice reaching past the end extends the copy to the match's end: so the
        # copy's length tells where the coverage ends, and the extension is cut off.
        out = bytearray(data[:limit])
        if carry > base:
            out[:carry - base] = fill * (carry - base)
        if self._pairs:
            for off, i in found:
                off -= base
                out[off:off + lengths[i]] = runs[i]
        elif lengths == 1:
            byte = fill[0]
            for off in found:
                out[off - base] = byte
        else:
            for off in found:
                off -= base
                out[off:off + lengths] = runs
        end = base + len(out)
        del out[limit:]
        return bytes(out), end

    def _redact_stream(self, source: object, destination: object, mask: object, threads, scan, min_chunk, simd,
                       window, on_read=None) -> int:
        fill = _check_mask(mask, False)
        if not callable(getattr(destination, "write", None)):
            raise TypeError(f"destination must be a writable binary file object, not {type(destination).__name__}")
        if isinstance(destination, io.TextIOBase):
            raise TypeError("destination must be a binary file object (open it with 'wb'), not a text stream")
        opts = self._api.options(threads, scan, min_chunk, simd)
        window = _check_positive(window, "_window", ITER_WINDOW)
        _, windows = self._stream_windows(source, "list", opts, window, on_read, text=False)
        return self._mask_windows(windows, destination, fill)

    def _mask_windows(self, windows, destination, fill: bytes) -> int:
        """Write each window's own bytes to ``destination`` with every byte a match covers
        replaced by ``fill``; return the number of matches. A match may cover bytes of the
        next windows: ``carry`` is where the coverage so far ends."""
        found = 0
        carry = 0
        lengths = self._lengths(False)
        runs = _runs(lengths, fill)
        for base, view, own, got in windows:
            found += len(got)
            data, end = self._mask(view, base, base + own, got, len(got), lengths, runs, fill, carry)
            carry = max(carry, end)
            write_all(destination, data)
        return found


def _runs(lengths, fill):
    """The fill run of each length (a list of lengths, or one)."""
    return [fill * n for n in lengths] if isinstance(lengths, list) else fill * lengths


def _dense(matches: int, size: int) -> bool:
    """Whether masking ``matches`` matches in ``size`` bytes is cheaper in a mutable copy
    (two copies of the bytes, one assignment a match) than joining the pieces (one copy,
    two objects a span): measured break-even near a match per kilobyte."""
    return matches > size >> 10


def _joined(data, base: int, limit: int, spans: Iterable[tuple[int, int]], fill):
    """``(masked, end)``: ``data[:limit]`` (a str, or a byte view whose first item is at
    offset ``base``) with the parts covered by ``spans`` (absolute, ascending, disjoint,
    none before ``base``; clipped to ``limit``) replaced by ``fill`` repeated, joined: one
    copy; ``end`` where the last span ends (-1: none)."""
    runs: dict[int, Any] = {}
    end = -1
    pieces = []
    prev = 0
    for a, end in spans:
        b = min(end - base, limit)
        a -= base
        if b <= a:
            continue
        pieces.append(data[prev:a])
        run = runs.get(b - a)
        if run is None:
            run = runs[b - a] = fill * (b - a)
        pieces.append(run)
        prev = b
    pieces.append(data[prev:limit])
    return ("" if isinstance(data, str) else b"").join(pieces), end


def _with_path(exc: OSError, shown) -> OSError:
    """The cores (and reads) report errno without a file name: the path is added here."""
    if exc.filename is None and exc.errno:
        return OSError(exc.errno, exc.strerror or os.strerror(exc.errno), shown)
    return exc


def _merge(parts: list, kind: str, nwords: int):
    if kind == "count":
        return sum(parts)
    if kind == "each":
        return [sum(col) for col in zip(*parts)] if parts else [0] * nwords
    return [item for part in parts for item in part]


class Pattern(_Search):
    """A compiled needle, like ``re.compile``'s result: compile once, search many times.

    Made by ``kmpsearch.compile(needle)`` (the default backend) or
    ``kmpsearch.get_backend(name).compile(needle)``. Immutable and thread-safe: one Pattern
    may be used by any number of threads at once. It pickles (to the same backend), so it
    can be sent to worker processes. A ``str`` needle searches ``str`` haystacks (offsets in
    code points) and files (as UTF-8); a bytes-like one searches bytes-like haystacks.
    """

    __slots__ = ("_needle", "_pat")
    _what = "needle"

    def __new__(cls, needle: object) -> "Pattern":
        return cls._make(needle, None)

    @classmethod
    def _make(cls, needle: object, haystack: object) -> "Pattern":
        """The Pattern of ``needle``; given the ``haystack`` of a one-shot search (the
        top-level functions), its table is built only if the needle can fit in it: the
        cheap check first (a 64 MiB needle against 3 bytes builds no 64 MiB table)."""
        api = cls._api or _default_api()
        self = object.__new__(api.Pattern)
        if isinstance(needle, str):
            if not needle:
                raise ValueError("needle must not be empty")
            text, pat = True, _encode_text(needle)
        else:
            text, pat = False, _word_bytes(needle, "needle")
            needle = pat
        put = object.__setattr__
        put(self, "_needle", needle)
        put(self, "_pat", pat)
        put(self, "_text", text)
        put(self, "_longest", len(pat))
        shorter = haystack is not None and _length(haystack, text) < (len(needle) if text else len(pat))
        put(self, "_core", _NO_MATCH if shorter else api.core.compile_pattern(pat))
        return self

    @property
    def needle(self) -> str | bytes:
        """The needle: a ``str``, or ``bytes`` for a bytes-like one."""
        return self._needle

    def __repr__(self) -> str:
        return f"<kmpsearch.Pattern {self._needle!r} backend={self._api.name!r}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Pattern):
            return NotImplemented
        return (self._api.name, self._text, self._pat) == (other._api.name, other._text, other._pat)

    def __hash__(self) -> int:
        return hash((Pattern, self._api.name, self._text, self._pat))

    def __reduce__(self):
        return _restore_pattern, (self._api.name, self._needle)

    def find_all(self, haystack: Any, *, threads: int | None = None, scan: str | None = None,
                 as_array: bool = False, _min_chunk: int | None = None, _simd: str | None = None) -> list[int]:
        """Start offsets of every occurrence in ``haystack``, ascending (overlaps included).

        ``as_array=True``: an ``array.array('q')`` instead of a list (8 bytes an offset, no
        Python ints; ``numpy.frombuffer(a, dtype=numpy.int64)`` views it without a copy)."""
        return self._memory(haystack, "list", threads, scan, _min_chunk, _simd, as_array)

    def finditer(self, source: Any, *, threads: int | None = None, scan: str | None = None,
                 _min_chunk: int | None = None, _simd: str | None = None,
                 _window: int | None = None) -> Iterator[int]:
        """Yield the start offset of every occurrence in ``source``, ascending, as it is read.

        ``source``: a path (str, bytes, os.PathLike; any readable file but a directory: a
        FIFO is read as a stream), a binary file object (``open(p, "rb")``, ``gzip.open``,
        ``bz2``, ``lzma``, ``sys.stdin.buffer``, ``socket.makefile("rb")``, ``io.BytesIO``),
        an iterable of bytes-like chunks, or -- for a str needle -- a text stream
        (``open(p, "r")``, ``io.StringIO``) or an iterable of str chunks, whose offsets are
        code points. Otherwise offsets are bytes (a str needle searches the UTF-8).

        Read in overlapping windows of 1 MiB: memory stays bounded whatever the size of the
        input; a match split across reads is found once; the matches of a window are yielded
        as soon as it is searched (a pipe or socket: as soon as a read would wait). A regular
        file with a native backend is searched by the core in ranges of 4 MiB, ``threads``
        of them at once, to the size it had when opened. Closing
        the generator (or leaving a ``for`` loop over it and dropping it) stops reading; a
        file it opened is closed, a file object given is left open. Arguments and the kind
        of source are checked at the call (TypeError, ValueError); a path is opened when the
        iteration starts, so FileNotFoundError and other OSErrors (naming the path) come
        from the first ``next``."""
        return self._finditer(source, threads, scan, _min_chunk, _simd, _window)

    def redact(self, haystack: Any, mask: str | bytes = "*", *, threads: int | None = None,
               scan: str | None = None, _min_chunk: int | None = None, _simd: str | None = None):
        """A copy of ``haystack`` with every byte (str: every character) that an occurrence
        covers replaced by ``mask``, the same length: ``bytes`` for a bytes-like haystack
        (``mask`` one byte: ``b"#"``, or one ASCII character), ``str`` for a str (``mask``
        one character). Overlapping occurrences cover their union."""
        return self._redact(haystack, mask, threads, scan, _min_chunk, _simd)

    def redact_stream(self, source: Any, destination: Any, mask: str | bytes = "*", *,
                      threads: int | None = None, scan: str | None = None, _min_chunk: int | None = None,
                      _simd: str | None = None, _window: int | None = None) -> int:
        """``redact`` from ``source`` (a path, a binary file object or an iterable of
        bytes-like chunks, as ``finditer``) to ``destination`` (a writable binary file
        object), window by window in bounded memory; returns the number of occurrences.
        Never writes to ``source``."""
        return self._redact_stream(source, destination, mask, threads, scan, _min_chunk, _simd, _window)

    def count(self, haystack: Any, *, threads: int | None = None, scan: str | None = None,
              _min_chunk: int | None = None, _simd: str | None = None) -> int:
        """Number of occurrences in ``haystack`` (overlaps included)."""
        return self._memory(haystack, "count", threads, scan, _min_chunk, _simd)

    def find_all_in_file(self, path: StrPath, *, threads: int | None = None, scan: str | None = None,
                         as_array: bool = False, _min_chunk: int | None = None,
                         _simd: str | None = None) -> list[int]:
        """Byte offsets of every occurrence in the file at ``path``, ascending
        (``as_array=True``: an ``array.array('q')``)."""
        return self._file(path, "list", threads, scan, _min_chunk, _simd, as_array)

    def count_in_file(self, path: StrPath, *, threads: int | None = None, scan: str | None = None,
                      _min_chunk: int | None = None, _simd: str | None = None) -> int:
        """Number of occurrences in the file at ``path``."""
        return self._file(path, "count", threads, scan, _min_chunk, _simd)


class _OneWord:
    """A one-word set on the core's single-pattern scan (the SIMD skip of KMP is faster
    than any many-words filter), with the word-set result shapes."""

    __slots__ = ("p", "memory_bytes", "interruptible")

    def __init__(self, pattern: Any) -> None:
        self.p = pattern
        self.memory_bytes = getattr(pattern, "memory_bytes", 0)
        self.interruptible = getattr(pattern, "interruptible", False)

    # (``**kw``: a core's private keywords, e.g. ``_block``, for tests)
    def count(self, buf, *opts, **kw):
        return self.p.count(buf, *opts, **kw)

    def count_each(self, buf, *opts, **kw):
        return [self.p.count(buf, *opts, **kw)]

    def find_all(self, buf, *opts, **kw):
        return [(off, 0) for off in self.p.find_all(buf, *opts, **kw)]

    def count_fd(self, fd, size, *opts, **kw):
        return self.p.count_fd(fd, size, *opts, **kw)

    def count_each_fd(self, fd, size, *opts, **kw):
        return [self.p.count_fd(fd, size, *opts, **kw)]

    def find_all_fd(self, fd, size, *opts, **kw):
        return [(off, 0) for off in self.p.find_all_fd(fd, size, *opts, **kw)]

    def find_array(self, buf, *opts, **kw):
        offsets = self.p.find_array(buf, *opts, **kw)
        return offsets, _zeros_i(len(offsets))

    def find_array_fd(self, fd, size, *opts, **kw):
        offsets = self.p.find_array_fd(fd, size, *opts, **kw)
        return offsets, _zeros_i(len(offsets))


def _zeros_i(n: int) -> array:
    """``array('i')`` of ``n`` zeros (no Python list on the way)."""
    return array("i", bytes(4 * n))


class WordSet(_Search):
    """Many words, searched in one pass (Aho-Corasick: KMP's failure function over a trie).

    ``WordSet(words, *, ignore_case=False)``: ``words`` is an iterable of ``str``, or of
    bytes-like objects (not mixed). Duplicates are kept once, at their first position (with
    ``ignore_case``, words equal after ASCII case folding are duplicates); ``.words`` is the
    tuple of distinct words, and a match's word index refers to it. ``ignore_case`` folds the
    ASCII letters only (A-Z == a-z, as ``grep -i`` in the C locale); every other byte and
    every non-ASCII character compares exactly.

    ``kmpsearch.WordSet`` uses the default backend; ``kmpsearch.get_backend(name).WordSet``
    a given one. Immutable, thread-safe, picklable (to the same backend).
    """

    __slots__ = ("_words", "_ignore_case")
    _what = "words"
    _pairs = True

    def __new__(cls, words: Iterable[Any], *, ignore_case: bool = False) -> "WordSet":
        api = cls._api or _default_api()
        self = object.__new__(api.WordSet)
        if isinstance(words, (str, bytes, bytearray, memoryview)):
            raise TypeError("words must be an iterable of words, not a single "
                            f"{type(words).__name__} (write [word])")
        if not isinstance(ignore_case, bool):
            raise TypeError(f"ignore_case must be a bool, not {type(ignore_case).__name__}")
        try:
            items = list(words)
        except TypeError:
            raise TypeError(f"words must be an iterable of str or bytes-like objects, "
                            f"not {type(words).__name__}") from None
        if not items:
            raise ValueError("words must hold at least one word")
        text = isinstance(items[0], str)
        kept: list[Any] = []
        encoded: list[bytes] = []
        seen: set[bytes] = set()
        for word in items:
            if isinstance(word, str) != text:
                raise TypeError("words must be all str or all bytes-like, not a mix")
            if text:
                if not word:
                    raise ValueError("words must not be empty")
                data = _encode_text(word)
            else:
                data = _word_bytes(word, "each word")
                word = data
            key = data.lower() if ignore_case else data  # bytes.lower folds ASCII letters only
            if key in seen:
                continue
            seen.add(key)
            kept.append(word)
            encoded.append(data)
        put = object.__setattr__
        put(self, "_words", tuple(kept))
        put(self, "_ignore_case", ignore_case)
        put(self, "_text", text)
        put(self, "_longest", max(map(len, encoded)))
        if len(encoded) == 1 and not ignore_case:
            core = _OneWord(api.core.compile_pattern(encoded[0]))
        else:
            core = api.core.compile_words(encoded, ignore_case)
        put(self, "_core", core)
        return self

    @property
    def words(self) -> tuple:
        """The distinct words, in the order given (a match's word index refers to this)."""
        return self._words

    @property
    def ignore_case(self) -> bool:
        return self._ignore_case

    @property
    def memory_bytes(self) -> int:
        """Bytes the compiled set holds in the backend (0 where it is not measured)."""
        return self._core.memory_bytes

    def _words_count(self) -> int:
        return len(self._words)

    def __len__(self) -> int:
        return len(self._words)

    def __repr__(self) -> str:
        shown = ", ".join(map(repr, self._words[:3])) + (", ..." if len(self._words) > 3 else "")
        return (f"<kmpsearch.WordSet of {len(self._words)} word{'s' if len(self._words) != 1 else ''} "
                f"[{shown}]{' ignore_case' if self._ignore_case else ''} backend={self._api.name!r}>")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WordSet):
            return NotImplemented
        return (self._api.name, self._text, self._words, self._ignore_case) == \
            (other._api.name, other._text, other._words, other._ignore_case)

    def __hash__(self) -> int:
        return hash((WordSet, self._api.name, self._words, self._ignore_case))

    def __reduce__(self):
        return _restore_words, (self._api.name, self._words, self._ignore_case)

    def find_all(self, haystack: Any, *, threads: int | None = None, scan: str | None = None,
                 as_array: bool = False, _min_chunk: int | None = None,
                 _simd: str | None = None) -> list[tuple[int, int]]:
        """Every occurrence of every word, overlapping ones included, as ``(offset, word
        index)`` sorted by offset then word index: ``he``, ``she``, ``hers`` in ``ushers``
        give ``[(1, 1), (2, 0), (2, 2)]``. ``as_array=True``: two arrays instead,
        ``(array('q') offsets, array('i') word indices)``."""
        return self._memory(haystack, "list", threads, scan, _min_chunk, _simd, as_array)

    def finditer(self, source: Any, *, threads: int | None = None, scan: str | None = None,
                 _min_chunk: int | None = None, _simd: str | None = None,
                 _window: int | None = None) -> Iterator[tuple[int, int]]:
        """Yield ``(offset, word index)`` for every occurrence in ``source`` in ``find_all``'s
        order, as it is read; sources, offsets and memory as for ``Pattern.finditer``."""
        return self._finditer(source, threads, scan, _min_chunk, _simd, _window)

    def redact(self, haystack: Any, mask: str | bytes = "*", *, threads: int | None = None,
               scan: str | None = None, _min_chunk: int | None = None, _simd: str | None = None):
        """A copy of ``haystack`` with every byte (str: character) that an occurrence of any
        word covers replaced by ``mask``; as ``Pattern.redact``."""
        return self._redact(haystack, mask, threads, scan, _min_chunk, _simd)

    def redact_stream(self, source: Any, destination: Any, mask: str | bytes = "*", *,
                      threads: int | None = None, scan: str | None = None, _min_chunk: int | None = None,
                      _simd: str | None = None, _window: int | None = None) -> int:
        """``redact`` from a source to a writable binary file object in bounded memory;
        returns the number of occurrences. As ``Pattern.redact_stream``."""
        return self._redact_stream(source, destination, mask, threads, scan, _min_chunk, _simd, _window)

    def count(self, haystack: Any, *, threads: int | None = None, scan: str | None = None,
              _min_chunk: int | None = None, _simd: str | None = None) -> int:
        """Number of occurrences of all the words (overlaps included)."""
        return self._memory(haystack, "count", threads, scan, _min_chunk, _simd)

    def count_each(self, haystack: Any, *, threads: int | None = None, scan: str | None = None,
                   _min_chunk: int | None = None, _simd: str | None = None) -> list[int]:
        """Number of occurrences of each word, in the order of ``words``."""
        return self._memory(haystack, "each", threads, scan, _min_chunk, _simd)

    def find_all_in_file(self, path: StrPath, *, threads: int | None = None, scan: str | None = None,
                         as_array: bool = False, _min_chunk: int | None = None,
                         _simd: str | None = None) -> list[tuple[int, int]]:
        """``find_all`` over the file at ``path`` (byte offsets; str words as UTF-8)."""
        return self._file(path, "list", threads, scan, _min_chunk, _simd, as_array)

    def count_in_file(self, path: StrPath, *, threads: int | None = None, scan: str | None = None,
                      _min_chunk: int | None = None, _simd: str | None = None) -> int:
        """``count`` over the file at ``path``."""
        return self._file(path, "count", threads, scan, _min_chunk, _simd)

    def count_each_in_file(self, path: StrPath, *, threads: int | None = None, scan: str | None = None,
                           _min_chunk: int | None = None, _simd: str | None = None) -> list[int]:
        """``count_each`` over the file at ``path``."""
        return self._file(path, "each", threads, scan, _min_chunk, _simd)


def _restore_pattern(backend: str, needle: Any) -> Pattern:
    from .backends import load

    return load(backend).compile(needle)


def _restore_words(backend: str, words: tuple, ignore_case: bool) -> WordSet:
    from .backends import load

    return load(backend).WordSet(words, ignore_case=ignore_case)


# --------------------------------------------------------------------------- make_api

def make_api(name: str, core: Any) -> dict[str, Any]:
    """A backend module's public names, over its ``core`` (see the module docstring).

    ``compile``, ``Pattern`` and ``WordSet`` (subclasses of ``kmpsearch.Pattern`` and
    ``kmpsearch.WordSet`` bound to this backend), the top-level functions ``find_all``,
    ``count``, ``find_all_in_file``, ``count_in_file`` and ``finditer`` (compile, then search), and
    ``SCANS``, ``DEFAULT_SCAN`` and ``SIMD`` from the backend table.
    """
    api = _Api(name, core)
    module = api.module
    ns = {"__module__": module, "__slots__": (), "_api": api}
    api.Pattern = type("Pattern", (Pattern,), dict(ns, __doc__=Pattern.__doc__, __qualname__="Pattern"))
    api.WordSet = type("WordSet", (WordSet,), dict(ns, __doc__=WordSet.__doc__, __qualname__="WordSet"))
    cls = api.Pattern

    def compile(needle: Any) -> Pattern:
        return cls(needle)

    def find_all(haystack: Any, needle: Any, *, threads: int | None = None, scan: str | None = None,
                 as_array: bool = False, _min_chunk: int | None = None, _simd: str | None = None) -> list[int]:
        return cls._make(needle, haystack)._memory(haystack, "list", threads, scan, _min_chunk, _simd, as_array)

    def count(haystack: Any, needle: Any, *, threads: int | None = None, scan: str | None = None,
              _min_chunk: int | None = None, _simd: str | None = None) -> int:
        return cls._make(needle, haystack)._memory(haystack, "count", threads, scan, _min_chunk, _simd)

    def find_all_in_file(path: StrPath, needle: Any, *, threads: int | None = None, scan: str | None = None,
                         as_array: bool = False, _min_chunk: int | None = None, _simd: str | None = None) -> list[int]:
        return cls(needle)._file(path, "list", threads, scan, _min_chunk, _simd, as_array)

    def finditer(source: Any, needle: Any, *, threads: int | None = None, scan: str | None = None,
                 _min_chunk: int | None = None, _simd: str | None = None,
                 _window: int | None = None) -> Iterator[int]:
        return cls(needle)._finditer(source, threads, scan, _min_chunk, _simd, _window)

    def count_in_file(path: StrPath, needle: Any, *, threads: int | None = None, scan: str | None = None,
                      _min_chunk: int | None = None, _simd: str | None = None) -> int:
        return cls(needle)._file(path, "count", threads, scan, _min_chunk, _simd)

    funcs = {"compile": compile, "find_all": find_all, "count": count,
             "find_all_in_file": find_all_in_file, "count_in_file": count_in_file, "finditer": finditer}
    for public_name, fn in funcs.items():
        fn.__name__ = fn.__qualname__ = public_name
        fn.__module__ = module
        fn.__doc__ = _DOCS[public_name].format(backend=name)
    return dict(funcs, Pattern=api.Pattern, WordSet=api.WordSet, SCANS=api.row.scans,
                DEFAULT_SCAN=api.row.default_scan, SIMD=api.row.simd, core=core, _api=api)


_COMMON = """
    ``haystack`` is a ``str`` (offsets in code points, as ``str.find`` gives) or any
    C-contiguous bytes-like object: bytes, bytearray, memoryview (slices too), mmap, array
    (offsets in bytes). ``needle`` must be of the same kind and not empty.
    ``threads``: ``None`` uses every CPU this process may use; otherwise an int >= 1.
    ``scan``: ``"fast"`` or ``"textbook"`` (see ``SCANS``). Results never depend on
    ``threads`` or ``scan``. Backend: ``{backend}``. Same as ``compile(needle)`` then the
    Pattern's method: compile once to search many times.

    Raises TypeError for a wrong type or a non-contiguous buffer, ValueError for an empty
    needle or ``threads < 1``.
"""
_FILE = """
    ``path`` is a str, bytes or os.PathLike naming a regular file; it is only read.
    ``needle`` is bytes-like, or a str searched as its UTF-8 encoding; offsets are bytes.
    Files of any size (over 4 GiB included) are searched in bounded memory; a file that
    shrinks during the search gives the matches in what could still be read (as grep).
    ``threads`` and ``scan`` as for ``find_all``. Backend: ``{backend}``.

    Raises FileNotFoundError, IsADirectoryError, PermissionError or another OSError for a
    file that cannot be searched, TypeError/ValueError for bad arguments.
"""
_ARRAY = """
    ``as_array=True`` returns an ``array.array('q')`` instead of a list: 8 bytes an offset,
    no Python ints (``numpy.frombuffer(a, dtype=numpy.int64)`` views it without a copy).
"""
_DOCS = {
    "compile": "Compile ``needle`` (str or bytes-like, not empty) into a reusable ``Pattern``\n"
               "    (backend ``{backend}``).",
    "find_all": "Start offsets of every occurrence of ``needle`` in ``haystack``, ascending.\n\n"
                "    Overlapping occurrences count: ``find_all(b'aaaa', b'aa') == [0, 1, 2]``.\n" + _COMMON + _ARRAY,
    "count": "Number of occurrences of ``needle`` in ``haystack`` (overlaps included), without\n"
             "    building the list of offsets.\n" + _COMMON,
    "find_all_in_file": "Byte offsets of every occurrence of ``needle`` in the file at ``path``, ascending.\n"
                        + _FILE + _ARRAY,
    "finditer": "Yield the offset of every occurrence of ``needle`` in ``source``, ascending, as it is read.\n\n"
                "    ``source``: a path, a binary file object (``open(p, 'rb')``, ``gzip.open``, a pipe, a\n"
                "    socket's ``makefile('rb')``), an iterable of bytes-like chunks (byte offsets), or for\n"
                "    a str needle a text stream or str chunks (code point offsets). Memory is bounded\n"
                "    by the window (1 MiB); closing the generator stops reading. Same as\n"
                "    ``compile(needle).finditer(source)``. Backend: ``{backend}``.\n",
    "count_in_file": "Number of occurrences of ``needle`` in the file at ``path`` (overlaps included).\n" + _FILE,
}
