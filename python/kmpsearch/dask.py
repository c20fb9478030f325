"""Search many files on a Dask cluster (``pip install 'kmpsearch[dask]'``).

    import kmpsearch.dask as kd

    hits = kd.find("logs/**/*.log", ["password", "token"])      # lazy dask DataFrame
    per_file = kd.count("s3://bucket/logs/", b"3J1")            # pandas Series, computed
    table = kd.count_each(["a.txt", "b.txt"], kmpsearch.WordSet([b"he", b"she"]))
    copies = kd.redact("logs/", ["password", "token"], "clean/")   # clean/... masked, computed

``paths``: a path, a glob (``*``, ``?``, ``[``, ``**``: the files it matches), a directory
(searched recursively, in name order; symbolic links met inside are skipped, as ``grep -r``),
an fsspec URL
(``file://``, ``memory://``, ``s3://``, ... whatever fsspec can open), or a list of them. They
are expanded on the caller, once, with their sizes (``os.stat`` / fsspec ``info``): a missing
path is FileNotFoundError at call time, before any task runs, and a glob that matches nothing
too; an empty directory is no file. Only regular files are searched.

``pattern_or_words``: a compiled ``Pattern`` or ``WordSet`` (any backend available on the
workers), or words -- a ``str``, a bytes-like object or a list of them -- compiled once here
into a ``kmpsearch.WordSet(words, ignore_case=ignore_case)`` on the default (native) backend.
``ignore_case`` applies to such words only. ``str`` words search the files' UTF-8 bytes and
offsets are in bytes, as ``find_all_in_file`` gives.

The plan: each file of ``n`` bytes is cut by ``kmpsearch.plan_word_chunks`` into
``ceil((n - m + 1) / blocksize)`` blocks of at most ``blocksize`` start positions (``m`` the
longest word); a task reads its block plus ``m - 1`` bytes (fsspec ``open``, ``seek``, then
reads of ``WINDOW`` bytes into one buffer) and keeps the matches that *start* in its block -- the chunk
plan's ownership rule (``kmpsearch._streams.owned``, shared with the command's windows) -- so every match
is found exactly once at any block size. An empty file is no task. The compiled pattern is
shipped once per computation, one ``delayed`` object that every task depends on (a node of
the graph, not scattered data: recomputed if every worker that held it dies); each task
scans with the pattern's own backend, one thread (``threads=1``: the cluster's parallelism
is the tasks), the GIL released by the native cores.

``client``: a ``distributed.Client``; ``None`` uses the current one (``distributed.
default_client()``) if any. ``count`` and ``count_each`` compute: without a client they start
a ``LocalCluster`` on this machine (processes, one single-threaded worker per usable CPU) and
close it afterwards. ``find`` is lazy: it computes wherever its result is computed (the client's
cluster, or dask's local scheduler when there is none). ``memory://`` files live in one
process: a cluster of worker processes cannot see the caller's, so the embedded cluster runs
in-process (threads) when a path is ``memory://``; with a cluster of your own, use an
in-process one (``Client(processes=False)``) for them.

``redact`` and ``replace`` write a cleaned copy of every file under a destination directory
or URL, in the same tasks: a big file's blocks masked in place at their own offsets (each
read with the longest word's reach on either side, so that every byte is masked as
``redact_stream`` masks the whole file), or whole files; each copy renamed into place once
complete (see ``redact``).

A file that cannot be read when its task runs (removed, unreadable) fails the computation
with an OSError naming the file (``FileNotFoundError``, ``PermissionError`` ...). A task
only reads: one whose worker dies runs again on another (the scheduler's ``allowed-failures``
times, 3 by default), then the call fails with ``kmpsearch.dask.KilledWorker`` (a
``distributed.KilledWorker``) naming its files.
"""

from __future__ import annotations

import contextlib
import errno
import glob as _glob
import io
import logging
import os
import posixpath
import stat
import uuid
from bisect import bisect_left
from dataclasses import dataclass
from typing import Any, Iterator

try:
    import dask
    import dask.dataframe as dd
    import distributed
    import fsspec
    import numpy as np
    import pandas as pd
    from dask.utils import parse_bytes
    from fsspec.implementations.local import LocalFileSystem
    from fsspec.implementations.memory import MemoryFileSystem
except ImportError as exc:  # pragma: no cover - the extra is not installed
    raise ImportError(f"kmpsearch.dask needs the 'dask' extra (pip install 'kmpsearch[dask]'): {exc}") from exc

import kmpsearch

from ._api import Pattern, WordSet
from ._contract import FileBatch
from ._args import check_mask, default_threads, search_options
from ._plan import plan_word_chunks
from ._results import merge
from ._masking import mask_windows, replacer
from ._streams import owned, windows_of
from ._windows import read_windows
from .backends import info as backend_info

__all__ = ["DEFAULT_BLOCKSIZE", "MAX_TASKS", "PARTIAL", "KilledWorker", "count", "count_each", "find", "redact",
           "replace"]

#: start positions per task: large enough that reading and scanning a block dwarf the task's fixed cost
#: (see docs/tuning.md)
DEFAULT_BLOCKSIZE = "128MiB"
#: bytes a task reads at a time: one buffer per task, whatever the block size; not bigger, as a
#: worker process's allocator returns big buffers to the OS at once (see docs/tuning.md)
WINDOW = 4 << 20
#: more tasks than this is refused (a tiny blocksize over big files): the graph would not fit
MAX_TASKS = 1_000_000

PathArg = Any  # str | os.PathLike | Iterable[str | os.PathLike]


# --------------------------------------------------------------------------- arguments

