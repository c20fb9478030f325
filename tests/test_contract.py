"""The core contract (``kmpsearch._contract``), core by core: ``search(source, want, options)``
against a simple reference, for memory and file ranges, every ``want``, every scan and
SIMD level of the backend's table row, chunk and block boundaries everywhere."""

from __future__ import annotations

import os
import random
from array import array

import pytest

from kmpsearch._contract import WANTS, FileRange, Options
from kmpsearch.backends import info

FOLD = bytes.maketrans(bytes(range(65, 91)), bytes(range(97, 123)))


def ref_pairs(hay: bytes, words: list[bytes], ignore_case: bool) -> list[tuple[int, int]]:
    """Every (offset, word index) where a word occurs, sorted."""
    if ignore_case:
        hay, words = hay.translate(FOLD), [w.translate(FOLD) for w in words]
    return sorted((off, i) for i, w in enumerate(words) for off in range(len(hay) - len(w) + 1)
                  if hay.startswith(w, off))


def expected(pairs: list[tuple[int, int]], want: str, nwords: int):
    if want == "count":
        return len(pairs)
    if want == "each":
        return [sum(1 for _, i in pairs if i == j) for j in range(nwords)]
    if want == "offsets":
        return [off for off, _ in pairs]
    return pairs


def as_plain(result, want: str):
    """A search result as ints and lists, after checking its types."""
    if want == "count":
        assert isinstance(result, int)
        return result
    if want == "pairs":
        offsets, index = result
        assert isinstance(offsets, array) and offsets.typecode == "q"
        assert isinstance(index, array) and index.typecode == "i"
        assert len(offsets) == len(index)
        return list(zip(offsets, index))
    assert isinstance(result, array) and result.typecode == "q"
    return result.tolist()


def compiled(backend, words: list[bytes], ignore_case: bool, one: bool):
    if one:
        return backend.core.compile_pattern(words[0])
    return backend.core.compile_words(words, ignore_case)


def random_case(rng: random.Random, one: bool):
    alphabet = rng.choice([b"ab", b"abc", b"aB\x00", b"xyzXYZ"])
    hay = bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 300)))
    count = 1 if one else rng.randrange(1, 6)
    words: list[bytes] = []
    ignore_case = not one and rng.random() < 0.3
    while len(words) < count:
        w = bytes(rng.choice(alphabet) for _ in range(rng.randrange(1, 6)))
        key = w.translate(FOLD) if ignore_case else w
        if key not in {x.translate(FOLD) if ignore_case else x for x in words}:
            words.append(w)
    return hay, words, ignore_case


@pytest.mark.parametrize("one", [True, False], ids=["pattern", "words"])
def test_search_memory_and_files(backend, one, tmp_path):
    row = info(backend.__name__.rsplit(".", 1)[1])
    rng = random.Random(20261207 + one)
    path = tmp_path / "hay"
    for case in range(40):
        hay, words, ignore_case = random_case(rng, one)
        obj = compiled(backend, words, ignore_case, one)
        pairs = ref_pairs(hay, words, ignore_case)
        nwords = len(words)
        path.write_bytes(b"#" * 7 + hay + b"#" * 5)
        fd = os.open(path, os.O_RDONLY)
        try:
            for want in WANTS:
                for scan in row.scans:
                    opts = Options(threads=1 + case % 4, min_chunk=1 + case % 7, scan=scan,
                                   simd=row.simd[case % len(row.simd)], block=(0, 1, 3, 64)[case % 4])
                    want_result = expected(pairs, want, nwords)
                    got = as_plain(obj.search(memoryview(hay), want, opts), want)
                    assert got == want_result, (hay, words, want, opts)
                    got = as_plain(obj.search(FileRange(fd, 7, len(hay)), want, opts), want)
                    shifted = want_result
                    if want == "offsets":
                        shifted = [off + 7 for off in want_result]
                    elif want == "pairs":
                        shifted = [(off + 7, i) for off, i in want_result]
                    assert got == shifted, (hay, words, want, opts, "file")
        finally:
            os.close(fd)


def test_search_results_are_read_only_of_source(backend):
    data = bytearray(b"abcab" * 100)
    before = bytes(data)
    obj = backend.core.compile_words([b"ab", b"b"], False)
    view = memoryview(data).toreadonly()
    assert obj.search(view, "count", Options()) == 400
    assert data == before


def test_search_short_file_gives_what_was_read(backend, tmp_path):
    path = tmp_path / "short"
    path.write_bytes(b"xxab" * 10)
    fd = os.open(path, os.O_RDONLY)
    try:
        for obj in (backend.core.compile_pattern(b"ab"), backend.core.compile_words([b"ab", b"x"], False)):
            got = obj.search(FileRange(fd, 0, 1000), "offsets", Options(threads=2, min_chunk=1))
            assert [off for off in got if off % 4 == 2] == [4 * i + 2 for i in range(10)]
    finally:
        os.close(fd)


def test_search_errors(backend, tmp_path):
    obj = backend.core.compile_words([b"ab", b"c"], False)
    with pytest.raises(ValueError):
        obj.search(memoryview(b"abc"), "lines", Options())
    with pytest.raises(OSError):
        obj.search(FileRange(-1, 0, 10), "count", Options())
    path = tmp_path / "f"
    path.write_bytes(b"ab" * 5000)
    fd = os.open(path, os.O_RDONLY)
    try:
        for obj in (backend.core.compile_pattern(b"ab"), backend.core.compile_words([b"ab", b"c"], False)):
            flag = bytearray(b"\x01")
            with pytest.raises(KeyboardInterrupt):
                obj.search(memoryview(b"ab" * 5000), "pairs", Options(threads=2, min_chunk=1, block=64,
                                                                      cancel=flag))
            with pytest.raises(KeyboardInterrupt):
                obj.search(FileRange(fd, 0, 10000), "count", Options(threads=2, min_chunk=1, block=64, cancel=flag))
            assert obj.search(FileRange(fd, 0, 10000), "count", Options(cancel=bytearray(1))) == 5000
    finally:
        os.close(fd)


def test_search_empty_and_one_word_pairs(backend):
    pattern = backend.core.compile_pattern(b"aa")
    assert as_plain(pattern.search(memoryview(b"aaaa"), "pairs", Options()), "pairs") == [(0, 0), (1, 0), (2, 0)]
    assert as_plain(pattern.search(memoryview(b"aaaa"), "each", Options()), "each") == [3]
    words = backend.core.compile_words([b"a", b"aa"], False)
    for want in WANTS:
        assert as_plain(words.search(memoryview(b""), want, Options()), want) == expected([], want, 2)
    assert isinstance(pattern.memory_bytes, int) and isinstance(words.memory_bytes, int)
