"""Cython backend specifics the conformance suite does not reach (issue 4).

* the "fast" scan's state-0 skip: a 64-position SIMD-friendly step, a byte-by-byte head
  and tail, memchr for one-byte needles -- candidates (the needle, its first byte, its
  first two bytes) at every offset modulo 64, in long sparse haystacks;
* the file kernel's 1 MiB read blocks: a needle split across a block end at every
  split point, a needle longer than a block, a file that shrinks during the search;
* the module holds no mutable state and the kernels check what they rely on.

Skipped when the Cython backend is not built, unless KMPSEARCH_REQUIRE names it.
"""

from __future__ import annotations

import os
import random
import threading

import pytest

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


@pytest.mark.thread_unsafe(reason="cuts and rewrites a file from a thread of its own")
def test_file_that_shrinks_during_the_search(cy, tmp_path):
    # a writer cuts the file to a third and writes the rest back, again and again, while
    # searches run: each search finds every match in the third that always stays, and of
    # the rest only real matches (those it read before a cut), in order; never a crash
    data = b"....3J1..." * (300 << 10)  # 3 MiB
    cut = len(data) // 3
    path = tmp_path / "shrinking.bin"
    path.write_bytes(data)
    full = ref_find_all(data, b"3J1")
    kept = [off for off in full if off + 3 <= cut]
    stop = threading.Event()

    def writer():
        fd = os.open(path, os.O_RDWR)
        try:
            while not stop.is_set():
                os.ftruncate(fd, cut)
                stop.wait(0.0005)
                os.pwrite(fd, data[cut:], cut)
                stop.wait(0.0005)
        finally:
            os.close(fd)

    t = threading.Thread(target=writer)
    t.start()
    try:
        for i in range(30):
            try:
                found = cy.find_all_in_file(path, b"3J1", threads=1 + i % 3, _min_chunk=1 << 18)
            except OSError:
                continue
            assert found == sorted(set(found))
            assert set(found) <= set(full)
            assert found[:len(kept)] == kept
    finally:
        stop.set()
        t.join()


def test_module_holds_no_mutable_state(cy):
    from kmpsearch import _kmp_cython as core
    public = {k for k in vars(core) if not k.startswith("__")}
    assert public == {"compile_pattern", "compile_words", "plan", "Pattern", "WordSet"}
    assert not [k for k, v in vars(core).items() if isinstance(v, (dict, list, set, bytearray))]


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
        p.count(memoryview(b"abc"), 1, 1, "fast", "avx2")
    assert p.count(memoryview(b"abcb"), 256, 1, "fast", "auto") == 2
    assert p.find_all(memoryview(b"abcb"), 3, 2**63 - 1, "textbook", "auto") == [1, 3]
    # read-only buffers are searched in place
    assert core.compile_pattern(b"ab").find_all(memoryview(b"xabx").toreadonly(), 2, 1, "fast", "auto") == [1]