def _searcher(pattern_or_words: object, ignore_case: object) -> Pattern | WordSet:
    """The compiled object the tasks share: as given, or words compiled once here."""
    if isinstance(pattern_or_words, Pattern):
        if ignore_case is not False and ignore_case != pattern_or_words.ignore_case:
            raise ValueError("ignore_case applies to words given as str, bytes or a list; "
                             f"this Pattern was compiled with ignore_case={pattern_or_words.ignore_case!r} "
                             "(compile(needle, ignore_case=...))")
        return pattern_or_words
    if isinstance(pattern_or_words, WordSet):
        if ignore_case is not False and ignore_case != pattern_or_words.ignore_case:
            raise ValueError("ignore_case applies to words given as str, bytes or a list; "
                             f"this WordSet was compiled with ignore_case={pattern_or_words.ignore_case!r}")
        return pattern_or_words
    if isinstance(pattern_or_words, (str, bytes, bytearray, memoryview)):
        pattern_or_words = [pattern_or_words]
    return kmpsearch.WordSet(pattern_or_words, ignore_case=ignore_case)  # every check is WordSet's


def _words_of(searcher: Pattern | WordSet) -> tuple:
    return searcher.words if isinstance(searcher, WordSet) else (searcher.needle,)


def _blocksize(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"blocksize must be an int or a str such as '128MiB', not {type(value).__name__}")
    if isinstance(value, str):
        try:
            value = parse_bytes(value)
        except ValueError:
            raise ValueError(f"blocksize must be a number of bytes such as '128MiB' or 65536, got {value!r}") from None
    if value < 1:
        raise ValueError(f"blocksize must be >= 1 byte, got {value}")
    return value


def _check_client(client: object) -> distributed.Client | None:
    if client is not None and not isinstance(client, distributed.Client):
        raise TypeError(f"client must be a distributed.Client or None, not {type(client).__name__}")
    return client


# --------------------------------------------------------------------------- the files

@dataclass(frozen=True)
class _File:
    label: str   # what results show: the path as given, joined below a directory, or the URL
    fs: Any      # the fsspec filesystem that reads it
    path: str    # its path on ``fs`` (absolute for local files: workers may run elsewhere)
    size: int    # bytes at planning time: the search stops there


def _has_magic(path: str) -> bool:
    return any(c in path for c in "*?[")


class _Planner:
    """Expand paths into files with their sizes. ``on_error(label, exc)`` reports a path that
    cannot be searched and goes on (the command); without it the error is raised (the API)."""

    def __init__(self, *, globs: bool = True, recursive: bool = True, on_error=None) -> None:
        self.globs = globs
        self.recursive = recursive
        self.on_error = on_error
        self.local = LocalFileSystem()
        self.files: list[_File] = []

    def error(self, label: str, exc: OSError) -> None:
        if self.on_error is None:
            raise exc
        self.on_error(label, exc)

    def add(self, path: object, implicit_dot: bool = False) -> None:
        p = os.fsdecode(os.fspath(path))  # TypeError for anything that is not a path
        if fsspec.core.split_protocol(p)[0] is None:
            if self.globs and _has_magic(p) and not os.path.lexists(p):  # "a[1].txt" may be a name
                matches = [m for m in sorted(_glob.glob(p, recursive=True)) if not os.path.isdir(m)]
                if not matches:
                    self.error(p, FileNotFoundError(errno.ENOENT, "no file matches the glob", p))
                for m in matches:  # a glob gives files ("**" would give each directory too)
                    self.local_path(m)
            else:
                self.local_path(p, implicit_dot)
        else:
            self.url(p)

    # ---- local: os.stat and os.scandir, labels as the command shows them

    def local_path(self, p: str, implicit_dot: bool = False) -> None:
        try:
            st = os.stat(p)
            if stat.S_ISDIR(st.st_mode):
                if not self.recursive:
                    raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), p)
                self.walk(p, p, implicit_dot)
            elif stat.S_ISREG(st.st_mode):
                self.files.append(_File(p, self.local, os.path.abspath(p), st.st_size))
            else:
                raise OSError(errno.EINVAL, "not a regular file", p)
        except OSError as exc:
            self.error(p, exc)

    def walk(self, top: str, label: str, implicit_dot: bool) -> None:
        """Depth first, entries in name order, symbolic links and devices met inside skipped
        (as ``grep -r`` and the command)."""
        try:
            with os.scandir(top) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            self.error(label, exc)
            return
        for entry in entries:
            child = entry.name if (implicit_dot and label == ".") else os.path.join(label, entry.name)
            try:
                if entry.is_symlink():
                    continue
                if entry.is_dir(follow_symlinks=False):
                    self.walk(entry.path, child, implicit_dot)
                elif entry.is_file(follow_symlinks=False):
                    size = entry.stat(follow_symlinks=False).st_size
                    self.files.append(_File(child, self.local, os.path.abspath(entry.path), size))
            except OSError as exc:
                self.error(child, exc)

    # ---- fsspec URLs: info, glob and find give the sizes

    def url(self, url: str) -> None:
        try:
            fs, root = fsspec.core.url_to_fs(url)
            if self.globs and _has_magic(root):
                found = {k: v for k, v in fs.glob(root, detail=True).items() if v.get("type") != "directory"}
                if not found:
                    raise FileNotFoundError(errno.ENOENT, "no file matches the glob", url)
                entries = [(name, found[name], fs.unstrip_protocol(name)) for name in sorted(found)]
            else:
                entries = [(root, fs.info(root), url)]
            for name, info, label in entries:
                if info.get("type") == "directory":
                    if not self.recursive:
                        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), label)
                    inside = fs.find(name, detail=True)
                    for sub in sorted(inside):
                        self.files.append(_File(fs.unstrip_protocol(sub), fs, sub, int(inside[sub]["size"] or 0)))
                else:
                    self.files.append(_File(label, fs, name, int(info.get("size") or 0)))
        except OSError as exc:
            self.error(url, exc)


def _operands(paths: PathArg) -> list:
    """``paths`` as a list of operands."""
    if isinstance(paths, (str, bytes, os.PathLike)):
        return [paths]
    try:
        return list(paths)
    except TypeError:
        raise TypeError(f"paths must be a path, a glob, a URL or a list of them, not {type(paths).__name__}") from None


def _expand(paths: PathArg) -> list[_File]:
    planner = _Planner()
    for p in _operands(paths):
        planner.add(p)
    return planner.files


