"""Cython backend specifics the conformance suite does not reach, on the core
``kmpsearch._kmp_cython`` through its one entry, ``search(source, want, options)``
(``kmpsearch._contract``).

Single pattern:

* the "fast" scan's state-0 skip (a SIMD pair search): candidates (the needle, its first
  byte, its first two bytes) at every offset modulo 64, in long sparse haystacks; the
  adversarial needles the pair is chosen against;
* the file kernel's 1 MiB read blocks: a needle split across a block end at every split
  point, a needle longer than a block (files that shrink, the plan and read errors: test_native.py).

The core contract:

* compiled patterns: arguments (``want``, every option, file ranges), str subclasses for
  ``scan``, ``simd`` and ``want``, file ranges given a size;
* compiled word sets against a naive reference (every start, every word): hypothesis over
  small alphabets, prefix/suffix chains, words inside words, NUL and high bytes,
  ignore_case (ASCII letters only), 1-9 threads with tiny chunks, words longer than a
  chunk, both scans, both automaton forms, the fallback from the filter to the automaton
  (forced with tiny segments and budgets, and natural: ``a``*100k with a^1..a^40, 500 words
  sharing a prefix), 100,000 words, files read in blocks of any size;
* ``simd``: "auto" and the forced levels, str subclasses accepted (their answers, the
  immutability of compiled objects, sharing them between threads, a file shorter than the
  size given and threads that cannot start: test_native.py and test_words.py);
* ``FileBatch`` (beyond test_contract.py): every SIMD level and scan, read blocks from one
  byte up, 1 to MAX_THREADS threads over thousands of paths, files bigger than a read block
  and than the workers' first buffer, symlinks, FIFOs, directories, the paths checked,
  cancelling while the workers run, workers whose threads cannot start, one compiled object
  searching batches from several Python threads at once.

Skipped when the Cython backend is not built, unless KMPSEARCH_REQUIRE names it.
"""

from __future__ import annotations

import enum
import errno
import os
import random
import subprocess
import sys
import threading
import time
from array import array

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kmpsearch
from conftest import load_backend, ref_find_all
from kmpsearch._contract import BIG, DEFAULT_MIN_CHUNK, MAX_THREADS, STREAM, FileBatch, FileRange, Options

BLOCK = 1 << 20  # the file kernel's read block (DEFAULT_BLOCK, cython/_runner.pxi)
SCANS = ("fast", "textbook")


@pytest.fixture(scope="module")
def core():
    core = load_backend("cython").core
    assert core.__name__ == "kmpsearch._kmp_cython"
    return core


def opts(scan="fast", threads=None, _min_chunk=None, **kw):
    """Options as the public functions make them: ``threads`` None every usable CPU,
    ``_min_chunk`` None the default."""
    return Options(threads=min(kmpsearch.default_threads(), MAX_THREADS) if threads is None else threads,
                   min_chunk=DEFAULT_MIN_CHUNK if _min_chunk is None else _min_chunk, scan=scan, **kw)


def offsets(result) -> list[int]:
    """An "offsets" result as a list, after checking its type."""
    assert isinstance(result, array) and result.typecode == "q"
    return result.tolist()


def pairs(result) -> list[tuple[int, int]]:
    """A "pairs" result as a list of (offset, word index), after checking its types."""
    offs, ids = result
    assert isinstance(offs, array) and offs.typecode == "q"
    assert isinstance(ids, array) and ids.typecode == "i"
    assert len(offs) == len(ids)
    return list(zip(offs, ids))


def find(core, haystack, needle, **kw) -> list[int]:
    return offsets(core.compile_pattern(needle).search(memoryview(haystack), "offsets", opts(**kw)))


def count(core, haystack, needle, **kw) -> int:
    return core.compile_pattern(needle).search(memoryview(haystack), "count", opts(**kw))


