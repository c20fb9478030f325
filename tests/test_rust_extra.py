"""Rust-backend specifics the conformance suite and test_native.py do not see: the extension
module ``kmpsearch_rust`` as the backend's core (compiled objects, errors, descriptors, stub),
the reused thread pool (bounded, fork-safe) and memory exhaustion turned into MemoryError.
(Frozen objects shared by threads, threads that cannot start: test_native.py.)"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import random
import subprocess
import sys
import sysconfig
import textwrap

import pytest

from conftest import load_backend, ref_find_all

AUTO = "auto"


@pytest.fixture(scope="module")
def rust():
    return load_backend("rust")


@pytest.fixture(scope="module")
def ext(rust):
    import kmpsearch_rust
    return kmpsearch_rust


def run_python(code: str, *, prelude: str = "", env: dict | None = None,
               timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def ref_words(hay: bytes, words: list[bytes], ignore_case: bool) -> list[tuple[int, int]]:
    def fold(b: bytes) -> bytes:
        return b.translate(bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")) \
            if ignore_case else b
    h = fold(hay)
    return sorted((p, i) for i, w in enumerate(words) for p in ref_find_all(h, fold(w)))


def test_module_surface(rust, ext):
    assert rust.core is ext
    assert ext.SCANS == ("fast", "textbook")
    assert ext.SIMD_LEVELS == ("auto", "scalar", "sse2", "avx2")
    assert ext.DEFAULT_MIN_CHUNK == 1 << 20
    assert isinstance(ext.__version__, str)
    pkg = pathlib.Path(importlib.util.find_spec("kmpsearch_rust").origin).parent
    assert (pkg / "py.typed").exists()
    stub = next(pkg.glob("*.pyi"), None)
    assert stub is not None, "the type stub is not installed"
    text = stub.read_text()
    for name in ("def compile_pattern", "def compile_words", "def plan", "class Pattern", "class WordSet",
                 "def count_each_fd", "def memory_bytes"):
        assert name in text, name
    assert "must not mutate" in ext.__doc__ or "do not" in ext.__doc__.lower()


def test_core_errors(ext):
    p = ext.compile_pattern(b"a")
    with pytest.raises(ValueError):
        ext.compile_pattern(b"")
    for bad in ((0, 1, "fast", AUTO), (257, 1, "fast", AUTO), (1, 0, "fast", AUTO), (1, 1, "quick", AUTO),
                (1, 1, "fast", "avx512"), (1, 1, "fast", "AVX2")):
        with pytest.raises(ValueError):
            p.count(b"abc", *bad)
    with pytest.raises(TypeError):
        p.count(memoryview(b"abcabc")[::2], 1, 1, "fast", AUTO)
    with pytest.raises(TypeError):  # positional only
        p.count(buf=b"abc", threads=1, min_chunk=1, scan="fast", simd=AUTO)
    with pytest.raises(ValueError):
        p.count_fd(-1, 3, 1, 1, "fast", AUTO)
    with pytest.raises(ValueError):
        ext.compile_words([], False)
    with pytest.raises(ValueError):
        ext.compile_words([b"a", b""], False)
    with pytest.raises(TypeError):
        ext.compile_words([b"a", "b"], False)
    with pytest.raises(ValueError):
        ext.plan(10, 0, 1, 1)
    assert p.find_all(bytearray(b"xaaaa"), 3, 1, "textbook", AUTO) == [1, 2, 3, 4]
    assert ext.compile_pattern(b"aa").count(memoryview(b"xaaaax")[1:5], 1, 1, "fast", AUTO) == 3
    w = ext.compile_words([b"he", b"she", b"hers"], False)
    for scan in ("fast", "textbook"):
        for threads in (1, 2, 4):
            assert w.find_all(b"ushers", threads, 1, scan, AUTO) == [(1, 1), (2, 0), (2, 2)]
            assert w.count_each(b"ushers", threads, 1, scan, AUTO) == [1, 1, 1]
            assert w.count(b"ushers", threads, 1, scan, AUTO) == 3
    assert len(w) == 3 and w.longest == 4 and not w.ignore_case and w.memory_bytes > 0


@pytest.mark.parametrize("seed", range(6))
def test_words_against_a_reference(ext, seed, tmp_path):
    rng = random.Random(seed)
    alphabet = b"aAbB[{@`\x00\xff" if seed % 2 else b"ab\x00\xff"
    hay = bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 3000)))
    ignore_case = bool(seed % 2)
    words, seen = [], set()
    for _ in range(rng.choice((3, 40, 200))):
        w = bytes(rng.choice(alphabet) for _ in range(rng.randrange(1, 8)))
        key = w.lower() if ignore_case else w
        if key not in seen:
            seen.add(key)
            words.append(w)
    expected = ref_words(hay, words, ignore_case)
    counts = [0] * len(words)
    for _, i in expected:
        counts[i] += 1
    ws = ext.compile_words(words, ignore_case)
    path = tmp_path / "hay.bin"
    path.write_bytes(hay)
    fd = os.open(path, os.O_RDONLY)
    try:
        for scan in ("fast", "textbook"):
            for threads, min_chunk in ((1, 1 << 20), (3, 7), (9, 1)):
                args = (threads, min_chunk, scan, AUTO)
                assert ws.find_all(hay, *args) == expected
                assert ws.count_each(hay, *args) == counts
                assert ws.count(hay, *args) == len(expected)
                assert ws.find_all_fd(fd, len(hay), *args) == expected
                assert ws.count_each_fd(fd, len(hay), *args) == counts
                assert ws.count_fd(fd, len(hay), *args) == len(expected)
    finally:
        os.close(fd)

def test_fd_is_neither_closed_nor_moved(ext, tmp_path):
    data = b"xx3J1" * 5000
    path = tmp_path / "d.bin"
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    p = ext.compile_pattern(b"3J1")
    w = ext.compile_words([b"3J1", b"x3"], False)
    try:
        os.lseek(fd, 7, os.SEEK_SET)
        for threads in (1, 3):
            assert p.find_all_fd(fd, len(data), threads, 1000, "fast", AUTO) == ref_find_all(data, b"3J1")
            assert p.count_fd(fd, len(data), threads, 1000, "textbook", AUTO) == 5000
            assert w.count_each_fd(fd, len(data), threads, 1000, "fast", AUTO) == [5000, 5000]
        assert os.lseek(fd, 0, os.SEEK_CUR) == 7
        os.fstat(fd)  # still open
    finally:
        os.close(fd)

@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")
def test_search_threads_are_reused_and_bounded(rust, ext):
    # the pool lives on between searches (threads are reused, not started per call) and
    # never has more than the most threads asked, minus the calling thread's chunk
    data = b"ab3J1" * 20000
    for threads in (2, 4, 8):
        assert rust.count(data, b"3J1", threads=threads, _min_chunk=1000) == 20000
    size = ext.pool_threads()
    assert 7 <= size <= ext.MAX_POOL_THREADS
    tasks = len(os.listdir("/proc/self/task"))
    w = ext.compile_words([b"3J1", b"ab"], False)
    for i in range(200):
        threads = 2 + i % 7
        assert rust.count(data, b"3J1", threads=threads, _min_chunk=1000) == 20000
        assert w.count(data, threads, 1000, ("fast", "textbook")[i % 2], AUTO) == 40000
    assert ext.pool_threads() == size
    assert len(os.listdir("/proc/self/task")) <= tasks


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_searches_after_the_parent_did():
    # the child inherits the pool's memory but none of its threads: it must build its
    # own instead of waiting forever on threads that do not exist (SIGALRM ends a hang);
    # also fork while other threads are searching (the pool's lock is fork-safe)
    r = run_python("""
        import os, signal, threading, warnings
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads: 3.12+
        import kmpsearch_rust as k
        data = b"ab3J1" * 200000
        p = k.compile_pattern(b"3J1")
        w = k.compile_words([b"3J1", b"b3"], False)
        assert p.count(data, 4, 1000, "fast", "auto") == 200000
        assert k.pool_threads() >= 3
        stop = False
        def busy():
            while not stop:
                assert p.count(data, 3, 1000, "fast", "auto") == 200000
        busy_threads = [threading.Thread(target=busy) for _ in range(2)]
        for t in busy_threads:
            t.start()
        pids = []
        for n in range(6):
            pid = os.fork()
            if pid == 0:
                signal.alarm(30)
                ok = (k.pool_threads() == 0
                      and p.count(data, 4, 1000, "fast", "auto") == 200000
                      and w.count_each(data, 3, 1000, "fast", "auto") == [200000, 200000]
                      and k.pool_threads() >= 3
                      and p.find_all(data, 8, 1000, "textbook", "auto")[:2] == [2, 7])
                os._exit(0 if ok else 1)
            pids.append(pid)
        stop = True
        for t in busy_threads:
            t.join()
        codes = [os.waitpid(pid, 0)[1] for pid in pids]
        print(codes)
        assert all(os.waitstatus_to_exitcode(c) == 0 for c in codes), codes
        assert p.count(data, 4, 1000, "fast", "auto") == 200000
        print("ok")
    """)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stdout + r.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_while_another_thread_builds_an_automaton():
    # the compiled objects' lazily built tables are published without a lock: a child
    # forked in the middle of a build builds its own instead of waiting forever
    r = run_python("""
        import os, random, signal, threading, time, warnings
        warnings.simplefilter("ignore", DeprecationWarning)
        import kmpsearch_rust as k
        rng = random.Random(3)
        words = list({bytes(rng.choice(b"abcdefgh") for _ in range(rng.randint(4, 12))) for _ in range(100000)})
        ws = k.compile_words(words, False)
        p = k.compile_pattern(b"abc" * 100000)
        data = bytes(rng.choice(b"abcdefgh") for _ in range(1 << 16))
        t = threading.Thread(target=lambda: (ws.build_automaton(), p.count(b"abc" * 200000, 1, 1, "fast", "auto")))
        t.start()
        time.sleep(0.05)
        pid = os.fork()
        if pid == 0:
            signal.alarm(60)
            n = ws.count(data, 2, 1000, "textbook", "auto")
            ok = n == ws.count(data, 1, 1 << 20, "fast", "auto") and p.count(b"abc" * 100001, 2, 1, "textbook", "auto") == 2
            os._exit(0 if ok else 1)
        t.join()
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, status
        print("ok")
    """)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stdout + r.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_multiprocessing_fork_workers_search_after_the_parent():
    r = run_python("""
        import multiprocessing, warnings
        warnings.simplefilter("ignore", DeprecationWarning)
        import kmpsearch_rust as k
        data = b"ab3J1" * 100000
        p = k.compile_pattern(b"3J1")
        assert p.count(data, 4, 1000, "fast", "auto") == 100000
        def job(threads):
            return p.count(data, threads, 1000, "fast", "auto")
        if __name__ == "__main__":
            with multiprocessing.get_context("fork").Pool(2) as pool:
                assert pool.map(job, [1, 2, 4, 8]) == [100000] * 4
            print("ok")
    """)
    assert r.returncode == 0 and "ok" in r.stdout, r.stdout + r.stderr


LIMIT = textwrap.dedent("""
    import os, resource
    def vm():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    def limit(extra):
        lim = vm() + extra
        resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
