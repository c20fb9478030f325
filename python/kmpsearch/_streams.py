"""Searching what arrives a piece at a time: windows of a stream, ``finditer``, file ranges.

The interface the command and ``kmpsearch.dask`` use too (each takes a compiled
``Pattern`` or ``WordSet`` of any backend):

``owned(searcher, view, own, want, opts, base=0)``
    the matches in ``view`` -- the bytes from offset ``base`` of a larger input -- that
    *start* in its first ``own`` bytes, offsets absolute: the chunk plan's ownership rule,
    for a window or a block. ``view`` holds the own range plus the next ``longest - 1``
    bytes (fewer only at the input's end). A result of the core contract's ``want``.
``windows(searcher, source, want, opts, window, on_read=None, text=True)``
    ``(reader, generator)``: the source checked now (TypeError), then a generator of
    ``Window(base, view, own, found)`` -- ``found`` what ``owned`` gives for the window --
    that opens a path on first use and closes it at the end or when closed early; an
    OSError while reading names the path. ``source``: an ``os.PathLike``, a binary file
    object, an iterable of bytes-like (or str) chunks, or a text stream (``text``).
``search_fd(searcher, fd, size, want, opts, shown)``
    a regular file open on ``fd`` whose fstat size is ``size`` (0: read to its end).
``iterate(searcher, source, opts, window)``
    what ``finditer`` yields.

Every stream is read by one reader, ``kmpsearch._windows.read_windows``.
"""

from __future__ import annotations

import collections
import io
import itertools
import os
import stat
from array import array
from bisect import bisect_left
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator, NamedTuple

from ._args import byte_view, is_buffer
from ._calls import run, shutdown, submit
from ._contract import FileRange, Options
from ._files import is_path, is_regular, open_file, with_path
from ._results import from_pairs, merge
from ._windows import UTF8_CONTINUATION, ChunkReader, TextReader, read_windows

__all__ = ["FILE_RANGE", "ITER_WINDOW", "STREAM_WINDOW", "Window", "iterate", "owned", "search_fd", "windows",
           "windows_of"]

#: bytes read per window for files whose size reads as 0 (``/proc``)
STREAM_WINDOW = 16 << 20
#: bytes per window of ``finditer`` and ``redact_stream``: the window is searched while it
#: is in the CPU's cache, and a window where every byte matches stays a few MB of results
ITER_WINDOW = 1 << 20
#: bytes per range of ``finditer`` over a regular file with a native core (``threads``
#: ranges searched at once, one core thread each): large enough that a range's fixed costs
#: stay small beside its search, small enough that its matches do (see docs/tuning.md)
FILE_RANGE = 4 << 20


class Window(NamedTuple):
    """One window of a stream: its bytes ``view`` from offset ``base`` on (valid until the
    next window), of which it owns the start offsets ``[base, base + own)``, and ``found``,
    the matches that start there (offsets absolute)."""

    base: int
    view: memoryview
    own: int
    found: Any


def _shift(offsets: array, base: int) -> array:
    return array("q", map(base.__add__, offsets)) if base and offsets else offsets


def owned(searcher, view: memoryview, own: int, want: str, opts: Options, base: int = 0):
    """See the module docstring."""
    end = min(len(view), own + searcher._longest - 1)  # every match starting in [0, own) ends here
    got = run(searcher._core, view[:end], want, opts)
    if want == "count" or want == "each":
        if end > own:  # exactly the matches starting at own or later: the next window's
            over = run(searcher._core, view[own:end], want, opts)
            got = got - over if want == "count" else array("q", map(int.__sub__, got, over))
        return got
    offsets = got[0] if want == "pairs" else got
    # one length: every match found in view[:end] starts in the own range; else (a word set,
    # a Pattern's spellings) a shorter word may match in the overlap: the next window's
    cut = bisect_left(offsets, own) if searcher._varied else len(offsets)
    if want == "pairs":
        return _shift(offsets[:cut] if cut < len(offsets) else offsets, base), \
            (got[1][:cut] if cut < len(offsets) else got[1])
    return _shift(offsets[:cut] if cut < len(offsets) else offsets, base)


def windows_of(searcher, f, want: str, opts: Options, window: int, regular: bool,
               on_read=None, chooser=None) -> Iterator[Window]:
    """Search ``f`` (anything with ``readinto``) in overlapping windows of ``window`` bytes.
    Memory: one window. ``chooser``: the matches to keep (default: the searcher's)."""
    raw = read_windows(f, searcher._reach, window, regular, on_read)
    if chooser is not None or not searcher._plain:
        yield from _chosen(searcher, raw, want, opts, chooser)
        return
    for base, view, own in raw:
        yield Window(base, view, own, owned(searcher, view, own, want, opts, base))


