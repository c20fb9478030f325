"""The many-words part of the conformance suite: ``WordSet`` on every backend.

The reference is a ``find`` loop per word, merged and sorted (``ref_words``); hypothesis
draws words and haystacks from small alphabets so that prefix and suffix chains, words
inside words and overlaps are common, and tiny ``_min_chunk`` values put chunk boundaries
everywhere (a short word in a chunk's overlap belongs to the next chunk).
"""

from __future__ import annotations

import array
import mmap
import os
import pickle
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kmpsearch
from kmpsearch.backends import info
from conftest import core_search, differential, examples, run_threads

ASCII_FOLD_BYTES = bytes.maketrans(bytes(range(65, 91)), bytes(range(97, 123)))
ASCII_FOLD_STR = {c: c + 32 for c in range(65, 91)}


def fold(x, ignore_case: bool):
    if not ignore_case:
        return x
    return x.translate(ASCII_FOLD_STR) if isinstance(x, str) else x.translate(ASCII_FOLD_BYTES)


def distinct(words, ignore_case=False) -> list:
    seen, out = set(), []
    for w in words:
        key = fold(bytes(w) if not isinstance(w, str) else w, ignore_case)
        if key not in seen:
            seen.add(key)
            out.append(w)
    return out


def ref_words(haystack, words, ignore_case=False) -> list[tuple[int, int]]:
    """Every (offset, index) of every distinct word, by a find loop per word."""
    hay = fold(haystack, ignore_case)
    out = []
    for index, word in enumerate(distinct(words, ignore_case)):
        key = fold(word, ignore_case)
        i = hay.find(key)
        while i >= 0:
            out.append((i, index))
            i = hay.find(key, i + 1)
    return sorted(out)


def check(backend, haystack, words, ignore_case=False, **kw):
    ws = backend.WordSet(words, ignore_case=ignore_case)
    expected = ref_words(haystack, words, ignore_case)
    assert ws.find_all(haystack, **kw) == expected
    assert ws.count(haystack, **kw) == len(expected)
    each = [0] * len(ws.words)
    for _, i in expected:
        each[i] += 1
    assert ws.count_each(haystack, **kw) == each
    return expected


byte_words = st.lists(st.lists(st.sampled_from(b"ab\x00\xff"), min_size=1, max_size=6).map(bytes),
                      min_size=1, max_size=8)
byte_hay = st.lists(st.sampled_from(b"ab\x00\xff"), max_size=300).map(bytes)
case_alphabet = b"aAbB[{@`zZ\xc9\xe9"
case_words = st.lists(st.lists(st.sampled_from(case_alphabet), min_size=1, max_size=4).map(bytes),
                      min_size=1, max_size=8)
case_hay = st.lists(st.sampled_from(case_alphabet), max_size=200).map(bytes)
chars = st.sampled_from(["a", "A", "b", "[", "{", "@", "`", "é", "É", "€", "😀", "𝄞", "\x00", "\ud800", "\udfff"])
text_words = st.lists(st.lists(chars, min_size=1, max_size=4).map("".join), min_size=1, max_size=6)
text_hay = st.lists(chars, max_size=150).map("".join)


# --- the example of the issue, and the API's shape --------------------------------------

def test_overlapping_words_in_ushers(backend):
    ws = backend.WordSet([b"he", b"she", b"hers"])
    assert ws.find_all(b"ushers") == [(1, 1), (2, 0), (2, 2)]
    assert ws.count(b"ushers") == 3
    assert ws.count_each(b"ushers ushers") == [2, 2, 2]
    assert ws.words == (b"he", b"she", b"hers") and len(ws) == 3 and not ws.ignore_case
    assert ws.backend == backend.__name__.rsplit(".", 1)[1]
    assert isinstance(ws, kmpsearch.WordSet)
    text = backend.WordSet(["he", "she", "hers"])
    assert text.find_all("üshers") == [(1, 1), (2, 0), (2, 2)]


def test_duplicates_are_kept_once_at_their_first_position(backend):
    ws = backend.WordSet([b"b", b"a", b"b", bytearray(b"a"), b"c"])
    assert ws.words == (b"b", b"a", b"c")
    assert ws.find_all(b"abc") == [(0, 1), (1, 0), (2, 2)]
    folded = backend.WordSet([b"Ab", b"x", b"aB", b"AB"], ignore_case=True)
    assert folded.words == (b"Ab", b"x")
    assert folded.count_each(b"ab AB aB x") == [3, 1]
    assert backend.WordSet(["é", "É"], ignore_case=True).words == ("é", "É")  # not ASCII: distinct