def _blocks(files: list[_File], longest: int, blocksize: int) -> list[tuple[int, int, int, int]]:
    """``(file index, scan_start, scan_end, own_end)`` per task: the chunk plan of each file
    (``plan_word_chunks``) with as many chunks as it takes for each to own at most
    ``blocksize`` start positions. An empty file gives none."""
    counts = []
    for f in files:
        positions = f.size - min(longest, f.size) + 1 if f.size else 0
        counts.append(-(-positions // blocksize))
    total = sum(counts)
    if total > MAX_TASKS:
        raise ValueError(f"blocksize {blocksize} cuts these files into {total:,} tasks (more than {MAX_TASKS:,}): "
                         "use a larger blocksize")
    return [(i, start, end, own) for i, (f, k) in enumerate(zip(files, counts)) if k
            for start, end, own in plan_word_chunks(f.size, longest, k, 1)]


def _tasks(files: list[_File], longest: int, blocksize: int,
           split: bool = True) -> list[tuple[tuple[int, ...], int, int, int]]:
    """The computation's tasks, in file order: ``((i,), scan_start, scan_end, own_end)`` for
    each block of a file bigger than ``blocksize`` (``_blocks``), and ``((i, j, ...), 0, 0,
    0)`` for consecutive small files packed together up to about ``blocksize`` bytes, each
    searched whole (thousands of small files are not thousands of tasks). An empty file is
    in no task. ``split=False`` (whole words, a match kind: a choice depends on the ones
    before it): a big file is one task, ``((i,), 0, 0, 0)``, searched whole."""
    tasks: list = []
    group: list[int] = []
    held = 0
    for i, f in enumerate(files):
        if not f.size:
            continue
        if f.size <= blocksize:
            if group and held + f.size > blocksize:
                tasks.append((tuple(group), 0, 0, 0))
                group, held = [], 0
            group.append(i)
            held += f.size
            continue
        if group:
            tasks.append((tuple(group), 0, 0, 0))
            group, held = [], 0
        if not split:
            tasks.append(((i,), 0, 0, 0))
            continue
        tasks.extend(((i,), start, end, own) for _, start, end, own in _blocks([f], longest, blocksize))
        if len(tasks) > MAX_TASKS:
            break
    if group:
        tasks.append((tuple(group), 0, 0, 0))
    if len(tasks) > MAX_TASKS:
        raise ValueError(f"blocksize {blocksize} cuts these files into more than {MAX_TASKS:,} tasks: "
                         "use a larger blocksize")
    return tasks


# --------------------------------------------------------------------------- on the workers

class _Range(io.RawIOBase):
    """Bytes ``[start, end)`` of an open (fsspec) file, read sequentially: a task's range."""

    def __init__(self, fh, start: int, end: int) -> None:
        super().__init__()
        fh.seek(start)
        self.fh = fh
        self.left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.left)
        if n <= 0:
            return 0
        got = self.fh.readinto(memoryview(buffer)[:n]) or 0
        self.left -= got
        return got


def _with_path(exc: OSError, label: str) -> OSError:
    """``exc`` naming the file as results show it (OSError(ENOENT, ...) is a FileNotFoundError...)."""
    if exc.errno:
        return OSError(exc.errno, exc.strerror or os.strerror(exc.errno), label)
    try:
        return type(exc)(f"{label}: {exc}")
    except Exception:  # noqa: BLE001 - an OSError subclass with another signature
        return OSError(f"{label}: {exc}")


def _scan(searcher, f: _File, start: int, end: int, own_end: int, want: str, threads: int, window: int):
    """Search the block of ``f`` that owns the start offsets ``[start, own_end)``, reading
    ``[start, end)`` (``end``: ``own_end`` plus longest - 1, or the file's end) in windows of
    ``window`` bytes, one buffer per task; yield ``(view, base, result)`` per window: the
    window's bytes from offset ``base`` (valid until the next one) and the matches it owns
    (the core contract's ``want``), offsets absolute. A file that is shorter by now is
    searched as far as it goes."""
    opts = search_options(backend_info(searcher.backend), threads)
    own_len = own_end - start
    try:
        # no read-ahead cache: fsspec's default (s3fs: 50 MiB ahead) would fetch far past the
        # block; the windows below are the ranged reads, each exactly what is searched next
        with f.fs.open(f.path, "rb", cache_type="none") as fh:
            windows = read_windows(_Range(fh, start, end), searcher._longest, min(window, own_len), True)
            for base, view, own in windows:
                own = min(own, own_len - base)  # the range's last longest - 1 bytes: the next block's
                if own > 0:
                    yield view, start + base, owned(searcher, view, own, want, opts, start + base)
    except OSError as exc:
        raise _with_path(exc, f.label) from None


def _whole(searcher, fs: list[_File], want: str, threads: int, window: int) -> list:
    """Each of the files ``fs`` searched whole: a result of the core contract's ``want`` per
    file, or the OSError (naming it) of one that cannot be read. Local files in one core call
    (``FileBatch``: opened, read and searched by the core); others through fsspec."""
    if searcher._plain and all(isinstance(f.fs, LocalFileSystem) for f in fs):
        opts = search_options(backend_info(searcher.backend), threads)
        status, found = searcher._core.search(FileBatch(tuple(os.fsencode(f.path) for f in fs), 1 << 62), want, opts)
        n = searcher._nwords
        out: list = []
        for k, f in enumerate(fs):
            st = status[k]
            if st > 0:
                out.append(OSError(st, os.strerror(st), f.label))
            elif st != 0:  # not a regular file any more, or empty now: no match
                out.append(merge([], want, n))
            elif want == "count":
                out.append(found[k])
            elif want == "each":
                out.append(found[k * n:(k + 1) * n])
            else:
                lo, hi = found[0][k], found[0][k + 1]
                out.append((found[1][lo:hi], found[2][lo:hi]))
        return out
    out = []
    for f in fs:
        try:
            if searcher._plain:
                parts = [got for _, _, got in _scan(searcher, f, 0, f.size, f.size, want, threads, window)]
            else:  # whole words, a match kind: chosen window after window, in order
                opts = search_options(backend_info(searcher.backend), threads)
                with f.fs.open(f.path, "rb", cache_type="none") as fh:
                    parts = [w.found for w in windows_of(searcher, fh, want, opts, window, True)]
        except OSError as exc:
            out.append(_with_path(exc, f.label))
            continue
        out.append(merge(parts, want, searcher._nwords))
    return out


def _task_results(searcher, fs: list[_File], start: int, end: int, own_end: int, want: str, threads: int,
                  window: int) -> list:
    """A task's results, one per file of it (an OSError for one that cannot be read)."""
    if not own_end:
        return _whole(searcher, fs, want, threads, window)
    try:
        parts = [got for _, _, got in _scan(searcher, fs[0], start, end, own_end, want, threads, window)]
    except OSError as exc:
        return [exc]
    return [merge(parts, want, searcher._nwords)]


def _raised(values: list) -> list:
    for v in values:
        if isinstance(v, BaseException):
            raise v
    return values


def _np_pairs(got) -> tuple:
    offsets, words = got
    return np.frombuffer(offsets, dtype=np.int64).copy(), np.frombuffer(words, dtype=np.int32).copy()


def _block_matches(searcher, fs: list[_File], start: int, end: int, own_end: int, threads: int = 1,
                   window: int = WINDOW) -> list:
    """A task's matches per file: ``(offsets int64, word indices int32)``, or an OSError."""
    return [v if isinstance(v, BaseException) else _np_pairs(v)
            for v in _task_results(searcher, fs, start, end, own_end, "pairs", threads, window)]


def _frame(label: str, offsets, words) -> pd.DataFrame:
    return pd.DataFrame({"path": pd.Series([label] * len(offsets), dtype="string"),
                         "offset": np.asarray(offsets, dtype=np.int64),
                         "word": np.asarray(words, dtype=np.int32)})


def _find_part(searcher, fs: list[_File], start: int, end: int, own_end: int, window: int) -> pd.DataFrame:
    got = _raised(_block_matches(searcher, fs, start, end, own_end, 1, window))
    group = None if searcher._group is None else np.asarray(searcher._group, dtype=np.int32)
    frames = [_frame(f.label, offsets, words if group is None else group[words]) for f, (offsets, words) in zip(fs, got)]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _count_part(searcher, fs: list[_File], start: int, end: int, own_end: int, want: str, threads: int = 1,
                window: int = WINDOW) -> list:
    """A task's count (``want`` "count") or counts per word (``"each"``, int64 arrays) per
    file of it (an OSError for one that cannot be read)."""
    got = _task_results(searcher, fs, start, end, own_end, want, threads, window)
    return [v if isinstance(v, BaseException) or want != "each" else np.array(searcher._public(v, want), dtype=np.int64)
            for v in got]


# --------------------------------------------------------------------------- the cluster

def _current_client() -> distributed.Client | None:
    try:
        return distributed.default_client()
    except ValueError:  # no client in this process
        return None


@contextlib.contextmanager
def _local_client(in_process: bool = False, quiet: bool = False,
                  n_workers: int | None = None) -> Iterator[distributed.Client]:
    """A LocalCluster on this machine, closed on exit: one single-threaded worker process per
    usable CPU (the embedded default), or one in-process worker with that many threads.

    Its worker processes start without the ``MALLOC_TRIM_THRESHOLD_`` that distributed sets by
    default (``distributed.nanny.pre-spawn-environ``): a task holds one buffer for its whole
    life, so there is no freed memory to give back, and trimming slows the reads into it
    (see docs/tuning.md)."""
    n = n_workers or default_threads()
    kw = dict(n_workers=1, threads_per_worker=n) if in_process else dict(n_workers=n, threads_per_worker=1)
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", None) or {})
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):  # read when the nannies start
        cluster = distributed.LocalCluster(processes=not in_process, dashboard_address=":0",
                                           silence_logs=logging.ERROR if quiet else logging.WARNING, **kw)
    with cluster, distributed.Client(cluster) as client:
        yield client


