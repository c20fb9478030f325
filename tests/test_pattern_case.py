"""``compile(needle, ignore_case=...)`` and the top-level functions' ``ignore_case`` on every
backend, against ``re``.

A Pattern's results are offsets (code points for ``str``, bytes for bytes and files), one
per match, whatever the case. With ``ignore_case="unicode"`` the needle is searched as its
spellings, whose UTF-8 may be longer or shorter than the needle's (``k`` one byte, the
Kelvin sign three): offsets, spans, windows, chunks and ranges must follow the text's own
characters. The references: ``re`` with ``re.IGNORECASE`` (which compares ``str`` by simple
case folding, as here, but for the Turkic dotless ``ı``, left out of the alphabet), every
occurrence by a lookahead ``(?=(needle))``, non-overlapping matches (the leftmost kinds, one
word: both the same) by ``re.finditer``, whole words between ``(?<!\\w)`` and ``(?!\\w)``;
``ignore_case=True`` (ASCII letters only) against ``bytes.lower()`` and ``re.ASCII``.
"""

from __future__ import annotations

import io
import pickle
import re
from array import array

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import examples, ref_find_all

# letters whose spellings differ in UTF-8 length (k K Kelvin; s S long s; ß ẞ), classes of
# three and four, an astral pair, a combining mark that folds to a letter, NUL, word and
# non-word characters
ALPHABET = ["k", "K", "\u212a", "s", "S", "\u017f", "ß", "\u1e9e", "σ", "ς", "Σ", "θ", "ϑ", "Θ", "é", "É",
            "a", "A", "\U00010400", "\U00010428", "\u0345", "ι", "\x00", " ", "_", "-", "1"]
text_st = st.lists(st.sampled_from(ALPHABET), max_size=40).map("".join)
needle_st = st.lists(st.sampled_from(ALPHABET), min_size=1, max_size=4).map("".join)
KINDS = ["overlapping", "leftmost-longest", "leftmost-first"]


def _body(needle: str, whole: bool) -> str:
    return rf"(?<!\w){re.escape(needle)}(?!\w)" if whole else re.escape(needle)


def ref_spans(text: str, needle: str, kind: str, whole: bool, flags: int = re.I) -> list[tuple[int, int]]:
    """``(start, end)`` in code points of every match ``re`` finds: overlapping ones by a
    lookahead, else non-overlapping."""
    if kind == "overlapping":
        return [m.span(1) for m in re.finditer(f"(?=({_body(needle, whole)}))", text, flags)]
    return [m.span() for m in re.finditer(_body(needle, whole), text, flags)]


def _byte_offset(text: str, off: int) -> int:
    return len(text[:off].encode("utf-8", "surrogatepass"))


def _masked(text: str, spans, fill: str = "#") -> str:
    covered = {k for a, b in spans for k in range(a, b)}
    return "".join(fill if k in covered else ch for k, ch in enumerate(text))


def _replaced(text: str, spans, replace) -> str:
    pieces, prev = [], 0
    for a, b in spans:
        pieces += [text[prev:a], replace(text[a:b])]
        prev = b
    return "".join(pieces) + text[prev:]


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[k:k + size] for k in range(0, len(data), size)]


@pytest.mark.parametrize("kind", KINDS)
def test_unicode_case_matches_re(backend, kind):
    """str and its UTF-8 bytes, in memory (threads and tiny chunks: matches cross chunks),
    top-level functions (a haystack shorter than the needle in bytes included), streams in
    small windows (matches cross windows), arrays."""
    @examples(backend, 60)
    @given(text=text_st, needle=needle_st, whole=st.booleans(), threads=st.integers(1, 9),
           min_chunk=st.integers(1, 9), window=st.integers(1, 9))
    def prop(text, needle, whole, threads, min_chunk, window):
        spans = ref_spans(text, needle, kind, whole)
        want = [a for a, _ in spans]
        opts = dict(threads=threads, _min_chunk=min_chunk)
        pat = backend.compile(needle, ignore_case="unicode", whole_words=whole, matches=kind)
        assert pat.ignore_case == "unicode"
        assert pat.find_all(text, **opts) == want
        assert pat.count(text, **opts) == len(want)
        assert list(pat.finditer(text, _window=window)) == want
        assert list(pat.finditer(io.StringIO(text), _window=window)) == want
        semantics = dict(ignore_case="unicode", whole_words=whole, matches=kind)
        assert backend.find_all(text, needle, **semantics, **opts) == want
        assert backend.count(text, needle, **semantics) == len(want)
        assert list(backend.finditer(text, needle, **semantics, _window=window)) == want

        data, bneedle = text.encode(), needle.encode()
        bwant = [_byte_offset(text, a) for a in want]
        bpat = backend.compile(bneedle, ignore_case="unicode", whole_words=whole, matches=kind)
        assert bpat.find_all(data, **opts) == bwant
        assert bpat.find_all(data, as_array=True) == array("q", bwant)
        assert bpat.count(data, **opts) == len(bwant)
        assert list(bpat.finditer(_chunks(data, 2), _window=window)) == bwant
        assert backend.find_all(data, bneedle, **semantics, **opts) == bwant
        assert backend.count(data, bneedle, **semantics) == len(bwant)

    prop()