def test_one_word_sets_match_the_pattern_search(backend):
    data = b"xx3J1yy3J13J1" * 20
    ws = backend.WordSet([b"3J1"])
    assert ws.find_all(data) == [(o, 0) for o in backend.find_all(data, b"3J1")]
    assert ws.count_each(data, threads=3, _min_chunk=5) == [backend.count(data, b"3J1")]


# --- differential properties ------------------------------------------------------------

def test_bytes_match_reference(backend):
    differential(backend, 250, check, byte_hay, byte_words)


def test_ignore_case_folds_ascii_letters_only(backend):
    differential(backend, 200, check, case_hay, case_words, st.integers(1, 5), st.integers(1, 20), ignore_case=True)
    # the pairs that differ by 0x20 but are not letters never match each other
    ws = backend.WordSet([b"[", b"@", b"\xc9", b"q"], ignore_case=True)
    assert ws.count_each(b"{`\xe9Q[@\xc9q") == [1, 1, 1, 2]


def test_str_words_give_code_point_offsets(backend):
    differential(backend, 150, check, text_hay, text_words, st.integers(1, 5), st.integers(1, 20),
                 ignore_case=st.booleans())


@pytest.mark.parametrize("words", [
    [b"a", b"ab", b"abc", b"abcd"],            # prefix chain
    [b"abcd", b"bcd", b"cd", b"d"],            # suffix chain
    [b"abcab", b"bca", b"c", b"abcabcab"],     # words inside words, overlaps
    [b"aa", b"aaa", b"aaaa", b"a"],            # periodic
])
def test_chains_and_words_inside_words(backend, words):
    haystack = b"xabcabcabcdx" + b"a" * 17 + b"abcd" * 5 + b"bcabcab"
    for threads in (1, 2, 4):
        for scan in backend.SCANS:
            check(backend, haystack, words, threads=threads, _min_chunk=3, scan=scan)


# --- chunk boundaries -------------------------------------------------------------------

def _straddling() -> bytes:
    import random
    rnd = random.Random(20261125)
    parts = []
    for _ in range(60):
        parts.append(bytes(rnd.choice(b"xyz") for _ in range(rnd.randrange(0, 9))))
        parts.append(rnd.choice([b"abcab", b"cab", b"b", b"ab" * 3]))
    return b"".join(parts)


@pytest.mark.parametrize("threads", range(1, 10))
def test_every_thread_count_across_chunk_boundaries(backend, threads):
    haystack = _straddling()
    words = [b"abcab", b"b", b"cabab", b"abcabcab", b"ab", b"bab"]
    for min_chunk in (1, 3, 7, 50, 1 << 20):
        for scan in backend.SCANS:
            check(backend, haystack, words, threads=threads, _min_chunk=min_chunk, scan=scan)


@pytest.mark.parametrize("threads", [2, 5, 9])
def test_words_longer_than_a_chunk(backend, threads):
    long = b"abcab" * 8  # 40 bytes, chunks of 3 start positions
    words = [long, b"cab", long[:-1] + b"y", b"b"]
    haystack = b"x" + long + b"abcab" * 20 + long[:-1] + b"y" + long
    for scan in backend.SCANS:
        assert len(check(backend, haystack, words, threads=threads, _min_chunk=3, scan=scan)) > 40


def test_haystack_shorter_than_the_longest_word(backend):
    ws = backend.WordSet([b"abcdefgh", b"b", b"cd"])
    assert ws.find_all(b"abcd", threads=4, _min_chunk=1) == [(1, 1), (2, 2)]
    assert ws.count(b"") == 0 and ws.find_all(b"") == [] and ws.count_each(b"") == [0, 0, 0]


def test_nul_and_high_bytes(backend):
    haystack = bytes(range(256)) * 3 + b"\x00\x00\xff\xff"
    words = [b"\x00", b"\xff", b"\x00\x00", b"\xff\xff", b"\xff\x00", b"\x80\x81"]
    check(backend, haystack, words)
    check(backend, haystack, words, threads=4, _min_chunk=5)


def test_many_words(backend):
    import random
    rnd = random.Random(7)
    letters = b"abcdefghij"
    words = sorted({bytes(rnd.choice(letters) for _ in range(rnd.randrange(2, 7))) for _ in range(3000)})
    haystack = bytes(rnd.choice(letters + b" ") for _ in range(20000))
    check(backend, haystack, words, threads=3, _min_chunk=997)