@contextlib.contextmanager
def _running(client: distributed.Client | None, files: list[_File]) -> Iterator[distributed.Client]:
    """The given client, else the current one, else an embedded LocalCluster for the call."""
    client = client or _current_client()
    if client is not None:
        yield client
        return
    with _local_client(in_process=any(isinstance(f.fs, MemoryFileSystem) for f in files)) as client:
        yield client


def _ship(searcher):
    """What the tasks take as their pattern: one delayed object every task depends on,
    pickled once with the graph. A node of the graph rather than scattered data: a worker
    that dies holding it (the last one that did, included) costs recomputing the node, not
    the computation, which scattered data cannot be."""
    return dask.delayed(searcher, name=f"kmpsearch-{type(searcher).__name__}-{uuid.uuid4().hex}", traverse=False)


class KilledWorker(distributed.KilledWorker, RuntimeError):
    """``distributed.KilledWorker`` naming the files of the task: every worker that ran it
    died while running it, as many times as the scheduler's ``allowed-failures`` allows
    (a lost task runs again elsewhere until then). Also a RuntimeError."""

    def __init__(self, files: str, killed: distributed.KilledWorker) -> None:
        super().__init__(*killed.args)
        self.files = files

    def __str__(self) -> str:
        return f"{self.files}: {super().__str__()}"


def _what(fs: list[_File], start: int, own_end: int) -> str:
    """A task's files as errors name them: the labels, and the bytes of a block."""
    if own_end:
        return f"{fs[0].label} (bytes {start}-{own_end})"
    return ", ".join(f.label for f in fs[:5]) + (f" and {len(fs) - 5} more" if len(fs) > 5 else "")


def _named(exc: BaseException, named: dict) -> BaseException:
    """``exc``, or for a KilledWorker of a task of ``named`` (key -> what ``_what`` gives)
    the same naming the task's files."""
    if isinstance(exc, distributed.KilledWorker) and not isinstance(exc, KilledWorker) and exc.task in named:
        return KilledWorker(named[exc.task], exc)
    return exc


def _compute(client: distributed.Client, parts: list, named: dict) -> list:
    """The results of the delayed ``parts``, computed on ``client``."""
    try:
        return client.compute(parts, sync=True)
    except distributed.KilledWorker as exc:
        raise _named(exc, named) from None