def _chosen(searcher, raw, want: str, opts: Options, chooser=None) -> Iterator[Window]:
    """The windows ``raw`` (``(base, view, own)``) with the matches a searcher with whole
    words or a match kind keeps (``kmpsearch._semantics.Chooser``), chosen in order."""
    chooser = chooser or searcher._chooser()
    before = b""  # the bytes before the window
    for base, view, own in raw:
        kept = chooser.keep(view, base, *owned(searcher, view, own, "pairs", opts, base), before)
        before = (before + bytes(view[max(0, own - 4):own]))[-4:]
        yield Window(base, view, own, from_pairs(kept, want, searcher._nwords))


def _memory_windows(searcher, view: memoryview, want: str, opts: Options, window: int) -> Iterator[Window]:
    """The windows of bytes already in memory: slices of ``view``, never copied."""
    n = len(view)
    reach = searcher._reach
    raw = ((base, view[base:base + min(window, n - base) + reach - 1], min(window, n - base))
           for base in range(0, n, window))
    if not searcher._plain:
        yield from _chosen(searcher, raw, want, opts)
        return
    for base, part, own in raw:
        yield Window(base, part, own, owned(searcher, part, own, want, opts, base))


def _read_chunks(read, size: int):
    while True:
        chunk = read(size)
        if not chunk:
            return
        yield chunk


def _reader(searcher, source: object, window: int, text: bool):
    """``(reader, regular)`` for a source that is not a path: ``reader`` has ``readinto``
    (the source itself, or a ``ChunkReader`` over it). TypeError for what cannot be a
    source; ``text`` False: a text source neither."""
    chunks_text = None if searcher._text and text else False
    if isinstance(source, io.TextIOBase):
        if not text:
            raise TypeError("redact_stream reads bytes: give a path, a binary file object or bytes-like "
                            "chunks, not a text stream")
        if not searcher._text:
            raise TypeError(f"a text stream gives str: the {searcher._what} must be str too "
                            "(or open the file in binary mode)")
        return TextReader(source, window), True
    if hasattr(source, "readinto"):
        return source, is_regular(source)
    if hasattr(source, "read"):  # a file-like object with read() only
        return ChunkReader(_read_chunks(source.read, window), _chunk_view, chunks_text), True
    try:
        chunks = iter(source)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f"source must be a path (os.PathLike), a file object, an iterable of chunks or "
                        f"data to search, not {type(source).__name__}") from None
    return ChunkReader(chunks, _chunk_view, chunks_text), True


def _chunk_view(chunk: object) -> memoryview:
    return byte_view(chunk, "each chunk")


def windows(searcher, source: object, want: str, opts: Options, window: int, on_read=None, text: bool = True,
            chooser=None):
    """See the module docstring (``chooser``: the matches to keep, default the searcher's)."""
    if is_path(source):
        os.fspath(source)  # type: ignore[arg-type]
        reader = None
    else:
        reader, regular = _reader(searcher, source, window, text)

    def generate():
        if reader is not None:
            yield from windows_of(searcher, reader, want, opts, window, regular, on_read, chooser)
            return
        f, st = open_file(source, regular=False)
        with f:
            try:
                yield from windows_of(searcher, f, want, opts, window, stat.S_ISREG(st.st_mode), on_read, chooser)
            except OSError as exc:
                raise with_path(exc, f.name) from None

    return reader, generate()


def search_fd(searcher, fd: int, size: int, want: str, opts: Options, shown: object):
    """See the module docstring."""
    try:
        if size:
            return run(searcher._core, FileRange(fd, 0, size), want, opts)
        # empty, or a /proc-style file whose size says nothing: read it to its end
        with open(fd, "rb", buffering=0, closefd=False) as f:
            parts = [w.found for w in windows_of(searcher, f, want, opts, STREAM_WINDOW, True)]
        return merge(parts, want, searcher._nwords)
    except OSError as exc:
        raise with_path(exc, shown) from None


# --------------------------------------------------------------------------- finditer

def iterate(searcher, source: object, opts: Options, window: int | None) -> Iterator[Any]:
    """``finditer``: the source checked now, a generator of its matches (ints, or
    ``(offset, word index)`` for a word set)."""
    want = "pairs" if searcher._pairs else "offsets"
    if is_path(source):
        os.fspath(source)  # type: ignore[arg-type]  # TypeError now
        if searcher._api.row.native and searcher._plain:
            return _iterate_path(searcher, source, opts, window or FILE_RANGE)
        _, gen = windows(searcher, source, want, opts, window or ITER_WINDOW)
        return _matches(searcher, gen, lambda: False)
    if isinstance(source, str) or is_buffer(source):
        view, utf8 = searcher._view(source)
        return _matches(searcher, _memory_windows(searcher, view, want, opts, window or ITER_WINDOW),
                        lambda: utf8 is not None)
    reader, gen = windows(searcher, source, want, opts, window or ITER_WINDOW)
    return _matches(searcher, gen, lambda: isinstance(reader, ChunkReader) and bool(reader.text))



