"""Match semantics on every backend: whole words, leftmost-longest / leftmost-first, and
replacement, against ``re`` references (``kmpsearch._semantics`` chooses among the core's
candidates, in one place for every backend):

* leftmost-first = ``re`` alternation of the escaped words in order;
* leftmost-longest = the same alternation sorted by length, longest first;
* whole words = each word between lookarounds ``(?<!\\w)...(?!\\w)`` (``str``; bytes decoded
  with ``surrogateescape``, so a byte that is not UTF-8 is not a word character);
* ``replace`` = ``re.sub`` with the same alternation.
"""

from __future__ import annotations

import io
import pickle
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import examples

ALPHABET = ["a", "b", "ab", "_", " ", "é", "-", "1"]
text_st = st.lists(st.sampled_from(ALPHABET), max_size=40).map("".join)
words_st = st.lists(st.lists(st.sampled_from(["a", "b", "é", "_"]), min_size=1, max_size=4).map("".join),
                    min_size=1, max_size=5).map(lambda ws: list(dict.fromkeys(ws)))
KINDS = ["overlapping", "leftmost-longest", "leftmost-first"]


def _alternation(words, kind, whole):
    order = sorted(words, key=len, reverse=True) if kind == "leftmost-longest" else words
    body = [re.escape(w) for w in order]
    if whole:
        body = [rf"(?<!\w){b}(?!\w)" for b in body]
    return re.compile("|".join(body))


def ref(text: str, words: list[str], kind: str, whole: bool) -> list[tuple[int, int]]:
    """(code point offset, word index) of every match, in order."""
    if kind == "overlapping":
        out = []
        for i, w in enumerate(words):
            pat = re.compile(rf"(?=(?<!\w){re.escape(w)}(?!\w))" if whole else f"(?={re.escape(w)})")
            out += [(m.start(), i) for m in pat.finditer(text)]
        return sorted(out)
    return [(m.start(), words.index(m.group())) for m in _alternation(words, kind, whole).finditer(text)]


def _byte_offsets(text: str, found):
    """Code point offsets as byte offsets into the UTF-8 of ``text``."""
    return [(len(text[:o].encode()), i) for o, i in found]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("whole", [False, True])
def test_matches_the_re_reference(backend, kind, whole):
    @examples(backend, 60)
    @given(text=text_st, words=words_st, threads=st.integers(1, 9), min_chunk=st.integers(1, 9),
           window=st.integers(1, 9))
    def prop(text, words, threads, min_chunk, window):
        want = ref(text, words, kind, whole)
        ws = backend.WordSet(words, whole_words=whole, matches=kind)
        opts = dict(threads=threads, _min_chunk=min_chunk)
        assert ws.find_all(text, **opts) == want
        assert ws.count(text, **opts) == len(want)
        assert ws.count_each(text, **opts) == [sum(1 for _, i in want if i == k) for k in range(len(words))]
        data = text.encode()
        bwant = _byte_offsets(text, want)
        bws = backend.WordSet([w.encode() for w in words], whole_words=whole, matches=kind)
        assert bws.find_all(data, **opts) == bwant
        assert list(bws.finditer([data[k:k + 3] for k in range(0, len(data), 3)], _window=window)) == bwant
        assert list(ws.finditer(text, _window=window)) == want
        one = backend.compile(words[0], whole_words=whole, matches=kind)
        assert one.find_all(text, **opts) == [o for o, _ in ref(text, words[:1], kind, whole)]

    prop()


def test_files_and_chunk_edges(backend, tmp_path):
    text = ("key keys monkey key_x (key) kéy api_key= x api_key= y " * 40).encode()
    path = tmp_path / "f"
    path.write_bytes(text)
    for kind in KINDS:
        ws = backend.WordSet([b"key", b"api_key", b"keys"], whole_words=True, matches=kind)
        want = ws.find_all(text)
        assert [text[o:o + 3] for o, i in want if i == 0] == [b"key"] * len([1 for _, i in want if i == 0])
        assert ws.find_all_in_file(path, threads=3, _min_chunk=5) == want
        assert ws.count_in_file(path) == len(want)
        assert list(ws.finditer(path, _window=7)) == want
        assert dict(ws.count_in_files([path])) == {str(path): len(want)}
    # "api_key=" is a whole word in "x api_key= y" (grep -w's rule, not \b's)
    assert backend.WordSet([b"api_key="], whole_words=True).count(b"x api_key= y") == 1


