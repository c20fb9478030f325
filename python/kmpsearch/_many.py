"""Many files: the search of a tree, for the library, the command and ``kmpsearch.dask``.

``results(searcher, files, want, opts)`` searches ``kmpsearch._tree.File``s in order and
yields ``(file, status, found)`` per file: regular files in batches of ``BATCH`` through the
core contract's ``FileBatch`` (opened, read and searched without the GIL, ``threads`` at
once) on a worker thread, while the caller goes on walking and using the results; ``status``
is the batch's (0 searched, an errno, ``STREAM``, ``BIG``) and ``found`` the file's own
result (an int for ``"count"``, ``(offsets, word indices)`` arrays for ``"pairs"``; None when
not searched). Closing the generator (or an exception in the caller) stops the batches in
flight.

``search_file(searcher, file, status, want, opts)`` finishes what a batch leaves: a big file
searched by the core with every thread, a stream (FIFO, ``/proc``) read in windows.
"""

from __future__ import annotations

import collections
import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterable, Iterator

from ._calls import run, shutdown, submit
from ._contract import BIG, STREAM, FileBatch, FileRange, Options
from ._files import open_file, with_path
from ._results import merge
from ._streams import STREAM_WINDOW, windows
from ._windows import ChunkReader

__all__ = ["BATCH", "BIG_FILE", "STREAM", "results", "search_file"]

#: files per core call, and batches searched ahead of the one being used
BATCH = 256
AHEAD = 4
#: a file at least this big is searched on its own, with every thread
BIG_FILE = 1 << 20
#: a stream's first read: what is read whole before windows are allocated
SMALL = 64 << 10



def _batch(searcher, files, want: str, opts: Options, max_size: int, flag: bytearray):
    batch = FileBatch(tuple(os.fsencode(f.path) for f in files), max_size)
    return searcher._core.search(batch, want, opts._replace(cancel=flag))


def results(searcher, files: Iterable, want: str, opts: Options, max_size: int = BIG_FILE) -> Iterator[tuple]:
    """See the module docstring."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kmpsearch-files")
    pending: collections.deque = collections.deque()  # (files, cancel flag, task)
    files = iter(files)
    try:
        while True:
            chunk = list(itertools.islice(files, BATCH))
            if chunk:
                flag = bytearray(1)
                pending.append((chunk, flag, submit(pool, _batch, searcher, chunk, want, opts, max_size, flag)))
                if len(pending) < AHEAD:
                    continue
            if not pending:
                return
            chunk, _, task = pending.popleft()
            yield from _split(chunk, *task.result(), want)
    finally:
        for _, flag, _ in pending:  # the searches in flight stop at their next file or block
            flag[0] = 1
        shutdown(pool)


def _split(files, status, found, want: str) -> Iterator[tuple]:
    """A batch's results, file by file."""
    if want == "count":
        for i, f in enumerate(files):
            yield f, status[i], found[i] if status[i] == 0 else None
        return
    bounds, offsets, *words = found
    for i, f in enumerate(files):
        if status[i] != 0:
            yield f, status[i], None
            continue
        lo, hi = bounds[i], bounds[i + 1]
        yield f, 0, (offsets[lo:hi], words[0][lo:hi]) if words else offsets[lo:hi]


def search_file(searcher, file, status: int, want: str, opts: Options) -> Any:
    """The result of a file the batch did not search (``status`` ``BIG`` or ``STREAM``), or
    the OSError of one it could not (an errno)."""
    if status > 0:
        raise OSError(status, os.strerror(status), file.label)
    f, st = open_file(file.path, regular=False)
    with f:
        try:
            if status == BIG and st.st_size:
                return run(searcher._core, FileRange(f.fileno(), 0, st.st_size), want, opts)
            first = f.read(SMALL)  # most are empty, or small (/proc): searched as they are
            if not first or len(first) < SMALL and not f.read(1):
                return run(searcher._core, memoryview(first), want, opts)
            reader = ChunkReader(itertools.chain([first], iter(lambda: f.read(SMALL), b"")), memoryview)
            _, gen = windows(searcher, reader, want, opts, STREAM_WINDOW)
            return merge([w.found for w in gen], want, searcher._nwords)
        except OSError as exc:
            raise with_path(exc, file.label) from None

