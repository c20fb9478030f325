"""The benchmark's pure helpers (bench/wordgen.py, bench/corpus.py, bench/treegen.py,
bench/tree.py): the words of SCENARIO=words are the same on every run and machine, the
reference count the benchmark checks every row against is right, SCENARIO=adversarial's
haystacks are what they say, and SCENARIO=tree's generated trees are deterministic, of the
size asked and reused, its arguments read, its reference and its reading of the commands'
outputs right. SCENARIO=words' match-semantics rows (bench/semantics.py) run on a small
haystack: their references agree with ``re``, every row runs and agrees with them."""

from __future__ import annotations

import hashlib
import io
import os
import random
import re
import sys
import types
from pathlib import Path

import kmpsearch
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


def _random_cases(seed: int, cases: int, text: bytes, letters: bytes, longest: tuple[int, int, int]):
    """``cases`` times ``(rng, haystack, words)``: a haystack of up to ``longest[0]`` bytes of
    ``text``, 1 to ``longest[2]`` words of 1 to ``longest[1]`` bytes of ``letters``."""
    rng = random.Random(seed)
    for _ in range(cases):
        hay = bytes(rng.choice(text) for _ in range(rng.randint(0, longest[0])))
        words = list({bytes(rng.choice(letters) for _ in range(rng.randint(1, longest[1])))
                      for _ in range(rng.randint(1, longest[2]))})
        yield rng, hay, words


def test_reference_count_matches_a_find_loop():
    require_extra("numpy")
    for rng, hay, words in _random_cases(7, 300, b"abc", b"abc", (60, 7, 6)):
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


# --------------------------------------------------------------------------- SCENARIO=tree