def test_adversarial_shared_prefixes_and_periodic_text(backend):
    # the fast scans fall back to the automaton here: right, and linear
    words = [b"a" * k for k in range(1, 41)] + [b"a" * 30 + bytes([b]) for b in b"bcdefgh"]
    haystack = b"a" * 3000 + b"b" + b"a" * 2000
    for scan in backend.SCANS:
        check(backend, haystack, words, threads=2, _min_chunk=500, scan=scan)
    shared = [b"prefix-" + str(i).encode() for i in range(500)]
    text = b"".join(b"prefix-%d " % i for i in range(0, 1000, 3))
    for scan in backend.SCANS:
        check(backend, text, shared, scan=scan)


# --- accepted and rejected arguments ---------------------------------------------------

def test_accepted_buffer_types(backend, tmp_path):
    data = b"xxabcabcxxabc\x00abc"
    words = [b"abc", b"ca", b"\x00"]
    expected = ref_words(data, words)
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    ws = backend.WordSet([memoryview(b"abc"), bytearray(b"ca"), array.array("B", b"\x00")])
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        for hay in (data, bytearray(data), memoryview(data), mapped, array.array("B", data),
                    memoryview(b"__" + data + b"__")[2:-2]):
            assert ws.find_all(hay) == expected, type(hay)


def test_rejected_arguments(backend):
    ws = backend.WordSet([b"ab"])
    for bad in ([], ()):
        with pytest.raises(ValueError):
            backend.WordSet(bad)
    with pytest.raises(ValueError):
        backend.WordSet([b"a", b""])
    with pytest.raises(ValueError):
        backend.WordSet(["a", ""])
    for bad in (b"abc", "abc", 5, None, [1], [b"a", "b"], ["a", b"b"], [object()]):
        with pytest.raises(TypeError):
            backend.WordSet(bad)
    with pytest.raises(TypeError):
        backend.WordSet([memoryview(b"abcabc")[::2]])
    with pytest.raises(TypeError):
        backend.WordSet([b"a"], ignore_case=1)
    with pytest.raises(TypeError):
        backend.WordSet([b"a"], True)  # ignore_case is keyword-only
    with pytest.raises(TypeError):
        ws.find_all("ab")
    with pytest.raises(TypeError):
        backend.WordSet(["ab"]).count(b"ab")
    for fn in (ws.find_all, ws.count, ws.count_each):
        with pytest.raises(TypeError):
            fn(memoryview(b"abcabc")[::2])
        with pytest.raises(TypeError):
            fn(None)
        with pytest.raises(ValueError):
            fn(b"ab", threads=0)
        with pytest.raises(TypeError):
            fn(b"ab", threads="2")
        with pytest.raises(ValueError):
            fn(b"ab", scan="bogus")
        with pytest.raises(TypeError):
            fn(b"ab", 2)
    with pytest.raises(AttributeError):
        ws.words = (b"x",)
    with pytest.raises(AttributeError):
        ws._core = None


def test_pickle_round_trip(backend):
    for ws in (backend.WordSet([b"he", b"she", b"hers"]), backend.WordSet(["é", "Ab"], ignore_case=True)):
        again = pickle.loads(pickle.dumps(ws))
        assert again == ws and hash(again) == hash(ws)
        assert type(again) is type(ws) and again.backend == ws.backend
        hay = "ushers é aB" if ws._text else b"ushers"
        assert again.find_all(hay) == ws.find_all(hay)
    assert backend.WordSet([b"a"]) != backend.WordSet([b"a"], ignore_case=True)


# --- files ------------------------------------------------------------------------------

def test_files(backend, tmp_path):
    data = b"hello 3J1 world 3J13J1\x00\xff3J1 J1" * 50
    path = tmp_path / "f.txt"
    path.write_bytes(data)
    before = (path.stat().st_size, path.stat().st_mtime_ns)
    words = [b"3J1", b"J1", b"J13J", b"\x00\xff"]
    ws = backend.WordSet(words)
    expected = ref_words(data, words)
    for p in (path, str(path), bytes(path)):
        assert ws.find_all_in_file(p) == expected
        assert ws.count_in_file(p) == len(expected)
        assert ws.count_each_in_file(p) == ws.count_each(data)
    for threads in range(1, 10):
        assert ws.find_all_in_file(path, threads=threads, _min_chunk=7) == expected
    text = backend.WordSet(["J1", "3J"])
    assert text.find_all_in_file(path) == ref_words(data, [b"J1", b"3J"])  # str words: UTF-8, byte offsets
    assert (path.stat().st_size, path.stat().st_mtime_ns) == before


