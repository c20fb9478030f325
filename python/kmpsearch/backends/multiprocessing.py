"""The pure-Python scan split along the chunk plan across worker processes.

The compiled pattern or word set goes to each worker process once, with its run of
consecutive chunks; each chunk's result comes back through a pipe (arrays as their raw
bytes). Workers read the data with
``pread`` from the very file the caller opened -- ``/proc/<pid>/fd/<fd>``, checked by inode
-- so the haystack is never pickled and a file that shrinks during the search gives the
matches in what could still be read, as in every backend (no ``mmap``: no SIGBUS). In-memory
input is first written to an unnamed temporary file in ``/dev/shm`` (memory, not disk, where
it exists and has room; unlinked at once, so nothing is left behind). Small inputs (one
chunk) run in the calling process; a search starts at most as many worker processes as
this process may use CPUs. Without ``/proc`` (not Linux) the chunks run in this process.
Ctrl-C in the caller ends the workers at once; a worker whose caller died (killed, out of
memory) ends within a fraction of a second (a watchdog thread in each worker).

Workers start with ``forkserver`` where available (``spawn`` elsewhere), never ``fork``:
forking a process that runs threads can deadlock. As with any multiprocessing code under
those start methods, the workers import the main module: a script that calls this backend
must guard its entry point with ``if __name__ == "__main__":`` (code piped to ``python -``
cannot use this backend). A search that would run again in each worker's import of the main
module -- called from the main script's module level outside such a guard, or from that
import itself -- raises RuntimeError at once, whatever the size of the input.
"""

from __future__ import annotations

import ast
import errno
import multiprocessing
import multiprocessing.process
import os
import sys
import tempfile
import threading
import time
from array import array

from .._api import make_api
from .._args import default_threads
from .._contract import FileBatch, FileRange, Options
from .._pycore import (BLOCK, KMP, AhoCorasick, check, finish, plan, read_fd, run_chunks, scan_window, search_batch,
                       source_of)
from .._results import merge
from .._semantics import choose
from . import info

_GUARD = ("the multiprocessing backend starts worker processes that import the main module, "
          "which runs this search again: guard the script's entry point with "
          "`if __name__ == \"__main__\":`")


def _check_main_guard() -> None:
    """RuntimeError when this search would make every worker run it again: called while a
    worker (or the forkserver) imports the main module, or from the main script's module
    level outside ``if __name__ == "__main__":``. Checked at every search, so a script
    fails at once even on inputs too small to start workers."""
    if getattr(multiprocessing.process.current_process(), "_inheriting", False):
        raise RuntimeError(_GUARD + " (this process is a worker importing the main module)")
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if not path:  # python -c, an interactive session, a notebook: the workers do not import it
        return
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "<module>" and frame.f_globals.get("__name__") == "__main__":
            break
        frame = frame.f_back
    else:
        return  # not called from the main module's top level
    try:
        with open(frame.f_code.co_filename, "rb") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return  # no source to look at: the workers' own check remains
    if not _guarded(tree.body, frame.f_lineno):
        raise RuntimeError(f"{_GUARD} ({frame.f_code.co_filename}, line {frame.f_lineno})")


def _is_main_test(node: ast.expr) -> bool:
    """``__name__ == "__main__"`` (either way round)."""
    if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq)):
        return False
    sides = [node.left, node.comparators[0]]
    return (any(isinstance(x, ast.Name) and x.id == "__name__" for x in sides)
            and any(isinstance(x, ast.Constant) and x.value == "__main__" for x in sides))


def _guarded(body: list, line: int) -> bool:
    """Whether ``line`` of a module runs only inside ``if __name__ == "__main__":``."""
    for stmt in body:
        if not stmt.lineno <= line <= (stmt.end_lineno or stmt.lineno):
            continue
        if isinstance(stmt, ast.If) and _is_main_test(stmt.test):
            return any(s.lineno <= line <= (s.end_lineno or s.lineno) for s in stmt.body)
        inner = [getattr(stmt, name, None) for name in ("body", "orelse", "finalbody")]
        inner += [h.body for h in getattr(stmt, "handlers", [])]
        return any(isinstance(b, list) and _guarded(b, line) for b in inner)
    return False


def _caller_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie -- killed, not yet reaped -- does not)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return stat[stat.rfind(b")") + 2:][:1] not in (b"Z", b"X")


def _watch_caller(pid: int) -> None:
    """A worker's watchdog thread: end the worker as soon as its caller is gone (killed, out
    of memory). Without it a worker would finish its chunk and then wait forever for the next
    task: its task pipe never reports the end, since the workers hold both of its ends."""
    while _caller_alive(pid):
        time.sleep(0.2)
    os._exit(1)


def _scan_chunk(where: str, ident: tuple[int, int], algo, start: int, end: int, own_end: int, fast: bool,
                want: str):
    """Worker: open the caller's file at ``where`` and scan bytes ``[start, end)`` with pread;
    the chunk's result as the core contract's (an int, or arrays).

    ``ident`` is ``(st_dev, st_ino)`` of the file the caller opened: a worker that finds
    another file there fails instead of searching the wrong bytes.
    """
    fd = os.open(where, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) != ident:
            raise OSError(errno.ESTALE, "the file was replaced during the search")
        return finish(scan_window(read_fd(fd), algo, start, end, own_end, fast, want), want, algo)
    finally:
        os.close(fd)