def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        h.update(str(p.relative_to(root)).encode() + b"\0")
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def test_tree_generator_small(tmp_path):
    require_extra("numpy")
    import treegen  # bench/treegen.py

    size = 2 << 20
    root, info, made = treegen.ensure_tree(size, 11, directory=tmp_path / "a")
    assert made and root.name == "tree-2MiB-11" and (root.parent / "tree-2MiB-11.json").exists()
    files = [p for p in root.rglob("*") if p.is_file()]
    # 50,000 files in 600 MiB: SIZE scales the number of files; sizes add up to about SIZE
    assert len(files) == info["files"] == treegen.tree_files(size) == round(50_000 * size / (600 << 20))
    total = sum(p.stat().st_size for p in files)
    assert total == info["total_bytes"] and 0.9 * size <= total <= 1.15 * size
    sizes = sorted(p.stat().st_size for p in files)
    assert sizes[0] >= 100 and sizes[len(sizes) // 2] < 8 << 10 < sizes[-1]  # mostly small, a long tail
    assert max(len(p.relative_to(root).parts) for p in files) > 3  # nested directories
    assert all(p.read_bytes().endswith(b"\n") for p in files)
    text = b"".join(p.read_bytes() for p in files)
    chars = set(text.decode("utf-8"))  # lines of printable ASCII and some UTF-8
    assert b"import" in text and all(ch.isprintable() or ch in "\n\t" for ch in chars)
    assert any(ord(ch) > 127 for ch in chars)
    # deterministic: the same seed gives the same tree elsewhere; another seed another one
    other, _, _ = treegen.ensure_tree(size, 11, directory=tmp_path / "b")
    assert _digest(other) == _digest(root)
    third, _, _ = treegen.ensure_tree(size, 12, directory=tmp_path / "b")
    assert _digest(third) != _digest(root)
    # reused when present and complete (the stamp, the count and the bytes)
    before = (root / files[0].relative_to(root)).stat().st_mtime_ns
    again, info2, made = treegen.ensure_tree(size, 11, directory=tmp_path / "a")
    assert (again, info2, made) == (root, info, False)
    assert files[0].stat().st_mtime_ns == before
    files[0].unlink()  # incomplete: made again
    again, _, made = treegen.ensure_tree(size, 11, directory=tmp_path / "a")
    assert made and _digest(again) == _digest(other)


def test_tiny_files(tmp_path):
    require_extra("numpy")
    import treegen

    root, info, made = treegen.ensure_tiny(300, 5, directory=tmp_path)
    files = [p for p in root.rglob("*") if p.is_file()]
    assert made and len(files) == info["files"] == 300
    assert all(1 <= p.read_bytes().count(b"\n") <= 5 and p.stat().st_size < 2000 for p in files)
    assert treegen.ensure_tiny(300, 5, directory=tmp_path)[2] is False
    assert treegen.tiny_files(600 << 20) == 50_000 and treegen.tiny_files(64 << 20) == 5333


def test_tree_arguments(monkeypatch):
    import run  # bench/run.py

    for name in ("SIZE", "SCENARIO", "TREE", "WORD", "REPEATS"):
        monkeypatch.delenv(name, raising=False)
    args = run.parse_args(["--scenario", "tree"])
    assert args.size_bytes == 600 << 20 and args.tree is None and args.word is None
    assert run.parse_args([]).size_bytes == 1 << 30  # the other scenarios keep 1GiB
    monkeypatch.setenv("SCENARIO", "tree")
    monkeypatch.setenv("SIZE", "64MiB")
    monkeypatch.setenv("TREE", "/some/dir")
    monkeypatch.setenv("WORD", "def")
    args = run.parse_args([])
    assert (args.scenario, args.size_bytes, args.tree, args.word) == ("tree", 64 << 20, "/some/dir", "def")
    assert run.parse_args(["--tree", "/x", "--word", "self"]).tree == "/x"


def test_tree_helpers(tmp_path):
    require_extra("numpy")
    import tree  # bench/tree.py

    assert not tree.can_overlap([b"import"])
    assert tree.can_overlap([b"abab"]) and tree.can_overlap([b"he", b"she"]) and tree.can_overlap([b"ab", b"ba"])
    assert not tree.can_overlap([b"ab", b"cd", b"key"])
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.py").write_bytes(b"import os\nimport sys; import re\nx\n")
    (tmp_path / "b.txt").write_bytes(b"no match\nreimport importimport")  # no final newline
    (tmp_path / "c.bin").write_bytes(b"\0import\n")
    (tmp_path / "link").symlink_to(tmp_path / "b.txt")  # skipped, as by the commands
    top = str(tmp_path)
    files = tree.walk_files(top)
    assert files == sorted(os.fsencode(f"{top}/{n}") for n in ("b.txt", "c.bin", "d/a.py"))
    ref = tree.reference(files, b"import", [b"import", b"mpo", b"ys"])
    a, b, c = (os.fsencode(f"{top}/{n}") for n in ("d/a.py", "b.txt", "c.bin"))
    assert ref.word == {a: 3, b: 3, c: 1} and ref.word_lines == {a: 2, b: 1, c: 1}
    assert ref.words == {a: 7, b: 6, c: 2}
    # the commands' outputs: counts, listings, binary-file notes (grep's under its full path)
    cmd = tree.Cmd("count", "rg", "rg", [], "auto", "leftmost")
    tree.parse_output(cmd, b"%s:3\n%s:0\nnoise\n" % (a, b), b"", set(files))
    assert cmd.per_file == {a: 3} and cmd.unparsed == 1 and cmd.total == 3
    listing = tree.Cmd("lines", "grep", "grep", [], "1", "listing")
    tree.parse_output(listing, b"%s:1:import os\n%s: binary file matches (found \"\\0\" byte around offset 0)\n"
                      % (a, c), b"/usr/bin/grep: %s: binary file matches\n" % c, set(files))
    assert listing.listing == [b"%s:1:import os" % a] and listing.binary == {c}
    assert tree.compare_counts("x", {a: 3}, {a: 3}) is None
    assert "1 file(s) differ" in tree.compare_counts("x", {a: 2}, {a: 3})
    assert tree.compare_counts("x", {a: 2}, {a: 3}, at_most=True) is None
    wall, cpu, rss, code = tree.run_once([sys.executable, "-c", "print(1)"], tmp_path / "out", tmp_path / "err",
                                         dict(os.environ))
    assert code == 0 and wall > 0 and cpu >= 0 and (tmp_path / "out").read_bytes().strip() == b"1"


def test_reference_offsets():
    require_extra("numpy")
    for rng, hay, words in _random_cases(9, 200, b"abc", b"abc", (50, 6, 5)):
        want = sorted(i for w in words for i in range(len(hay)) if hay.startswith(w, i))
        assert sorted(wordgen.reference_offsets(hay, words, block=rng.randint(1, 9))) == want


def test_tree_checks_fail_on_a_disagreement():
    import tree  # bench/tree.py

    a, b = b"t/a.py", b"t/b.py"
    ref = tree.Reference([a, b], word={a: 2, b: 1}, word_lines={a: 2, b: 1}, words={a: 5, b: 1})

    def cmd(group, tool, counts, per_file=None, listing=None, default=False):
        c = tree.Cmd(group, tool, f"{tool} {group}", [], "1", counts, backend="rust" if tool == "kmpsearch" else None,
                     default=default)
        c.per_file, c.listing = per_file, listing
        return c

    good = [cmd("count", "kmpsearch", "matches", {a: 2, b: 1}, default=True),
            cmd("count", "rg", "leftmost", {a: 2, b: 1}),
            cmd("words", "kmpsearch", "matches", {a: 5, b: 1}, default=True), cmd("words", "rg", "leftmost", {a: 3}),
            cmd("lines", "kmpsearch", "listing", listing=[b"t/a.py:1:x", b"t/a.py:2:y", b"t/b.py:7:z"], default=True),
            cmd("lines", "grep", "listing", listing=[b"t/b.py:7:z", b"t/a.py:2:y", b"t/a.py:1:x"])]
    checks, failed = tree.check(good, ref, {}, word_overlaps=False, words_overlap=True)
    assert not failed and len(checks) == 6 and all(c["ok"] for c in checks)
    # the words cannot overlap: rg must then find them all; the listings must hold the same lines
    bad = good[:3] + [cmd("words", "rg", "leftmost", {a: 3})] + good[4:5] + \
        [cmd("lines", "rg", "listing", listing=[b"t/a.py:1:x", b"t/b.py:7:z"])]
    checks, failed = tree.check(bad, ref, {}, word_overlaps=False, words_overlap=False)
    assert len(failed) == 2 and "rg words" in failed[0] and "only kmpsearch" in failed[1]
    wrong = [cmd("count", "kmpsearch", "matches", {a: 2, b: 2}, default=True)]
    assert tree.check(wrong, ref, {}, False, False)[1]


# --------------------------------------------------------------------------- SCENARIO=words: match semantics

def test_whole_words_are_whole_words_of_the_source():
    words = wordgen.make_words(400, SOURCE, whole=True)
    assert words == wordgen.make_words(400, SOURCE, whole=True)
    assert wordgen.make_words(10, SOURCE, whole=True) == words[:10]
    assert len(set(words)) == 400 and all(w.isalnum() and 4 <= len(w) <= 12 for w in words)
    for w in words[0::2]:  # even-numbered: a whole word somewhere in the source
        assert re.search(rb"(?<![0-9A-Za-z_])" + w + rb"(?![0-9A-Za-z_])", SOURCE), w
    assert words != wordgen.make_words(400, SOURCE)
    chosen = wordgen.semantics_words(400, SOURCE)
    assert wordgen.semantics_words(10, SOURCE) == chosen[:10] and len(set(chosen)) == 400
    assert chosen[0::2] == words[0::2]
    prefixes = [b for a, b in zip(chosen[0::2], chosen[1::2]) if a.startswith(b)]
    assert len(prefixes) > 150 and all(4 <= len(p) for p in prefixes)


def _leftmost_longest_re(hay: bytes, words: list[bytes]) -> list[tuple[int, int]]:
    """``re``'s alternation is leftmost-first: the longest words first make it leftmost-longest."""
    alternation = b"|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return [(m.start(), m.end() - m.start()) for m in re.finditer(alternation, hay)]


def test_semantics_references_agree_with_re():
    require_extra("numpy")
    for rng, hay, words in _random_cases(11, 300, b"abAB _\n", b"abAB", (60, 5, 5)):
        every = sorted((i, len(w)) for w in words for i in range(len(hay)) if hay.startswith(w, i))
        assert wordgen.reference_matches(hay, words, block=rng.randint(1, 9)) == every
        folded = sorted({(i, len(w)) for w in words for i in range(len(hay)) if hay.lower().startswith(w.lower(), i)})
        assert wordgen.reference_matches(hay, words, block=rng.randint(1, 9), ignore_case=True) == folded
        whole = sorted((m.start(), len(w)) for w in words
                       for m in re.finditer(rb"(?<!\w)(?=" + re.escape(w) + rb"(?!\w))", hay))
        assert wordgen.whole_matches(hay, every) == whole
        end = rng.randint(0, len(hay))
        assert wordgen.whole_matches(hay, every, end) == wordgen.whole_matches(hay[:end], [m for m in every
                                                                                            if sum(m) <= end])
        chosen = wordgen.leftmost_longest(every)
        assert chosen == _leftmost_longest_re(hay, words)
        out = re.sub(b"|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)), b"<>", hay)
        assert wordgen.is_replaced(out, hay, chosen, b"<>")
        assert not wordgen.is_replaced(out + b"x", hay, chosen, b"<>")
        if chosen:
            assert not wordgen.is_replaced(out, hay, chosen, b"[]")
            assert not wordgen.is_replaced(out, hay, chosen[1:], b"<>")


def test_semantics_rows(native, monkeypatch):
    """Every row of bench/semantics.py on SOURCE, for one native backend: they run, their
    counts and copies agree with the reference, and the table, goals and JSON take them."""
    require_extra("numpy")
    require_extra("rich")
    import harness  # bench/harness.py
    import semantics  # bench/semantics.py
    import words as words_scenario  # bench/words.py
    from rich.console import Console
    from rich.progress import Progress

    monkeypatch.setattr(harness, "SHORT_ROW_SECONDS", 0.0)  # REPEATS runs a row, no more
    no_gc = types.SimpleNamespace(collect=lambda: 0)  # before each run: slow in pytest's big heap
    monkeypatch.setattr(harness, "gc", no_gc)
    monkeypatch.setattr(semantics, "gc", no_gc)
    console = Console(file=io.StringIO(), width=200)
    progress = Progress(console=console, disable=True)
    hay = memoryview(SOURCE)
    runner = harness.Runner(len(hay), 1, False, 1 << 20, progress, console)
    name = native.__name__.rsplit(".", 1)[-1]
    sem = semantics.measure(kmpsearch, [name], 2, hay, runner, progress, console, 4.0, words_scenario.is_fallback)
    assert not sem.failed and not sem.errors and not sem.peer_errors, (sem.failed, sem.errors, sem.peer_errors)
    if sem.skipped:
        pytest.skip(f"{name}: no native word-set core in this build")
    got = {(line.row.backend, line.n, line.row.measures): line for line in sem.lines}
    words = sem.words
    assert words == wordgen.semantics_words(semantics.COUNT_WORDS, SOURCE)
    every = wordgen.reference_matches(SOURCE, words)
    whole = len(wordgen.whole_matches(SOURCE, every))
    assert whole > 0  # the words have word boundaries in the text
    assert got[name, 1000, "count"].row.matches == len(every)
    assert got[name, 1000, "whole_words"].row.matches == whole
    assert got[name, 1000, "leftmost-longest"].row.matches == len(wordgen.leftmost_longest(every)) < len(every)
    assert got[name, 1000, "ignore_case='unicode'"].row.matches == len(
        wordgen.reference_matches(SOURCE, words, ignore_case=True))
    assert got[name, 10, "replace"].row.matches > 0
    for measures in ("whole_words", "leftmost-longest", "ignore_case='unicode'", "replace"):
        line = got[name, 1000 if measures != "replace" else 10, measures]
        assert line.ratio > 0 and line.cpu_ratio > 0 and line.goal is not None
        assert len(line.cpu) == len(line.row.times) >= 1
    assert got[None, 10, "copy"].ratio is None
    for peer, measures in (("ahocorasick_rs", "leftmost-longest"), ("flashtext", "whole_words"),
                           ("flashtext", "replace")):
        rows = [line for line in sem.lines if line.row.kind == "peer" and line.row.name.startswith(peer)
                and line.row.measures == measures]
        assert len(rows) == (peer not in sem.unavailable)
        for line in rows:
            assert line.ratio is not None and line.row.matches is not None and line.row.reference is None
    assert [t["met"] is None for t in semantics.targets(sem)] == [False] * 4
    table = semantics.markdown(sem)
    assert table[0] == "## Match semantics" and sum(row.startswith("| 1,000 | kmpsearch") for row in table) == 4
    assert semantics.payload(sem)["rows"][1]["ratio_of"] == f"{name} count"
    semantics.show(console, sem)


def test_semantics_knob(monkeypatch):
    import run  # bench/run.py

    monkeypatch.delenv("SEMANTICS", raising=False)
    assert run.parse_args(["--scenario", "words"]).semantics is True
    assert run.parse_args(["--no-semantics"]).semantics is False
    monkeypatch.setenv("SEMANTICS", "0")
    assert run.parse_args([]).semantics is False