""")

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux /proc and RLIMIT_AS")


@linux_only
@pytest.mark.parametrize("backtrace", ["0", "1"])
def test_memory_exhaustion_is_a_memory_error(backtrace):
    # the reported bugs: under `ulimit -v 2000000`, a 200 MiB needle against 3 bytes
    # aborted (its failure table was built first, with an aborting allocation), and a
    # huge result list gave PanicException or an abort (a deadlock with RUST_BACKTRACE=1)
    r = run_python("""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (2000000 * 1024, 2000000 * 1024))
        import kmpsearch
        rust = kmpsearch.get_backend("rust")
        import kmpsearch_rust as k
        # needle longer than the haystack: no table is needed, no error
        assert rust.count(b"abc", b"a" * (200 << 20)) == 0
        assert rust.find_all(b"abc", b"a" * (200 << 20)) == []
        # a needle whose table (4 bytes per byte) cannot fit
        needle = b"a" * (400 << 20)
        p = k.compile_pattern(needle)
        try:
            p.count(needle, 1, 1 << 20, "fast", "auto")
        except MemoryError:
            print("table: MemoryError")
        del p, needle
        # result lists that cannot fit: offsets, (offset, index) tuples
        hay = b"a" * (96 << 20)
        for what, call in (("list", lambda: rust.find_all(hay, b"a", threads=2)),
                           ("words", lambda: k.compile_words([b"a", b"aa"], False).find_all(hay, 2, 1 << 20, "fast", "auto"))):
            try:
                call()
            except MemoryError:
                print(what + ": MemoryError")
        # still usable afterwards
        assert rust.count(b"abcabc", b"bc", threads=2, _min_chunk=1) == 2
        print("ok")
    """, env={"RUST_BACKTRACE": backtrace}, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.split()
    assert "table:" in lines and "list:" in lines and "words:" in lines, r.stdout + r.stderr
    assert r.stdout.strip().endswith("ok") and "panicked" not in r.stderr, r.stdout + r.stderr


@linux_only
def test_word_set_compile_and_automaton_out_of_memory():
    r = run_python(prelude=LIMIT, code="""
        import kmpsearch_rust as k
        words = [b"%08d" % i + b"x" * 200 for i in range(100000)]
        limit(16 << 20)
        try:
            w = k.compile_words(words, False)
            w.build_automaton()
        except MemoryError:
            print("MemoryError")
        print("ok")
    """)
    assert r.returncode == 0 and "MemoryError" in r.stdout, r.stdout + r.stderr


@pytest.mark.skipif(not sysconfig.get_config_var("Py_GIL_DISABLED"), reason="free-threaded builds only")
def test_does_not_enable_the_gil(ext):
    assert not sys._is_gil_enabled()
