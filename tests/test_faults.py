"""Resource faults and interrupts (issue #14): each check runs in a subprocess, so that a
crash, an abort or a hang shows up as what it is, and measures against generous bounds
(these machines are shared: a bound is a sanity limit, not a benchmark)."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

import pytest

from kmpsearch.backends import NATIVE, TABLE

pytestmark = pytest.mark.thread_unsafe(reason="starts subprocesses and sends them signals")

#: seconds within which Ctrl-C must have stopped a search, measured from the signal: a search
#: that does not look at it hangs far longer; the bound leaves room for a loaded machine (CI
#: runs tox envs side by side on 2 cores), where 2 s was seen exceeded by a prompt stop
PROMPT = 5.0

_SEARCH_THEN_REPORT = r'''
import sys, kmpsearch
m = kmpsearch.get_backend(sys.argv[1])
print("go", flush=True)
try:
    m.count(b"x" * (200 << 20), b"xy", threads=2, scan="textbook")
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(42)
print("finished", flush=True)
'''


def _interrupt_after(code: str, *args: str, wait: float = 1.5) -> tuple[float, subprocess.CompletedProcess]:
    p = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout.readline() == b"go\n"
    time.sleep(wait)
    start = time.perf_counter()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    return time.perf_counter() - start, subprocess.CompletedProcess(p.args, p.returncode, out, err)


def test_ctrl_c_stops_the_threads_backend_promptly():
    # the pool's chunks stop at their next 1 MiB block (was: ThreadPoolExecutor.__exit__
    # waited ~19 s for the running chunks)
    latency, cp = _interrupt_after(_SEARCH_THEN_REPORT, "threads")
    assert cp.returncode == 42 and cp.stdout == b"interrupted\n", cp.stderr[-500:]
    assert latency < PROMPT, f"KeyboardInterrupt took {latency:.2f} s"


_MP_SEARCH = r'''
import os, sys, kmpsearch
if __name__ == "__main__":
    m = kmpsearch.get_backend("multiprocessing")
    data = b"x" * (200 << 20)
    print("go", flush=True)
    try:
        m.count(data, b"xy", threads=2, scan="textbook")
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(42)
'''


def _marked_processes(marker: str) -> list[int]:
    """Processes whose environment holds ``marker`` (the test's children and their workers)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            continue
    return found


def _start_mp(tmp_path, marker: str) -> subprocess.Popen:
    script = tmp_path / "mp_search.py"
    script.write_text(_MP_SEARCH)
    env = dict(os.environ, KMPSEARCH_TEST_MARK=marker)
    p = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert p.stdout.readline() == b"go\n"
    return p


def _output(p: subprocess.Popen) -> tuple[bytes, bytes]:
    """What the (exited) process wrote, without waiting for an end of file that processes
    holding the pipes could delay."""
    got = []
    for stream in (p.stdout, p.stderr):
        os.set_blocking(stream.fileno(), False)
        try:
            got.append(stream.read() or b"")
        except BlockingIOError:
            got.append(b"")
    return got[0], got[1]


def _gone(marker: str, seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while _marked_processes(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = _marked_processes(marker)
    for pid in left:  # do not leave them to the next test
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return left


def _shm_files() -> set[str]:
    try:
        return {n for n in os.listdir("/dev/shm") if n.startswith("kmpsearch-")}
    except OSError:
        return set()


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_multiprocessing_ctrl_c_to_the_parent_alone_stops_the_workers(tmp_path):
    marker = f"kmpsearch-sigint-{os.getpid()}-{time.monotonic_ns()}"
    p = _start_mp(tmp_path, marker)
    time.sleep(2.5)  # the workers are scanning by now
    start = time.perf_counter()
    p.send_signal(signal.SIGINT)  # the parent only, not its process group
    p.wait(timeout=120)
    latency = time.perf_counter() - start
    out, err = _output(p)
    assert p.returncode == 42 and out == b"interrupted\n", err[-800:]
    assert latency < PROMPT, f"the parent took {latency:.2f} s to stop"
    assert _gone(marker, 5) == [], "worker processes outlived the interrupted search"


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_multiprocessing_parent_killed_leaves_nothing_behind(tmp_path, sig):
    marker = f"kmpsearch-kill-{os.getpid()}-{time.monotonic_ns()}"
    shm_before = _shm_files()
    p = _start_mp(tmp_path, marker)
    time.sleep(2.5)
    p.send_signal(sig)
    p.wait(timeout=120)
    # issue 14 asks for 1 s; the bound is generous for a loaded machine
    assert _gone(marker, 5) == [], "worker processes outlived their killed parent"
    assert _shm_files() <= shm_before, "an in-memory copy was left in /dev/shm"


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_multiprocessing_killed_parent_leaves_no_resource_tracker_warning(tmp_path):
    # issue 25 item 3: was "resource_tracker: There appear to be 5 leaked semaphore objects"
    # (ProcessPoolExecutor's queues) on the killed parent's standard error
    marker = f"kmpsearch-tracker-{os.getpid()}-{time.monotonic_ns()}"
    p = _start_mp(tmp_path, marker)
    time.sleep(2.5)
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=120)
    assert _gone(marker, 5) == []
    # standard error until every process that holds it (the resource tracker too) has ended
    err = b""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([p.stderr], [], [], 0.5)
        if ready:
            chunk = os.read(p.stderr.fileno(), 65536)
            if not chunk:
                break
            err += chunk
    assert b"leaked" not in err and b"resource_tracker" not in err, err[-800:]


_MP_MEMORY = r"""
import resource, sys
import kmpsearch
if __name__ == "__main__":
    with open("/proc/self/statm") as f:
        vm = int(f.read().split()[0]) * resource.getpagesize()
    room, n = int(sys.argv[1]) << 20, 20_000_000
    data = b"a" * n
    resource.setrlimit(resource.RLIMIT_AS, (vm + n + room, resource.RLIM_INFINITY))
    try:
        got = kmpsearch.get_backend("multiprocessing").find_all(data, b"a", threads=2, as_array=True)
        print("ok", len(got) == n and got[0] == 0 and got[-1] == n - 1)
    except MemoryError:
        print("MemoryError")
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc and RLIMIT_AS")
@pytest.mark.parametrize("room, outcome", [(500, b"ok True\n"), (150, b"MemoryError\n")])
def test_multiprocessing_under_a_memory_limit(tmp_path, room, outcome):
    # issue 25 item 2: workers kept their matches as lists of ints (36 bytes a match) and
    # crawled at an address-space limit; an array is 8 bytes a match in the worker, in the pipe
    # and in the caller, so 20 M matches fit in 500 MiB beside the input, and a limit that
    # leaves no room is a MemoryError with every worker gone
    marker = f"kmpsearch-memory-{os.getpid()}-{time.monotonic_ns()}"
    script = tmp_path / "memory.py"
    script.write_text(_MP_MEMORY)
    cp = subprocess.run([sys.executable, str(script), str(room)], capture_output=True, timeout=300,
                        env=dict(os.environ, KMPSEARCH_TEST_MARK=marker))
    assert cp.stdout == outcome, (cp.stdout, cp.stderr[-800:])
    assert _gone(marker, 5) == []


# --- Ctrl-C during a native search (issue 14 item 4) ----------------------------------------

_NATIVE_LOOP = r'''
import os, sys, threading, time, kmpsearch
m = kmpsearch.get_backend(sys.argv[1])
where, what = sys.argv[2], sys.argv[3]
if what == "words":
    ws = m.WordSet([b"a" * 1000 + b"b", b"a" * 999 + b"c"])
else:
    ws = m.compile(b"a" * 1000 + b"b")
if where == "memory":
    data = b"a" * (256 << 20)   # adversarial for the textbook scan: every byte walks the borders
    search = lambda: ws.count(data, threads=2, scan="textbook")
else:
    search = lambda: ws.count_in_file(where, threads=2)
print("go", flush=True)
try:
    while True:   # each call is interrupted where it is
        search()
except KeyboardInterrupt:
    # nothing of the search is left running: no Python thread but this one (the helper
    # thread has handed over by now and ends within moments)
    deadline = time.monotonic() + 1.0
    while threading.active_count() > 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    print("interrupted", threading.active_count(), flush=True)
    sys.exit(42)
'''


def _native_ctrl_c(name: str, where: str, what: str) -> float:
    latency, cp = _interrupt_after(_NATIVE_LOOP, name, where, what, wait=1.0)
    assert cp.returncode == 42 and cp.stdout == b"interrupted 1\n", (cp.stdout, cp.stderr[-800:])
    return latency


@pytest.mark.parametrize("what", ["pattern", "words"])
# every backend but multiprocessing (its own tests below: workers are processes)
@pytest.mark.parametrize("name", [b.name for b in TABLE if b.parallel != "processes"])
def test_ctrl_c_stops_an_in_memory_search_promptly(name, what):
    # was: the native cores noticed Ctrl-C only when the call returned (~1.8 s for 1 GiB of
    # adversarial input); now a helper thread searches while this one waits, and the core
    # stops at its next 1 MiB block. Issue 14 asks for 0.5 s; the bound is generous for a
    # loaded machine (this includes the interpreter's exit)
    _skip_unless_available(name)
    latency = _native_ctrl_c(name, "memory", what)
    assert latency < PROMPT, f"KeyboardInterrupt took {latency:.2f} s"


@pytest.mark.parametrize("what", ["pattern", "words"])
@pytest.mark.parametrize("name", NATIVE)
def test_ctrl_c_stops_a_file_search_promptly(name, what, tmp_path):
    # a sparse file reads fast but is big: was 7-12 s for 32 GiB after Ctrl-C
    _skip_unless_available(name)
    path = tmp_path / "sparse"
    with open(path, "wb") as f:
        f.truncate(32 << 30)
    latency = _native_ctrl_c(name, str(path), what)
    assert latency < PROMPT, f"KeyboardInterrupt took {latency:.2f} s"


# --- Ctrl-C while a native core makes a dense result a list ---------------------------------
# The native cores scan without the GIL, then make the list with it, a slice at a time:
# between slices the main thread's Ctrl-C handler runs and the cancel flag is looked at.
# (Was: one C loop, 2.5-8 s for these inputs on a loaded 2-core machine, during which
# Ctrl-C could not even be seen.) The child's heartbeat thread prints a dot every few ms
# while it can get the GIL: the test sends SIGINT once the dots stop (the list is being
# made in one piece) or after ``at_most`` seconds (they never stop for long if it is made in
# slices), so that the signal comes while the list is being made, not during the scan. A
# search of the same input runs first, so that threads a core keeps between searches (Rust's
# pool) are there before: after the interrupt no thread but those may be left.
_DENSE = r'''
import os, sys, threading, time, kmpsearch
m = kmpsearch.get_backend(sys.argv[1])
if sys.argv[2] == "words":
    data = b"a" * (16 << 20)   # 32 M matches: as many (offset, word index) tuples
    ws = m.WordSet([b"a", b"aa"])
    search, warm = (lambda: ws.find_all(data)), (lambda: ws.count(data))
else:
    data = b"a" * (128 << 20)  # 128 M offsets
    search, warm = (lambda: m.find_all(data, b"a")), (lambda: m.count(data, b"a"))
warm()  # the same chunks: a core's persistent threads (Rust's pool) exist from here on
tasks = lambda: set(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else set()
before = tasks()
stop = threading.Event()
def heartbeat():
    while not stop.wait(0.002):
        os.write(1, b".")
beat = threading.Thread(target=heartbeat)
print("go", flush=True)
beat.start()
try:
    search()
except KeyboardInterrupt:
    stop.set()
    beat.join()
    deadline = time.monotonic() + 5.0
    while ((threading.active_count() > 1 or not tasks() <= before)
           and time.monotonic() < deadline):
        time.sleep(0.01)
    print("interrupted", threading.active_count(), len(tasks() - before), flush=True)
    sys.exit(42)
stop.set()
print("finished", flush=True)
'''


def _interrupt_when_stalled(code: str, *args: str, stall: float = 0.25,
                            at_most: float = 2.0) -> tuple[float, subprocess.CompletedProcess]:
    """``_interrupt_after``, but SIGINT once ``code`` has printed nothing for ``stall``
    seconds after its ``go`` line (or ``at_most`` seconds after it)."""
    p = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout.readline() == b"go\n"
    fd = p.stdout.fileno()
    os.set_blocking(fd, False)
    seen = b""
    begun = last = time.monotonic()
    while (now := time.monotonic()) - last < stall and now - begun < at_most:
        select.select([fd], [], [], 0.01)
        try:
            got = os.read(fd, 1 << 16)
        except BlockingIOError:
            continue
        if not got:  # the child is gone
            break
        seen += got
        last = time.monotonic()
    start = time.perf_counter()
    p.send_signal(signal.SIGINT)
    os.set_blocking(fd, True)
    out, err = p.communicate(timeout=120)
    return time.perf_counter() - start, subprocess.CompletedProcess(p.args, p.returncode, seen + out, err)


@pytest.mark.parametrize("what", ["pattern", "words"])
@pytest.mark.parametrize("name", NATIVE)
def test_ctrl_c_stops_making_a_dense_result_promptly(name, what):
    _skip_unless_available(name)
    latency, cp = _interrupt_when_stalled(_DENSE, name, what)
    # one Python thread, and no OS thread (/proc/self/task) but those from before the search
    assert cp.returncode == 42 and cp.stdout.lstrip(b".") == b"interrupted 1 0\n", (cp.stdout[-200:], cp.stderr[-800:])
    assert latency < PROMPT, f"KeyboardInterrupt took {latency:.2f} s"


def _skip_unless_available(name: str) -> None:
    from conftest import load_backend

    load_backend(name)


# --- the cheap checks first (issue 14 item 1) --------------------------------------------------

_LONG_NEEDLE = r'''
import resource, sys, kmpsearch
m = kmpsearch.get_backend(sys.argv[1])
needle = b"x" * (256 << 20)
resource.setrlimit(resource.RLIMIT_AS, (1536 << 20, 1536 << 20))  # no room for a 256 MiB needle's table
print(m.count(b"abc", needle), m.find_all(bytearray(b"abc"), needle), len(m.find_all(b"", needle, as_array=True)),
      m.count("xé", "é" * 3))
'''


@pytest.mark.parametrize("name", [row.name for row in TABLE])
def test_a_needle_longer_than_the_haystack_builds_no_table(name):
    # was: the top-level functions compiled the needle first (64 MiB needle against 3 bytes:
    # 0.5-12 s and 0.7-2.8 GB; MemoryError under a limit); now the length check comes first
    _skip_unless_available(name)
    cp = subprocess.run([sys.executable, "-c", _LONG_NEEDLE, name], capture_output=True, timeout=120)
    assert cp.returncode == 0 and cp.stdout == b"0 [] 0 0\n", (cp.stdout, cp.stderr[-800:])


# --- a word of several MiB -------------------------------------------------------------------

_HUGE_WORD = r'''
import sys, kmpsearch
m = kmpsearch.get_backend(sys.argv[1])
n = int(sys.argv[2])
ws = m.WordSet([b"x" * n, b"a"])
hay = b"a" + b"x" * n
print(ws.count(hay), ws.count(hay, scan="textbook"), ws.find_all(hay), ws.find_all(hay, scan="textbook"))
'''


@pytest.mark.parametrize("name", [row.name for row in TABLE])
def test_a_word_of_several_mebibytes(name):
    # was (rust): no result after 30-60 s for a word of 4.5-10 MiB, Ctrl-C ignored -- the
    # automaton's construction (the aho-corasick crate's DFA) was quadratic in the word's
    # length. In a subprocess: a hang is a failure at the timeout, not a stuck suite. The
    # pure-Python backends take 1 MiB: 6 MiB costs them ~30 s and 2.2 GB (their trie of dicts)
    _skip_unless_available(name)
    n = 6 << 20 if name in NATIVE else 1 << 20
    cp = subprocess.run([sys.executable, "-c", _HUGE_WORD, name, str(n)], capture_output=True, timeout=120)
    assert cp.returncode == 0 and cp.stdout == b"2 2 [(0, 1), (1, 0)] [(0, 1), (1, 0)]\n", (cp.stdout, cp.stderr[-800:])


# --- a thread that cannot be started (issue 12: one rule) ------------------------------------

def test_work_whose_thread_cannot_start_runs_on_the_caller(monkeypatch, tmp_path):
    # the rule of every core, kept by the Python layers too: the threads backend's chunks and
    # finditer's ranges of a file (native backends) run on the caller when no thread starts
    import threading

    import kmpsearch
    from conftest import ref_find_all

    data = b"".join(b"xab%d\n" % i for i in range(1_500_000))  # 12 MiB
    path = tmp_path / "hay"
    path.write_bytes(data)
    want = ref_find_all(data, b"ab1")

    def refuse(self):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    m = kmpsearch.get_backend("threads")
    assert m.find_all(data[: 1 << 20], b"ab1", threads=3, _min_chunk=1 << 18) == ref_find_all(data[: 1 << 20], b"ab1")
    assert m.WordSet([b"ab1", b"b1"]).count(data[: 1 << 20], threads=2, _min_chunk=1 << 18) == \
        2 * len(ref_find_all(data[: 1 << 20], b"ab1"))
    for name in NATIVE:
        _skip_unless_available(name)
        pat = kmpsearch.get_backend(name).compile(b"ab1")
        assert list(pat.finditer(path, threads=2, _window=1 << 20)) == want, name
        assert [o for o, _ in kmpsearch.get_backend(name).WordSet([b"ab1"]).finditer(path, threads=3)] == want, name


# --- multiprocessing without a __main__ guard (issue 14 item 6) ------------------------------

_UNGUARDED = r'''
import kmpsearch
m = kmpsearch.get_backend("multiprocessing")
print(m.count(b"abcab" * SIZE, b"ab", threads=2))
'''

_GUARDED = r'''
import kmpsearch
m = kmpsearch.get_backend("multiprocessing")

def main():
    print(m.count(b"abcab" * SIZE, b"ab", threads=2))

if __name__ == "__main__":
    try:
        main()
    finally:
        pass
'''


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
@pytest.mark.parametrize("size", [10, 1 << 20])  # 50 bytes (no workers) and 5 MiB (a pool)
def test_multiprocessing_without_a_main_guard_fails_at_once_and_clearly(tmp_path, size):
    # was: fine below ~2 MiB, then BrokenProcessPool with leaked-semaphore warnings. The
    # workers start with the backend's method (forkserver here), which imports the main module
    script = tmp_path / "unguarded.py"
    script.write_text(_UNGUARDED.replace("SIZE", str(size)))
    cp = subprocess.run([sys.executable, str(script)], capture_output=True, timeout=120)
    assert cp.returncode == 1 and cp.stdout == b""
    last = cp.stderr.decode().strip().splitlines()[-1]
    assert last.startswith("RuntimeError: ") and 'if __name__ == "__main__":' in last, cp.stderr[-800:]
    assert b"BrokenProcessPool" not in cp.stderr and b"leaked" not in cp.stderr

    guarded = tmp_path / "guarded.py"
    guarded.write_text(_GUARDED.replace("SIZE", str(size)))
    cp = subprocess.run([sys.executable, str(guarded)], capture_output=True, timeout=120)
    assert cp.returncode == 0 and cp.stdout == b"%d\n" % (2 * size), cp.stderr[-800:]


_RESULT_OOM = r'''
import sys
import kmpsearch
import kmpsearch.backends.multiprocessing as mp

def out_of_memory():
    raise MemoryError


class Unreceivable:  # a worker's result that cannot be received: MemoryError in the parent's reader
    def __reduce__(self):
        return out_of_memory, ()


def scan_chunk(*args):
    return Unreceivable()


mp._scan_chunk = scan_chunk  # at the top level: the workers (forked from a server that imported this) see it

if __name__ == "__main__":
    try:
        mp.find_all(b"ab" * (3 << 20), b"ab", threads=2)
    except MemoryError as exc:
        print("MemoryError", exc)
'''


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_multiprocessing_out_of_memory_receiving_results_is_a_memory_error(tmp_path):
    # was: concurrent.futures.process._RemoteTraceback (the MemoryError only as text), from
    # BrokenProcessPool
    script = tmp_path / "oom.py"
    script.write_text(_RESULT_OOM)
    cp = subprocess.run([sys.executable, str(script)], capture_output=True, timeout=120)
    assert cp.returncode == 0 and cp.stdout.startswith(b"MemoryError out of memory"), (cp.stdout, cp.stderr[-800:])


def test_multiprocessing_search_during_a_workers_import_of_main_fails():
    # what a worker sees when the main module's import runs a search (a script whose source
    # the parent could not check): a RuntimeError at once, even for a tiny input
    code = ("import multiprocessing.process, kmpsearch\n"
            "m = kmpsearch.get_backend('multiprocessing')\n"
            "multiprocessing.process.current_process()._inheriting = True\n"
            "m.count(b'abc', b'b')\n")
    cp = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert cp.returncode == 1 and b"RuntimeError" in cp.stderr and b"importing the main module" in cp.stderr
