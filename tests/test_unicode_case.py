"""``WordSet(words, ignore_case="unicode")`` on every backend, against ``re.IGNORECASE``.

``re`` compares ``str`` ignoring case character by character, as simple case folding does;
it differs only for the Turkic dotless ``ı`` (``re`` lets it match ``I``; Unicode's simple
folding does not), which the texts here leave out. So the references are ``re`` patterns
with ``re.I`` over the same alphabet: overlapping matches by lookahead, leftmost-first as
the alternation in order, leftmost-longest sorted longest first, whole words between
``(?<!\\w)`` and ``(?!\\w)`` lookarounds. The alphabet holds the characters whose spellings
differ in length in UTF-8 (``K``/``k``/Kelvin sign, ``s``/``ſ``, ``ß``/``ẞ``), classes of
three and four (``σ ς Σ``, ``θ ϑ ϴ Θ``, ``ǅ``), an astral pair (Deseret) and a combining
mark that folds to a letter.
"""

from __future__ import annotations

import io
import pickle
import re
import shutil
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import examples

ALPHABET = ["k", "K", "\u212a", "s", "S", "\u017f", "ß", "\u1e9e", "σ", "ς", "Σ", "θ", "ϑ", "ϴ", "Θ",
            "ǅ", "Ǆ", "ǆ", "é", "É", "a", "\U00010400", "\U00010428", "\u0345", "ι", " ", "_", "-"]
WORD_CHARS = ["k", "s", "ß", "σ", "Θ", "ǅ", "é", "a", "\U00010428", "ι", "_", "K", "\u212a", "ẞ"]
text_st = st.lists(st.sampled_from(ALPHABET), max_size=30).map("".join)
words_st = st.lists(st.lists(st.sampled_from(WORD_CHARS), min_size=1, max_size=3).map("".join),
                    min_size=1, max_size=4)
KINDS = ["overlapping", "leftmost-longest", "leftmost-first"]


def _distinct(words: list[str]) -> list[str]:
    """The words a WordSet keeps: the first of those equal ignoring case."""
    out: list[str] = []
    for w in words:
        if not any(re.fullmatch(re.escape(o), w, re.I) for o in out):
            out.append(w)
    return out


def _body(word: str, whole: bool) -> str:
    return rf"(?<!\w){re.escape(word)}(?!\w)" if whole else re.escape(word)


def ref(text: str, words: list[str], kind: str, whole: bool) -> list[tuple[int, int]]:
    """(code point offset, word index) of every match in ``text``, in order."""
    if kind == "overlapping":
        out = []
        for i, w in enumerate(words):
            out += [(m.start(), i) for m in re.finditer(f"(?={_body(w, whole)})", text, re.I)]
        return sorted(out)
    order = sorted(range(len(words)), key=lambda i: -len(words[i])) if kind == "leftmost-longest" else \
        list(range(len(words)))
    pat = re.compile("|".join(f"({_body(words[i], whole)})" for i in order), re.I)
    return [(m.start(), order[m.lastindex - 1]) for m in pat.finditer(text)]


def _bytes(text: str, found):
    return [(len(text[:o].encode()), i) for o, i in found]


@pytest.mark.parametrize("kind", KINDS)
def test_matches_re_ignorecase(backend, kind):
    @examples(backend, 50)
    @given(text=text_st, words=words_st, whole=st.booleans(), threads=st.integers(1, 9),
           min_chunk=st.integers(1, 9), window=st.integers(1, 9))
    def prop(text, words, whole, threads, min_chunk, window):
        words = _distinct(words)
        want = ref(text, words, kind, whole)
        ws = backend.WordSet(words, ignore_case="unicode", whole_words=whole, matches=kind)
        assert ws.words == tuple(words)
        opts = dict(threads=threads, _min_chunk=min_chunk)
        assert ws.find_all(text, **opts) == want
        assert ws.count(text, **opts) == len(want)
        assert ws.count_each(text, **opts) == [sum(1 for _, i in want if i == k) for k in range(len(words))]
        assert list(ws.finditer(text, _window=window)) == want
        data = text.encode()
        bwant = _bytes(text, want)
        bws = backend.WordSet([w.encode() for w in words], ignore_case="unicode", whole_words=whole, matches=kind)
        assert bws.find_all(data, **opts) == bwant
        assert bws.count_each(data, **opts) == ws.count_each(text)
        assert list(bws.finditer([data[k:k + 3] for k in range(0, len(data), 3)], _window=window)) == bwant

    prop()


def test_replace_and_redact_are_re(backend):
    @examples(backend, 50)
    @given(text=text_st, words=words_st, whole=st.booleans(), kind=st.sampled_from(KINDS))
    def prop(text, words, whole, kind):
        words = _distinct(words)
        ws = backend.WordSet(words, ignore_case="unicode", whole_words=whole, matches=kind)
        chosen = ref(text, words, "leftmost-longest" if kind == "overlapping" else kind, whole)
        pieces, prev = [], 0
        for off, i in chosen:
            pieces += [text[prev:off], f"<{i}:{text[off:off + len(words[i])].upper()}>"]
            prev = off + len(words[i])
        want = "".join(pieces) + text[prev:]
        assert ws.replace(text, lambda i, m: f"<{i}:{m.upper()}>") == want
        data = text.encode()
        bws = backend.WordSet([w.encode() for w in words], ignore_case="unicode", whole_words=whole, matches=kind)
        out = io.BytesIO()
        n = bws.replace_stream([data[k:k + 2] for k in range(0, len(data), 2)], out,
                               lambda i, m: f"<{i}:{m.decode().upper()}>".encode(), _window=3)
        assert (out.getvalue(), n) == (want.encode(), len(chosen))
        # redaction keeps lengths: every character (str) or byte (bytes) a match covers
        covered = set()
        for off, i in ref(text, words, kind, whole):
            covered.update(range(off, off + len(words[i])))
        masked = "".join("#" if k in covered else ch for k, ch in enumerate(text))
        assert ws.redact(text, "#") == masked
        assert bws.redact(data, b"#") == b"".join(b"#" * len(ch.encode()) if k in covered else ch.encode()
                                                  for k, ch in enumerate(text))

    prop()


