"""What every native core (cffi, cython, rust: the table's native rows) must also do.

One runner for the three: the GIL is released during a search, a file that shrinks while it
is searched gives the matches in what could be read (never an error, never a crash), no
thread is left behind, a chunk whose thread cannot start runs on the caller, compiled
objects are immutable and shared by threads, each SIMD level the table lists can be forced
(``_simd=``) and gives the same answers, and each core's own chunk plan is the one of
``kmpsearch._plan``. (A file shorter than the size given: tests/test_words.py, every backend.)
"""

from __future__ import annotations

import os
import random
import threading
import time
from array import array

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import core_search, ref_find_all, run_threads
from kmpsearch import plan_chunks
from kmpsearch.backends import info

from test_words import ref_words


def _name(mod) -> str:
    return mod.__name__.rsplit(".", 1)[1]


# --- the GIL is released ------------------------------------------------------------------

@pytest.mark.thread_unsafe(reason="measures how long this thread stalls")
@pytest.mark.parametrize("what", ["pattern", "words"])
def test_gil_is_released_during_a_search(native, what):
    # a textbook scan of 96 MiB on one thread takes a few hundred ms; while it runs, this
    # thread must keep running Python code (with the GIL held, it would stall throughout)
    data = bytes(96 << 20)
    if what == "pattern":
        run = lambda: native.count(data, b"\x00\x01", threads=1, scan="textbook")  # noqa: E731
    else:
        ws = native.WordSet([b"\x00\x01", b"\x00\x02\x03"])
        run = lambda: ws.count(data, threads=1, scan="textbook")  # noqa: E731
    took: list[float] = []

    def search():
        start = time.perf_counter()
        assert run() == 0
        took.append(time.perf_counter() - start)

    worker = threading.Thread(target=search)
    worker.start()
    gaps, last = [], time.perf_counter()
    while worker.is_alive():
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
    worker.join()
    if took[0] < 0.05:
        pytest.skip(f"the search took only {took[0]:.3f} s: too fast to observe")
    assert max(gaps) < took[0] * 0.6, f"this thread stalled {max(gaps):.3f} s of a {took[0]:.3f} s search"


# --- files that shrink --------------------------------------------------------------------