def _matches(searcher, gen: Iterator[Window], is_text) -> Iterator[Any]:
    """The matches of the windows ``gen`` one by one; offsets in code points when
    ``is_text()`` says the source was text (known once a window has been read)."""
    text = None
    byte = char = 0  # the code point offset of byte offset ``byte``
    pairs = searcher._pairs
    for base, view, own, found in gen:
        if text is None:
            text = is_text()
        items = zip(*found) if pairs else found
        if not text:
            yield from items
            continue
        # byte >= base: every byte before the window has been counted
        for item in items:
            off = item[0] if pairs else item
            char += len(view[byte - base:off - base].tobytes().translate(None, UTF8_CONTINUATION))
            byte = off
            yield (char, item[1]) if pairs else char
        char += len(view[byte - base:own].tobytes().translate(None, UTF8_CONTINUATION))
        byte = base + own


def _iterate_path(searcher, path, opts: Options, width: int) -> Iterator[Any]:
    """``finditer`` of a path with a native core.

    A regular file of known size is searched by the core itself in ranges of ``width``
    bytes (``FileRange``: ``pread`` into the core's buffer, no copy through Python),
    ``threads`` ranges at once, each on a worker thread of this generator with one thread of
    the core: in order, the matches of the oldest range are yielded (from compact arrays)
    while the next ones are searched. A range owns the starts in it and is read with the
    next ``longest - 1`` bytes. As with ``find_all_in_file`` the file is searched to the size
    it had when opened (one that shrinks: the matches in what could be read). Memory:
    ``threads`` ranges' matches. The workers end with the generator -- exhausted, closed
    early, or left by an exception (Ctrl-C included: every search in flight is told to stop
    and joined). Anything else (a FIFO, a device, a file whose size reads as 0) is read as a
    stream.
    """
    f, st = open_file(path, regular=False)
    with f:
        regular = stat.S_ISREG(st.st_mode)
        try:
            size = st.st_size if regular else 0
            if size:
                yield from _ranges(searcher, f.fileno(), size, opts, width)
            else:
                want = "pairs" if searcher._pairs else "offsets"
                yield from _matches(searcher, windows_of(searcher, f, want, opts, ITER_WINDOW, regular),
                                    lambda: False)
        except OSError as exc:
            raise with_path(exc, f.name) from None


def _ranges(searcher, fd: int, size: int, opts: Options, width: int) -> Iterator[Any]:
    """The matches of bytes ``[0, size)`` of ``fd``, range by range (see _iterate_path)."""
    search, pairs, more = searcher._core.search, searcher._pairs, searcher._longest - 1
    varied = searcher._varied
    want = "pairs" if pairs else "offsets"
    starts = iter(range(0, size, width))
    pending: collections.deque = collections.deque()  # (start, cancel flag, task), in order
    pool = ThreadPoolExecutor(max_workers=opts.threads, thread_name_prefix="kmpsearch-range")

    def one(start: int, flag: bytearray):
        # one core thread per range: the ranges are the parallelism
        return search(FileRange(fd, start, min(size - start, width + more)), want,
                      opts._replace(threads=1, cancel=flag))

    def launch(start: int) -> None:
        flag = bytearray(1)
        pending.append((start, flag, submit(pool, one, start, flag)))  # no thread: searched here

    try:
        for start in itertools.islice(starts, opts.threads):
            launch(start)
        while pending:
            start, _, done = pending.popleft()
            got = done.result()
            for nxt in itertools.islice(starts, 1):
                launch(nxt)
            if pairs:  # a shorter word may match in the overlap: that one is the next range's
                offsets, words = got
                cut = bisect_left(offsets, start + width)
                yield from zip(offsets[:cut], words[:cut]) if cut < len(offsets) else zip(offsets, words)
            elif varied:  # a Pattern's spellings: a shorter one may match in the overlap
                cut = bisect_left(got, start + width)
                yield from got[:cut] if cut < len(got) else got
            else:  # one length: every match found starts in the range
                yield from got
    finally:
        for _, flag, _ in pending:  # the searches in flight stop at their next block
            flag[0] = 1
        shutdown(pool)