def test_unicode_case_redact_and_replace_match_re(backend):
    """Masking covers each match's own characters / bytes (a Kelvin sign 3 bytes, k one);
    replacement replaces non-overlapping matches, in memory and window by window."""
    @examples(backend, 50)
    @given(text=text_st, needle=needle_st, whole=st.booleans(), kind=st.sampled_from(KINDS),
           window=st.integers(1, 7))
    def prop(text, needle, whole, kind, window):
        pat = backend.compile(needle, ignore_case="unicode", whole_words=whole, matches=kind)
        spans = ref_spans(text, needle, kind, whole)
        masked = _masked(text, spans)
        assert pat.redact(text, "#") == masked
        data = text.encode()
        bpat = backend.compile(needle.encode(), ignore_case="unicode", whole_words=whole, matches=kind)
        bmasked = "".join("#" * len(ch.encode()) if m == "#" and ch != "#" else ch
                          for ch, m in zip(text, masked)).encode()
        assert bpat.redact(data, b"#") == bmasked
        out = io.BytesIO()
        assert bpat.redact_stream(_chunks(data, 3), out, b"#", _window=window) == len(spans)
        assert out.getvalue() == bmasked

        # replace: non-overlapping, leftmost (a Pattern's one word: leftmost-longest = -first)
        chosen = ref_spans(text, needle, "leftmost-first", whole)
        want = _replaced(text, chosen, lambda m: f"<{m.upper()}>")
        assert pat.replace(text, lambda i, m: f"<{m.upper()}>") == want
        assert backend.replace(text, needle, lambda i, m: f"<{m.upper()}>", ignore_case="unicode",
                               whole_words=whole) == want
        assert pat.replace(text, ["<>"]) == pat.replace(text, "<>") == _replaced(text, chosen, lambda m: "<>")
        out = io.BytesIO()
        n = bpat.replace_stream(_chunks(data, 2), out, lambda i, m: f"<{m.decode().upper()}>".encode(),
                                _window=window)
        assert (out.getvalue(), n) == (want.encode(), len(chosen))

    prop()


def test_unicode_case_in_files_and_ranges(backend, tmp_path):
    """Files: the core's file search (one thread, many, tiny chunks), ranges and windows of
    a few bytes (``finditer`` of a path), trees; byte offsets of the text's own spellings."""
    text = "ok KEY \u212aey ke\u017f kes STRASSE stra\u1e9ee Straße \u017fecret SECRET key\x00Key".encode() * 200
    path = tmp_path / "f"
    path.write_bytes(text)
    for needle, spellings in (("key", {"KEY", "\u212aey", "key", "Key"}), ("STRAßE", {"stra\u1e9ee", "Straße"}),
                              ("ſecret", {"\u017fecret", "SECRET"}), ("kes", {"ke\u017f", "kes"})):
        pat = backend.compile(needle, ignore_case="unicode")
        found = pat.find_all(text.decode())
        bfound = pat.find_all_in_file(path)
        got = {text[o:o + 3 * len(needle)].decode("utf-8", "ignore")[:len(needle)] for o in bfound}
        assert got == spellings
        assert len(found) == len(bfound) == 200 * _per_copy(needle)
        bpat = backend.compile(needle.encode(), ignore_case="unicode")
        assert bpat.find_all(text) == bfound
        assert pat.find_all_in_file(path, threads=4, _min_chunk=7) == bfound
        assert pat.count_in_file(path, threads=3, _min_chunk=5) == len(bfound)
        assert backend.find_all_in_file(path, needle, ignore_case="unicode") == bfound
        assert backend.count_in_file(path, needle, ignore_case="unicode") == len(bfound)
        assert list(pat.finditer(path, _window=5)) == bfound
        with open(path, "rb") as f:
            assert list(pat.finditer(f, _window=4)) == bfound
        assert dict(pat.find_all_in_files([path])) == {str(path): bfound}
        assert dict(pat.count_in_files(tmp_path)) == {str(path): len(bfound)}
        out = io.BytesIO()
        assert pat.redact_stream(path, out, b"*", _window=5) == len(bfound)
        assert out.getvalue() == bpat.redact(text, b"*") and len(out.getvalue()) == len(text)
        # whole words, a match kind: chosen window by window
        whole = backend.compile(needle, ignore_case="unicode", whole_words=True, matches="leftmost-first")
        bwhole = backend.compile(needle.encode(), ignore_case="unicode", whole_words=True, matches="leftmost-first")
        assert whole.find_all_in_file(path) == bwhole.find_all(text) == list(whole.finditer(path, _window=6))
        decoded = text.decode()
        assert bwhole.find_all(text) == [_byte_offset(decoded, o) for o, _ in
                                         ref_spans(decoded, needle, "leftmost-first", True)]