def test_a_word_as_non_overlapping_str_count(backend):
    for hay, needle in (("aaaa", "aa"), ("abababa", "aba"), ("xxxxx", "x")):
        for kind in KINDS[1:]:
            assert backend.count(hay, needle, matches=kind) == hay.count(needle)
        assert backend.replace(hay, needle, "<>") == hay.replace(needle, "<>")


def test_replace_is_re_sub(backend):
    @examples(backend, 60)
    @given(text=text_st, words=words_st, whole=st.booleans(), kind=st.sampled_from(KINDS))
    def prop(text, words, whole, kind):
        ws = backend.WordSet(words, whole_words=whole, matches=kind)
        pat = _alternation(words, "leftmost-longest" if kind == "overlapping" else kind, whole)
        assert ws.replace(text, "#") == pat.sub("#", text)
        labels = [f"<{i}>" for i in range(len(words))]
        assert ws.replace(text, labels) == pat.sub(lambda m: labels[words.index(m.group())], text)
        assert ws.replace(text, lambda i, m: m.upper()) == pat.sub(lambda m: m.group().upper(), text)
        data = text.encode()
        bws = backend.WordSet([w.encode() for w in words], whole_words=whole, matches=kind)
        out = io.BytesIO()
        n = bws.replace_stream([data[k:k + 2] for k in range(0, len(data), 2)], out, b"#", _window=3)
        assert out.getvalue() == pat.sub("#", text).encode()
        assert n == len(pat.findall(text))

    prop()


def test_arguments_and_pickles(backend):
    ws = backend.WordSet([b"a", b"b"], whole_words=True, matches="leftmost-first")
    assert (ws.whole_words, ws.matches) == (True, "leftmost-first") and "whole_words" in repr(ws)
    assert pickle.loads(pickle.dumps(ws)) == ws and ws != backend.WordSet([b"a", b"b"])
    assert pickle.loads(pickle.dumps(backend.compile("é", matches="leftmost-longest"))).matches == "leftmost-longest"
    with pytest.raises(ValueError, match="matches"):
        backend.WordSet([b"a"], matches="longest")
    with pytest.raises(TypeError, match="whole_words"):
        backend.compile(b"a", whole_words=1)
    with pytest.raises(TypeError):
        ws.replace(b"ab", "#")  # bytes text: a bytes-like replacement
    with pytest.raises(ValueError, match="one per word"):
        ws.replace(b"ab", [b"#"])
    with pytest.raises(TypeError):
        backend.WordSet(["a"]).replace("a", lambda i, m: b"#")


def test_replace_is_flashtext_on_whole_words(backend):
    """flashtext's ``replace_keywords`` (case-sensitive) replaces whole words, the longest
    leftmost, where word characters are ASCII letters, digits and ``_``: on ASCII text it is
    ``replace`` with ``whole_words=True, matches="leftmost-longest"``."""
    flashtext = pytest.importorskip("flashtext", reason="flashtext (a peer the tests compare with) is not installed")
    ascii_words = st.lists(st.lists(st.sampled_from(["a", "b", "ab", "_", "1", " ", "-"]), min_size=1, max_size=4)
                           .map("".join).filter(lambda w: w.strip(" -") == w and w.strip()),
                           min_size=1, max_size=5).map(lambda ws: list(dict.fromkeys(ws)))
    ascii_text = st.lists(st.sampled_from(["a", "b", "ab", "_", "1", " ", "-", ", "]), max_size=40).map("".join)

    @examples(backend, 60)
    @given(text=ascii_text, words=ascii_words)
    def prop(text, words):
        kp = flashtext.KeywordProcessor(case_sensitive=True)
        labels = [f"<{i}>" for i in range(len(words))]
        for w, label in zip(words, labels):
            kp.add_keyword(w, label)
        ws = backend.WordSet(words, whole_words=True, matches="leftmost-longest")
        assert ws.replace(text, labels) == kp.replace_keywords(text)

    prop()


def test_one_word_character_rule():
    """The table the cores get (``kmpsearch._wordchars.TABLE``) and the Python layer's test
    (``kmpsearch._semantics.is_word_char``) are one rule: ``re``'s ``\\w`` for ``str``."""
    from kmpsearch._semantics import is_word_char
    from kmpsearch._wordchars import TABLE

    disagree = [cp for cp in range(0x110000) if bool(TABLE[cp]) != is_word_char(cp)]
    assert disagree == []
    assert [bool(re.match(r"\w", chr(cp))) for cp in (0x5F, 0x41, 0xE9, 0x0660, 0x2D, 0x20, 0xD800)] == \
        [is_word_char(cp) for cp in (0x5F, 0x41, 0xE9, 0x0660, 0x2D, 0x20, 0xD800)]
