"""The benchmark's pure helpers (bench/wordgen.py, bench/corpus.py): the words of
SCENARIO=words are the same on every run and machine, the reference count the benchmark
checks every row against is right, and SCENARIO=adversarial's haystacks are what they say."""

from __future__ import annotations

import hashlib
import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import corpus as corpora  # noqa: E402
import wordgen  # noqa: E402
from conftest import require_extra  # noqa: E402

def _source() -> bytes:
    """Runs of 1-30 letters and digits between spaces and newlines (deterministic)."""
    rng = random.Random(3)
    out = bytearray()
    while len(out) < 200_000:
        out += bytes(rng.choice(wordgen.WORD_ALPHABET) for _ in range(rng.randint(1, 30)))
        out += rng.choice((b" ", b"\n", b"\t"))
    return bytes(out)


SOURCE = _source()


def test_words_are_deterministic_and_nested():
    words = wordgen.make_words(2000, SOURCE)
    assert words == wordgen.make_words(2000, SOURCE)
    for n in (1, 10, 999, 1000):
        assert wordgen.make_words(n, SOURCE) == words[:n]
    # the words the benchmark uses: a change here changes every published words table
    digest = hashlib.sha256(b"\n".join(words)).hexdigest()
    assert digest == "7d1adfa70760b3f4775c2cf871604236035ad709f6f252ffb3211f9d7ab0e378", digest


def test_words_shape():
    words = wordgen.make_words(5000, SOURCE)
    assert len(set(words)) == len(words) == 5000
    assert all(wordgen.MIN_LEN <= len(w) <= wordgen.MAX_LEN and w.isalnum() and w.isascii() for w in words)
    assert all(w in SOURCE for w in words[0:200:2])  # even-numbered ones are cut from the source
    lengths = {len(w) for w in words}
    assert lengths == set(range(wordgen.MIN_LEN, wordgen.MAX_LEN + 1))


def test_words_without_a_usable_source_are_random():
    words = wordgen.make_words(50, b" \n\t" * 1000)
    assert len(set(words)) == 50 and all(w.isalnum() for w in words)


@pytest.mark.parametrize("text, expected", [
    (None, [10, 1000, 10000, 100000]),
    ("", [10, 1000, 10000, 100000]),
    ("1000,10", [10, 1000]),
    ("10, 1k,100K,10", [10, 1000, 100000]),
])
def test_parse_counts(text, expected):
    assert wordgen.parse_counts(text) == expected


@pytest.mark.parametrize("text", ["ten", "0", "1,-5", ","])
def test_parse_counts_rejects(text):
    with pytest.raises(ValueError):
        wordgen.parse_counts(text)


def test_reference_count_matches_a_find_loop():
    require_extra("numpy")
    rng = random.Random(7)
    for _ in range(300):
        hay = bytes(rng.choice(b"abc") for _ in range(rng.randint(0, 60)))
        words = list({bytes(rng.choice(b"abc") for _ in range(rng.randint(1, 7))) for _ in range(rng.randint(1, 6))})
        expected = wordgen.naive_count(hay, words)
        assert wordgen.reference_count(hay, words) == expected
        assert wordgen.reference_count(memoryview(hay), words, block=rng.randint(1, 9)) == expected


def test_reference_count_overlaps_and_block_edges():
    require_extra("numpy")
    assert wordgen.reference_count(b"aaaaaa", [b"aaaa", b"aaaaa"]) == 3 + 2
    assert wordgen.reference_count(b"ushers", [b"he", b"she", b"hers"]) == 3
    words = wordgen.make_words(300, SOURCE)
    hay = SOURCE[:50_000]
    expected = wordgen.naive_count(hay, words)
    assert expected > 0
    for block in (1, 4, 4093, 1 << 20):
        assert wordgen.reference_count(hay, words, block=block) == expected


def test_repeated_corpus_keeps_its_period_across_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(corpora, "BLOCK", 5000)  # blocks of 5 units: the file is written in 3
    unit = b"a" * 998 + b"b"
    path = corpora.ensure_repeated(12345, unit, directory=tmp_path)
    assert path.name == "12345-a998b.txt"
    assert path.read_bytes() == (unit * 13)[:12345]
    assert corpora.ensure_repeated(12345, unit, directory=tmp_path) == path  # reused
    path = corpora.ensure_repeated(3 << 10, b"a", directory=tmp_path)
    assert path.name == "3KiB-a.txt" and path.read_bytes() == b"a" * (3 << 10)
    assert corpora.repeated_name(b"\x00\xff") == "x00ff"


def test_adversarial_haystacks_hold_near_misses_only():
    import run  # bench/run.py

    needle = b"a" * 999 + b"b"
    near = 0
    for _, unit in run.ADVERSARIAL_INPUTS:
        text = unit * (5000 // len(unit) + 2)
        assert needle not in text
        near += text.count(needle[1:])  # a^998 b: one byte short of a match
    assert near > 0
