"""Cython backend specifics the conformance suite does not reach.

Single pattern, through the backend's public functions:

* the "fast" scan's state-0 skip (a SIMD pair search): candidates (the needle, its first
  byte, its first two bytes) at every offset modulo 64, in long sparse haystacks; the
  adversarial needles the pair is chosen against;
* the file kernel's 1 MiB read blocks: a needle split across a block end at every split
  point, a needle longer than a block (files that shrink, the plan and read errors: test_native.py).

The core contract (the docstring of kmpsearch._frontend), on ``kmpsearch._kmp_cython`` directly:

* compiled patterns: arguments, str subclasses for ``scan``, file kernels given the size;
* compiled word sets against a naive reference (every start, every word): hypothesis over
  small alphabets, prefix/suffix chains, words inside words, NUL and high bytes,
  ignore_case (ASCII letters only), 1-9 threads with tiny chunks, words longer than a
  chunk, both scans, both automaton forms, the fallback from the filter to the automaton
  (forced with tiny segments and budgets, and natural: ``a``*100k with a^1..a^40, 500 words
  sharing a prefix), 100,000 words, files read in blocks of any size;
* ``simd``: "auto" and the forced levels, str subclasses accepted (their answers, the
  immutability of compiled objects, sharing them between threads, a file shorter than the
  size given and threads that cannot start: test_native.py and test_words.py).

Skipped when the Cython backend is not built, unless KMPSEARCH_REQUIRE names it.
"""

from __future__ import annotations

import enum
import os
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import load_backend, ref_find_all

BLOCK = 1 << 20  # the file kernel's read block (cython/_kmp_cython.pyx)


@pytest.fixture(scope="module")
def cy():
    return load_backend("cython")


def _check(cy, haystack, needle, **kw):
    expected = ref_find_all(haystack, needle)
    for scan in cy.SCANS:
        assert cy.find_all(haystack, needle, scan=scan, **kw) == expected, (needle, scan, kw)
        assert cy.count(haystack, needle, scan=scan, **kw) == len(expected), (needle, scan, kw)
    return expected


@pytest.mark.parametrize("needle", [b"3", b"3J", b"3J1", b"33", b"333J", b"J1J1J", b"\x00\xff\x00", b"\xff" * 5])
def test_skip_finds_candidates_at_every_offset(cy, needle):
    rnd = random.Random(hash(needle) & 0xFFFF)
    filler = bytes(range(0x40, 0x50))  # bytes no needle above contains
    decoys = [needle, needle[:1], needle[:2], needle[:-1], needle[:1] * 3, needle + needle[1:]]
    parts = []
    for gap in range(0, 200):
        parts.append(bytes(rnd.choice(filler) for _ in range(gap)))
        parts.append(rnd.choice(decoys))
    haystack = b"".join(parts)
    assert len(ref_find_all(haystack, needle)) > 30
    _check(cy, haystack, needle)
    _check(cy, haystack, needle, threads=3, _min_chunk=997)
    _check(cy, haystack, needle, threads=7, _min_chunk=1)


def test_skip_with_candidates_near_the_window_end(cy):
    for n in range(60, 140):
        for tail in (b"3", b"3J", b"3J1"):
            haystack = b"." * (n - len(tail)) + tail
            assert _check(cy, haystack, b"3J1") == ([n - 3] if tail == b"3J1" else [])
            _check(cy, haystack, tail[:1])


def test_dense_and_adversarial_inputs(cy):
    _check(cy, b"ab" * 5000, b"ab", threads=2, _min_chunk=100)
    _check(cy, b"ac" * 5000, b"ab", threads=2, _min_chunk=100)
    _check(cy, b"a" * 20000, b"a" * 99 + b"b", threads=3, _min_chunk=1000)
    _check(cy, (b"a" * 99 + b"b") * 200, b"a" * 99 + b"b", threads=3, _min_chunk=1000)
    _check(cy, b"aab" * 5000, b"aabaabaab", threads=4, _min_chunk=11)


