"""Rust-backend specifics the conformance suite and test_native.py do not see: the extension
module ``kmpsearch_rust`` as the backend's core (compiled objects, errors, descriptors, stub),
the reused thread pool (bounded, fork-safe) and memory exhaustion turned into MemoryError.
(Frozen objects shared by threads, threads that cannot start: test_native.py.)"""

from __future__ import annotations

import errno
import importlib.util
import os
import pathlib
import random
import subprocess
import sys
import sysconfig
import textwrap
from array import array

import pytest

from conftest import load_backend, ref_find_all
from kmpsearch._contract import BIG, STREAM, FileBatch, FileRange, Options

AUTO = "auto"


def opts(threads: int = 1, min_chunk: int = 1 << 20, scan: str = "fast", simd: str = AUTO, **kw) -> Options:
    return Options(threads, min_chunk, scan, simd, **kw)


def pairs(result) -> list[tuple[int, int]]:
    """A "pairs" result as a list of (offset, word index), after checking its arrays."""
    offsets, index = result
    assert offsets.typecode == "q" and index.typecode == "i" and len(offsets) == len(index)
    return list(zip(offsets, index))


def as_list(result) -> list[int]:
    """An "each" or "offsets" result as a list, after checking it is an array('q')."""
    assert isinstance(result, array) and result.typecode == "q"
    return result.tolist()


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
                 "def search", "def memory_bytes"):
        assert name in text, name
    for cls in (ext.Pattern, ext.WordSet):  # one search entry: the old methods are gone
        assert not {"count", "count_each", "find_all", "find_array", "count_fd", "find_all_fd"} & set(dir(cls))
    assert "must not mutate" in ext.__doc__ or "do not" in ext.__doc__.lower()


def test_core_errors(ext):
    p = ext.compile_pattern(b"a")
    with pytest.raises(ValueError):
        ext.compile_pattern(b"")
    for bad in ((0, 1, "fast", AUTO), (257, 1, "fast", AUTO), (1, 0, "fast", AUTO), (1, 1, "quick", AUTO),
                (1, 1, "fast", "avx512"), (1, 1, "fast", "AVX2"), (-1, 1, "fast", AUTO), (1, 1 << 64, "fast", AUTO),
                (1, 1, "fast", AUTO, -1)):
        with pytest.raises(ValueError):
            p.search(b"abc", "count", Options(*bad))
    for want in ("lines", "COUNT", None, b"count"):
        with pytest.raises(ValueError):
            p.search(b"abc", want, opts())
    with pytest.raises(TypeError):
        p.search(memoryview(b"abcabc")[::2], "count", opts())
    with pytest.raises(TypeError):  # positional only
        p.search(source=b"abc", want="count", options=opts())
    for fd in (-1, 1 << 40):
        with pytest.raises(OSError) as err:
            p.search(FileRange(fd, 0, 3), "count", opts())
        assert err.value.errno == errno.EBADF and err.value.filename is None
    for bad_range in (FileRange(0, -1, 3), FileRange(0, 0, -3), FileRange(0, 1 << 62, 1 << 62)):
        with pytest.raises(ValueError):
            p.search(bad_range, "count", opts())
    with pytest.raises(ValueError):
        ext.compile_words([], False)
    with pytest.raises(ValueError):
        ext.compile_words([b"a", b""], False)
    with pytest.raises(TypeError):
        ext.compile_words([b"a", "b"], False)
    with pytest.raises(ValueError):
        ext.plan(10, 0, 1, 1)
    assert as_list(p.search(bytearray(b"xaaaa"), "offsets", opts(3, 1, "textbook"))) == [1, 2, 3, 4]
    assert ext.compile_pattern(b"aa").search(memoryview(b"xaaaax")[1:5], "count", opts(1, 1)) == 3
    w = ext.compile_words([b"he", b"she", b"hers"], False)
    for scan in ("fast", "textbook"):
        for threads in (1, 2, 4):
            o = opts(threads, 1, scan)
            assert pairs(w.search(b"ushers", "pairs", o)) == [(1, 1), (2, 0), (2, 2)]
            assert as_list(w.search(b"ushers", "offsets", o)) == [1, 2, 2]
            assert as_list(w.search(b"ushers", "each", o)) == [1, 1, 1]
            assert w.search(b"ushers", "count", o) == 3
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
    lead = seed * 3  # the file range starts there: file offsets
    path.write_bytes(b"\x00" * lead + hay + b"\x00")
    fd = os.open(path, os.O_RDONLY)
    try:
        for scan in ("fast", "textbook"):
            for threads, min_chunk in ((1, 1 << 20), (3, 7), (9, 1)):
                o = opts(threads, min_chunk, scan)
                assert pairs(ws.search(hay, "pairs", o)) == expected
                assert as_list(ws.search(hay, "offsets", o)) == [off for off, _ in expected]
                assert as_list(ws.search(hay, "each", o)) == counts
                assert ws.search(hay, "count", o) == len(expected)
                source = FileRange(fd, lead, len(hay))
                assert pairs(ws.search(source, "pairs", o)) == [(off + lead, i) for off, i in expected]
                assert as_list(ws.search(source, "offsets", o)) == [off + lead for off, _ in expected]
                assert as_list(ws.search(source, "each", o)) == counts
                assert ws.search(source, "count", o) == len(expected)
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
            source = FileRange(fd, 0, len(data))
            assert as_list(p.search(source, "offsets", opts(threads, 1000))) == ref_find_all(data, b"3J1")
            assert p.search(source, "count", opts(threads, 1000, "textbook")) == 5000
            assert as_list(w.search(source, "each", opts(threads, 1000))) == [5000, 5000]
        assert os.lseek(fd, 0, os.SEEK_CUR) == 7
        os.fstat(fd)  # still open
    finally:
        os.close(fd)