def in_file(core, path, needle, want, **kw):
    """``want`` of ``needle`` over the whole file at ``path``."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return core.compile_pattern(needle).search(FileRange(fd, 0, os.fstat(fd).st_size), want, opts(**kw))
    finally:
        os.close(fd)


def _check(core, haystack, needle, **kw):
    expected = ref_find_all(haystack, needle)
    for scan in SCANS:
        assert find(core, haystack, needle, scan=scan, **kw) == expected, (needle, scan, kw)
        assert count(core, haystack, needle, scan=scan, **kw) == len(expected), (needle, scan, kw)
    return expected


@pytest.mark.parametrize("needle", [b"3", b"3J", b"3J1", b"33", b"333J", b"J1J1J", b"\x00\xff\x00", b"\xff" * 5])
def test_skip_finds_candidates_at_every_offset(core, needle):
    rnd = random.Random(hash(needle) & 0xFFFF)
    filler = bytes(range(0x40, 0x50))  # bytes no needle above contains
    decoys = [needle, needle[:1], needle[:2], needle[:-1], needle[:1] * 3, needle + needle[1:]]
    parts = []
    for gap in range(0, 200):
        parts.append(bytes(rnd.choice(filler) for _ in range(gap)))
        parts.append(rnd.choice(decoys))
    haystack = b"".join(parts)
    assert len(ref_find_all(haystack, needle)) > 30
    _check(core, haystack, needle)
    _check(core, haystack, needle, threads=3, _min_chunk=997)
    _check(core, haystack, needle, threads=7, _min_chunk=1)


def test_skip_with_candidates_near_the_window_end(core):
    for n in range(60, 140):
        for tail in (b"3", b"3J", b"3J1"):
            haystack = b"." * (n - len(tail)) + tail
            assert _check(core, haystack, b"3J1") == ([n - 3] if tail == b"3J1" else [])
            _check(core, haystack, tail[:1])


def test_dense_and_adversarial_inputs(core):
    _check(core, b"ab" * 5000, b"ab", threads=2, _min_chunk=100)
    _check(core, b"ac" * 5000, b"ab", threads=2, _min_chunk=100)
    _check(core, b"a" * 20000, b"a" * 99 + b"b", threads=3, _min_chunk=1000)
    _check(core, (b"a" * 99 + b"b") * 200, b"a" * 99 + b"b", threads=3, _min_chunk=1000)
    _check(core, b"aab" * 5000, b"aabaabaab", threads=4, _min_chunk=11)


def test_many_matches_in_order(core):
    n = 300_000
    assert find(core, b"a" * n, b"a", threads=3, _min_chunk=1000) == list(range(n))
    assert find(core, b"a" * n, b"aa", threads=5, _min_chunk=7) == list(range(n - 1))
    assert count(core, bytearray(n), b"\x00\x00\x00", threads=2, _min_chunk=1) == n - 2


def test_file_needle_split_across_read_blocks_at_every_point(core, tmp_path):
    needle = b"<abcabd!>"
    m = len(needle)
    data = bytearray(b"." * ((m + 1) * BLOCK))
    # block b (b >= 1) ends at offset b * BLOCK: put a copy of the needle across it, split after j bytes
    expected = []
    for j in range(1, m):
        off = j * BLOCK - j
        data[off:off + m] = needle
        expected.append(off)
    data[:m] = needle
    data[-m:] = needle
    expected = [0] + expected + [len(data) - m]
    path = tmp_path / "split.bin"
    path.write_bytes(data)
    for scan in SCANS:
        assert offsets(in_file(core, path, needle, "offsets", threads=1, scan=scan)) == expected
        assert offsets(in_file(core, path, needle, "offsets", threads=2, scan=scan)) == expected
        assert in_file(core, path, needle, "count", threads=3, _min_chunk=BLOCK // 3, scan=scan) == len(expected)


def test_file_needle_longer_than_a_read_block(core, tmp_path):
    needle = random.Random(4).randbytes(BLOCK + BLOCK // 2)
    data = b"x" * 1000 + needle + b"y" + needle + needle + b"z" * 777
    path = tmp_path / "long.bin"
    path.write_bytes(data)
    expected = [1000, 1001 + len(needle), 1001 + 2 * len(needle)]
    for threads, min_chunk in ((1, None), (2, 1), (3, 1000)):
        assert offsets(in_file(core, path, needle, "offsets", threads=threads, _min_chunk=min_chunk)) == expected
        assert in_file(core, path, needle, "count", threads=threads, _min_chunk=min_chunk, scan="textbook") == 3

def test_module_surface(core):
    # (no mutable state in it, compiled objects immutable: test_native.py)
    public = {k for k in vars(core) if not k.startswith("__")}
    assert public == {"compile_pattern", "compile_words", "plan", "Pattern", "WordSet"}


def test_kernels_check_their_arguments(core):
    p = core.compile_pattern(b"b")
    view = memoryview(b"abc")
    for bad in (Options(threads=1, min_chunk=1, scan="bogus"), Options(threads=0, min_chunk=1),
                Options(threads=257, min_chunk=1), Options(threads=1, min_chunk=0),
                Options(threads=1, min_chunk=2**63), Options(threads=1, min_chunk=1, simd="avx512"),
                Options(block=-1), Options(block=2**40 + 1)):
        for want in ("count", "each", "offsets", "pairs"):
            with pytest.raises(ValueError):
                p.search(view, want, bad)
    with pytest.raises(ValueError):
        core.compile_pattern(b"")
    for bad in ("lines", "Count", "", None, b"count"):
        with pytest.raises(ValueError):
            p.search(view, bad, Options())
    with pytest.raises(ValueError):
        p.search(FileRange(0, -1, 10), "count", Options())
    with pytest.raises(ValueError):
        p.search(FileRange(0, 0, -1), "count", Options())
    assert p.search(memoryview(b"abcb"), "count", Options(threads=256, min_chunk=1)) == 2
    assert offsets(p.search(memoryview(b"abcb"), "offsets", Options(threads=3, min_chunk=2**63 - 1,
                                                                     scan="textbook"))) == [1, 3]
    # read-only buffers are searched in place
    assert offsets(core.compile_pattern(b"ab").search(memoryview(b"xabx").toreadonly(), "offsets",
                                                      Options(threads=2, min_chunk=1))) == [1]


def test_adversarial_needles_for_the_pair_search(core):
    # the pair's second byte is the needle's last byte that differs from its first one
    for needle in (b"a" * 99 + b"b", b"a" * 50 + b"b" + b"a" * 49, b"ab" + b"a" * 40, b"a" * 30):
        for hay in (b"a" * 5000, b"a" * 2000 + needle + b"a" * 2000 + needle,
                    (b"a" * 98 + b"b") * 60, (needle[:-1] + b"c") * 40 + needle):
            _check(core, hay, needle)
            _check(core, hay, needle, threads=4, _min_chunk=333)


# --- word sets ---------------------------------------------------------------------------

def fold(data: bytes) -> bytes:
    return bytes(c + 32 if 65 <= c <= 90 else c for c in data)


def ref_words(words, hay, ignore_case=False):
    """Naive reference: every start, every word (sorted by start, then word index)."""
    h = fold(hay) if ignore_case else hay
    ws = [fold(w) if ignore_case else w for w in words]
    return [(p, i) for p in range(len(h)) for i, w in enumerate(ws) if h.startswith(w, p)]


def ref_words_by_length(words, hay, ignore_case=False):
    """The same answer for many words: one dict lookup per start and distinct length."""
    h = fold(hay) if ignore_case else hay
    by_len: dict[int, dict[bytes, int]] = {}
    for i, w in enumerate(words):
        by_len.setdefault(len(w), {})[fold(w) if ignore_case else w] = i
    out = []
    for p in range(len(h)):
        found = [d[h[p:p + n]] for n, d in by_len.items() if h[p:p + n] in d]
        out.extend((p, i) for i in sorted(found))
    return out


def each_of(expected, nwords):
    counts = [0] * nwords
    for _, i in expected:
        counts[i] += 1
    return counts


def check_words(core, words, hay, ignore_case=False, *, expected=None,
                runs=((1, 1 << 20), (2, 1), (3, 7), (9, 1)), forms=("auto",), **knobs):
    """Every want, both scans, the given (threads, min_chunk) runs, in memory."""
    if expected is None:
        expected = ref_words(words, hay, ignore_case)
    each = each_of(expected, len(words))
    view = memoryview(hay)
    if "_form" in knobs:
        forms = (knobs.pop("_form"),)
    for form in forms:
        ws = core.compile_words(words, ignore_case, _form=form, **knobs)
        for scan in SCANS:
            for threads, min_chunk in runs:
                where = (form, scan, threads, min_chunk, knobs)
                o = Options(threads=threads, min_chunk=min_chunk, scan=scan)
                assert pairs(ws.search(view, "pairs", o)) == expected, where
                assert offsets(ws.search(view, "offsets", o)) == [p for p, _ in expected], where
                assert ws.search(view, "count", o) == len(expected), where
                assert offsets(ws.search(view, "each", o)) == each, where
    return expected


def distinct(words, ignore_case):
    seen, out = set(), []
    for w in words:
        key = fold(w) if ignore_case else w
        if w and key not in seen:
            seen.add(key)
            out.append(w)
    return out


ALPHABETS = (b"ab", b"abc", b"aA[{@`", b"\x00\x80\xff", b"aAbB")


@st.composite
def word_cases(draw):
    alphabet = draw(st.sampled_from(ALPHABETS))
    sym = st.sampled_from(alphabet)
    ignore_case = draw(st.booleans())
    base = bytes(draw(st.lists(sym, min_size=1, max_size=12)))
    # words: free ones, and pieces of base (prefix and suffix chains, words inside words)
    pieces = []
    for _ in range(draw(st.integers(0, 8))):
        i = draw(st.integers(0, len(base) - 1))
        j = draw(st.integers(i + 1, len(base)))
        pieces.append(base[i:j])
    free = [bytes(w) for w in draw(st.lists(st.lists(sym, min_size=1, max_size=7), max_size=8))]
    words = distinct(draw(st.permutations(pieces + free + [base])), ignore_case)
    text = bytes(draw(st.lists(sym, max_size=150)))
    reps = draw(st.integers(0, 6))
    hay = base * reps + text if draw(st.booleans()) else text + base * reps
    return words, hay, ignore_case


RUN_KNOBS = st.sampled_from([
    {},                                              # the defaults
    {"_form": "compact"}, {"_form": "dense"},
    {"_form": "compact", "_rows": 1}, {"_form": "compact", "_rows": 3},
    {"_segment": 1, "_budget": 0},                   # the automaton takes over everywhere
    {"_segment": 5, "_budget": 1}, {"_segment": 3, "_budget": 0, "_form": "compact", "_rows": 2},
    {"_simd": False}, {"_hashes": 1}, {"_filter_bits_per_word": 1},
    {"_teddy": True}, {"_teddy": True, "_segment": 2, "_budget": 1}, {"_teddy": False},
    {"_split_min": 1}, {"_split_min": 3, "_form": "compact", "_rows": 2},   # 4 automaton streams
    {"_split_min": 2, "_segment": 64, "_budget": 0},
])


@given(case=word_cases(), knobs=RUN_KNOBS, threads=st.integers(1, 9), min_chunk=st.integers(1, 20))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_word_sets_match_the_naive_reference(core, case, knobs, threads, min_chunk):
    words, hay, ignore_case = case
    expected = ref_words(words, hay, ignore_case)
    check_words(core, words, hay, ignore_case, expected=expected,
                runs=((1, 1 << 20), (threads, min_chunk)), **knobs)


def test_ushers(core):
    words = [b"he", b"she", b"hers"]
    for form in ("dense", "compact"):
        ws = core.compile_words(words, False, _form=form)
        for scan in SCANS:
            assert pairs(ws.search(memoryview(b"ushers"), "pairs", Options(threads=1, min_chunk=1, scan=scan))) \
                == [(1, 1), (2, 0), (2, 2)]


def test_ignore_case_is_ascii_letters_only(core):
    words = [b"[", b"@x", b"a", b"\xe9", b"Z{"]
    hay = b"{`X[@XA\xc9\xe9Az[z{Z{"
    expected = check_words(core, words, hay, True, forms=("dense", "compact"))
    assert expected == [(3, 0), (4, 1), (6, 2), (8, 3), (9, 2), (11, 0), (12, 4), (14, 4)]
    expected = check_words(core, words, hay, False, forms=("dense", "compact"))
    assert expected == [(3, 0), (8, 3), (11, 0), (14, 4)]
    # letters against their non-letter partners (0x20 apart): never equal
    pairs = [(b"[", b"{"), (b"@", b"`"), (b"]", b"}"), (b"^", b"~"), (b"\\", b"|"), (b"_", b"\x7f")]
    for a, b in pairs:
        check_words(core, [a], b * 20 + a, True)
        check_words(core, [b + b"q"], (a + b"Q") * 20, True)


def test_nul_and_high_bytes(core):
    rnd = random.Random(7)
    alphabet = b"\x00\x01\x7f\x80\xfe\xff"
    hay = bytes(rnd.choice(alphabet) for _ in range(3000))
    words = distinct([bytes(rnd.choice(alphabet) for _ in range(rnd.randint(1, 6))) for _ in range(40)], False)
    check_words(core, words, hay, forms=("dense", "compact"))
    check_words(core, words, hay, True)


def test_threads_and_words_longer_than_a_chunk(core):
    rnd = random.Random(3)
    hay = bytes(rnd.choice(b"ab") for _ in range(400))
    words = distinct([hay[i:i + n] for i, n in ((0, 60), (5, 1), (100, 2), (7, 3), (200, 90), (50, 7))]
                     + [b"ab" * 30, b"ba"], False)
    runs = [(t, c) for t in range(1, 10) for c in (1, 2, 5, 60)]
    check_words(core, words, hay, runs=runs, forms=("dense", "compact"))
    # a haystack shorter than the longest word: one chunk, and the shorter words are found
    check_words(core, [b"a" * 50, b"ab", b"b"], b"abba", runs=runs)


def test_empty_haystack_and_one_byte_haystacks(core):
    ws = core.compile_words([b"a", b"bc"], False)
    for scan in SCANS:
        o = Options(threads=4, min_chunk=1, scan=scan)
        assert ws.search(memoryview(b""), "count", o) == 0
        assert offsets(ws.search(memoryview(b""), "each", o)) == [0, 0]
        assert pairs(ws.search(memoryview(b""), "pairs", o)) == []
        assert offsets(ws.search(memoryview(b""), "offsets", o)) == []
        assert pairs(ws.search(memoryview(b"a"), "pairs", o)) == [(0, 0)]
        assert pairs(ws.search(memoryview(b"b"), "pairs", o)) == []


def test_fallback_a_run_with_words_a1_to_a40(core):
    n = 100_000
    order = list(range(1, 41))
    random.Random(5).shuffle(order)             # word index order is not length order
    words = [b"a" * j for j in order]
    hay = b"a" * n
    each = [n - j + 1 for j in order]
    for form in ("auto", "compact"):
        ws = core.compile_words(words, False, _form=form)
        for scan in SCANS:
            for threads, min_chunk in ((1, 1 << 20), (2, 1), (5, 1000)):
                o = Options(threads=threads, min_chunk=min_chunk, scan=scan)
                assert ws.search(memoryview(hay), "count", o) == sum(each)
                assert offsets(ws.search(memoryview(hay), "each", o)) == each
    # the list on a shorter run (40 matches per start)
    short = b"a" * 5000
    rank = sorted(range(40), key=lambda i: i)
    expected = [(p, i) for p in range(len(short)) for i in rank if p + order[i] <= len(short)]
    check_words(core, words, short, expected=expected, runs=((1, 1 << 20), (3, 100), (9, 1)),
                forms=("auto", "compact"))


def test_fallback_500_words_sharing_a_prefix(core):
    rnd = random.Random(11)
    words = [b"prefix-" + str(i).encode() for i in range(500)]
    rnd.shuffle(words)
    parts = [b"prefix-" + str(rnd.randrange(700)).encode() for _ in range(3000)]
    hay = b"".join(parts) + b"prefix-" * 3000 + b"prefix-49"
    expected = ref_words_by_length(words, hay)
    assert len(expected) > 2000
    check_words(core, words, hay, expected=expected, runs=((1, 1 << 20), (2, 1), (7, 999)),
                forms=("auto", "compact"))
    check_words(core, words, hay.upper(), True, expected=expected, runs=((2, 1),))


def test_one_hundred_thousand_words(core):
    rnd = random.Random(2024)
    alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    words = distinct([bytes(rnd.choice(alphabet) for _ in range(rnd.randint(4, 12)))
                      for _ in range(100_500)], False)[:100_000]
    assert len(words) == 100_000
    noise = bytes(rnd.choice(alphabet + b" ") for _ in range(300_000))
    hay = bytearray(noise)
    for _ in range(2000):
        w = rnd.choice(words)
        at = rnd.randrange(len(hay) - len(w))
        hay[at:at + len(w)] = w
    hay = bytes(hay)
    expected = ref_words_by_length(words, hay)
    assert len(expected) >= 2000
    ws = core.compile_words(words, False)
    assert ws._layout["form"] == "compact"
    assert ws.memory_bytes > 1_000_000
    each = each_of(expected, len(words))
    for scan in SCANS:
        for threads, min_chunk in ((1, 1 << 20), (3, 1000)):
            o = Options(threads=threads, min_chunk=min_chunk, scan=scan)
            assert pairs(ws.search(memoryview(hay), "pairs", o)) == expected
            assert offsets(ws.search(memoryview(hay), "each", o)) == each
    words = distinct(words, True)
    expected = ref_words_by_length(words, hay, True)
    half = len(words) // 2
    ws = core.compile_words(words[:half] + [w.upper() for w in words[half:]], True)
    for scan in SCANS:
        assert ws.search(memoryview(hay.swapcase()), "count", Options(threads=2, min_chunk=1, scan=scan)) \
            == len(expected)


def test_word_files_in_blocks_of_any_size(core, tmp_path):
    rnd = random.Random(17)
    hay = bytes(rnd.choice(b"abc") for _ in range(700))
    words = distinct([hay[i:i + n] for i, n in ((3, 1), (10, 5), (99, 13), (300, 40))]
                     + [b"abc", b"cc", b"ab" * 3], False)
    expected = ref_words(words, hay)
    each = each_of(expected, len(words))
    path = tmp_path / "words.bin"
    path.write_bytes(hay)
    fd = os.open(path, os.O_RDONLY)
    try:
        ws = core.compile_words(words, False)
        for block in (1, 2, 3, 7, 39, 40, 41, 100, 699, 700, 0):
            for scan in SCANS:
                for threads, min_chunk in ((1, 1 << 20), (3, 50), (9, 1)):
                    o = Options(threads=threads, min_chunk=min_chunk, scan=scan, block=block)
                    source = FileRange(fd, 0, len(hay))
                    assert pairs(ws.search(source, "pairs", o)) == expected, (block, scan, threads)
                    assert ws.search(source, "count", o) == len(expected)
                    assert offsets(ws.search(source, "each", o)) == each
        assert os.lseek(fd, 0, os.SEEK_CUR) == 0        # pread only: the position is untouched
    finally:
        os.close(fd)


def test_pattern_files_given_a_size(core, tmp_path):
    hay = (b"ab" * 50 + b"aab") * 100
    path = tmp_path / "p.bin"
    path.write_bytes(hay)
    fd = os.open(path, os.O_RDONLY)
    try:
        for needle in (b"aab", b"b", b"ab" * 60, b"ba" * 7 + b"aab"):
            pat = core.compile_pattern(needle)
            for scan in SCANS:
                for block in (0, 1, 3, 64, 101):
                    for threads, min_chunk in ((1, 1 << 20), (4, 3)):
                        o = Options(threads=threads, min_chunk=min_chunk, scan=scan, block=block)
                        whole = FileRange(fd, 0, len(hay))
                        assert offsets(pat.search(whole, "offsets", o)) == ref_find_all(hay, needle)
                        assert pat.search(whole, "count", o) == len(ref_find_all(hay, needle))
                        assert offsets(pat.search(FileRange(fd, 0, 500), "offsets", o)) == ref_find_all(hay[:500], needle)
    finally:
        os.close(fd)


class Scan(enum.StrEnum):
    FAST = "fast"
    TEXTBOOK = "textbook"


class Want(enum.StrEnum):
    COUNT = "count"
    EACH = "each"
    OFFSETS = "offsets"
    PAIRS = "pairs"


class Simd(enum.StrEnum):
    AUTO = "auto"
    SCALAR = "scalar"
    SSE2 = "sse2"
    AVX2 = "avx2"


def test_arguments_str_subclasses_and_simd(core):
    pat = core.compile_pattern(b"ab")
    ws = core.compile_words([b"ab", b"b"], False)
    view = memoryview(b"xabab")
    for scan in Scan:
        o = Options(threads=2, min_chunk=1, scan=scan)
        assert offsets(pat.search(view, "offsets", o)) == [1, 3]
        assert pairs(ws.search(view, "pairs", o)) == [(1, 0), (2, 1), (3, 0), (4, 1)]
    for level in Simd:   # forced levels (test_native.py checks their answers)
        o = Options(threads=2, min_chunk=1, simd=level)
        assert offsets(pat.search(view, "offsets", o)) == [1, 3]
        assert pairs(ws.search(view, "pairs", o)) == [(1, 0), (2, 1), (3, 0), (4, 1)]
    for want in (Want.COUNT, Want.EACH, Want.OFFSETS, Want.PAIRS):   # str subclasses for want too
        assert ws.search(view, want, Options()) == ws.search(view, str(want), Options())
    for bad in ("avx512", "Auto", "", None, b"auto"):
        with pytest.raises(ValueError):
            pat.search(view, "count", Options(threads=1, min_chunk=1, simd=bad))
        with pytest.raises(ValueError):
            ws.search(view, "count", Options(threads=1, min_chunk=1, simd=bad))
    for bad in ("Fast", None, b"fast"):
        with pytest.raises(ValueError):
            ws.search(view, "count", Options(threads=1, min_chunk=1, scan=bad))
    with pytest.raises(ValueError):
        ws.search(view, "count", Options(threads=0, min_chunk=1))
    with pytest.raises(ValueError):
        ws.search(view, "count", Options(threads=1, min_chunk=0))
    for bad in ("lines", "", None, b"pairs"):
        with pytest.raises(ValueError):
            ws.search(view, bad, Options())
    with pytest.raises(ValueError):
        core.compile_words([], False)
    with pytest.raises(ValueError):
        core.compile_words([b"a", b""], False)
    with pytest.raises(ValueError):
        core.compile_words([b"ab", b"ab"], False)
    with pytest.raises(ValueError):
        core.compile_words([b"ab", b"AB"], True)
    assert core.compile_words([b"ab", b"AB"], False).n_words == 2
    assert len(core.compile_words([b"ab", b"AB", b"c"], False)) == 3 and len(core.compile_pattern(b"abc")) == 3
    with pytest.raises(TypeError):
        core.compile_words(["ab"], False)
    with pytest.raises(TypeError):
        core.Pattern()
    with pytest.raises(TypeError):
        core.WordSet()
    # bytes-like words and needles are copied; memory_bytes is an int
    ws = core.compile_words([bytearray(b"ab"), memoryview(b"b")], False)
    assert pairs(ws.search(view, "pairs", Options(threads=1, min_chunk=1))) == [(1, 0), (2, 1), (3, 0), (4, 1)]
    assert isinstance(ws.memory_bytes, int) and ws.memory_bytes > 0
    assert isinstance(pat.memory_bytes, int) and pat.memory_bytes > 0


# --- FileBatch ----------------------------------------------------------------------------

WANTS = ("count", "each", "offsets", "pairs")


def batch_plain(result, want):
    """A batch's ``(status, found)`` as lists, after checking their types:
    ``(status, [per-file result])`` (a file's count, counts, offsets or pairs)."""
    status, found = result
    assert isinstance(status, array) and status.typecode == "q"
    n = len(status)
    if want in ("count", "each"):
        assert isinstance(found, array) and found.typecode == "q"
        per = len(found) // n if n else 0
        assert len(found) == n * per
        got = [found[i] if want == "count" else found[i * per:(i + 1) * per].tolist() for i in range(n)]
        return status.tolist(), got
    bounds, offs, *ids = found
    assert [a.typecode for a in found] == ["q", "q"] + (["i"] if want == "pairs" else [])
    assert len(bounds) == n + 1 and bounds[0] == 0 and bounds[n] == len(offs)
    if ids:
        assert len(ids[0]) == len(offs)
    got = []
    for i in range(n):
        lo, hi = bounds[i], bounds[i + 1]
        got.append(offs[lo:hi].tolist() if want == "offsets" else list(zip(offs[lo:hi], ids[0][lo:hi])))
    return status.tolist(), got


def batch_expected(hays, statuses, words, ignore_case, want):
    """The reference ``batch_plain`` of files ``hays`` of the given statuses (0: searched)."""
    out = []
    for hay, st in zip(hays, statuses):
        found = ref_words(words, hay, ignore_case) if st == 0 else []
        if want == "count":
            out.append(len(found))
        elif want == "each":
            out.append(each_of(found, len(words)))
        elif want == "offsets":
            out.append([p for p, _ in found])
        else:
            out.append(found)
    return statuses, out


def make_tree(tmp_path, rnd, sizes, alphabet=b"abcab"):
    """Files of the given sizes (random bytes of ``alphabet``); returns (paths, hays)."""
    paths, hays = [], []
    for k, size in enumerate(sizes):
        hay = bytes(rnd.choice(alphabet) for _ in range(size))
        path = tmp_path / f"f{k}"
        path.write_bytes(hay)
        paths.append(os.fsencode(path))
        hays.append(hay)
    return paths, hays


def test_batch_every_level_scan_block_and_thread_count(core, tmp_path):
    rnd = random.Random(20261208)
    max_size = 3000
    sizes = [1, 2, 3, 5, 40, 41, 200, 999, 1000, 1001, 2999, 3000, 3001, 0, 17, 2500] \
        + [rnd.randrange(1, 2800) for _ in range(24)]
    paths, hays = make_tree(tmp_path, rnd, sizes)
    statuses = [STREAM if not n else BIG if n >= max_size else 0 for n in sizes]
    (tmp_path / "d").mkdir()
    os.symlink(paths[6], tmp_path / "link")                  # followed: the file's answers
    os.symlink(tmp_path / "d", tmp_path / "dlink")
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling")
    os.mkfifo(tmp_path / "fifo")
    extra = [("link", 0, hays[6]), ("d", errno.EISDIR, b""), ("dlink", errno.EISDIR, b""),
             ("dangling", errno.ENOENT, b""), ("fifo", STREAM, b""), ("missing", errno.ENOENT, b""),
             ("f0/x", errno.ENOTDIR, b"")]
    for name, st_, hay in extra:
        at = rnd.randrange(len(paths) + 1)
        paths.insert(at, os.fsencode(tmp_path / name))
        statuses.insert(at, st_)
        hays.insert(at, hay)
    batch = FileBatch(tuple(paths), max_size)
    cases = [([b"ab"], False, True), ([b"a"], False, True), ([b"cab" * 20], False, True),
             ([b"ab", b"b", b"cabca", b"a" * 9], False, False), ([b"AB", b"bc", b"Cab" * 30], True, False)]
    for words, ignore_case, one in cases:
        obj = core.compile_pattern(words[0]) if one else core.compile_words(words, ignore_case)
        expected = {want: batch_expected(hays, statuses, words, ignore_case, want) for want in WANTS}
        for level in ("auto", "scalar", "sse2", "avx2"):
            for scan in SCANS:
                runs = [(0, 1), (7, 3), (1000, 17), (1, 2)] if level == "auto" else [(0, 2), (5, 3)]
                for block, threads in runs:
                    o = Options(threads=threads, scan=scan, simd=level, block=block)
                    for want in WANTS:
                        got = batch_plain(obj.search(batch, want, o), want)
                        assert got == expected[want], (words, level, scan, block, threads, want)


def test_batch_many_paths_many_threads_and_big_files(core, tmp_path):
    rnd = random.Random(5)
    paths, hays = make_tree(tmp_path, rnd, [rnd.randrange(1, 4000) for _ in range(60)], b"abcab\n")
    # files bigger than the workers' first buffer (64 KiB) and than a read block (1 MiB),
    # among the small ones, so that the buffers grow while the workers run
    for k, size in enumerate((70_000, 200_000, 1_500_000, 3 << 20)):
        hay = bytearray(rnd.randbytes(size))
        for _ in range(size // 5000):
            at = rnd.randrange(size - 20)
            hay[at:at + 12] = rnd.choice((b"abc", b"b\nabc", b"cabcacabca"))
        (tmp_path / f"big{k}").write_bytes(hay)
        paths.append(os.fsencode(tmp_path / f"big{k}"))
        hays.append(bytes(hay))
    order = list(range(60)) * 40 + list(range(60, len(paths)))
    rnd.shuffle(order)
    batch = FileBatch(tuple(paths[i] for i in order), 4 << 20)
    for words in ([b"abc"], [b"abc", b"b\na", b"cabca" * 2]):
        obj = core.compile_pattern(words[0]) if len(words) == 1 else core.compile_words(words, False)
        pairs_of = [sorted((o, i) for i, w in enumerate(words) for o in ref_find_all(hay, w)) for hay in hays]
        per_file = {"count": [len(p) for p in pairs_of], "each": [each_of(p, len(words)) for p in pairs_of],
                    "offsets": [[o for o, _ in p] for p in pairs_of], "pairs": pairs_of}
        for threads in (1, 2, 64, MAX_THREADS):
            for want in WANTS:
                status, got = batch_plain(obj.search(batch, want, Options(threads=threads)), want)
                assert status == [0] * len(order)
                assert got == [per_file[want][i] for i in order], (words, threads, want)


def test_batch_paths_and_arguments(core, tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"xabab")
    pat = core.compile_pattern(b"ab")
    ws = core.compile_words([b"ab", b"b"], False)
    p = os.fsencode(path)
    # a list of paths is taken as well as a tuple; a 2-tuple is a batch, a 3-tuple a FileRange
    assert batch_plain(pat.search(FileBatch([p, p], 100), "offsets", Options()), "offsets") == ([0, 0], [[1, 3], [1, 3]])
    assert batch_plain(ws.search((((p,)), 6), "pairs", Options()), "pairs") == ([0], [[(1, 0), (2, 1), (3, 0), (4, 1)]])
    assert batch_plain(ws.search(FileBatch((p,), 5), "count", Options()), "count") == ([BIG], [0])
    assert batch_plain(ws.search(FileBatch((p,), 0), "each", Options()), "each") == ([BIG], [[0, 0]])
    assert batch_plain(pat.search(FileBatch((p,), 6), "each", Options()), "each") == ([0], [[2]])
    for obj in (pat, ws):
        with pytest.raises(TypeError):
            obj.search(FileBatch((os.fsdecode(p),), 100), "count", Options())
        with pytest.raises(ValueError):
            obj.search(FileBatch((p + b"\0x",), 100), "count", Options())
        with pytest.raises(ValueError):
            obj.search(FileBatch((p,), -1), "count", Options())
        with pytest.raises(ValueError):
            obj.search(FileBatch((p,), 100), "count", Options(threads=0))
        with pytest.raises(ValueError):
            obj.search(FileBatch((p,), 100), "lines", Options())
        with pytest.raises(TypeError):
            obj.search(FileBatch(None, 100), "count", Options())
        # nothing is left open: as many descriptors after a batch as before
        before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
        obj.search(FileBatch((p, os.fsencode(tmp_path), b"/nonexistent") * 100, 100), "pairs", Options(threads=3))
        if before is not None:
            assert len(os.listdir("/proc/self/fd")) == before


@pytest.mark.parametrize("one", [True, False], ids=["pattern", "words"])
def test_batch_cancelled_while_the_workers_run(core, tmp_path, one):
    path = tmp_path / "f"
    path.write_bytes(b"ab" * (1 << 19))          # 1 MiB read a byte at a time: ~1 s a file
    obj = core.compile_pattern(b"ab") if one else core.compile_words([b"ab", b"b"], False)
    cancel = bytearray(1)
    timer = threading.Timer(0.2, lambda: cancel.__setitem__(0, 1))
    timer.start()
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            obj.search(FileBatch((os.fsencode(path),) * 1000, 4 << 20), "offsets",
                       Options(threads=3, block=1, cancel=cancel))
    finally:
        timer.cancel()
    assert time.monotonic() - started < 30


def test_batch_from_several_python_threads(core, tmp_path):
    rnd = random.Random(11)
    paths, hays = make_tree(tmp_path, rnd, [rnd.randrange(1, 3000) for _ in range(50)])
    ws = core.compile_words([b"ab", b"cab", b"bca"], False)
    want = batch_expected(hays, [0] * len(hays), [b"ab", b"cab", b"bca"], False, "pairs")
    errors = []

    def worker(i):
        try:
            for _ in range(20):
                got = batch_plain(ws.search(FileBatch(tuple(paths), 1 << 20), "pairs", Options(threads=1 + i % 3)),
                                  "pairs")
                assert got == want
        except BaseException as exc:   # noqa: BLE001 -- reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


# Run in a child (python -c, argv[1]: a directory of files): an address space with room for
# a little more heap but none for a worker's stack (256 KiB), so no worker thread starts;
# their share must run on the calling thread, with the answers of a one-thread batch.
CHILD_BATCH_WITHOUT_THREADS = r"""
import os, resource, sys, threading
from kmpsearch._contract import FileBatch, Options
import kmpsearch._kmp_cython as core
d = sys.argv[1]
paths = tuple(os.fsencode(os.path.join(d, n)) for n in sorted(os.listdir(d))) * 2
ws = core.compile_words([b"ab", b"ca", b"b"], False)
pat = core.compile_pattern(b"cab")
def searches(threads):
    o = Options(threads=threads)
    out = []
    for obj in (ws, pat):
        for want in ("count", "each", "offsets", "pairs"):
            status, found = obj.search(FileBatch(paths, 1 << 20), want, o)
            out.append((status.tolist(), [a.tolist() for a in found] if isinstance(found, tuple) else found.tolist()))
    return out
want = searches(1)
with open("/proc/self/statm") as f:
    vm = int(f.read().split()[0]) * resource.getpagesize()
resource.setrlimit(resource.RLIMIT_AS, (vm + (160 << 10), resource.RLIM_INFINITY))
try:
    threading.Thread(target=lambda: None).start()
    sys.exit(3)
except RuntimeError:
    pass
got = {threads: searches(threads) for threads in (2, 8)}
resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
assert got == {2: want, 8: want}, (got, want)
print("ok")
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc and RLIMIT_AS")
def test_batch_workers_whose_thread_cannot_start_run_on_the_caller(core, tmp_path):
    rnd = random.Random(3)
    make_tree(tmp_path, rnd, [rnd.randrange(1, 300) for _ in range(12)])   # small results
    proc = subprocess.run([sys.executable, "-c", CHILD_BATCH_WITHOUT_THREADS, str(tmp_path)], capture_output=True,
                          text=True, timeout=300)
    if proc.returncode == 3:
        pytest.skip("threads still start under the address-space limit here")
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stdout + proc.stderr


# --- match semantics chosen in the core (Options.whole, .kind, .word_chars; _choose.pxi) ----

from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from itertools import product  # noqa: E402

from kmpsearch._contract import WANTS  # noqa: E402
from kmpsearch._results import from_pairs  # noqa: E402
from kmpsearch._semantics import KINDS, Chooser  # noqa: E402
from kmpsearch._wordchars import TABLE  # noqa: E402


def plain(result, want):
    """A result as lists, after checking its types."""
    if want == "count":
        assert type(result) is int
        return result
    if want == "pairs":
        return pairs(result)
    return offsets(result)


def chosen_by_reference(obj, hay, want, whole, kind, lengths, **kw):
    """``want`` of the matches ``Chooser`` keeps of the core's own candidates."""
    found = obj.search(memoryview(hay), "pairs", Options(**kw))
    return plain(from_pairs(Chooser(lengths, whole, kind).keep(memoryview(hay), 0, *found), want, len(lengths)), want)


def check_chosen(obj, hay, lengths, **kw):
    """Every want, whole or not, every kind: the core's choice is the reference's."""
    for whole, kind, want in product((False, True), KINDS, WANTS):
        if whole or kind != "overlapping":
            got = plain(obj.search(memoryview(hay), want, Options(whole=whole, kind=kind, word_chars=TABLE, **kw)),
                        want)
            assert got == chosen_by_reference(obj, hay, want, whole, kind, lengths, **kw), (hay, whole, kind, want)


# (bytes before, bytes after, whole word?) around b"ab": word characters (ASCII, "_", é, 中,
# 𝔘, an Arabic-Indic digit) and not (space, NBSP, em dash, an emoji, a combining acute), and
# sequences that are not strict UTF-8 -- lone continuation bytes, leads cut short by the
# match or the data's edge, C0/C1 and F5-FF, overlong forms, surrogates, above U+10FFFF --
# which are not word characters whatever they would decode to
UTF8_EDGES = [
    (b"", b"", True), (b" ", b" ", True), (b"x", b"", False), (b"", b"x", False), (b"_", b"", False),
    (b"1", b"", False), (b"\x00", b"\x00", True),
    (b"\xc3\xa9", b"", False), (b"", b"\xc3\xa9", False), (b"\xe4\xb8\xad", b"", False),
    (b"", b"\xe4\xb8\xad", False), (b"\xf0\x9d\x94\x98", b"", False), (b"", b"\xf0\x9d\x94\x98", False),
    (b"\xcc\x81", b"", True), (b"", b"\xcc\x81", True), (b"\xd9\xa3", b"\xd9\xa3", False),
    (b"\xc2\xa0", b"\xc2\xa0", True), (b"\xe2\x80\x94", b"\xe2\x80\x94", True),
    (b"\xf0\x9f\x98\x80", b"\xf0\x9f\x98\x80", True),
    # lone continuation bytes; one too many after a valid character; four or five of them
    (b"\x80", b"\x80", True), (b"\xbf", b"\xbf", True), (b"\xc3\xa9\x80", b"", True),
    (b"\xe4\x80\x80\x80", b"", True), (b"\x80\x80\x80\x80\x80", b"", True), (b"x\xa9", b"", True),
    # leads cut short: by the match, by the end of the data
    (b"\xc3", b"", True), (b"\xe4\xb8", b"", True), (b"\xf0\x9d\x94", b"", True), (b"", b"\xc3", True),
    (b"", b"\xe4\xb8", True), (b"", b"\xf0\x9d\x94", True), (b"", b"\xe4\xb8" + b"x", True),
    # a valid character whose lead is more than 4 bytes back is not looked for
    (b"\xf0\x9d\x94\x98\x80", b"", True),
    # bytes never in UTF-8, overlong forms, surrogates, above U+10FFFF
    (b"\xc0\x80", b"\xc0\x80", True), (b"\xc1\xbf", b"\xc1\xbf", True), (b"\xe0\x80\x80", b"\xe0\x80\x80", True),
    (b"\xe0\x9f\xbf", b"\xe0\x9f\xbf", True), (b"\xf0\x80\x80\x80", b"\xf0\x8f\xbf\xbf", True),
    (b"\xc1\x81", b"\xc1\x81", True), (b"\xe0\x81\x81", b"\xe0\x81\x81", True),   # "A", overlong
    (b"\xf0\x80\x81\x81", b"\xf0\x80\x81\x81", True), (b"\xf0\x80\xa0\x80", b"\xf0\x80\xa0\x80", True),
    (b"\xed\xa0\x80", b"\xed\xbf\xbf", True), (b"\xf4\x90\x80\x80", b"\xf4\x90\x80\x80", True),
    (b"\xf5\x80\x80\x80", b"\xf8", True), (b"\xff", b"\xfe", True),
    # the valid neighbours of those: U+0800 (a Samaritan letter), U+FFFF (a noncharacter),
    # U+D7FB (a Hangul letter), U+10000 (a Linear B letter), U+10FFFF (unassigned)
    (b"\xe0\xa0\x80", b"", False), (b"\xef\xbf\xbf", b"", True), (b"\xed\x9f\xbb", b"", False),
    (b"\xf0\x90\x80\x80", b"", False), (b"", b"\xf0\x90\x80\x80", False), (b"\xf4\x8f\xbf\xbf", b"", True),
]


@pytest.mark.parametrize(("before", "after", "whole"), UTF8_EDGES)
def test_whole_words_around_utf8_edges(core, before, after, whole):
    hay = before + b"ab" + after
    for obj, lengths in ((core.compile_pattern(b"ab"), [2]), (core.compile_words([b"ab", b"b"], False), [2, 1])):
        got = obj.search(memoryview(hay), "offsets", Options(whole=True, word_chars=TABLE))
        assert (len(before) in offsets(got)) == whole, (before, after)
        check_chosen(obj, hay, lengths)


def test_whole_words_every_byte_around(core):
    """Every two bytes of interest on each side of a match, in one haystack and alone."""
    edge = [0x00, 0x20, 0x41, 0x5F, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xC3, 0xDF, 0xE0,
            0xE4, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF]
    around = [bytes(p) for p in product(edge, repeat=2)]
    obj = core.compile_words([b"ab", b"a"], False)
    hay = b"".join(x + b"ab" + y for x, y in zip(around, reversed(around)))
    check_chosen(obj, hay, [2, 1], threads=3, min_chunk=5)
    rnd = random.Random(5)
    for _ in range(300):
        x, y = rnd.choice(around) + rnd.choice(around), rnd.choice(around)
        check_chosen(obj, x[rnd.randrange(5):] + b"ab" + y[:rnd.randrange(3)], [2, 1])


def test_kinds_leftmost_longest_and_first(core):
    ws = core.compile_words([b"ab", b"abc", b"bc", b"c", b"bcd"], False)

    def chosen(hay, kind, whole=False):
        return pairs(ws.search(memoryview(hay), "pairs", Options(kind=kind, whole=whole, word_chars=TABLE)))

    assert chosen(b"abcbcd", "leftmost-longest") == [(0, 1), (3, 4)]
    assert chosen(b"abcbcd", "leftmost-first") == [(0, 0), (2, 3), (3, 2)]
    assert chosen(b"abcbcd", "overlapping", whole=True) == []
    assert chosen(b"abc ab bc,c", "leftmost-first", whole=True) == [(0, 1), (4, 0), (7, 2), (10, 3)]
    # the shorter word listed first: longest takes the longer one, first the first one
    ws2 = core.compile_words([b"x", b"xy", b"yz"], False)
    assert pairs(ws2.search(memoryview(b"xyz"), "pairs", Options(kind="leftmost-longest"))) == [(0, 1)]
    assert pairs(ws2.search(memoryview(b"xyz"), "pairs", Options(kind="leftmost-first"))) == [(0, 0), (1, 2)]
    assert ws2.search(memoryview(b"xyz xz"), "each", Options(kind="leftmost-longest")).tolist() == [1, 1, 0]
    # a pattern: non-overlapping runs
    p = core.compile_pattern(b"aa")
    for kind in ("leftmost-longest", "leftmost-first"):
        assert offsets(p.search(memoryview(b"aaaaa"), "offsets", Options(kind=kind))) == [0, 2]
        assert p.search(memoryview(b"aaaaa"), "each", Options(kind=kind)).tolist() == [2]
    assert p.search(memoryview(b"aa aaa"), "count", Options(whole=True, word_chars=TABLE)) == 1


def test_chosen_across_chunks_and_blocks(core):
    """The choice is one pass over every chunk's candidates: whatever the plan and blocks."""
    rnd = random.Random(9)
    alphabet = [b"a", b"b", b"ab", b" ", b"\xc3\xa9", b"\x80", b"\xe4\xb8\xad", b"\xc3", b"_"]
    hay = b"".join(rnd.choice(alphabet) for _ in range(5000))
    words = [b"a", b"ab", b"aba", b"bab", b"b \xc3", b"\xa9a"]
    ws = core.compile_words(words, False)
    p = core.compile_pattern(b"aba")
    for threads, min_chunk, block, scan in [(1, 1, 0, "fast"), (9, 1, 1, "textbook"), (4, 7, 3, "fast"),
                                            (MAX_THREADS, 1, 64, "fast")]:
        kw = dict(threads=threads, min_chunk=min_chunk, block=block, scan=scan)
        check_chosen(ws, hay, [len(w) for w in words], **kw)
        check_chosen(p, hay, [3], **kw)


def test_semantics_options_checked(core, tmp_path):
    p, ws = core.compile_pattern(b"a"), core.compile_words([b"a"], False)
    view = memoryview(b"a a")
    for obj in (p, ws):
        for bad in ("longest", b"overlapping", None, "Leftmost-First"):
            with pytest.raises(ValueError, match="kind"):
                obj.search(view, "count", Options(kind=bad))
        with pytest.raises(ValueError, match="word_chars"):
            obj.search(view, "count", Options(whole=True))
        with pytest.raises(ValueError, match="word_chars"):
            obj.search(view, "count", Options(whole=True, word_chars=TABLE[:-1]))
        with pytest.raises(TypeError):
            obj.search(view, "count", Options(whole=True, word_chars=42))
        # a str subclass for kind, any buffer of the right size for word_chars
        assert obj.search(view, "count", Options(kind=Kind.FIRST, whole=1, word_chars=bytearray(TABLE))) == 2
        assert obj.search(memoryview(b""), "pairs", Options(kind="leftmost-first")) == (array("q"), array("i"))
        path = tmp_path / "f"
        path.write_bytes(b"a a")
        with open(path, "rb") as f:
            for opt in (Options(whole=True, word_chars=TABLE), Options(kind="leftmost-first")):
                with pytest.raises(ValueError, match="memory"):
                    obj.search(FileRange(f.fileno(), 0, 3), "count", opt)
                with pytest.raises(ValueError, match="memory"):
                    obj.search(FileBatch((bytes(path),), 1 << 20), "count", opt)
            # word_chars is not read unless whole
            assert obj.search(FileRange(f.fileno(), 0, 3), "count", Options(word_chars=42)) == 2


class Kind(enum.StrEnum):
    FIRST = "leftmost-first"


@pytest.mark.parametrize("one", [True, False], ids=["pattern", "words"])
def test_semantics_cancelled(core, one):
    obj = core.compile_pattern(b"a") if one else core.compile_words([b"a", b"aa"], False)
    with pytest.raises(KeyboardInterrupt):
        obj.search(memoryview(b"a" * 1000), "count", Options(whole=True, word_chars=TABLE, cancel=bytearray(b"\x01")))


def test_semantics_from_several_python_threads(core):
    """One compiled object, its choices made on several threads at once (no shared state)."""
    rnd = random.Random(4)
    hay = b"".join(rnd.choice([b"ab", b"a", b" ", b"\xc3\xa9", b"b"]) for _ in range(50000))
    ws = core.compile_words([b"ab", b"a", b"bab"], False)
    cases = [(whole, kind) for whole in (False, True) for kind in KINDS if whole or kind != "overlapping"]
    want = {case: plain(ws.search(memoryview(hay), "pairs", Options(whole=case[0], kind=case[1], word_chars=TABLE)),
                        "pairs") for case in cases}

    def search(i):
        case = cases[i % len(cases)]
        opts = Options(threads=1 + i % 3, whole=case[0], kind=case[1], word_chars=TABLE)
        return plain(ws.search(memoryview(hay), "pairs", opts), "pairs") == want[case]

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(search, range(40)))