@pytest.mark.thread_unsafe(reason="cuts and rewrites a file from a thread of its own")
@pytest.mark.parametrize("what", ["pattern", "words"])
def test_file_shrinking_during_a_search(native, what, tmp_path):
    # another thread cuts the file while the core reads it: the matches found so far (or all
    # of them), never a crash or an error -- the cores read with pread, they map nothing
    unit = (b"..3J1.." + b"-" * 63) * 100
    data = unit * 2000  # 14 MB, a match of each word every 70 bytes
    path = tmp_path / "shrinking.bin"
    # the matches of the data in memory (checked against the references elsewhere)
    searcher = native.compile(b"3J1") if what == "pattern" else native.WordSet([b"3J1", b"J1.", b"..3"])
    expected = set(searcher.find_all(data))
    head = searcher.count(data[: len(data) // 3])
    for delay in (0.0, 0.001, 0.003, 0.006):
        path.write_bytes(data)

        def cut():
            time.sleep(delay)
            os.truncate(path, len(data) // 3)

        cutter = threading.Thread(target=cut)
        cutter.start()
        try:
            found = searcher.find_all_in_file(path, threads=2, _min_chunk=1 << 16)
        finally:
            cutter.join()
        assert found == sorted(found) and set(found) <= expected
        assert searcher.count_in_file(path, threads=2, _min_chunk=1 << 16) == head


def test_file_growing_during_a_search_is_searched_to_its_size_at_the_start(native, tmp_path):
    # the one fstat of the frontend decides: bytes appended later are not read
    path = tmp_path / "growing.bin"
    path.write_bytes(b"x3J1" * 1000)
    searcher = native.compile(b"3J1")
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        with open(path, "ab") as f:
            f.write(b"3J1" * 10)
        core = searcher._core
        assert core_search(core, (fd, size), "count", 2, 64, "fast") == 1000
        assert core_search(core, (fd, size), "offsets", 1, 64, "textbook")[-1] == size - 3
    finally:
        os.close(fd)


def test_read_errors_carry_errno_and_the_python_layer_adds_the_path(native, tmp_path):
    fd = os.open(tmp_path, os.O_RDONLY)  # a directory: pread fails with EISDIR
    try:
        for obj in (native.core.compile_pattern(b"ab"), native.core.compile_words([b"ab", b"c"], False)):
            with pytest.raises(OSError) as info_:
                core_search(obj, (fd, 100), "count")
            assert info_.value.errno == 21 and info_.value.filename is None
    finally:
        os.close(fd)


# --- threads --------------------------------------------------------------------------------

@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")
@pytest.mark.thread_unsafe(reason="counts this process's threads")
def test_no_thread_left_behind(native):
    # cffi and cython start their threads per search and join them; rust keeps one pool
    # whose size is bounded by the most threads asked: the count must not grow per call
    data = b"x3J1" * (1 << 18)  # 1 MiB
    ws = native.WordSet([b"3J1", b"x3"])
    before = len(os.listdir("/proc/self/task"))
    for _ in range(20):
        assert native.count(data, b"3J1", threads=4, _min_chunk=1 << 12) == 1 << 18
        assert ws.count(data, threads=4, _min_chunk=1 << 12) == 2 << 18
    after = len(os.listdir("/proc/self/task"))
    assert after <= before + 4, (before, after)


def test_compiled_objects_are_shared_by_threads(native):
    # one compiled pattern and one word set, searched by 8 Python threads at once (each
    # search with its own threads, scan and chunking): every answer the reference's
    rnd = random.Random(99)
    hay = bytes(rnd.choice(b"abcd") for _ in range(200_000))
    words = [hay[i:i + rnd.randint(1, 9)] for i in rnd.sample(range(len(hay) - 10), 50)]
    words = list(dict.fromkeys(words))
    ws = native.core.compile_words(words, False)
    pat = native.core.compile_pattern(words[0])
    expected = ref_words(hay, words)
    expected_p = ref_find_all(hay, words[0])
    each = [0] * len(words)
    for _, i in expected:
        each[i] += 1
    start = threading.Barrier(8)
    errors = []

    def work(i):
        try:
            start.wait()
            for j in range(4):
                scan = native.SCANS[(i + j) % 2]
                view = memoryview(hay)
                assert core_search(ws, view, "pairs", 1 + (i + j) % 4, 1000, scan) == expected
                assert core_search(ws, view, "each", 1 + j % 3, 1000, scan) == each
                assert core_search(pat, view, "offsets", 1 + j % 3, 1000, scan) == expected_p
                assert core_search(pat, view, "count", 1 + (i + j) % 4, 1000, scan) == len(expected_p)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    run_threads(work, 8, errors)


# Run in a child (python -c, argv[1]: the backend): an address space with room for a little
# more heap (and free room in the small-object allocator's arenas) but none for a thread's stack (Cython's 256 KiB, Rust's 2 MiB, C's default 8
# MiB), so every thread a search would start fails; the chunks must run on the calling
# thread, with the answers of a one-thread search made before the limit.
CHILD_WITHOUT_THREADS = r"""
import resource, sys, threading
import kmpsearch
from kmpsearch._contract import Options
name = sys.argv[1]
core = kmpsearch.get_backend(name).core
hay = b"abcab" * 200_000
ws = core.compile_words([b"ab", b"ca", b"b"], False)
pat = core.compile_pattern(b"cab")
small = memoryview(hay[:500])         # small results: arrays need a little heap
def searches(threads):
    out = {}
    for scan in ("fast", "textbook"):
        o = Options(threads, 1000, scan)
        s = Options(threads, 50, scan)
        out[scan] = (ws.search(memoryview(hay), "each", o).tolist(),
                     ws.search(memoryview(hay), "count", o),
                     pat.search(memoryview(hay), "count", o),
                     pat.search(small, "offsets", s).tolist(),
                     [a.tolist() for a in ws.search(small, "pairs", s)])
    return out
want = searches(1)                    # one chunk: no thread is started
# room for small objects inside the allocator's arenas (1 MiB each), made now: the pools of
# these, all but a few kept ones, are free again, and an arena with a live object stays
spare = [bytes(40) for _ in range(60_000)]
kept = spare[::256]
del spare
with open("/proc/self/statm") as f:
    vm = int(f.read().split()[0]) * resource.getpagesize()
resource.setrlimit(resource.RLIMIT_AS, (vm + (160 << 10), resource.RLIM_INFINITY))
try:
    threading.Thread(target=lambda: None).start()
    sys.exit(3)                       # threads still start: the check would prove nothing
except RuntimeError:
    pass
got = {threads: searches(threads) for threads in (2, 8)}
resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
assert got == {2: want, 8: want}, (got, want)
if name == "rust":                    # its pool could not grow to the threads asked
    assert core.pool_threads() < 7, core.pool_threads()
print("ok")
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc and RLIMIT_AS")
def test_chunks_whose_thread_cannot_start_run_on_the_caller(native):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", CHILD_WITHOUT_THREADS, _name(native)], capture_output=True,
                          text=True, timeout=300)
    if proc.returncode == 3:
        pytest.skip("threads still start under the address-space limit here")
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stdout + proc.stderr


# --- compiled objects are immutable ------------------------------------------------------------

def test_compiled_objects_are_immutable_and_the_core_holds_no_mutable_state(native):
    core = native.core
    pattern = core.compile_pattern(b"ab")
    words = core.compile_words([b"ab", b"c"], False)
    for obj in (pattern, words):
        with pytest.raises(AttributeError):
            obj.anything = 1
        with pytest.raises((AttributeError, TypeError)):
            del obj.anything
    with pytest.raises(AttributeError):
        pattern.needle = b"cd"
    with pytest.raises((AttributeError, TypeError)):
        del pattern.needle
    assert pattern.needle == b"ab" and len(words) == 2 and words.memory_bytes > 0
    assert core_search(pattern, b"abcab", "offsets", 1, 1) == [0, 3]
    assert core_search(words, b"abcab", "pairs", 1, 1) == [(0, 0), (2, 1), (3, 0)]
    # the core itself (a module, or an object of a class without instance state) keeps no
    # mutable container: every search's state is per call or inside a compiled object
    holder = core if isinstance(core, type(os)) else type(core)
    assert isinstance(core, type(os)) or not hasattr(core, "__dict__")
    mutable = [k for k, v in vars(holder).items()
               if not k.startswith("__") and isinstance(v, (dict, list, set, bytearray))]
    assert not mutable, mutable


# --- SIMD levels ------------------------------------------------------------------------------

def _simd_words(rnd: random.Random, hay: bytes, n: int, lengths: tuple[int, int]) -> list[bytes]:
    """``n`` distinct words, most of them pieces of ``hay`` (so they match), a few not."""
    words: list[bytes] = []
    while len(words) < n:
        if len(words) % 10 == 9:
            word = bytes(rnd.choice(b"xyz3J") for _ in range(rnd.randint(*lengths)))
        else:
            at = rnd.randrange(len(hay) - 10)
            word = hay[at:at + rnd.randint(*lengths)]
        if word not in words:
            words.append(word)
    return words


def test_every_simd_level_gives_the_same_answers(native, tmp_path):
    # each level of the table row (cffi, cython, rust: auto, scalar, sse2, avx2; a level the
    # CPU lacks runs the best one below it) through the private _simd=: single patterns
    # (one byte: the SIMD count and offsets; longer: the pair skip), a small word set (the
    # Teddy filter where the core has one) and one of 150 words (the bitmap filter), both
    # scans, one thread and several, in memory and from a file
    levels = info(_name(native)).simd
    assert levels[0] == "auto" and set(levels) == {"auto", "scalar", "sse2", "avx2"}
    rnd = random.Random(11)
    hay = bytes(rnd.choice(b"ab3J1\x00\xff") for _ in range(5000)) + b"3J1" * 40
    hay += bytes(rnd.choice(b"abcdefgh") for _ in range(3000))
    path = tmp_path / "hay"
    path.write_bytes(hay)
    needles = [b"3", b"3J", b"3J1", b"ab", b"\x00\xff", b"aba", b"3J1" * 3, b"a" * 20 + b"h"]
    small = [b"3J1", b"abJ", b"\x00\xff3", b"J1a", b"cdefg"]          # selective: Teddy
    mixed = [b"3J", b"J1", b"ab", b"\x00", b"ba3", b"J13J1"]           # a one-byte word
    big = _simd_words(rnd, hay, 150, (3, 8))                          # past Teddy: the bitmap
    sets = [(words, native.WordSet(words)) for words in (small, mixed, big)]
    want_sets = [ref_words(hay, words) for words, _ in sets]
    assert all(want_sets) and len(want_sets[2]) > 500
    for level in levels:
        for scan in native.SCANS:
            for threads, min_chunk in ((1, 1 << 20), (3, 97)):
                kw = dict(threads=threads, _min_chunk=min_chunk, scan=scan, _simd=level)
                where = (level, scan, threads)
                for needle in needles:
                    want = ref_find_all(hay, needle)
                    assert native.find_all(hay, needle, **kw) == want, (where, needle)
                    assert native.count(hay, needle, **kw) == len(want), (where, needle)
                for (words, ws), want in zip(sets, want_sets):
                    assert ws.find_all(hay, **kw) == want, (where, len(words))
                    assert ws.count(hay, **kw) == len(want), (where, len(words))
                    assert ws.find_all_in_file(path, **kw) == want, (where, len(words))
                assert native.find_all_in_file(path, b"3J1", **kw) == ref_find_all(hay, b"3J1"), where
            # ignore_case (the filters hash letters of both cases alike)
            ws = native.WordSet([w.upper() for w in small[:3]] + [b"ABC"], ignore_case=True)
            assert ws.count(hay, scan=scan, _simd=level) == len(ref_words(hay, ws.words, True)), level
    with pytest.raises(ValueError):
        native.count(hay, b"3J1", _simd="avx9000")
    with pytest.raises(ValueError):
        native.WordSet(small).count(hay, _simd="avx9000")


def test_big_results_grow_on_huge_pages_and_stay_right(native, tmp_path):
    """Result arrays past 16 MiB move to blocks advised for huge pages as they grow (and the
    arrays handed to Python are advised too): every offset still there, in order, in lists
    and arrays, from memory and from a file, in one chunk and in several. (Lists are made a
    slice of 2**20 entries at a time: these span several, across chunk boundaries.)"""
    n = 2_300_003  # 18 MB of offsets for b"a"; two words: 4.6 M pairs
    hay = b"a" * n
    path = tmp_path / "a.txt"
    path.write_bytes(hay)
    p, ws = native.compile(b"a"), native.WordSet([b"aa", b"a"])
    every = array("q", range(n))
    pairs_at = array("q", [i for i in range(n - 1) for _ in (0, 1)] + [n - 1])  # "aa" and "a" at each
    pair_words = array("i", [0, 1] * (n - 1) + [1])
    for threads in (1, 3):
        assert p.find_all(hay, threads=threads) == every.tolist()
        assert p.find_all(hay, threads=threads, as_array=True) == every
        assert p.find_all_in_file(path, threads=threads, as_array=True) == every
        assert ws.find_all(hay, threads=threads, as_array=True) == (pairs_at, pair_words)
        assert ws.find_all_in_file(path, threads=threads, as_array=True) == (pairs_at, pair_words)
    # the arrays are ordinary arrays: they grow, shrink, export and free as any other
    got, (at, words) = p.find_all(hay, threads=2, as_array=True), ws.find_all(hay, threads=2, as_array=True)
    got.append(-1)
    words.extend(array("i", [5, 6]))
    del at[: n // 2]
    with memoryview(got) as mv:
        assert mv.format == "q" and mv.nbytes == 8 * (n + 1) and mv[-1] == -1 and mv[n - 1] == n - 1
    assert got.buffer_info()[1] == n + 1 and words[-2:] == array("i", [5, 6]) and at[0] == n // 4
    del got, at, words
    pairs = list(zip(pairs_at, pair_words))
    assert p.find_all_in_file(path, threads=2) == every.tolist()
    assert ws.find_all(hay, threads=3) == pairs
    assert ws.find_all_in_file(path, threads=1) == pairs


# --- each core's own chunk plan ------------------------------------------------------------

_EDGE = [0, 1, 2, 3, 7, 1 << 20, (1 << 32) + 5, 2**62 + 3, 2**63 - 2, 2**63 - 1]


def test_each_core_plans_as_plan_py(native):
    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.one_of(st.integers(0, 5000), st.sampled_from(_EDGE), st.integers(2**62, 2**63 - 1)),
           st.one_of(st.integers(1, 60), st.sampled_from([1, 2**31, 2**62, 2**63 - 1])),
           st.integers(1, 256), st.one_of(st.integers(1, 700), st.sampled_from([1, 2**40, 2**63 - 1])))
    def run(n, m, threads, min_chunk):
        got = [tuple(c) for c in native.core.plan(n, m, threads, min_chunk)]
        assert got == plan_chunks(n, m, threads, min_chunk), (n, m, threads, min_chunk)
    run()


# --- a file range: every fd method takes ``start`` -----------------------------------------

def test_fd_methods_search_a_range_with_file_offsets(native, tmp_path):
    """``start`` (finditer's ranges): bytes [start, start + size) searched with the plan over
    that range, offsets still file offsets; a range past the end gives what is there."""
    rnd = random.Random(21)
    data = bytes(rnd.choice(b"ab3J1") for _ in range(3000))
    path = tmp_path / "hay"
    path.write_bytes(data)
    pat, ws = native.compile(b"3J"), native.WordSet([b"3J1", b"J", b"b3"], ignore_case=False)
    fd = os.open(path, os.O_RDONLY)
    try:
        for start, size in [(0, 3000), (0, 0), (1, 5), (997, 1000), (2999, 1), (2990, 100), (5000, 10)]:
            piece = data[start:start + size]
            want = [start + o for o in ref_find_all(piece, b"3J")]
            pairs = [(start + o, i) for o, i in ref_words(piece, ws.words)]
            each = [sum(1 for _, i in pairs if i == w) for w in range(3)]
            for threads, min_chunk in [(1, 1 << 20), (3, 1), (4, 50)]:
                opts = dict(threads=threads, min_chunk=min_chunk, scan=native.SCANS[0], cancel=bytearray(1))
                where = (fd, size, start)
                assert core_search(pat._core, where, "offsets", **opts) == want, (start, size)
                assert core_search(pat._core, where, "count", **opts) == len(want)
                assert core_search(pat._core, where, "pairs", **opts) == [(o, 0) for o in want]
                assert core_search(ws._core, where, "pairs", **opts) == pairs
                assert core_search(ws._core, where, "offsets", **opts) == [o for o, _ in pairs]
                assert core_search(ws._core, where, "count", **opts) == len(pairs)
                assert core_search(ws._core, where, "each", **opts) == each
        for bad in (-1, 2**63 - 5):
            with pytest.raises((ValueError, OverflowError)):
                core_search(pat._core, (fd, 10, bad), "offsets", 1, 1, native.SCANS[0], cancel=bytearray(1))
    finally:
        os.close(fd)


# --- cancellable searches go in pieces: the same results ------------------------------------

def _core_call(obj, want: str, target, *opts, block: int):
    """A compiled object's core search with a (never set) cancel flag and ``block``:
    memory or file scanned in pieces of ``block`` bytes."""
    return core_search(obj._core, target, want, *opts, cancel=bytearray(1), block=block)


@pytest.mark.parametrize("what", ["pattern", "words", "words_ic"])
def test_pieces_give_the_same_results(native, what, tmp_path):
    # with a cancel flag the cores scan memory in pieces of _block bytes (1 MiB by default)
    # and look at the flag between them; pieces of 1, 2, 3 ... bytes put a boundary at every
    # place a match, a pending partial match or a word's lookahead can straddle
    rnd = random.Random(hash(what) & 0xFFFF)
    for trial in range(12):
        n = rnd.choice([0, 1, 5, 40, 300, 2000])
        hay = bytes(rnd.choice(b"aab3J") for _ in range(n))
        if what == "pattern":
            needle = bytes(rnd.choice(b"ab3") for _ in range(rnd.choice([1, 2, 3, 5, 9])))
            obj = native.compile(needle)
            want = ref_find_all(hay, needle)
            kinds = {"offsets": want, "count": len(want)}
        else:
            ic = what == "words_ic"
            words = list({bytes(rnd.choice(b"aAb3J") for _ in range(rnd.choice([1, 2, 4, 7]))) for _ in range(5)})
            obj = native.WordSet(words, ignore_case=ic)
            want = ref_words(hay, obj.words, ic)
            each = [0] * len(obj.words)
            for _, i in want:
                each[i] += 1
            kinds = {"pairs": want, "count": len(want), "each": each}
        path = tmp_path / f"hay{trial}"
        path.write_bytes(hay)
        fd = os.open(path, os.O_RDONLY)
        try:
            for block in (1, 2, 3, 7, 64, 0):
                for scan in native.SCANS:
                    threads, min_chunk = rnd.choice([(1, 1 << 20), (2, 1), (3, 7), (4, 100)])
                    opts = (threads, min_chunk, scan, "auto")
                    for kind, expected in kinds.items():
                        got = _core_call(obj, kind, hay, *opts, block=block)
                        assert got == expected, (kind, block, scan, threads, min_chunk)
                        got = _core_call(obj, kind, (fd, n), *opts, block=block)
                        assert got == expected, (kind, "file", block, scan, threads, min_chunk)
        finally:
            os.close(fd)


def test_a_set_cancel_flag_stops_the_core_with_keyboardinterrupt(native, tmp_path):
    path = tmp_path / "hay"
    path.write_bytes(b"ab" * 5000)
    fd = os.open(path, os.O_RDONLY)
    try:
        for obj in (native.compile(b"ab"), native.WordSet([b"ab", b"b"])):
            core = obj._core
            with pytest.raises(KeyboardInterrupt):
                core_search(core, b"ab" * 5000, "count", 2, 1, "fast", cancel=bytearray(b"\x01"))
            with pytest.raises(KeyboardInterrupt):
                core_search(core, (fd, 10000), "offsets", 2, 1, "textbook", cancel=bytearray(b"\x01"))
            # an unset flag: the search runs
            assert core_search(core, b"ab" * 5000, "count", 2, 1, "fast", cancel=bytearray(1)) >= 5000
    finally:
        os.close(fd)


@pytest.mark.thread_unsafe(reason="makes every thread start fail in this process")
def test_a_long_search_runs_on_the_caller_when_no_thread_can_start(native, monkeypatch, tmp_path):
    # _run searches a long input on a helper thread (so that Ctrl-C takes effect at once);
    # when no thread can be started, the search runs on the caller, with the same result
    def refuse(self):
        raise RuntimeError("can't start new thread")

    data = b"xab" * (3 << 20)  # 9 MiB: above _calls.HELPER_MIN_BYTES
    path = tmp_path / "hay"
    path.write_bytes(data)
    monkeypatch.setattr(threading.Thread, "start", refuse)
    assert native.count(data, b"ab", threads=1) == 3 << 20
    assert native.WordSet([b"ab", b"xa"]).count_in_file(path, threads=1) == 6 << 20