@pytest.mark.parametrize("n", [5, 2_300_003], ids=["small", "18MB"])
def test_result_arrays_are_ordinary_arrays(ext, n, tmp_path):
    # the arrays are written in place (a buffer allocated for them, huge pages from 16 MiB):
    # every offset there, in order, from memory and from a file, in one chunk and several;
    # then they grow, shrink, export and free as any other
    hay = b"a" * n
    path = tmp_path / "a.txt"
    path.write_bytes(b"b" + hay)
    p, ws = ext.compile_pattern(b"a"), ext.compile_words([b"aa", b"a"], False)
    every = array("q", range(n))
    pairs_at = array("q", [i for i in range(n - 1) for _ in (0, 1)] + [n - 1])
    pair_words = array("i", [0, 1] * (n - 1) + [1])
    fd = os.open(path, os.O_RDONLY)
    try:
        for threads in (1, 3):
            o = opts(threads, 1000)
            assert p.search(hay, "offsets", o) == every
            assert p.search(hay, "pairs", o) == (every, array("i", bytes(4 * n)))
            assert p.search(FileRange(fd, 1, n), "offsets", o) == array("q", range(1, n + 1))
            assert ws.search(hay, "pairs", o) == (pairs_at, pair_words)
            assert ws.search(hay, "offsets", o) == pairs_at
            assert ws.search(FileRange(fd, 1, n), "pairs", o) == (array("q", [x + 1 for x in pairs_at]), pair_words)
    finally:
        os.close(fd)
    got, (at, words) = p.search(hay, "offsets", opts(2, 1000)), ws.search(hay, "pairs", opts(2, 1000))
    got.append(-1)
    words.extend(array("i", [5, 6]))
    del at[: n // 2]
    with memoryview(got) as mv:
        assert mv.format == "q" and mv.nbytes == 8 * (n + 1) and mv[-1] == -1 and mv[n - 1] == n - 1
    assert got.buffer_info()[1] == n + 1 and words[-2:] == array("i", [5, 6]) and at[0] == pairs_at[n // 2]
    del got[:]
    assert len(got) == 0 and got.buffer_info()[1] == 0
    del got, at, words


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")
def test_a_search_leaves_no_thread_behind(ext):
    # results are written by the calling thread: a search starts no thread but the pool's
    # (persistent, grown to the most threads asked), even for tens of millions of matches,
    # nor when it is cancelled
    p = ext.compile_pattern(b"a")
    hay = b"a" * (6 << 20)
    p.search(hay, "count", opts(3, 1 << 16))  # the pool has at least 2 threads from here on
    size = ext.pool_threads()
    tasks = set(os.listdir("/proc/self/task"))
    for threads in (1, 2, 3):
        assert len(p.search(hay, "offsets", opts(threads, 1 << 16))) == len(hay)
        assert set(os.listdir("/proc/self/task")) <= tasks
    with pytest.raises(KeyboardInterrupt):
        p.search(hay, "offsets", opts(3, 1 << 16, cancel=bytearray(b"\x01")))
    assert set(os.listdir("/proc/self/task")) <= tasks and ext.pool_threads() == size


def test_file_batch_arguments_statuses_and_threads(ext, tmp_path):
    # a FileBatch is told apart from a FileRange by its length; its paths must be bytes
    p = ext.compile_pattern(b"ab")
    for bad in (FileBatch(("x",), 10), FileBatch((pathlib.Path("x"),), 10), FileBatch(7, 10)):
        with pytest.raises(TypeError):
            p.search(bad, "count", opts())
    for bad in (FileBatch((), -1), FileBatch((), 1 << 64), FileBatch((), "10")):
        with pytest.raises(ValueError):
            p.search(bad, "count", opts())
    (tmp_path / "a").write_bytes(b"xabab")
    (tmp_path / "big").write_bytes(b"ab" * 10)
    (tmp_path / "empty").write_bytes(b"")
    paths = tuple(os.fsencode(tmp_path / name) for name in ("a", "big", "empty", "missing", "a"))
    paths += (os.fsencode(tmp_path), b"/dev/null", b"nul\0byte")
    w = ext.compile_words([b"ab", b"b"], False)
    p.search(b"ab" * (3 << 20), "count", opts(3, 1 << 16))  # the pool has at least 2 threads from here on
    tasks = set(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else set()
    for threads in (1, 2, 3):
        status, found = w.search(FileBatch(paths, 20), "pairs", opts(threads))
        assert status.tolist() == [0, BIG, STREAM, errno.ENOENT, 0, errno.EISDIR, STREAM, errno.EINVAL]
        bounds, offsets, index = found
        assert [a.typecode for a in found] == ["q", "q", "i"]
        assert bounds.tolist() == [0, 4, 4, 4, 4, 8, 8, 8, 8]
        assert list(zip(offsets, index)) == [(1, 0), (2, 1), (3, 0), (4, 1)] * 2
        status, counts = p.search(FileBatch(paths, 20), "each", opts(threads))
        assert counts.tolist() == [2, 0, 0, 0, 2, 0, 0, 0]
        if tasks:  # on the caller and the pool: a batch starts no thread
            assert set(os.listdir("/proc/self/task")) <= tasks


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
        assert w.search(data, "count", opts(threads, 1000, ("fast", "textbook")[i % 2])) == 40000
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
        from kmpsearch._contract import Options
        data = b"ab3J1" * 200000
        p = k.compile_pattern(b"3J1")
        w = k.compile_words([b"3J1", b"b3"], False)
        def o(threads, scan="fast"):
            return Options(threads, 1000, scan)
        assert p.search(data, "count", o(4)) == 200000
        assert k.pool_threads() >= 3
        stop = False
        def busy():
            while not stop:
                assert p.search(data, "count", o(3)) == 200000
        busy_threads = [threading.Thread(target=busy) for _ in range(2)]
        for t in busy_threads:
            t.start()
        pids = []
        for n in range(6):
            pid = os.fork()
            if pid == 0:
                signal.alarm(30)
                ok = (k.pool_threads() == 0
                      and p.search(data, "count", o(4)) == 200000
                      and w.search(data, "each", o(3)).tolist() == [200000, 200000]
                      and k.pool_threads() >= 3
                      and p.search(data, "offsets", o(8, "textbook"))[:2].tolist() == [2, 7])
                os._exit(0 if ok else 1)
            pids.append(pid)
        stop = True
        for t in busy_threads:
            t.join()
        codes = [os.waitpid(pid, 0)[1] for pid in pids]
        print(codes)
        assert all(os.waitstatus_to_exitcode(c) == 0 for c in codes), codes
        assert p.search(data, "count", o(4)) == 200000
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
        from kmpsearch._contract import Options
        rng = random.Random(3)
        words = list({bytes(rng.choice(b"abcdefgh") for _ in range(rng.randint(4, 12))) for _ in range(100000)})
        ws = k.compile_words(words, False)
        p = k.compile_pattern(b"abc" * 100000)
        data = bytes(rng.choice(b"abcdefgh") for _ in range(1 << 16))
        t = threading.Thread(target=lambda: (ws.build_automaton(), p.search(b"abc" * 200000, "count", Options(1, 1))))
        t.start()
        time.sleep(0.05)
        pid = os.fork()
        if pid == 0:
            signal.alarm(60)
            n = ws.search(data, "count", Options(2, 1000, "textbook"))
            ok = (n == ws.search(data, "count", Options(1, 1 << 20, "fast"))
                  and p.search(b"abc" * 100001, "count", Options(2, 1, "textbook")) == 2)
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
        from kmpsearch._contract import Options
        data = b"ab3J1" * 100000
        p = k.compile_pattern(b"3J1")
        assert p.search(data, "count", Options(4, 1000)) == 100000
        def job(threads):
            return p.search(data, "count", Options(threads, 1000))
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
        from kmpsearch._contract import Options
        # needle longer than the haystack: no table is needed, no error
        assert rust.count(b"abc", b"a" * (200 << 20)) == 0
        assert rust.find_all(b"abc", b"a" * (200 << 20)) == []
        # a needle whose table (4 bytes per byte) cannot fit
        needle = b"a" * (400 << 20)
        p = k.compile_pattern(needle)
        try:
            p.search(needle, "count", Options())
        except MemoryError:
            print("table: MemoryError")
        del p, needle
        # result lists that cannot fit: offsets, (offset, index) tuples
        hay = b"a" * (96 << 20)
        for what, call in (("list", lambda: rust.find_all(hay, b"a", threads=2)),
                           ("words", lambda: k.compile_words([b"a", b"aa"], False).search(hay, "pairs", Options(2)))):
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