def test_many_matches_in_order(cy):
    n = 300_000
    assert cy.find_all(b"a" * n, b"a", threads=3, _min_chunk=1000) == list(range(n))
    assert cy.find_all(b"a" * n, b"aa", threads=5, _min_chunk=7) == list(range(n - 1))
    assert cy.count(bytearray(n), b"\x00\x00\x00", threads=2, _min_chunk=1) == n - 2


def test_file_needle_split_across_read_blocks_at_every_point(cy, tmp_path):
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
    for scan in cy.SCANS:
        assert cy.find_all_in_file(path, needle, threads=1, scan=scan) == expected
        assert cy.find_all_in_file(path, needle, threads=2, scan=scan) == expected
        assert cy.count_in_file(path, needle, threads=3, _min_chunk=BLOCK // 3, scan=scan) == len(expected)


def test_file_needle_longer_than_a_read_block(cy, tmp_path):
    needle = random.Random(4).randbytes(BLOCK + BLOCK // 2)
    data = b"x" * 1000 + needle + b"y" + needle + needle + b"z" * 777
    path = tmp_path / "long.bin"
    path.write_bytes(data)
    expected = [1000, 1001 + len(needle), 1001 + 2 * len(needle)]
    for threads, min_chunk in ((1, None), (2, 1), (3, 1000)):
        assert cy.find_all_in_file(path, needle, threads=threads, _min_chunk=min_chunk) == expected
        assert cy.count_in_file(path, needle, threads=threads, _min_chunk=min_chunk, scan="textbook") == 3

def test_module_surface(cy):
    # (no mutable state in it, compiled objects immutable: test_native.py)
    from kmpsearch import _kmp_cython as core
    public = {k for k in vars(core) if not k.startswith("__")}
    assert public == {"compile_pattern", "compile_words", "plan", "Pattern", "WordSet"}


def test_kernels_check_their_arguments(cy):
    from kmpsearch import _kmp_cython as core
    p = core.compile_pattern(b"b")
    with pytest.raises(ValueError):
        p.count(memoryview(b"abc"), 1, 1, "bogus", "auto")
    with pytest.raises(ValueError):
        core.compile_pattern(b"")
    with pytest.raises(ValueError):
        p.count(memoryview(b"abc"), 0, 1, "fast", "auto")
    with pytest.raises(ValueError):
        p.count(memoryview(b"abc"), 257, 1, "fast", "auto")
    with pytest.raises(ValueError):
        p.count(memoryview(b"abc"), 1, 0, "fast", "auto")
    with pytest.raises(ValueError):
        p.count(memoryview(b"abc"), 1, 2**63, "fast", "auto")
    with pytest.raises(ValueError):
        p.count(memoryview(b"abc"), 1, 1, "fast", "avx512")
    assert p.count(memoryview(b"abcb"), 256, 1, "fast", "auto") == 2
    assert p.find_all(memoryview(b"abcb"), 3, 2**63 - 1, "textbook", "auto") == [1, 3]
    # read-only buffers are searched in place
    assert core.compile_pattern(b"ab").find_all(memoryview(b"xabx").toreadonly(), 2, 1, "fast", "auto") == [1]


def test_adversarial_needles_for_the_pair_search(cy):
    # the pair's second byte is the needle's last byte that differs from its first one
    for needle in (b"a" * 99 + b"b", b"a" * 50 + b"b" + b"a" * 49, b"ab" + b"a" * 40, b"a" * 30):
        for hay in (b"a" * 5000, b"a" * 2000 + needle + b"a" * 2000 + needle,
                    (b"a" * 98 + b"b") * 60, (needle[:-1] + b"c") * 40 + needle):
            _check(cy, hay, needle)
            _check(cy, hay, needle, threads=4, _min_chunk=333)


# --- the core contract -----------------------------------------------------------------

SCANS = ("fast", "textbook")


@pytest.fixture(scope="module")
def core(cy):
    assert cy.core.__name__ == "kmpsearch._kmp_cython"
    return cy.core


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
    """Every method, both scans, the given (threads, min_chunk) runs, in memory."""
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
                assert ws.find_all(view, threads, min_chunk, scan, "auto") == expected, where
                assert ws.count(view, threads, min_chunk, scan, "auto") == len(expected), where
                assert ws.count_each(view, threads, min_chunk, scan, "auto") == each, where
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
            assert ws.find_all(memoryview(b"ushers"), 1, 1, scan, "auto") == [(1, 1), (2, 0), (2, 2)]


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
        assert ws.count(memoryview(b""), 4, 1, scan, "auto") == 0
        assert ws.count_each(memoryview(b""), 4, 1, scan, "auto") == [0, 0]
        assert ws.find_all(memoryview(b""), 4, 1, scan, "auto") == []
        assert ws.find_all(memoryview(b"a"), 4, 1, scan, "auto") == [(0, 0)]
        assert ws.find_all(memoryview(b"b"), 4, 1, scan, "auto") == []


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
                assert ws.count(memoryview(hay), threads, min_chunk, scan, "auto") == sum(each)
                assert ws.count_each(memoryview(hay), threads, min_chunk, scan, "auto") == each
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
            assert ws.find_all(memoryview(hay), threads, min_chunk, scan, "auto") == expected
            assert ws.count_each(memoryview(hay), threads, min_chunk, scan, "auto") == each
    words = distinct(words, True)
    expected = ref_words_by_length(words, hay, True)
    half = len(words) // 2
    ws = core.compile_words(words[:half] + [w.upper() for w in words[half:]], True)
    for scan in SCANS:
        assert ws.count(memoryview(hay.swapcase()), 2, 1, scan, "auto") == len(expected)


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
                    args = (fd, len(hay), threads, min_chunk, scan, "auto")
                    assert ws.find_all_fd(*args, _block=block) == expected, (block, scan, threads)
                    assert ws.count_fd(*args, _block=block) == len(expected)
                    assert ws.count_each_fd(*args, _block=block) == each
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
                        args = (threads, min_chunk, scan, "auto")
                        assert pat.find_all_fd(fd, len(hay), *args, _block=block) == ref_find_all(hay, needle)
                        assert pat.count_fd(fd, len(hay), *args, _block=block) == len(ref_find_all(hay, needle))
                        assert pat.find_all_fd(fd, 500, *args, _block=block) == ref_find_all(hay[:500], needle)
    finally:
        os.close(fd)


class Scan(enum.StrEnum):
    FAST = "fast"
    TEXTBOOK = "textbook"


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
        assert pat.find_all(view, 2, 1, scan, "auto") == [1, 3]
        assert ws.find_all(view, 2, 1, scan, "auto") == [(1, 0), (2, 1), (3, 0), (4, 1)]
    for level in Simd:   # forced levels (test_native.py checks their answers)
        assert pat.find_all(view, 2, 1, "fast", level) == [1, 3]
        assert ws.find_all(view, 2, 1, "fast", level) == [(1, 0), (2, 1), (3, 0), (4, 1)]
    for bad in ("avx512", "Auto", "", None, b"auto"):
        with pytest.raises(ValueError):
            pat.count(view, 1, 1, "fast", bad)
        with pytest.raises(ValueError):
            ws.count(view, 1, 1, "fast", bad)
    for bad in ("Fast", None, b"fast"):
        with pytest.raises(ValueError):
            ws.count(view, 1, 1, bad, "auto")
    with pytest.raises(ValueError):
        ws.count(view, 0, 1, "fast", "auto")
    with pytest.raises(ValueError):
        ws.count(view, 1, 0, "fast", "auto")
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
    assert ws.find_all(view, 1, 1, "fast", "auto") == [(1, 0), (2, 1), (3, 0), (4, 1)]
    assert isinstance(ws.memory_bytes, int) and ws.memory_bytes > 0
    assert isinstance(pat.memory_bytes, int) and pat.memory_bytes > 0
