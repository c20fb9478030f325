"""Running a core's search under Ctrl-C, and the thread pools of the Python layer.

``run`` is the one place a core's ``search`` is called from: it makes the call's cancel
flag and, on the main thread, keeps Ctrl-C working while a native core scans without the
GIL. ``Task``/``submit`` are the one thread-start rule of the Python layer's pools (the
``threads`` backend's chunks, ``finditer``'s file ranges): work whose thread cannot start
runs on the caller. No thread outlives the call that started it.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from ._contract import Options

__all__ = ["HELPER_MIN_BYTES", "Task", "end_thread", "run", "shutdown", "submit"]

#: an in-memory search of more bytes than this runs on a helper thread (see ``run``)
HELPER_MIN_BYTES = 4 << 20


class _Failed:
    """What a helper thread's core call raised."""

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def run(compiled: Any, source: Any, want: str, opts: Options):
    """``compiled.search(source, want, opts)`` with a new cancel flag (``bytearray(1)``).

    A native core scans without the GIL and cannot see Ctrl-C, so on the main thread a
    search that may be long (a file, or more than ``HELPER_MIN_BYTES`` in memory) runs on a
    helper thread while the main thread waits (interruptibly); on KeyboardInterrupt the flag
    is set, the core stops at its next block (every thread of it looks at the flag between
    blocks), the helper is joined -- no thread is left running -- and the KeyboardInterrupt
    goes on. Cores that say ``interruptible = True`` (the pure-Python ones: they run Python
    code, which sees Ctrl-C, and stop their own workers) are called here directly, as is
    every call off the main thread or too small to matter, or when no thread can be started.
    """
    cancel = bytearray(1)
    opts = opts._replace(cancel=cancel)
    search = compiled.search
    if (getattr(compiled, "interruptible", False)
            or threading.current_thread() is not threading.main_thread()
            or (isinstance(source, memoryview) and len(source) <= HELPER_MIN_BYTES)):
        return search(source, want, opts)
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
                outcome.append(search(source, want, opts))
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
                return search(source, want, opts._replace(cancel=bytearray(1)))
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
                end_thread(worker)
            except BaseException:
                pass  # the first interrupt is the one that goes on
        raise
    end_thread(worker)  # the thread is ending: no thread outlives the call
    result = outcome[0]
    if isinstance(result, _Failed):
        try:
            raise result.exc
        finally:
            del result, outcome
    return result


def _uninterrupted(step: Callable[[], bool]) -> None:
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


def end_thread(worker: threading.Thread) -> None:
    """Join ``worker`` (about to end) even through Ctrl-C, then raise the first such."""
    _uninterrupted(lambda: worker.join(0.05) or not worker.is_alive())


def shutdown(pool: ThreadPoolExecutor) -> None:
    """Drop ``pool``'s queued work and join its threads even through Ctrl-C, then raise
    the first such."""
    _uninterrupted(lambda: pool.shutdown(wait=True, cancel_futures=True) or True)


class Task:
    """One piece of work handed to a thread pool and run exactly once: by a worker, or by
    the caller when no thread could be started for it -- the rule of every core for a
    thread that fails to start. ``result()`` waits for it (interruptibly) and returns its
    value or raises its exception."""

    __slots__ = ("_call", "_claim", "_done", "_value", "_exc")

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self._call: tuple | None = (fn, args)
        self._claim = threading.Lock()
        self._done = threading.Event()
        self._value: Any = None
        self._exc: BaseException | None = None

    def run(self) -> None:
        if not self._claim.acquire(blocking=False):
            return  # already run (or running) elsewhere
        fn, args = self._call  # type: ignore[misc]
        try:
            self._value = fn(*args)
        except BaseException as exc:  # handed to whoever asks for the result
            self._exc = exc
        finally:
            self._call = None
            self._done.set()

    def result(self) -> Any:
        self._done.wait()
        if self._exc is not None:
            raise self._exc
        return self._value


def submit(pool: Any, fn: Callable[..., Any], *args: Any) -> Task:
    """``fn(*args)`` on ``pool`` (a ``ThreadPoolExecutor``); on this thread when the pool
    cannot start a thread for it (``RuntimeError``: the work may still sit in the pool's
    queue -- whichever of the two gets to it first runs it, once)."""
    task = Task(fn, *args)
    try:
        pool.submit(task.run)
    except RuntimeError:
        task.run()
        if task._exc is not None and not isinstance(task._exc, Exception):
            raise task._exc  # Ctrl-C while it ran here: at once
    return task