# --------------------------------------------------------------------------- the API

def _prepare(paths, pattern_or_words, blocksize, client, ignore_case, window):
    searcher = _searcher(pattern_or_words, ignore_case)
    size = _blocksize(blocksize)
    window = WINDOW if window is None else _blocksize(window)  # private: the tests' small windows
    client = _check_client(client)
    files = _expand(paths)
    return searcher, files, _tasks(files, searcher._longest, size, split=searcher._plain), client, window


def find(paths: PathArg, pattern_or_words: Any, *, blocksize: int | str = DEFAULT_BLOCKSIZE,
         client: distributed.Client | None = None, ignore_case: bool = False,
         _window: int | None = None) -> dd.DataFrame:
    """Every occurrence in the files, as a lazy ``dask.dataframe.DataFrame``.

    Columns ``path`` (string: the path as given, or below a directory, or the URL), ``offset``
    (int64, in bytes) and ``word`` (int32: the index of the word in ``WordSet.words``, always
    0 for a Pattern -- an index, not the text: compact, and unambiguous for bytes words and
    ``ignore_case``; ``df.word.map(dict(enumerate(words)))`` gives the text). One partition per
    block, in file order then offset order: ``.compute()`` gives the rows sorted by file (in
    the order given, directories in name order) then offset, then word index; each
    partition's index starts at 0.

    The files are expanded and sized now (FileNotFoundError for a missing one); nothing is
    read until the frame is computed. The pattern travels in the graph, once.
    """
    searcher, files, tasks, client, window = _prepare(paths, pattern_or_words, blocksize, client, ignore_case,
                                                      _window)
    meta = _frame("", [], [])
    if not tasks:
        return dd.from_pandas(meta, npartitions=1)
    ref = _ship(searcher)
    part = dask.delayed(_find_part, pure=False)
    return dd.from_delayed([part(ref, [files[i] for i in task], start, end, own, window)
                            for task, start, end, own in tasks], meta=meta, verify_meta=False)


def _totals(paths, pattern_or_words, kind, blocksize, client, ignore_case, window):
    searcher, files, tasks, client, window = _prepare(paths, pattern_or_words, blocksize, client, ignore_case,
                                                      window)
    zero = np.zeros(len(_words_of(searcher)), dtype=np.int64) if kind == "each" else 0
    totals = [zero] * len(files)
    if tasks:
        with _running(client, files) as c:
            ref = _ship(searcher)
            part = dask.delayed(_count_part, pure=False)
            parts, named = [], {}
            for task, start, end, own in tasks:
                fs = [files[i] for i in task]
                parts.append(part(ref, fs, start, end, own, kind, 1, window))
                named[parts[-1].key] = _what(fs, start, own)
            got = _compute(c, parts, named)
            for (task, *_), values in zip(tasks, got):
                for i, value in zip(task, _raised(values)):
                    totals[i] = totals[i] + value
            del ref
    return searcher, files, totals


def count(paths: PathArg, pattern_or_words: Any, *, blocksize: int | str = DEFAULT_BLOCKSIZE,
          client: distributed.Client | None = None, ignore_case: bool = False,
          _window: int | None = None) -> pd.Series:
    """Occurrences of all the words (overlaps included) per file, computed: a pandas Series
    of int64 named ``count``, indexed by ``path`` in file order, 0 for a file without one."""
    _, files, totals = _totals(paths, pattern_or_words, "count", blocksize, client, ignore_case, _window)
    return pd.Series(totals, index=pd.Index([f.label for f in files], name="path", dtype=object),
                     name="count", dtype=np.int64)


def count_each(paths: PathArg, pattern_or_words: Any, *, blocksize: int | str = DEFAULT_BLOCKSIZE,
               client: distributed.Client | None = None, ignore_case: bool = False,
               _window: int | None = None) -> pd.DataFrame:
    """Occurrences of each word per file, computed: a pandas DataFrame indexed by ``path``
    (file order) with one int64 column per word, labelled by the word (``WordSet.words``;
    the needle for a Pattern). ``.sum()`` gives the totals per word."""
    searcher, files, totals = _totals(paths, pattern_or_words, "each", blocksize, client, ignore_case, _window)
    words = list(_words_of(searcher))
    data = np.stack(totals) if totals else np.zeros((0, len(words)), dtype=np.int64)
    return pd.DataFrame(data, index=pd.Index([f.label for f in files], name="path", dtype=object),
                        columns=pd.Index(words, name="word", dtype=object))


# --------------------------------------------------------------------------- cleaned copies

#: how the name of a copy being written ends (``.NAME.TOKEN.kmpsearch-partial``, beside its
#: final name): never a complete copy
PARTIAL = ".kmpsearch-partial"


@dataclass(frozen=True)
class _Out:
    final: str    # its path on the destination's file system
    partial: str  # where it is written until complete: ``.NAME.TOKEN.kmpsearch-partial``, beside it
    shown: str    # what results and errors show: the destination as given joined with the name


class _WriteFailed(Exception):
    """An OSError (naming the output) raised while writing a copy, not reading its source."""


def _root(p: str) -> tuple[object, str]:
    """``(file system, directory)`` the copies of the files of operand ``p`` are named
    relative to: a directory itself, the directory of a file, the directory before a glob's
    first wildcard. ``"local"`` for local paths and ``file://`` URLs alike."""
    if fsspec.core.split_protocol(p)[0] is None:
        fs, path, isdir, magic = "local", os.path.abspath(p), os.path.isdir, not os.path.lexists(p)
    else:
        fs, path = fsspec.core.url_to_fs(p)
        isdir, magic = fs.isdir, True
        fs = "local" if isinstance(fs, LocalFileSystem) else fs
    mod = os.path if fs == "local" else posixpath
    if magic and _has_magic(path):
        return fs, mod.dirname(path[:min(path.index(c) for c in "*?[" if c in path)])
    return fs, path if isdir(path) else mod.dirname(path)


