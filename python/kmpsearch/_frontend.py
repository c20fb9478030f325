"""The one place where arguments are checked and converted, shared by every backend.

A backend implements four *kernels* over validated arguments (see ``make_api``) and
gets the public functions from ``make_api``; so every backend accepts and rejects
exactly the same inputs, raises the same exceptions, and handles ``str`` the same way.

``str`` haystacks are searched as UTF-8 (lone surrogates included, through
``surrogatepass``). UTF-8 is self-synchronising: an encoded needle can only match at a
character boundary, so counts are exact, and byte offsets are turned back into code
point offsets, which is exactly what ``str.find`` would give. Pure-ASCII text needs no
conversion at all.
"""

from __future__ import annotations

import errno
import operator
import os
import stat
from pickle import PickleBuffer
from typing import Any, Callable, Union

from ._plan import DEFAULT_MIN_CHUNK
from ._windows import read_windows

__all__ = ["MAX_THREADS", "default_threads", "make_api", "resolve_threads"]

#: ``threads`` above this are treated as this many (results never depend on threads)
MAX_THREADS = 256

StrPath = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
Kernel = Callable[..., Any]


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


def _check_min_chunk(value: object) -> int:
    if value is None:
        return DEFAULT_MIN_CHUNK
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("_min_chunk must be an int")
    if value < 1:
        raise ValueError("_min_chunk must be >= 1")
    return min(value, 2**63 - 1)  # larger means "one chunk" all the same; fits every core's u64/i64


def _byte_view(obj: object, what: str) -> memoryview:
    """A zero-copy, 1-D, format 'B' view of a C-contiguous buffer."""
    try:
        mv = memoryview(obj)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{what} must be str or a bytes-like object, not {type(obj).__name__}") from None
    if not mv.c_contiguous:
        raise TypeError(f"{what} must be a C-contiguous buffer")
    if mv.ndim == 1 and mv.format == "B":
        return mv
    return PickleBuffer(mv).raw()  # any C-contiguous buffer as unsigned bytes, no copy


def _needle_bytes(needle: object) -> bytes:
    if isinstance(needle, str):
        raise TypeError("needle is str but haystack is bytes-like: use the same kind for both")
    try:
        mv = memoryview(needle)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"needle must be str or a bytes-like object, not {type(needle).__name__}") from None
    data = mv.tobytes()
    if not data:
        raise ValueError("needle must not be empty")
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


def _prepare(haystack: object, needle: object) -> tuple[memoryview, bytes, bytes | None]:
    """Return ``(view, needle_bytes, text_data)``; text_data is set when offsets need conversion."""
    if isinstance(haystack, str):
        if not isinstance(needle, str):
            raise TypeError(f"haystack is str, so needle must be str, not {type(needle).__name__}")
        if not needle:
            raise ValueError("needle must not be empty")
        if haystack.isascii():
            return memoryview(haystack.encode("ascii")), _encode_text(needle), None
        data = _encode_text(haystack)
        return memoryview(data), _encode_text(needle), data
    view = _byte_view(haystack, "haystack")
    return view, _needle_bytes(needle), None


def _file_needle(needle: object) -> bytes:
    if isinstance(needle, str):
        if not needle:
            raise ValueError("needle must not be empty")
        return _encode_text(needle)
    return _needle_bytes(needle)


def _check_scan(scan: object, scans: tuple[str, ...], default: str) -> str:
    if scan is None:
        return default
    if not isinstance(scan, str):
        raise TypeError(f"scan must be a str, not {type(scan).__name__}")
    if scan not in scans:
        raise ValueError(f"scan must be one of {', '.join(map(repr, scans))}, got {scan!r}")
    return scan


def _open_regular(path: object) -> tuple[int, str, int]:
    """Open ``path`` read-only; return ``(fd, absolute path, size)``. Only regular files."""
    p = os.fspath(path)  # TypeError for anything that is not a path
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    # O_NONBLOCK: opening a FIFO must not wait for a writer; no effect on regular files
    fd = os.open(p, flags | getattr(os, "O_NONBLOCK", 0))
    try:
        st = os.fstat(fd)
        mode = st.st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), p)
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, "not a regular file (read it yourself and use find_all)", p)
        return fd, os.fsdecode(os.path.abspath(p)), st.st_size
    except BaseException:
        os.close(fd)
        raise


#: bytes read per window by ``_stream_fd``
STREAM_WINDOW = 16 << 20


def _stream_fd(fd: int, pat: bytes, kernel: Kernel, collect: bool, *args: Any) -> Any:
    """Search a file that reports size 0 (``/proc`` and ``/sys`` files, empty files) by
    reading it to its end in bounded windows (``read_windows``), with the in-memory ``kernel``.

    The file kernels work from the size ``fstat`` gives, so such files would silently have
    no matches.
    """
    m = len(pat)
    found: list[int] = []
    total = 0
    with open(fd, "rb", buffering=0, closefd=False) as f:
        for base, view, own in read_windows(f, m, STREAM_WINDOW, True):
            end = min(len(view), own + m - 1)  # matches that start in the window's own range
            if end < m:
                continue
            got = kernel(view[:end], pat, *args)
            if collect:
                found.extend(base + i for i in got)
            else:
                total += got
    return found if collect else total