def test_file_errors(backend, tmp_path):
    ws = backend.WordSet([b"a", b"bc"])
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert ws.find_all_in_file(empty) == [] and ws.count_in_file(empty) == 0
    assert ws.count_each_in_file(empty) == [0, 0]
    for fn in (ws.find_all_in_file, ws.count_in_file, ws.count_each_in_file):
        with pytest.raises(FileNotFoundError) as info:
            fn(tmp_path / "missing")
        assert info.value.filename == tmp_path / "missing" or str(info.value.filename) == str(tmp_path / "missing")
        with pytest.raises(IsADirectoryError):
            fn(tmp_path)
        with pytest.raises(TypeError):
            fn(3.5)
        with pytest.raises(ValueError):
            fn(empty, threads=0)


def test_file_matches_across_read_blocks(backend, tmp_path):
    words = [b"<sensitive-word>", b"word>", b"<s"]
    size = 3 * (1 << 20) + 4096
    data = bytearray(size)
    for off in (0, (1 << 20) - 40, (1 << 20) - 5, 2 * (1 << 20) - 1, size // 2, size - 16):
        data[off:off + 16] = words[0]
    path = tmp_path / "blocks.bin"
    path.write_bytes(data)
    expected = ref_words(bytes(data), words)
    ws = backend.WordSet(words)
    for threads in (1, 2, 3):
        assert ws.find_all_in_file(path, threads=threads, scan="fast") == expected


def test_file_that_reports_size_zero(backend, monkeypatch):
    import kmpsearch._streams as frontend

    path = "/proc/self/cmdline"
    if not os.path.exists(path):
        pytest.skip("no /proc here")
    with open(path, "rb") as f:
        data = f.read()
    words = [b"\x00", data[:2], data[-3:], data[1:9], b"py"]
    ws = backend.WordSet(words)
    expected = ref_words(data, words)
    for window in (1, 2, 3, 7, frontend.STREAM_WINDOW):
        monkeypatch.setattr(frontend, "STREAM_WINDOW", window)
        assert ws.find_all_in_file(path, threads=2) == expected, window
        assert ws.count_in_file(path) == len(expected)
        assert ws.count_each_in_file(path) == ws.count_each(data)


def test_sparse_file_over_4_gib(backend, tmp_path):
    """Offsets past 2**32 on every backend: a match crossing 4 GiB, one starting exactly at
    4 GiB, one right after it, and one at the end (the pure-Python rungs take 5-15 s here)."""
    words = [b"3J1-secret", b"secret", b"zz-top"]
    size = (4 << 30) + (1 << 20)
    four = 4 << 30
    at = {(four - 20): 0, (four - 4): 0, (four + 6): 2, (size - 10): 0}  # "secret" 4 bytes into each 0
    path = tmp_path / "sparse.bin"
    try:
        with open(path, "wb") as f:
            f.truncate(size)
            for off, i in at.items():
                f.seek(off)
                f.write(words[i])
    except OSError as exc:  # pragma: no cover
        pytest.skip(f"cannot create a sparse file over 4 GiB here: {exc}")
    expected = sorted([(o, i) for o, i in at.items()] + [(o + 4, 1) for o, i in at.items() if i == 0])
    assert (four, 1) in expected and (four - 4, 0) in expected
    ws = backend.WordSet(words)
    assert ws.find_all_in_file(path, threads=2, scan="fast") == expected
    if info(backend.__name__.rsplit(".", 1)[1]).native:  # a second pass: cheap on the native cores only
        assert ws.count_each_in_file(path, scan="fast") == [3, 3, 1]


# --- concurrency ------------------------------------------------------------------------

def test_many_threads_share_one_word_set(backend):
    words = [b"3J1", b"J1y", b"xx", b"y3"]
    ws = backend.WordSet(words)
    shared = (b"xx3J1y" * 3000) + b"3J13J1"
    expected = ref_words(shared, words)
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker(i: int) -> None:
        try:
            own = bytes([65 + i]) * (1000 + i) + b"3J1" * i
            barrier.wait()
            for _ in range(3):
                assert ws.find_all(shared, threads=2, _min_chunk=4096) == expected
                assert ws.count_each(own, threads=3, _min_chunk=64) == [i, 0, 0, 0]
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    run_threads(worker, 8, errors)


def test_larger_sets_match_reference(backend):
    # past the small-set filters (Teddy): the prefix filter with verification, short words
    # included (a weak filter: the fallback to the automaton), on a small alphabet
    differential(backend, 60, check, st.lists(st.sampled_from(b"abc\x00"), max_size=2000).map(bytes),
                 st.lists(st.lists(st.sampled_from(b"abc\x00"), min_size=1, max_size=7).map(bytes),
                          min_size=40, max_size=160),
                 st.integers(1, 4), 211)


def test_a_file_shorter_than_its_size_gives_what_could_be_read(backend, tmp_path):
    # what every core does when a file shrinks after the frontend's fstat: the matches in the
    # bytes that could be read, no error (deterministic: the size given is too large); the
    # one test of it for every backend (test_native.py cuts a file during a search). Native
    # cores also read in small blocks (``_block``), so the end falls inside a block or on
    # its edge, and a block is read short
    data = b"x3J1 J13J1" * 5000
    path = tmp_path / "short.bin"
    path.write_bytes(data)
    words = [b"3J1", b"J1", b"1 J"]
    expected = ref_words(data, words)
    each = [sum(1 for _, i in expected if i == k) for k in range(len(words))]
    offsets = [i for i, k in expected if k == 0]
    pattern = backend.core.compile_pattern(b"3J1")
    compiled = backend.core.compile_words(words, False)
    native = info(backend.__name__.rsplit(".", 1)[1]).native
    blocks = (0, 7, 10, 4096) if native else (0,)
    fd = os.open(path, os.O_RDONLY)
    try:
        for scan in backend.SCANS:
            for threads, min_chunk in ((1, 1 << 20), (3, 4096), (4, 1000)):
                opts = dict(threads=threads, min_chunk=min_chunk, scan=scan)
                for block in blocks:
                    where = (scan, threads, min_chunk, block)
                    n = len(data)
                    assert core_search(pattern, (fd, n + 10_000), "count", **opts, block=block) == len(offsets), where
                    assert core_search(pattern, (fd, n + 1), "offsets", **opts, block=block) == offsets, where
                    assert core_search(compiled, (fd, n + 10_000), "pairs", **opts, block=block) == expected, where
                    assert core_search(compiled, (fd, n * 3), "count", **opts, block=block) == len(expected), where
                    assert core_search(compiled, (fd, n + 7), "each", **opts, block=block) == each, where
    finally:
        os.close(fd)


# --- as_array: the core's arrays as they are ---------------------------------------------------

@pytest.mark.parametrize("ignore_case", [False, True])
def test_arrays_equal_lists(backend, tmp_path, ignore_case):
    # every backend's as_array results (the core's arrays) against its lists (made from them
    # by the Python layer) and the reference: array('q') of offsets for a Pattern,
    # (array('q'), array('i')) for a WordSet, in the same order; empty results, an empty
    # haystack, a one-word set (the Pattern's core asked for pairs), and matches on both
    # sides of chunk boundaries (a small min_chunk, several threads); memory and files
    import random

    rnd = random.Random(5)
    hays = [b"", b"x", b"ushers and hers, she said" * 3,
            bytes(rnd.choice(b"aAb3J\x00\xff") for _ in range(3000))]
    word_sets = [[b"he", b"she", b"hers"], [b"a"], [b"zz", b"qq"], [b"a", b"aA", b"b3", b"J\x00"]]
    needles = [b"he", b"a", b"zz", b"aa", b"\x00\xff"]
    slow = backend.__name__.endswith(".multiprocessing")
    opts_list = [(1, 1 << 20), (3, 50)] if not slow else [(2, 200)]
    for k, hay in enumerate(hays):
        path = tmp_path / f"h{k}"
        path.write_bytes(hay)
        objs = [backend.WordSet(ws, ignore_case=ignore_case) for ws in word_sets]
        if not ignore_case:
            objs += [backend.compile(n) for n in needles]
        for obj in objs:
            pairs = isinstance(obj, kmpsearch.WordSet)
            want = ref_words(hay, obj.words, ignore_case) if pairs else \
                [i for i in range(len(hay)) if hay.startswith(obj.needle, i)]
            for threads, min_chunk in opts_list:
                for scan in backend.SCANS:
                    opts = dict(threads=threads, scan=scan, _min_chunk=min_chunk)
                    listed = obj.find_all(hay, **opts)
                    got = obj.find_all(hay, as_array=True, **opts)
                    got_fd = obj.find_all_in_file(path, as_array=True, **opts)
                    assert listed == want
                    assert obj.find_all_in_file(path, **opts) == want
                    for arrays in (got, got_fd):
                        if pairs:
                            offsets, words = arrays
                            assert (offsets.typecode, words.typecode) == ("q", "i")
                            assert list(zip(offsets, words)) == listed, (obj, threads, scan)
                        else:
                            assert arrays.typecode == "q"
                            assert list(arrays) == listed, (obj, threads, scan)