def _send(conn, result) -> None:
    """Send a chunk's result: arrays as their raw bytes (no pickled copy of a big result),
    anything else pickled."""
    arrays = result if isinstance(result, tuple) else (result,)
    if all(isinstance(a, array) for a in arrays):
        conn.send(("arrays", [(a.typecode, len(a)) for a in arrays]))
        for a in arrays:
            if len(a):  # (an empty one is not sent: _receive reads none)
                conn.send_bytes(a)
    else:
        conn.send(("value", result))


def _receive(conn):
    """A chunk's result as ``_send`` sent it; each array received straight into its memory.
    A worker's exception is raised here."""
    kind, value = conn.recv()
    if kind == "error":
        raise value
    if kind == "value":
        return value
    arrays = []
    for code, n in value:
        a = array(code, bytes(n * array(code).itemsize))
        if n:
            conn.recv_bytes_into(a)
        arrays.append(a)
    return arrays[0] if len(arrays) == 1 else tuple(arrays)


def _worker(conn, caller: int, where: str, ident: tuple[int, int], algo, chunks, fast: bool, want: str) -> None:
    """A worker process: search its chunks in order, sending each result (or the exception)
    to the caller. A watchdog thread ends it as soon as the caller is gone (killed, out of
    memory)."""
    threading.Thread(target=_watch_caller, args=(caller,), daemon=True, name="kmpsearch-watchdog").start()
    try:
        for chunk in chunks:
            try:
                result = _scan_chunk(where, ident, algo, *chunk, fast, want)
            except BaseException as exc:  # handed to the caller
                conn.send(("error", exc))
                return
            _send(conn, result)
    finally:
        conn.close()


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


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


_DIED = ("a kmpsearch worker process died before it could report (killed, out of memory, or it failed to "
         "start: a script using the multiprocessing backend must guard its entry point with "
         "`if __name__ == \"__main__\":`)")


def _in_processes(algo, fd: int, chunks, fast: bool, want: str, cancel=None):
    """The results of the ``chunks`` of the file open on ``fd``, in order, searched by at most
    as many worker processes as this process may use CPUs, each given a run of consecutive
    chunks (a pipe to each, no shared lock or semaphore: a killed caller leaves nothing for
    the resource tracker to clean up)."""
    where = f"/proc/{os.getpid()}/fd/{fd}"
    if not os.path.exists(where):  # no /proc: the chunks run here
        return [finish(scan_window(read_fd(fd), algo, *c, fast, want), want, algo) for c in chunks]
    st = os.fstat(fd)
    ident = (st.st_dev, st.st_ino)
    ctx = _context()
    k = min(len(chunks), default_threads())
    runs = [chunks[len(chunks) * j // k:len(chunks) * (j + 1) // k] for j in range(k)]
    workers: list = []
    try:
        for run in runs:
            reader, writer = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_worker, args=(writer, os.getpid(), where, ident, algo, run, fast, want),
                               daemon=True, name="kmpsearch-worker")
            workers.append((proc, reader, len(run)))
            proc.start()
            writer.close()
        results = []
        for proc, reader, n in workers:
            for _ in range(n):
                while not reader.poll(0.05):
                    if cancel is not None and cancel[0]:
                        raise KeyboardInterrupt("kmpsearch: the search was cancelled")
                try:
                    results.append(_receive(reader))
                except EOFError:
                    raise RuntimeError(_DIED) from None
                except MemoryError:
                    raise MemoryError("out of memory receiving the worker processes' results") from None
        return results
    except BaseException:
        for proc, _, _ in workers:  # Ctrl-C or an error: end the workers now, not after their chunks
            if proc.is_alive():
                proc.terminate()
        raise
    finally:
        for proc, reader, _ in workers:
            proc.join()
            reader.close()


class _Compiled:
    """A compiled pattern or word set whose chunks run in worker processes (the core
    contract's object; see ``kmpsearch._contract``)."""

    __slots__ = ("algo",)
    interruptible = True  # see kmpsearch._calls.run: Python code here, Ctrl-C stops the workers
    memory_bytes = 0

    def __init__(self, algo) -> None:
        self.algo = algo

    def search(self, source, want: str, opts: Options):
        fast = check(want, opts)
        if opts.whole or opts.kind != "overlapping":
            return choose(self.search, source, want, opts, self.algo.lengths)
        if isinstance(source, FileBatch):  # small files: each searched here, whole
            return search_batch(source, want, opts, self.search, self.algo.words)
        _check_main_guard()
        read, n, base = source_of(source)
        chunks = plan(self.algo, n, base, opts.threads, opts.min_chunk)
        if len(chunks) <= 1:
            found = run_chunks(read, chunks, self.algo, fast, want, opts.block or BLOCK, None, opts.cancel)
            return finish(found, want, self.algo)
        if isinstance(source, FileRange):
            parts = _in_processes(self.algo, source.fd, chunks, fast, want, opts.cancel)
        else:  # memory: the workers read a copy in a temporary file (in /dev/shm when it fits)
            with tempfile.TemporaryFile(prefix="kmpsearch-", dir=_shm_dir(n)) as tmp:
                step = 64 << 20
                for off in range(0, n, step):
                    tmp.write(source[off:off + step])
                tmp.flush()
                parts = _in_processes(self.algo, tmp.fileno(), chunks, fast, want, opts.cancel)
        return merge(parts, want, self.algo.words)


class _Core:
    def compile_pattern(self, needle: bytes) -> _Compiled:
        return _Compiled(KMP(needle))

    def compile_words(self, words: list[bytes], ignore_case: bool) -> _Compiled:
        return _Compiled(AhoCorasick(words, ignore_case))


core = _Core()
globals().update(make_api(info("multiprocessing"), core))