def _per_copy(needle: str) -> int:
    """Matches of ``needle`` in one copy of the file text of the test above."""
    return {"key": 4, "STRAßE": 2, "ſecret": 2, "kes": 2}[needle]


def test_ascii_case_matches_lower(backend):
    """``ignore_case=True`` folds ASCII letters only: bytes against ``bytes.lower()`` (every
    byte value, NUL and invalid UTF-8 included), str against ``re.ASCII | re.I``."""
    byte_st = st.binary(max_size=40).map(lambda b: b.translate(bytes.maketrans(b"bcdefg", b"aAkK\x00\xff")))

    @examples(backend, 60)
    @given(data=byte_st, needle=st.binary(min_size=1, max_size=3), text=text_st, sneedle=needle_st,
           kind=st.sampled_from(KINDS), threads=st.integers(1, 9), min_chunk=st.integers(1, 9),
           window=st.integers(1, 9))
    def prop(data, needle, text, sneedle, kind, threads, min_chunk, window):
        if kind == "overlapping":
            want = ref_find_all(data.lower(), needle.lower())
        else:
            want, i = [], data.lower().find(needle.lower())
            while i >= 0:
                want.append(i)
                i = data.lower().find(needle.lower(), i + len(needle))
        opts = dict(threads=threads, _min_chunk=min_chunk)
        pat = backend.compile(needle, ignore_case=True, matches=kind)
        assert pat.ignore_case is True
        assert pat.find_all(data, **opts) == want
        assert pat.count(data, **opts) == len(want)
        assert list(pat.finditer(_chunks(data, 2), _window=window)) == want
        assert backend.find_all(data, needle, ignore_case=True, matches=kind, **opts) == want
        swant = [a for a, _ in ref_spans(text, sneedle, kind, False, re.ASCII | re.I)]
        assert backend.compile(sneedle, ignore_case=True, matches=kind).find_all(text, **opts) == swant
        assert backend.count(text, sneedle, ignore_case=True, matches=kind, **opts) == len(swant)

    prop()