def test_spellings_of_other_lengths_in_files(backend, tmp_path):
    """Text whose folded form is shorter or longer in UTF-8 (Kelvin sign 3 bytes for ``k``,
    ``ſ`` 2 for ``s``, ``ẞ`` 3 for ``ß``): offsets and spans are the text's own, in memory,
    in files (one thread, many, tiny chunks, streams) and in trees."""
    text = "ok KEY \u212aey ke\u017f kes STRASSE stra\u1e9ee Straße \u017fecret SECRET ".encode() * 300
    words = ["key", "straße", "secret", "kes"]
    ws = backend.WordSet([w.encode() for w in words], ignore_case="unicode")
    found = ws.find_all(text)
    got: dict = {}
    for o, i in found:  # the characters matched: as many as the word has
        got.setdefault(i, set()).add(text[o:o + 4 * len(words[i])].decode("utf-8", "ignore")[:len(words[i])])
    assert got == {0: {"KEY", "\u212aey"}, 1: {"stra\u1e9ee", "Straße"}, 2: {"\u017fecret", "SECRET"},
                   3: {"ke\u017f", "kes"}}
    assert len(found) == 300 * 8
    path = tmp_path / "f"
    path.write_bytes(text)
    assert ws.find_all_in_file(path) == found
    assert ws.find_all_in_file(path, threads=4, _min_chunk=7) == found
    assert list(ws.finditer(path, _window=5)) == found
    assert dict(ws.find_all_in_files([path])) == {str(path): found}
    assert dict(ws.count_in_files(tmp_path)) == {str(path): len(found)}
    assert ws.count_each_in_file(path) == ws.count_each(text)
    out = io.BytesIO()
    assert ws.redact_stream(path, out, b"*", _window=5) == len(found)
    assert out.getvalue() == ws.redact(text, b"*")
    assert b"\xe2\x84\xaa" not in out.getvalue() and len(out.getvalue()) == len(text)


def test_arguments_pickles_and_limits(backend):
    ws = backend.WordSet(["Straße", "KEY"], ignore_case="unicode", whole_words=True)
    assert ws.ignore_case == "unicode" and "ignore_case='unicode'" in repr(ws)
    assert pickle.loads(pickle.dumps(ws)) == ws
    assert ws != backend.WordSet(["Straße", "KEY"], ignore_case=True, whole_words=True)
    assert backend.WordSet(["KEY", "key", "\u212aey", "kéy", "KÉY"], ignore_case="unicode").words == ("KEY", "kéy")
    assert backend.WordSet(["KEY", "\u212aey"], ignore_case=True).words == ("KEY", "\u212aey")  # ASCII only
    with pytest.raises(ValueError, match="ignore_case"):
        backend.WordSet(["a"], ignore_case="Unicode")
    with pytest.raises(TypeError, match="ignore_case"):
        backend.WordSet(["a"], ignore_case=1)
    # each of these Greek letters has two spellings: 13 of them make more than MAX_VARIANTS
    with pytest.raises(ValueError, match="spellings"):
        backend.WordSet(["αγδζηλνξοτυχψ"], ignore_case="unicode")
    twelve = backend.WordSet(["αγδζηλνξοτυχ"], ignore_case="unicode")
    assert twelve.count("ΑΓΔΖΗΛΝΞΟΤΥΧ αγδζηλνξοτυχ ΑγΔζΗλΝξΟτΥχ") == 3
    # bytes that are not UTF-8 stay exact; around them, letters fold
    bws = backend.WordSet([b"\xff\xfeK\xc3\xa9"], ignore_case="unicode")
    assert bws.find_all(b"..\xff\xfek\xc3\x89 \xff\xfe\xe2\x84\xaa\xc3\xa9 \xfe\xfek\xc3\xa9") == [(2, 0), (8, 0)]


def test_turkic_i_is_not_folded(backend):
    """Simple case folding leaves ``İ`` and ``ı`` alone (they fold only in Turkic rules)."""
    ws = backend.WordSet(["i"], ignore_case="unicode")
    assert ws.find_all("i I \u0130 \u0131") == [(0, 0), (2, 0)]


@pytest.mark.skipif(shutil.which("rg") is None, reason="ripgrep is not installed")
def test_cli_i_finds_what_rg_finds(tmp_path):
    text = "Straße STRAẞE straße\nKEY \u212aey key kéy KÉY\nσ ς Σ ϴ θ\nplain\n"
    (tmp_path / "t.txt").write_text(text)
    (tmp_path / "w.txt").write_text("straße\nkey\nkéy\nσ\nθ\n")
    args = ["-i", "-F", "-o", "-n", "-f", str(tmp_path / "w.txt"), str(tmp_path / "t.txt")]
    ours = subprocess.run([sys.executable, "-m", "kmpsearch", *args], capture_output=True, text=True, check=True)
    theirs = subprocess.run(["rg", "--no-config", *args], capture_output=True, text=True, check=True)
    assert ours.stdout == theirs.stdout and ours.stdout.count("\n") == 13
