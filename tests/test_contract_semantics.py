"""The core contract's match semantics (``Options.whole``, ``.kind``, ``.word_chars``), core
by core, against the reference ``kmpsearch._semantics.Chooser`` over the core's own
candidates: bytes that are and are not UTF-8 around the matches (truncated, overlong,
surrogate, above U+10FFFF sequences, astral and combining characters, ``_``, NUL), every
``want``, threads and chunk and block edges everywhere, patterns and word sets."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import examples
from kmpsearch._contract import WANTS, FileBatch, FileRange, Options
from kmpsearch._results import from_pairs
from kmpsearch._semantics import KINDS, Chooser
from kmpsearch._wordchars import TABLE
from test_contract import as_plain

#: pieces of text: ASCII word and non-word bytes, valid UTF-8 word characters (é, Ω, 中,
#: 𝔘, a combining mark, a digit of another script) and non-word ones (NBSP, —, 😀), and
#: invalid sequences: lone continuation bytes, truncated leads, overlong forms (C0 80,
#: E0 80 80), a surrogate (ED A0 80), above U+10FFFF (F4 90 80 80), bytes F5-FF
PIECES = [b"a", b"b", b"ab", b"_", b" ", b"-", b"1", b"\x00", b"\xc3\xa9", b"\xce\xa9", b"\xe4\xb8\xad",
          b"\xf0\x9d\x94\x98", b"\xcc\x81", b"\xd9\xa3", b"\xc2\xa0", b"\xe2\x80\x94", b"\xf0\x9f\x98\x80",
          b"\x80", b"\xbf", b"\xc3", b"\xe4\xb8", b"\xf0\x9d\x94", b"\xc0\x80", b"\xe0\x80\x80",
          b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xf5", b"\xff"]
WORD_PIECES = [b"a", b"b", b"ab", b"_", b"\xc3\xa9", b"\x80", b"\xc3", b"\xe4\xb8\xad", b"-"]
hay_st = st.lists(st.sampled_from(PIECES), max_size=40).map(b"".join)
words_st = st.lists(st.lists(st.sampled_from(WORD_PIECES), min_size=1, max_size=3).map(b"".join),
                    min_size=1, max_size=5).map(lambda ws: list(dict.fromkeys(ws)))


def reference(obj, view: memoryview, want: str, whole: bool, kind: str, lengths: list[int], opts: Options):
    """The chosen matches of the core's own candidates, by ``Chooser``."""
    offsets, words = obj.search(view, "pairs", opts)
    return from_pairs(Chooser(lengths, whole, kind).keep(view, 0, offsets, words), want, len(lengths))


@pytest.mark.parametrize(("whole", "kind"), [(w, k) for w in (False, True) for k in KINDS if w or k != "overlapping"],
                         ids=lambda v: {False: "any", True: "whole"}.get(v, v))
def test_chosen_in_the_core_as_the_reference_chooses(backend, kind, whole):
    @examples(backend, 40)
    @given(hay=hay_st, words=words_st, one=st.booleans(), threads=st.integers(1, 9), min_chunk=st.integers(1, 9),
           block=st.sampled_from([0, 1, 3, 64]), want=st.sampled_from(WANTS))
    def prop(hay, words, one, threads, min_chunk, block, want):
        obj = backend.core.compile_pattern(words[0]) if one else backend.core.compile_words(words, False)
        lengths = [len(words[0])] if one else [len(w) for w in words]
        if backend.__name__.endswith("multiprocessing"):
            threads = 1  # (a process pool per search is slow)
        plain = Options(threads=threads, min_chunk=min_chunk, block=block)
        opts = plain._replace(whole=whole, kind=kind, word_chars=TABLE)
        view = memoryview(hay)
        want_result = as_plain(reference(obj, view, want, whole, kind, lengths, plain), want)
        assert as_plain(obj.search(view, want, opts), want) == want_result, (hay, words, want, opts)

    prop()


def test_dense_candidates_many_threads(backend):
    """Many candidates across many chunks: the choice never depends on where chunks start."""
    rng = random.Random(7)
    hay = b"".join(rng.choice(PIECES) for _ in range(20000))
    words = [b"a", b"ab", b"aba", b"b_", b"\xc3\xa9a", b"_"]
    obj = backend.core.compile_words(words, False)
    lengths = [len(w) for w in words]
    view = memoryview(hay)
    threads = 1 if backend.__name__.endswith("multiprocessing") else 7
    for whole in (False, True):
        for kind in KINDS:
            if not whole and kind == "overlapping":
                continue
            ref = as_plain(reference(obj, view, "pairs", whole, kind, lengths, Options()), "pairs")
            opts = Options(threads=threads, min_chunk=3, whole=whole, kind=kind, word_chars=TABLE)
            assert as_plain(obj.search(view, "pairs", opts), "pairs") == ref
            assert obj.search(view, "count", opts) == len(ref)


def test_only_memory_is_chosen(backend, tmp_path):
    obj = backend.core.compile_words([b"a"], False)
    path = tmp_path / "f"
    path.write_bytes(b"a a")
    opts = Options(whole=True, word_chars=TABLE)
    with open(path, "rb") as f:
        with pytest.raises(ValueError):
            obj.search(FileRange(f.fileno(), 0, 3), "count", opts)
    with pytest.raises(ValueError):
        obj.search(FileBatch((bytes(path),), 1 << 20), "count", opts)
    with pytest.raises(ValueError):
        obj.search(memoryview(b"a a"), "count", Options(kind="longest"))