def test_case_examples(backend, tmp_path):
    """The nasty letters one by one, the top-level functions and the shortcut of a haystack
    shorter than the needle (in bytes, never in characters)."""
    kelvin = "\u212a".encode()
    assert backend.find_all("k K \u212a", "K", ignore_case="unicode") == [0, 2, 4]
    assert backend.find_all("k K \u212a", "K", ignore_case=True) == [0, 2]
    assert backend.find_all("k K \u212a", "K") == [2]
    assert backend.find_all(b"k", kelvin, ignore_case="unicode") == [0]  # 1 byte for a 3-byte needle
    assert backend.count(b"kk", kelvin + kelvin, ignore_case="unicode") == 1
    assert backend.find_all(b"k", kelvin, ignore_case=True) == []
    assert backend.find_all("ab", "abc", ignore_case="unicode") == []
    assert backend.replace(b"K", kelvin, b"x", ignore_case="unicode") == b"x"
    assert backend.find_all("ſ s S", "s", ignore_case="unicode") == [0, 2, 4]
    assert backend.find_all("ß ẞ ss", "ẞ", ignore_case="unicode") == [0, 2]  # simple folding: ß is not ss
    assert backend.find_all("σ ς Σ", "ς", ignore_case="unicode") == [0, 2, 4]
    assert backend.find_all("a\x00B a\x00b", "A\x00b", ignore_case="unicode") == [0, 4]
    assert backend.find_all("\u0130 \u0131 i I", "i", ignore_case="unicode") == [4, 6]  # no Turkic folding
    # a needle with no cased letter: the single-pattern scan, the same results
    assert backend.find_all("1-1-1", "1-1", ignore_case="unicode") == [0, 2]
    assert backend.compile("1-1", ignore_case=True).find_all("1-1-1", threads=2, _min_chunk=1) == [0, 2]
    path = tmp_path / "p"
    path.write_bytes("x\u212aEY key KEY".encode())
    assert backend.find_all_in_file(path, "key", ignore_case="unicode") == [1, 7, 11]
    assert backend.find_all_in_file(path, "key", ignore_case=True) == [7, 11]
    assert list(backend.finditer(path, b"KEY", ignore_case="unicode", _window=1)) == [1, 7, 11]
    assert backend.count_in_file(path, "Key", ignore_case="unicode", whole_words=True) == 2
    assert backend.compile("key", ignore_case="unicode").redact("x\u212aEY key", "#") == "x### ###"
    assert backend.compile(b"key", ignore_case="unicode").redact("x\u212aEY".encode(), b"#") == b"x#####"
    assert backend.compile("key", ignore_case="unicode").replace("x\u212aEY key", ["k"]) == "xk k"
    with pytest.raises(ValueError, match="replacement"):
        backend.compile("key", ignore_case="unicode").replace("x", ["a", "b"])
    # each of these Greek letters has two spellings: 13 of them make more than MAX_VARIANTS
    with pytest.raises(ValueError, match="spellings"):
        backend.compile("αγδζηλνξοτυχψ", ignore_case="unicode")
    assert backend.count("ΑΓΔΖΗΛΝΞΟΤΥΧ αγδζηλνξοτυχ", "αγδζηλνξοτυχ", ignore_case="unicode") == 2


def test_arguments_repr_equality_pickling(backend):
    for case in (False, True, "unicode"):
        for needle in ("Straße", b"KEY\xff", "123"):
            pat = backend.compile(needle, ignore_case=case, whole_words=True)
            assert pat.ignore_case == case and type(pat.ignore_case) is type(case)
            back = pickle.loads(pickle.dumps(pat))
            assert back == pat and hash(back) == hash(pat) and type(back) is type(pat)
            assert back.ignore_case == case and back.whole_words
            assert back.find_all(needle) == pat.find_all(needle) == [0]
            assert pat == backend.Pattern(needle, ignore_case=case, whole_words=True)
            assert ("ignore_case" in repr(pat)) == bool(case)
    assert "ignore_case='unicode'" in repr(backend.compile("k", ignore_case="unicode"))
    distinct = {backend.compile("k", ignore_case=c) for c in (False, True, "unicode")}
    assert len(distinct) == 3
    assert backend.compile("k") == backend.compile("k", ignore_case=False)
    for bad, exc in (("x", ValueError), ("Unicode", ValueError), (1, TypeError), (None, TypeError)):
        with pytest.raises(exc, match="ignore_case"):
            backend.compile("a", ignore_case=bad)
        with pytest.raises(exc, match="ignore_case"):
            backend.Pattern(b"a", ignore_case=bad)
        with pytest.raises(exc, match="ignore_case"):
            backend.find_all("abc", "a", ignore_case=bad)
        with pytest.raises(exc, match="ignore_case"):
            backend.find_all("a", "abc", ignore_case=bad)  # checked before the shortcut
        with pytest.raises(exc, match="ignore_case"):
            backend.count(b"abc", b"a", ignore_case=bad)
        with pytest.raises(exc, match="ignore_case"):
            backend.finditer("abc", "a", ignore_case=bad)
        with pytest.raises(exc, match="ignore_case"):
            backend.find_all_in_file(__file__, "a", ignore_case=bad)
        with pytest.raises(exc, match="ignore_case"):
            backend.count_in_file(__file__, "a", ignore_case=bad)
        with pytest.raises(exc, match="ignore_case"):
            backend.replace("abc", "a", "b", ignore_case=bad)