def _outputs(items: list, files: list[_File], destination: object, token: str) -> tuple[Any, list[_Out]]:
    """The destination's file system and each file's copy: ``destination`` joined with the
    file's path relative to the common directory of the operands (``_root``). ValueError for
    operands on several file systems, a file given twice, or a copy that would replace a
    source."""
    roots = [_root(os.fsdecode(os.fspath(p))) for p in items]
    if len({fs for fs, _ in roots}) > 1:
        raise ValueError("the paths are on several file systems: call redact or replace once for each")
    local = not roots or roots[0][0] == "local"
    mod = os.path if local else posixpath
    common = mod.commonpath([r for _, r in roots]) if roots else ""
    dest = os.fsdecode(os.fspath(destination))
    if fsspec.core.split_protocol(dest)[0] is None:
        dfs, droot, dmod = LocalFileSystem(), os.path.abspath(dest), os.path
    else:
        dfs, droot = fsspec.core.url_to_fs(dest)
        dmod = os.path if isinstance(dfs, LocalFileSystem) else posixpath
    to_local = isinstance(dfs, LocalFileSystem)
    if to_local and local:
        sources = {os.path.realpath(f.path) for f in files}
    elif not to_local and roots and roots[0][0] == dfs:
        sources = {f.path for f in files}
    else:  # another file system: no copy can replace a file
        sources = set()
    outs, seen = [], set()
    for f in files:
        rel = mod.relpath(f.path, common).split(mod.sep)
        final = dmod.join(droot, *rel)
        shown = (posixpath if "://" in dest else os.path).join(dest, *rel)
        key = os.path.realpath(final) if to_local else final
        if key in sources:
            raise ValueError(f"{f.label}: its copy {shown} would replace a file being read: "
                             "give a destination outside the files")
        if key in seen:
            raise ValueError(f"{f.label}: given twice (its copy would be {shown})")
        seen.add(key)
        outs.append(_Out(final, dmod.join(dmod.dirname(final), f".{dmod.basename(final)}.{token}{PARTIAL}"), shown))
    return dfs, outs


class _Slice:
    """A writer of what ``mask_windows`` gives for bytes ``[base, ...)`` of a file that keeps
    the bytes ``[start, stop)`` of it, written at their own offsets of the open file ``fd``."""

    def __init__(self, fd: int, base: int, start: int, stop: int, shown: str) -> None:
        self.fd, self.pos, self.start, self.stop, self.shown = fd, base, start, stop, shown

    def write(self, data) -> int:
        n = len(data)
        a, b = max(self.pos, self.start), min(self.pos + n, self.stop)
        view = memoryview(data)[a - self.pos:max(a, b) - self.pos]
        try:
            while view:
                done = os.pwrite(self.fd, view, a)
                view, a = view[done:], a + done
        except OSError as exc:
            raise _WriteFailed(_with_path(exc, self.shown)) from None
        self.pos += n
        return n


class _Writer:
    """A destination file object whose write errors name the copy."""

    def __init__(self, out, shown: str) -> None:
        self.out, self.shown = out, shown

    def write(self, data) -> int:
        try:
            self.out.write(data)
        except OSError as exc:
            raise _WriteFailed(_with_path(exc, self.shown)) from None
        return len(data)


def _counted(windows, start: int, stop: int, pairs: bool, box: list):
    """The windows, counting in ``box[0]`` their matches that start in ``[start, stop)``."""
    for w in windows:
        offsets = w.found[0] if pairs else w.found
        box[0] += bisect_left(offsets, stop) - bisect_left(offsets, start)
        yield w


