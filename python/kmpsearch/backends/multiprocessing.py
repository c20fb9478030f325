"""Pure-Python KMP split along the chunk plan across worker processes.

The talk's second rung, without its bugs. Workers share the data through ``mmap``: a
file is mapped by each worker (read-only, no copy per worker); in-memory input is
written once to a temporary file in ``/dev/shm`` (memory, not disk, where it exists and has room)
that the workers map, so the haystack is never pickled. Small inputs (one chunk) run in
the calling process without a pool. Workers start with ``forkserver`` where available
(``spawn`` elsewhere), never ``fork``: forking a process that runs threads can deadlock.
As with any multiprocessing code under those start methods, the workers import the main
module: a script that calls this backend must guard its entry point with
``if __name__ == "__main__":`` (code piped to ``python -`` cannot use this backend).

Caveat shared with every ``mmap`` user: a file truncated by another process *while* the
workers scan it can kill a worker with SIGBUS (the pool then raises BrokenProcessPool).
The native backends read with ``pread`` and have no such failure.
"""

from __future__ import annotations

import errno
import mmap
import multiprocessing
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor

from .._frontend import make_api
from .._plan import plan_chunks
from .._pykmp import failure, kernels, merge, scan_window

SCANS = ("textbook", "fast")
DEFAULT_SCAN = "textbook"

_inline = kernels()  # the one-chunk case runs here, in this process


def _scan_mapped(path: str, ident: tuple[int, int], label: str, start: int, end: int, needle: bytes,
                 fast: bool, collect: bool):
    """Worker: map ``path`` read-only and scan bytes ``[start, end)``.

    ``ident`` is ``(st_dev, st_ino)`` of the file the caller opened: a worker that finds
    another file there (renamed over, replaced) fails instead of searching the wrong bytes.
    """
    with open(path, "rb") as f:
        st = os.fstat(f.fileno())
        if (st.st_dev, st.st_ino) != ident:
            raise OSError(errno.ESTALE, "the file was replaced during the search", label)
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    with mm:
        out: list[int] | None = [] if collect else None
        c = scan_window(lambda off, size: mm[off:off + size], start, end, needle, failure(needle), fast, out)
    return out if out is not None else c


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _run_fd_pool(fd: int, path: str, chunks: list[tuple[int, int]], needle: bytes, scan: str, collect: bool):
    """Scan the file open at ``fd`` in worker processes, one per chunk.

    Workers open the very file the caller opened, not whatever ``path`` names by then:
    through ``/proc/<pid>/fd/<fd>`` where it exists (Linux; also right for ``/dev/fd/N``
    paths, which name another descriptor in each worker), else ``path``, checked by inode.
    """
    st = os.fstat(fd)
    ident = (st.st_dev, st.st_ino)
    proc = f"/proc/{os.getpid()}/fd/{fd}"
    where = proc if os.path.exists(proc) else path
    with ProcessPoolExecutor(max_workers=len(chunks), mp_context=_context()) as pool:
        futures = [pool.submit(_scan_mapped, where, ident, path, s, e, needle, scan == "fast", collect)
                   for s, e in chunks]
        return merge([f.result() for f in futures], collect)


def _shm_dir(size: int) -> str | None:
    """``/dev/shm`` when it can take ``size`` more bytes (containers often give it 64 MiB),
    else None: the system's temporary directory."""
    try:
        if not os.access("/dev/shm", os.W_OK):
            return None
        vfs = os.statvfs("/dev/shm")
    except OSError:
        return None
    return "/dev/shm" if vfs.f_bavail * vfs.f_frsize > size + (64 << 20) else None


def _run_buffer(buf: memoryview, needle: bytes, threads: int, min_chunk: int, scan: str, collect: bool):
    chunks = plan_chunks(len(buf), len(needle), threads, min_chunk)
    if len(chunks) <= 1:
        kernel = _inline["find_all" if collect else "count"]
        return kernel(buf, needle, threads, min_chunk, scan)
    with tempfile.NamedTemporaryFile(prefix="kmpsearch-", dir=_shm_dir(len(buf))) as tmp:
        step = 64 << 20
        for off in range(0, len(buf), step):
            tmp.write(buf[off:off + step])
        tmp.flush()
        return _run_fd_pool(tmp.fileno(), tmp.name, chunks, needle, scan, collect)


def _run_fd(fd: int, path: str, needle: bytes, threads: int, min_chunk: int, scan: str, collect: bool):
    chunks = plan_chunks(os.fstat(fd).st_size, len(needle), threads, min_chunk)
    if len(chunks) <= 1:
        kernel = _inline["find_all_fd" if collect else "count_fd"]
        return kernel(fd, path, needle, threads, min_chunk, scan)
    return _run_fd_pool(fd, path, chunks, needle, scan, collect)


def _count(buf, needle, threads, min_chunk, scan):
    return _run_buffer(buf, needle, threads, min_chunk, scan, False)


def _find_all(buf, needle, threads, min_chunk, scan):
    return _run_buffer(buf, needle, threads, min_chunk, scan, True)


def _count_fd(fd, path, needle, threads, min_chunk, scan):
    return _run_fd(fd, path, needle, threads, min_chunk, scan, False)


def _find_all_fd(fd, path, needle, threads, min_chunk, scan):
    return _run_fd(fd, path, needle, threads, min_chunk, scan, True)


find_all, count, find_all_in_file, count_in_file = make_api(
    "multiprocessing", count=_count, find_all=_find_all, count_fd=_count_fd, find_all_fd=_find_all_fd,
    scans=SCANS, default_scan=DEFAULT_SCAN)