def make_api(name: str, *, count: Kernel, find_all: Kernel, count_fd: Kernel, find_all_fd: Kernel,
             scans: tuple[str, ...] = ("fast", "textbook"), default_scan: str = "fast"):
    """Build a backend's public functions from its kernels.

    Kernels receive validated arguments:

    * ``count(buf, needle, threads, min_chunk, scan) -> int`` and
      ``find_all(...) -> list[int]``: ``buf`` a 1-D C-contiguous memoryview of format 'B'
      (maybe read-only, maybe empty), ``needle`` non-empty bytes, ``threads >= 1``,
      ``min_chunk >= 1``, ``scan`` one of ``scans``;
    * ``count_fd(fd, path, needle, threads, min_chunk, scan)`` and ``find_all_fd(...)``:
      ``fd`` an open read-only descriptor of a regular file (closed by the caller),
      ``path`` its absolute path.

    Returns ``(find_all, count, find_all_in_file, count_in_file)``.
    """
    if default_scan not in scans:
        raise ValueError("default_scan must be one of scans")
    module = f"kmpsearch.backends.{name}"

    def public_find_all(haystack: Any, needle: Any, *, threads: int | None = None,
                        scan: str | None = None, _min_chunk: int | None = None) -> list[int]:
        view, pat, text = _prepare(haystack, needle)
        with view:
            found = find_all(view, pat, resolve_threads(threads), _check_min_chunk(_min_chunk),
                             _check_scan(scan, scans, default_scan))
        return _char_offsets(text, found) if text is not None and found else found

    def public_count(haystack: Any, needle: Any, *, threads: int | None = None,
                     scan: str | None = None, _min_chunk: int | None = None) -> int:
        view, pat, _ = _prepare(haystack, needle)
        with view:
            return count(view, pat, resolve_threads(threads), _check_min_chunk(_min_chunk),
                         _check_scan(scan, scans, default_scan))

    def public_find_all_in_file(path: StrPath, needle: Any, *, threads: int | None = None,
                                scan: str | None = None, _min_chunk: int | None = None) -> list[int]:
        pat, n, mc, sc = _file_needle(needle), resolve_threads(threads), _check_min_chunk(_min_chunk), \
            _check_scan(scan, scans, default_scan)
        fd, abspath, size = _open_regular(path)
        try:
            if size == 0:  # empty, or a /proc-style file whose size says nothing
                return _stream_fd(fd, pat, find_all, True, n, mc, sc)
            return find_all_fd(fd, abspath, pat, n, mc, sc)
        finally:
            os.close(fd)

    def public_count_in_file(path: StrPath, needle: Any, *, threads: int | None = None,
                             scan: str | None = None, _min_chunk: int | None = None) -> int:
        pat, n, mc, sc = _file_needle(needle), resolve_threads(threads), _check_min_chunk(_min_chunk), \
            _check_scan(scan, scans, default_scan)
        fd, abspath, size = _open_regular(path)
        try:
            if size == 0:  # empty, or a /proc-style file whose size says nothing
                return _stream_fd(fd, pat, count, False, n, mc, sc)
            return count_fd(fd, abspath, pat, n, mc, sc)
        finally:
            os.close(fd)

    funcs = (public_find_all, public_count, public_find_all_in_file, public_count_in_file)
    for fn, public_name, doc in zip(funcs, ("find_all", "count", "find_all_in_file", "count_in_file"), _DOCS):
        fn.__name__ = fn.__qualname__ = public_name
        fn.__module__ = module
        fn.__doc__ = doc.format(backend=name)
    return funcs


_COMMON = """
    ``haystack`` is a ``str`` (offsets in code points, as ``str.find`` gives) or any
    C-contiguous bytes-like object: bytes, bytearray, memoryview (slices too), mmap, array
    (offsets in bytes). ``needle`` must be of the same kind and not empty.
    ``threads``: ``None`` uses every CPU this process may use; otherwise an int >= 1.
    ``scan``: ``"fast"`` or ``"textbook"`` where the backend has both (see ``SCANS``).
    Results never depend on ``threads`` or ``scan``. Backend: ``{backend}``.

    Raises TypeError for a wrong type or a non-contiguous buffer, ValueError for an empty
    needle or ``threads < 1``.
"""
_FILE = """
    ``path`` is a str, bytes or os.PathLike naming a regular file; it is only read.
    ``needle`` is bytes-like, or a str searched as its UTF-8 encoding; offsets are bytes.
    Files of any size (over 4 GiB included) are searched without reading them whole into
    memory. ``threads`` and ``scan`` as for ``find_all``. Backend: ``{backend}``.

    Raises FileNotFoundError, IsADirectoryError, PermissionError or another OSError for a
    file that cannot be searched, TypeError/ValueError for bad arguments.
"""
_DOCS = (
    "Start offsets of every occurrence of ``needle`` in ``haystack``, ascending.\n\n"
    "    Overlapping occurrences count: ``find_all(b'aaaa', b'aa') == [0, 1, 2]``.\n" + _COMMON,
    "Number of occurrences of ``needle`` in ``haystack`` (overlaps included), without\n"
    "    building the list of offsets.\n" + _COMMON,
    "Byte offsets of every occurrence of ``needle`` in the file at ``path``, ascending.\n" + _FILE,
    "Number of occurrences of ``needle`` in the file at ``path`` (overlaps included).\n" + _FILE,
)