def _redact_block(searcher, f: _File, out: _Out, start: int, stop: int, fill: bytes, window: int) -> list:
    """Mask the bytes ``[start, stop)`` of ``f`` into its partial copy (created by the
    caller, as long as ``f``), at their own offsets; ``[count of the matches that start
    there]``, or ``[the OSError]`` naming the file or its copy. The block is read with the
    ``reach - 1`` bytes before it (the matches that start there and cover some of it, with
    the characters before them that whole words look at) and after it (the ends of its own
    matches and the characters after them): each byte is masked as ``redact_stream`` masks
    it in the whole file. Run again, it writes the same bytes."""
    reach = searcher._reach
    lo, hi = max(0, start - reach + 1), min(f.size, stop + reach - 1)
    opts = search_options(backend_info(searcher.backend), 1)
    box = [0]
    try:
        try:
            fd = os.open(out.partial, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            raise _WriteFailed(_with_path(exc, out.shown)) from None
        try:
            writer = _Slice(fd, lo, start, stop, out.shown)
            with f.fs.open(f.path, "rb", cache_type="none") as fh:
                windows = windows_of(searcher, _Range(fh, lo, hi), searcher._mask_want, opts, min(window, hi - lo),
                                     True)
                mask_windows(searcher, _counted(windows, start - lo, stop - lo, searcher._varied, box), writer, fill)
        finally:
            os.close(fd)
    except _WriteFailed as exc:
        return [exc.args[0]]
    except OSError as exc:
        return [_with_path(exc, f.label)]
    if writer.pos < stop:
        return [OSError(errno.EIO, f"shorter than the {f.size} bytes it had when the copy was planned", f.label)]
    return [box[0]]


def _remove(dfs, path: str) -> None:
    """Remove ``path`` if it is there (a partial copy that will not be completed)."""
    try:
        if isinstance(dfs, LocalFileSystem):
            os.unlink(path)
        elif dfs.exists(path):
            dfs.rm_file(path)
    except OSError:
        pass


def _publish(dfs, out: _Out) -> None:
    """Rename the complete copy ``out.partial`` to its final name (replacing a file there)."""
    try:
        if isinstance(dfs, LocalFileSystem):
            os.replace(out.partial, out.final)
        else:
            dfs.mv(out.partial, out.final)
    except OSError as exc:
        raise _WriteFailed(_with_path(exc, out.shown)) from None


def _copy(searcher, f: _File, dfs, out: _Out, how: tuple, window: int) -> int:
    """Write the cleaned copy of the whole of ``f`` to ``out.partial``, then rename it into
    place; the number of matches masked or replaced. ``how``: ``("redact", mask)`` or
    ``("replace", replacement)``. A failure removes the partial copy: an OSError naming the
    file, or ``_WriteFailed`` naming the copy. Run again, it writes the same copy."""
    try:
        dst = open(out.partial, "wb") if isinstance(dfs, LocalFileSystem) else dfs.open(out.partial, "wb")
    except OSError as exc:
        raise _WriteFailed(_with_path(exc, out.shown)) from None
    try:
        try:
            with f.fs.open(f.path, "rb", cache_type="none") as src:
                kind, arg = how
                stream = searcher.redact_stream if kind == "redact" else searcher.replace_stream
                n = stream(src, _Writer(dst, out.shown), arg, threads=1, _window=window)
        finally:
            try:
                dst.close()
            except OSError as exc:
                raise _WriteFailed(_with_path(exc, out.shown)) from None
        _publish(dfs, out)
    except BaseException:
        _remove(dfs, out.partial)
        raise
    return n


def _copy_files(searcher, fs: list[_File], dfs, outs: list[_Out], how: tuple, window: int) -> list:
    """A task of whole files: each one's count, or the OSError naming it or its copy."""
    got: list = []
    for f, out in zip(fs, outs):
        try:
            got.append(_copy(searcher, f, dfs, out, how, window))
        except _WriteFailed as exc:
            got.append(exc.args[0])
        except OSError as exc:
            got.append(_with_path(exc, f.label))
    return got


def _copy_tasks(files: list[_File], longest: int, blocksize: int, in_place: bool) -> list:
    """``_tasks``, with an empty file in a task too (its copy is an empty file); with
    ``in_place`` False each file bigger than ``blocksize`` is one task of its own, whole."""
    tasks = _tasks(files, longest, blocksize)
    if not in_place:
        whole, seen = [], set()
        for task, _, _, own in tasks:
            if not own or task[0] not in seen:
                whole.append((task, 0, 0, 0))
                seen.update(task)
        tasks = whole
    empty = tuple(i for i, f in enumerate(files) if not f.size)
    return tasks + [(empty, 0, 0, 0)] if empty else tasks


def _rewrite(paths, pattern_or_words, destination, how: tuple, blocksize, client, ignore_case,
             window) -> pd.DataFrame:
    """``redact`` and ``replace``: see ``redact``."""
    searcher = _searcher(pattern_or_words, ignore_case)
    if how[0] == "redact":
        how = ("redact", check_mask(how[1], False))
    else:
        replacer(how[1], _words_of(searcher), False)  # TypeError, ValueError now
    size = _blocksize(blocksize)
    window = WINDOW if window is None else _blocksize(window)
    client = _check_client(client)
    items = _operands(paths)
    files = _expand(items)
    dfs, outs = _outputs(items, files, destination, uuid.uuid4().hex[:12])
    # lengths kept and a file system with random-access writes: a big file's blocks are
    # written in place; a match kind's choice depends on the matches before: whole files
    in_place = how[0] == "redact" and isinstance(dfs, LocalFileSystem) and searcher._kind == "overlapping"
    tasks = _copy_tasks(files, searcher._longest, size, in_place)
    counts = np.zeros(len(files), dtype=np.int64)
    errors: dict[int, BaseException] = {}
    blocked = sorted({task[0] for task, _, _, own in tasks if own})  # files written in place
    dmod = os.path if isinstance(dfs, LocalFileSystem) else posixpath
    for d in sorted({dmod.dirname(out.final) for out in outs}):
        dfs.makedirs(d, exist_ok=True)
    created: list[int] = []
    try:
        for i in blocked:
            try:
                with open(outs[i].partial, "xb") as fh:  # pre-sized: the blocks write at their offsets
                    created.append(i)
                    fh.truncate(files[i].size)
            except OSError as exc:
                raise _with_path(exc, outs[i].shown) from None
        if tasks:
            with _running(client, [*files, _File(str(destination), dfs, "", 0)]) as c:
                ref = _ship(searcher)
                block, whole = dask.delayed(_redact_block, pure=False), dask.delayed(_copy_files, pure=False)
                parts, named = [], {}
                for task, start, _, own in tasks:
                    fs = [files[i] for i in task]
                    if own:
                        parts.append(block(ref, fs[0], outs[task[0]], start, own, how[1], window))
                    else:
                        parts.append(whole(ref, fs, dfs, [outs[i] for i in task], how, window))
                    named[parts[-1].key] = _what(fs, start, own)
                futures = c.compute(parts)
                for (task, *_), fut in zip(tasks, futures):  # every one waited for: none writes after
                    try:                                        # the clean-up below
                        values = fut.result()
                    except Exception as exc:  # noqa: BLE001 - the task's, whatever it is
                        values = [_named(exc, named)] * len(task)
                    for i, value in zip(task, values):
                        if isinstance(value, BaseException):
                            errors.setdefault(i, value)
                        else:
                            counts[i] += value
                del ref, futures
        for i in blocked:
            if i not in errors:
                try:
                    _publish(dfs, outs[i])
                except _WriteFailed as exc:
                    errors[i] = exc.args[0]
    finally:  # the partial copies that will not be completed
        for i in sorted(set(errors) | set(created)):
            _remove(dfs, outs[i].partial)
    if errors:
        raise errors[min(errors)]
    return pd.DataFrame({"output": np.array([out.shown for out in outs], dtype=object), "count": counts},
                        index=pd.Index([f.label for f in files], name="path", dtype=object))


def redact(paths: PathArg, pattern_or_words: Any, destination: Any, *, mask: str | bytes = "*",
           blocksize: int | str = DEFAULT_BLOCKSIZE, client: distributed.Client | None = None,
           ignore_case: bool = False, _window: int | None = None) -> pd.DataFrame:
    """Write a cleaned copy of every file under ``destination`` -- every byte a match covers
    replaced by ``mask`` (one byte, as ``redact_stream``'s), the length kept -- in parallel
    on the cluster; the files themselves are only read. Returns a pandas DataFrame indexed
    by ``path`` (file order) with ``output`` (where its copy is) and ``count`` (int64, the
    matches masked).

    ``paths``, ``pattern_or_words``, ``blocksize``, ``client`` and ``ignore_case`` as for
    ``count``. ``destination``: a directory (created if needed) or an fsspec URL; each file's
    copy is ``destination`` joined with its path relative to the common directory of the
    ``paths`` (a directory itself, a file's directory, a glob's directory before its first
    wildcard). Each copy is written under a temporary name beside its final one
    (``.NAME.TOKEN.kmpsearch-partial``) and renamed into place (replacing a file there) once
    complete; a failed file leaves no partial copy. A local destination (or ``file://``)
    gets a big file's blocks written in place at their own offsets by as many tasks (the
    caller creates the copy at its size first: the destination must be the same directory on
    the caller and every worker, a shared file system); other file systems, and patterns
    with a match kind (``matches=``), get whole files per task. Each byte is masked exactly
    as ``redact_stream`` masks the whole file: a block is read with ``longest - 1`` bytes
    (plus 4 for whole words) on either side.

    ValueError, before anything is written, for a copy that would replace one of the files,
    a file given twice, or paths on several file systems. A file or copy that fails (the file
    removed, the destination not writable, ...) has no copy under its final name; the others
    are written; then the call raises the first failure in file order: an OSError naming the
    file or its copy, or ``KilledWorker``.
    """
    return _rewrite(paths, pattern_or_words, destination, ("redact", mask), blocksize, client, ignore_case,
                    _window)


def replace(paths: PathArg, pattern_or_words: Any, destination: Any, replacement: Any, *,
            blocksize: int | str = DEFAULT_BLOCKSIZE, client: distributed.Client | None = None,
            ignore_case: bool = False, _window: int | None = None) -> pd.DataFrame:
    """``redact``'s copies with each match replaced (``replace_stream``'s rule: non-overlapping
    matches, leftmost-longest unless the pattern's ``matches=`` says otherwise) by
    ``replacement``: bytes-like for every word, a sequence of one per word, or a callable
    ``(word index, matched bytes) -> bytes`` (picklable: it runs on the workers). Lengths
    change, so each file is one task, written whole. Returns ``output`` and ``count`` (the
    matches replaced) per file, as ``redact``."""
    return _rewrite(paths, pattern_or_words, destination, ("replace", replacement), blocksize, client,
                    ignore_case, _window)


# --------------------------------------------------------------------------- the command

def command_results(operands: list[str], words: list[bytes], *, scheduler: str, recursive: bool,
                    ignore_case: bool, lines: bool, threads: int, blocksize: int | str, window: int,
                    backend: str | None = None, on_error=None) -> Iterator[tuple[str, str, Any]]:
    """The search of ``kmpsearch --dask SCHEDULER`` (the command prints what this yields).

    ``operands`` are the command's FILE operands (no globs: the shell expands them;
    directories with ``recursive``, as ``grep -r``; none with ``recursive``: the working
    directory); a path that cannot be searched goes to ``on_error(label, exc)``. Yields
    ``(label, path, result)`` per file, in order: with ``lines`` the matches ``(offsets
    int64, word indices int32)``, otherwise their number; or the exception (OSError,
    MemoryError, ...) that its search raised. ``scheduler`` is an address or ``"local"`` (a
    LocalCluster for the call); ConnectionError when it cannot be reached; ``blocksize`` as
    ``count``'s (TypeError, ValueError). Closing the generator stops early (``-q``, ``-l``)
    and lets the cluster go.
    """
    blocksize = _blocksize(blocksize)
    api = kmpsearch.get_backend(backend) if backend else kmpsearch
    searcher = api.WordSet(words, ignore_case=ignore_case) if words else None
    planner = _Planner(globs=False, recursive=recursive, on_error=on_error)
    if not operands and recursive:
        planner.add(".", implicit_dot=True)
    for op in operands:
        planner.add(op)
    files = planner.files
    tasks = _tasks(files, searcher._longest, blocksize) if searcher is not None else []
    with contextlib.ExitStack() as stack:
        futures: list = []
        named: dict = {}  # a task's key -> its files, as errors name them
        if tasks:
            try:
                if scheduler == "local":
                    client = stack.enter_context(_local_client(quiet=True))
                else:
                    client = stack.enter_context(distributed.Client(scheduler, set_as_default=False))
            except (OSError, TimeoutError, ValueError) as exc:
                raise ConnectionError(f"--dask {scheduler}: cannot reach the scheduler: {exc}") from exc
            ref = _ship(searcher)
            task = dask.delayed(_block_matches if lines else _count_part, pure=False)
            extra = () if lines else ("count",)
            futures = client.compute([task(ref, [files[i] for i in t], s, e, o, *extra, threads, window)
                                      for t, s, e, o in tasks])  # fetched in file order, then let go
            named = {fut.key: _what([files[i] for i in t], s, o) for (t, s, _, o), fut in zip(tasks, futures)}
        by_file: dict[int, list] = {}  # file index -> (future, position of the file in its task)
        for (t, *_), fut in zip(tasks, futures):
            for k, i in enumerate(t):
                by_file.setdefault(i, []).append((fut, k))
        fetched: dict[int, list] = {}  # a task's results, until its last file is used
        for i, f in enumerate(files):
            parts = []
            try:
                for fut, k in by_file.pop(i, ()):
                    values = fetched.get(id(fut))
                    if values is None:
                        try:
                            values = fetched[id(fut)] = fut.result()
                        except distributed.KilledWorker as exc:  # this task's, or the pattern's
                            raise KilledWorker(named[fut.key], exc) from None
                    if k == len(values) - 1:
                        del fetched[id(fut)]
                        fut.release()
                    if isinstance(values[k], BaseException):
                        raise values[k]
                    parts.append(values[k])
            except (OSError, MemoryError, ValueError, RuntimeError) as exc:
                yield f.label, f.path, exc
                continue
            if not lines:
                yield f.label, f.path, sum(parts)
            elif not parts:
                yield f.label, f.path, (np.zeros(0, np.int64), np.zeros(0, np.int32))
            else:
                yield f.label, f.path, (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
