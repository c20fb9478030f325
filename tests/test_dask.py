"""kmpsearch.dask on a LocalCluster of two worker processes, shared by the module's tests.

Every result is compared with the local file search (``find_all_in_file`` and friends, each
already checked against a ``bytes.find`` reference by the conformance suite), at block sizes
down to the longest word, so that matches straddle block boundaries. Skipped with a reason
when the ``dask`` extra is not installed (tox); ``make test`` installs it.
"""

from __future__ import annotations

import errno
import io
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import require_extra  # noqa: E402

require_extra("dask", "dask", "dask.dataframe", "distributed", "fsspec", "pandas")

import distributed  # noqa: E402
import fsspec  # noqa: E402
from fsspec.implementations.memory import MemoryFileSystem  # noqa: E402

import kmpsearch  # noqa: E402
import kmpsearch.dask as kd  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PKG_ROOT = str(Path(kmpsearch.__file__).resolve().parent.parent)
WORDS = [b"ab", b"aab", b"babba", b"b"]  # longest 5; "b" is shorter: it also matches in overlaps
SIZES = {"a0.txt": 0, "a1.txt": 1, "b.txt": 3, "c.txt": 17, "d/e.txt": 64, "d/f.txt": 150, "d/g/h.txt": 300,
         "d/g.txt": 5, "z.txt": 400, "zz/empty.txt": 0}
# the command's walk order (grep -r: depth first, names sorted at each level)
ORDER = ["a0.txt", "a1.txt", "b.txt", "c.txt", "d/e.txt", "d/f.txt", "d/g/h.txt", "d/g.txt", "z.txt",
         "zz/empty.txt"]

pytestmark = pytest.mark.thread_unsafe  # one shared cluster (pytest-run-parallel)


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0") as cl, \
            distributed.Client(cl) as c:
        yield c


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    top = tmp_path_factory.mktemp("tree")
    rng = random.Random(16)
    for name, size in SIZES.items():
        p = top / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(bytes(rng.choice(b"ab") for _ in range(size)))
    return top


def files_of(tree: Path) -> list[str]:
    return [str(tree / name) for name in ORDER]


def local_rows(files, ws) -> list[tuple[str, int, int]]:
    """The reference: the local file search of each file, in order."""
    return [(str(p), off, j) for p in files for off, j in ws.find_all_in_file(p)]


def _in_process() -> distributed.Client:
    """A cluster in this process (threads), for memory:// files: they live in one process."""
    return distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=":0",
                              set_as_default=False)


def _memory_files(fs, sizes: dict, seed: int) -> dict:
    """Files of random a and b of the given sizes written to ``fs``: path -> content."""
    rng = random.Random(seed)
    data = {path: bytes(rng.choice(b"ab") for _ in range(size)) for path, size in sizes.items()}
    for path, content in data.items():
        fs.pipe_file(path, content)
    return data


def rows(df, client=None) -> list[tuple[str, int, int]]:
    got = df.compute(scheduler=client)
    assert list(got.columns) == ["path", "offset", "word"]
    return list(zip(got["path"].astype(object), got["offset"].tolist(), got["word"].tolist()))


# --- results equal the local search ---------------------------------------------------------

@pytest.mark.parametrize(("blocksize", "window"), [(5, None), (6, None), (13, 1), (64, 7), ("1MiB", 10), ("1MiB", None)])
def test_find_equals_local_search(client, tree, blocksize, window):
    """Blocks down to the longest word; a task reads its block in windows (down to 1 byte)."""
    ws = kmpsearch.WordSet(WORDS)
    files = files_of(tree)
    expected = local_rows(files, ws)
    assert len(expected) > 300
    assert rows(kd.find(files, ws, blocksize=blocksize, client=client, _window=window)) == expected


@pytest.mark.parametrize(("blocksize", "window"), [(1, None), (2, None), (5, None), (7, 3), (64, None), (512, 2)])
def test_count_and_count_each_equal_local_search(client, tree, blocksize, window):
    ws = kmpsearch.WordSet(WORDS)
    files = files_of(tree)
    counts = kd.count(files, ws, blocksize=blocksize, client=client, _window=window)
    assert counts.index.tolist() == files and counts.name == "count"
    assert counts.tolist() == [ws.count_in_file(p) for p in files]
    table = kd.count_each(files, ws, blocksize=blocksize, client=client, _window=window)
    assert table.columns.tolist() == WORDS
    assert table.values.tolist() == [ws.count_each_in_file(p) for p in files]


@pytest.mark.parametrize("blocksize", [1, 2, 3])
def test_a_word_longer_than_a_block(client, tree, blocksize):
    pat = kmpsearch.compile(b"abab")
    files = files_of(tree)[:6]
    expected = [(p, off, 0) for p in files for off in pat.find_all_in_file(p)]
    assert expected
    assert rows(kd.find(files, pat, blocksize=blocksize, client=client)) == expected
    assert kd.count(files, pat, blocksize=blocksize, client=client).tolist() == [pat.count_in_file(p) for p in files]


def test_str_words_search_utf8_bytes(client, tmp_path):
    text = "ünïcödé cö ééé cöcö 😀cö " * 7
    p = tmp_path / "u.txt"
    p.write_text(text, encoding="utf-8")
    for obj in (kmpsearch.compile("cö"), kmpsearch.WordSet(["cö", "é", "😀"])):
        expected = obj.find_all_in_file(p)
        got = kd.find([p], obj, blocksize=4, client=client).compute()
        pairs = list(zip(got.offset.tolist(), got.word.tolist()))
        assert pairs == (expected if isinstance(obj, kmpsearch.WordSet) else [(o, 0) for o in expected])
    # words given as they are are compiled once into a WordSet
    assert kd.count(str(p), "cö", blocksize=3, client=client).tolist() == [kmpsearch.compile("cö").count_in_file(p)]


def test_ignore_case(client, tmp_path):
    p = tmp_path / "case.txt"
    p.write_bytes(b"Password PASSWORD pass passWORD token TOKEN tok" * 5)
    ws = kmpsearch.WordSet([b"password", b"Token"], ignore_case=True)
    expected = local_rows([str(p)], ws)
    assert rows(kd.find([p], [b"password", b"Token"], ignore_case=True, blocksize=9, client=client)) == expected
    assert rows(kd.find([p], ws, blocksize=8, client=client)) == expected
    assert kd.count_each([p], ws, blocksize=8, client=client).values.tolist() == [ws.count_each_in_file(p)]


def test_unicode_case_whole_words_and_match_kinds(client, tmp_path):
    """The set's semantics on the cluster: what it finds in one file on one machine, whatever
    the blocksize (a choice depends on the ones before it: such a file is one task)."""
    big = tmp_path / "big.txt"
    big.write_bytes("ab abc ab_ ab STRAẞE straße \u212aey key keys ".encode() * 60)
    small = tmp_path / "small.txt"
    small.write_bytes("ab, Straße! KEY".encode())
    for ws in (kmpsearch.WordSet([b"ab", b"abc"], whole_words=True),
               kmpsearch.WordSet([b"ab", b"abc", b"ab a"], matches="leftmost-longest"),
               kmpsearch.WordSet(["straße", "key", "keys"], ignore_case="unicode", whole_words=True,
                                 matches="leftmost-first"),
               kmpsearch.WordSet(["straße", "key", "ab"], ignore_case="unicode")):
        paths = [str(big), str(small)]
        assert rows(kd.find(paths, ws, blocksize=64, client=client)) == local_rows(paths, ws)
        assert kd.count(paths, ws, blocksize=64, client=client).tolist() == [ws.count_in_file(p) for p in paths]
        assert kd.count_each(paths, ws, blocksize=64, client=client).values.tolist() == \
            [ws.count_each_in_file(p) for p in paths]


def test_empty_files_are_no_task(client, tree):
    empty = [str(tree / "a0.txt"), str(tree / "zz/empty.txt")]
    assert kd._blocks(kd._expand(empty), 5, 1) == []
    df = kd.find(empty, WORDS, blocksize=1, client=client)
    assert len(df.compute()) == 0 and list(df.columns) == ["path", "offset", "word"]
    assert kd.count(empty, WORDS, client=client).tolist() == [0, 0]
    assert kd.count([], WORDS, client=client).tolist() == []


def test_small_files_are_packed_into_tasks(client, tmp_path):
    """Small files go many to a task of about blocksize bytes (each searched whole, local
    ones by the core in one call); a file bigger than blocksize is cut into blocks."""
    for k in range(300):
        (tmp_path / f"f{k:03d}").write_bytes(b"xab" * (k % 5))
    (tmp_path / "g_big").write_bytes(b"ab" * 5000)
    files = [str(p) for p in sorted(tmp_path.iterdir())]
    tasks = kd._tasks(kd._expand(files), 2, 1000)
    packed = [t for t, _, _, own in tasks if not own]
    assert sum(len(t) for t in packed) == sum(1 for k in range(300) if k % 5)  # empty files: no task
    assert len(packed) <= 10 and len(tasks) - len(packed) == 10  # the big file: 10 blocks
    ws = kmpsearch.WordSet([b"ab", b"b"])
    assert kd.count(files, ws, blocksize=1000, client=client).tolist() == [ws.count_in_file(p) for p in files]
    assert rows(kd.find(files, ws, blocksize=1000, client=client)) == local_rows(files, ws)
    each = kd.count_each(files, ws, blocksize=1000, client=client)
    assert each.values.tolist() == [ws.count_each_in_file(p) for p in files]


def test_plan_owns_every_start_once():
    """The blocks of a file cover its start positions exactly once, each at most blocksize."""
    for size in (1, 2, 5, 6, 7, 100, 1001):
        for longest in (1, 3, 5, 200):
            for blocksize in (1, 2, 5, 64):
                f = kd._File("x", None, "x", size)
                blocks = kd._blocks([f], longest, blocksize)
                owned = [pos for _, start, _, own in blocks for pos in range(start, own)]
                assert owned == list(range(size))
                for _, start, end, own in blocks[:-1]:
                    assert own - start <= blocksize and end == own + min(longest, size) - 1




def test_a_task_reads_only_its_block_plus_the_overlap():
    """On storage where every read is a ranged request (fsspec's buffered files: s3, gcs,
    http ...), a task fetches its block plus longest - 1 bytes and nothing more: no
    read-ahead cache fetching past the block."""
    from fsspec.spec import AbstractBufferedFile, AbstractFileSystem

    data = bytes(random.Random(7).choice(b"ab") for _ in range(3 << 18))
    fetched: list[tuple[int, int]] = []

    class Ranged(AbstractBufferedFile):
        def _fetch_range(self, start, end):
            fetched.append((start, end))
            return data[start:end]

    class RangedFS(AbstractFileSystem):
        protocol = "kmpsearch-ranged"

        def info(self, path, **kwargs):
            return {"name": path, "size": len(data), "type": "file"}

        def _open(self, path, mode="rb", block_size=None, cache_type="readahead", **kwargs):
            return Ranged(self, path, mode, block_size=block_size or "default", cache_type=cache_type,
                          size=len(data), **kwargs)

    fsspec.register_implementation(RangedFS.protocol, RangedFS, clobber=True)
    words = kmpsearch.WordSet([b"abba", b"ba", b"aabab"])
    files = kd._expand([f"{RangedFS.protocol}://x.bin"])
    blocks = kd._blocks(files, words._longest, 1 << 18)
    assert len(blocks) == 3
    every = words.find_all(data)
    for i, start, end, own in blocks:
        fetched.clear()
        [(offsets, index)] = kd._block_matches(words, [files[i]], start, end, own, window=64 << 10)
        assert sum(b - a for a, b in fetched) == end - start
        assert min(a for a, _ in fetched) == start and max(b for _, b in fetched) == end
        want = [(p, j) for p, j in every if start <= p < own]
        assert list(zip(offsets.tolist(), index.tolist())) == want


# --- cleaned copies: redact, replace ----------------------------------------------------------

def _stamps(top: Path) -> dict:
    """Every file below ``top``: its bytes and modification time."""
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(top.rglob("*")) if p.is_file()}


def _copies(dest: Path) -> list[str]:
    """Every file below ``dest`` (partial copies included), relative."""
    return sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())


def _reference(obj, path, how: str, arg) -> tuple[bytes, int]:
    """The one-machine result: ``redact_stream`` / ``replace_stream`` of the whole file."""
    out = io.BytesIO()
    n = (obj.redact_stream if how == "redact" else obj.replace_stream)(Path(path), out, arg)
    return out.getvalue(), n


def _check_copies(got, dest: Path, top: Path, names: list[str], obj, how: str, arg) -> None:
    """``got`` (what redact / replace returned) and the copies below ``dest`` are the
    references of the files ``top/name``, and nothing else is there."""
    assert got.index.tolist() == [str(top / n) for n in names] and list(got.columns) == ["output", "count"]
    assert _copies(dest) == sorted(names)  # and no partial copy
    for name, (output, count) in zip(names, got.itertuples(index=False)):
        data, n = _reference(obj, top / name, how, arg)
        assert (dest / name).read_bytes() == data, name
        assert count == n and output.endswith(name), (name, output, count, n)


@pytest.mark.parametrize(("words", "kw", "mask", "blocksize", "window", "names"), [
    (WORDS, {}, "*", 7, None, None),               # overlapping words: block edges inside matches
    (WORDS, {}, b"#", 5, 3, None),                 # windows smaller than a block
    (kmpsearch.compile(b"abab"), {}, "x", 3, None, ["c.txt", "d/f.txt"]),  # a word longer than a block
    (["AB", "bbA"], {"ignore_case": True}, "*", 4, None, ["d/g/h.txt", "b.txt"]),  # str words: UTF-8
    (WORDS, {"url": True}, "*", 64, None, None),   # a file:// destination: written in place too
], ids=["bytes", "windows", "pattern", "str-ignore-case", "file-url"])
def test_redact_equals_redact_stream(client, tree, tmp_path, words, kw, mask, blocksize, window, names):
    """Every file's copy, at the same place below the destination as below the operands'
    common directory, is what ``redact_stream`` writes for the whole file, at block sizes
    that cut matches; the files are untouched."""
    kw = dict(kw)
    dest = tmp_path / "out"
    before = _stamps(tree)
    got = kd.redact([tree / n for n in names] if names else tree, words,
                    f"file://{dest}" if kw.pop("url", False) else dest, mask=mask, blocksize=blocksize,
                    client=client, _window=window, **kw)
    obj = words if isinstance(words, kmpsearch.Pattern) else kmpsearch.WordSet(words, **kw)
    _check_copies(got, dest, tree, names or ORDER, obj, "redact", mask)
    assert got["count"].sum() > 10
    assert _stamps(tree) == before


@pytest.fixture(scope="module")
def prose(tmp_path_factory) -> Path:
    """Files of words, spaces, underscores and a two-byte letter: whole words to find."""
    top = tmp_path_factory.mktemp("prose")
    rng = random.Random(23)
    tokens = [b"ab", b"b", b"a", b"ba", "bé".encode(), "é".encode(), b"_"]
    for name, n in {"p.txt": 250, "q/r.txt": 30, "q/s.txt": 1}.items():
        p = top / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"".join(rng.choice(tokens) + rng.choice([b" ", b" ", b""]) for _ in range(n)))
    return top


@pytest.mark.parametrize("kw", [{"whole_words": True}, {"matches": "leftmost-longest"},
                                {"whole_words": True, "matches": "leftmost-first"}], ids=str)
def test_redact_with_match_semantics_equals_redact_stream(client, prose, tmp_path, kw):
    """Whole words are masked in place, each block read with the characters around its
    matches; a match kind's choice depends on the matches before: whole files."""
    ws = kmpsearch.WordSet([b"ab", b"ab a", "bé".encode(), b"b"], **kw)
    got = kd.redact(prose, ws, tmp_path, blocksize=4, client=client)
    _check_copies(got, tmp_path, prose, ["p.txt", "q/r.txt", "q/s.txt"], ws, "redact", "*")
    assert got["count"].iloc[0] > 40


def test_replace_equals_replace_stream(client, tree, tmp_path):
    """Lengths change: each file is written whole, as ``replace_stream`` writes it."""
    before = _stamps(tree)
    ws = kmpsearch.WordSet(WORDS)
    for k, replacement in enumerate([b"<>", [b"1", b"", b"333", b"4444"], lambda i, m: m.upper() * (i + 1)]):
        dest = tmp_path / str(k)
        got = kd.replace(tree, ws, dest, replacement, blocksize=16, client=client)
        _check_copies(got, dest, tree, ORDER, ws, "replace", replacement)
    assert _stamps(tree) == before


def test_redact_and_replace_to_an_fsspec_url():
    """memory:// files and copies (an in-process cluster): whole files per task, renamed
    into place; the copies are named below the operands' common directory."""
    fs = fsspec.filesystem("memory")
    data = _memory_files(fs, {f"/kd-src/{d}{i}.txt": 60 * i for d in ("", "x/") for i in range(3)}, 4)
    ws = kmpsearch.WordSet(WORDS)
    try:
        with _in_process() as local:
            got = kd.redact(["memory://kd-src/x/", "memory://kd-src/2.txt"], ws, "memory://kd-out/", client=local,
                            blocksize=64)
            replaced = kd.replace("memory://kd-src/*.txt", ws, "memory://kd-rep", b"-", client=local)
        assert sorted(fs.find("/kd-out")) == ["/kd-out/2.txt", "/kd-out/x/0.txt", "/kd-out/x/1.txt", "/kd-out/x/2.txt"]
        assert got.output.tolist() == ["memory://kd-out/x/0.txt", "memory://kd-out/x/1.txt",
                                       "memory://kd-out/x/2.txt", "memory://kd-out/2.txt"]
        for url, output, count in zip(got.index, got.output, got["count"]):
            assert fs.cat_file(output) == ws.redact(data[fs._strip_protocol(url)])
            assert count == ws.count(data[fs._strip_protocol(url)])
        assert sorted(fs.find("/kd-rep")) == ["/kd-rep/0.txt", "/kd-rep/1.txt", "/kd-rep/2.txt"]
        for url, output in zip(replaced.index, replaced.output):
            assert fs.cat_file(output) == ws.replace(data[fs._strip_protocol(url)], b"-")
    finally:
        for top in ("/kd-src", "/kd-out", "/kd-rep"):
            if fs.exists(top):
                fs.rm(top, recursive=True)


def test_a_copy_that_cannot_be_put_in_place_is_not_there(client, tmp_path):
    """The final names of a big file (written in place, renamed by the caller) and of a
    small one (written whole by its task) are directories: neither copy is there, nor any
    partial copy; the other file's copy is complete; the error names the first copy."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "big.txt").write_bytes(b"aab" * 100)
    (src / "small.txt").write_bytes(b"ab")
    (src / "ok.txt").write_bytes(b"babba" * 30)
    dest = tmp_path / "dest"
    for name in ("big.txt", "small.txt"):
        (dest / name / "inside").mkdir(parents=True)
    with pytest.raises(IsADirectoryError, match=re.escape(str(dest / "big.txt"))):
        kd.redact(src, WORDS, dest, blocksize=64, client=client)
    assert _copies(dest) == ["ok.txt"]
    assert (dest / "ok.txt").read_bytes() == kmpsearch.WordSet(WORDS).redact(b"babba" * 30)
    assert sorted(p.name for p in dest.iterdir()) == ["big.txt", "ok.txt", "small.txt"]


class _Vanishing(MemoryFileSystem):
    """In memory; its files named ``*gone*`` can be listed and sized, not opened."""

    protocol = "kmpsearch-vanishing"
    store: dict = {}
    pseudo_dirs = [""]

    @classmethod
    def _strip_protocol(cls, path):
        return super()._strip_protocol(path.removeprefix(f"{cls.protocol}://"))

    def _open(self, path, mode="rb", **kwargs):
        if "gone" in path and "r" in mode:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        return super()._open(path, mode, **kwargs)


def test_a_file_gone_when_its_task_runs_has_no_copy(tmp_path):
    """A file that cannot be read when its tasks run (two of them, sized when the call
    began) fails the call naming the first; neither has a copy, in place (big) or whole
    (small), nor a partial one; the others' copies are complete."""
    fsspec.register_implementation(_Vanishing.protocol, _Vanishing, clobber=True)
    fs = _Vanishing()
    content = {"/v/a.txt": b"aab" * 10, "/v/b-gone.txt": b"ab" * 200, "/v/c-gone.txt": b"ab", "/v/d.txt": b"abba" * 90}
    for path, data in content.items():
        fs.pipe_file(path, data)
    ws = kmpsearch.WordSet(WORDS)
    with _in_process() as local:
        with pytest.raises(FileNotFoundError, match="b-gone.txt") as info:
            kd.redact("kmpsearch-vanishing://v/", ws, tmp_path, blocksize=64, client=local)
    assert info.value.filename.startswith("kmpsearch-vanishing://") and info.value.filename.endswith("/v/b-gone.txt")
    assert _copies(tmp_path) == ["a.txt", "d.txt"]
    assert (tmp_path / "d.txt").read_bytes() == ws.redact(content["/v/d.txt"])


def test_redact_refuses_before_writing(client, tree, tmp_path):
    before = _stamps(tree)
    with pytest.raises(ValueError, match="would replace a file being read"):
        kd.redact(tree, WORDS, tree, client=client)
    with pytest.raises(ValueError, match="would replace a file being read"):
        kd.redact([tree / "z.txt", tree / "c.txt"], WORDS, f"file://{tree}", client=client)
    with pytest.raises(ValueError, match="given twice"):
        kd.redact([tree / "c.txt", tree / "c.txt"], WORDS, tmp_path, client=client)
    fsspec.filesystem("memory").pipe_file("/kd-one/x.txt", b"ab")
    try:
        with pytest.raises(ValueError, match="several file systems"):
            kd.redact([tree / "c.txt", "memory://kd-one/x.txt"], WORDS, tmp_path, client=client)
    finally:
        fsspec.filesystem("memory").rm("/kd-one", recursive=True)
    with pytest.raises(ValueError, match="mask"):
        kd.redact(tree, WORDS, tmp_path, mask="**", client=client)
    with pytest.raises(ValueError, match="one per word"):
        kd.replace(tree, WORDS, tmp_path, [b"x"], client=client)
    with pytest.raises(TypeError):
        kd.replace(tree, WORDS, tmp_path, "x", client=client)
    with pytest.raises(FileNotFoundError):
        kd.redact(tree / "nope.txt", WORDS, tmp_path, client=client)
    assert _stamps(tree) == before and _copies(tmp_path) == []


# --- paths: glob, directory, URLs -----------------------------------------------------------

def test_directory_and_glob(client, tree):
    ws = kmpsearch.WordSet(WORDS)
    expected = local_rows(files_of(tree), ws)
    assert rows(kd.find(tree, ws, blocksize=7, client=client)) == [
        (os.path.join(str(tree), os.path.relpath(p, tree)), o, j) for p, o, j in expected]
    counts = kd.count(str(tree / "d" / "*.txt"), ws, blocksize=7, client=client)
    assert counts.index.tolist() == [str(tree / "d/e.txt"), str(tree / "d/f.txt"), str(tree / "d/g.txt")]
    assert counts.tolist() == [ws.count_in_file(p) for p in counts.index]
    recursive = kd.count(str(tree / "**" / "*.txt"), ws, client=client)
    assert sorted(recursive.index) == sorted(files_of(tree))
    everything = kd.count(str(tree / "**"), ws, client=client)  # files only: no directory twice
    assert sorted(everything.index) == sorted(files_of(tree))
    url = kd.count(f"file://{tree}/d/", ws, blocksize=5, client=client)
    assert url.index.tolist() == [f"file://{tree}/d/{n}" for n in ("e.txt", "f.txt", "g.txt", "g/h.txt")]
    assert url.tolist() == [ws.count_in_file(tree / "d" / n) for n in ("e.txt", "f.txt", "g.txt", "g/h.txt")]


def test_memory_urls_on_an_in_process_cluster():
    """memory:// lives in one process: searched by an in-process cluster (threads)."""
    fs = fsspec.filesystem("memory")
    data = _memory_files(fs, {f"/kd-test/{i}.txt": 40 * i for i in range(4)}, 3)
    ws = kmpsearch.WordSet(WORDS)
    try:
        with _in_process() as local:
            got = rows(kd.find("memory://kd-test/", ws, blocksize=6, client=local), local)
            counts = kd.count(["memory://kd-test/1.txt", "memory://kd-test/3.txt"], ws, blocksize=5, client=local)
        expected = [(f"memory://{p}", o, j) for p, content in sorted(data.items()) for o, j in ws.find_all(content)]
        assert got == expected
        assert counts.tolist() == [ws.count(data["/kd-test/1.txt"]), ws.count(data["/kd-test/3.txt"])]
    finally:
        fs.rm("/kd-test", recursive=True)


def test_find_without_a_client_computes_on_the_local_scheduler(tree):
    """No client anywhere: the pattern is one node of the graph; dask's threaded scheduler
    computes the frame in this process (memory:// included)."""
    script = f"""
import fsspec, kmpsearch, kmpsearch.dask as kd
fs = fsspec.filesystem("memory")
fs.pipe_file("/t/x.txt", b"aabba" * 50)
ws = kmpsearch.WordSet({WORDS!r})
df = kd.find([{str(tree / "z.txt")!r}, "memory://t/x.txt"], ws, blocksize=7)
keys = [k for k in df.__dask_graph__() if str(k).startswith("kmpsearch-WordSet-")]
assert len(keys) == 1, keys
got = df.compute()
expected = [(off, j) for off, j in ws.find_all_in_file({str(tree / "z.txt")!r})] + ws.find_all(b"aabba" * 50)
assert list(zip(got.offset.tolist(), got.word.tolist())) == expected
assert got.path.tolist()[-1] == "memory://t/x.txt"
print(len(got))
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) > 100


#: (the start of a child's script) ``workers()``: this process's child processes but
#: multiprocessing's resource tracker (it ends with this process); one that ends while it
#: is looked at is not left
WORKERS_LEFT = """
def workers():
    import os

    def read(path):
        try:
            with open(path, "rb") as f:
                return f.read()
        except OSError:
            return None
    me = str(os.getpid()).encode()
    kids = [p for p in os.listdir("/proc") if p.isdigit() and (read(f"/proc/{p}/stat") or b"").split()[3:4] == [me]]
    return [p for p in kids if b"resource_tracker" not in (read(f"/proc/{p}/cmdline") or b"resource_tracker")]
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_count_without_a_client_starts_and_closes_a_local_cluster(tree):
    """No client anywhere: count starts a LocalCluster of worker processes for the call and
    closes it -- afterwards no client is current and no worker process is left."""
    script = WORKERS_LEFT + f"""
import os, distributed, kmpsearch, kmpsearch.dask as kd
if __name__ == "__main__":
    ws = kmpsearch.WordSet({WORDS!r})
    counts = kd.count({str(tree)!r}, ws, blocksize=64)
    assert counts.tolist() == [ws.count_in_file(p) for p in counts.index], counts
    try:
        distributed.default_client()
    except ValueError:
        pass
    else:
        raise SystemExit("a client is still current")
    print(len(counts), len(workers()))
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=_env(), timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    files, children = map(int, proc.stdout.split())
    assert files == len(files_of(tree)) and children == 0


# --- a worker killed mid-computation ---------------------------------------------------------

_KILL_SCRIPT = """
import os, pathlib, signal, sys, threading, time
import distributed, kmpsearch, kmpsearch.dask as kd

FLAGS, COPIES = map(pathlib.Path, sys.argv[1:3])
FILES = sys.argv[3:]
WORDS = [b"ab", b"aab", b"babba", b"b"]


def hold(flags):
    # on a worker: its first task of the computation waits for flags/go, after saying so
    import os, time
    import kmpsearch.dask as kd

    def holding(original):
        def held(*args, **kwargs):
            if not os.path.exists(os.path.join(flags, "go")):
                open(os.path.join(flags, f"started-{os.getpid()}"), "w").close()
                while not os.path.exists(os.path.join(flags, "go")):
                    time.sleep(0.01)
            return original(*args, **kwargs)
        return held

    for name in ("_task_results", "_redact_block"):  # what count's tasks call; redact's tasks
        original = kd.__dict__.setdefault("_unheld" + name, getattr(kd, name))
        setattr(kd, name, holding(original))


def kill(n):
    # SIGKILL the first n workers whose task started (it is waiting), then let the others go on
    deadline = time.monotonic() + 60
    while len(started := sorted(FLAGS.glob("started-*"))) < n:
        assert time.monotonic() < deadline, "no task started"
        time.sleep(0.01)
    for flag in started[:n]:
        os.kill(int(flag.name.split("-")[1]), signal.SIGKILL)
    (FLAGS / "go").touch()


def killed_during(n, call):
    # call() while n workers are killed, each in the middle of a task
    for p in FLAGS.iterdir():
        p.unlink()
    client.wait_for_workers(n, timeout=60)  # those killed before may be back
    client.run(hold, str(FLAGS))
    killer = threading.Thread(target=kill, args=(n,))
    killer.start()
    try:
        return call()
    finally:
        killer.join()


if __name__ == "__main__":
    ws = kmpsearch.WordSet(WORDS)
    expected = [ws.count_in_file(p) for p in FILES]
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0",
                                  silence_logs=50) as cluster, distributed.Client(cluster) as client:
        # a scheduler that allows no failure: the call fails naming the file of the lost task
        allowed = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.allowed_failures)
        client.run_on_scheduler(lambda dask_scheduler: setattr(dask_scheduler, "allowed_failures", 0))
        try:
            killed_during(1, lambda: kd.count(FILES, ws, blocksize=64, client=client))
        except distributed.KilledWorker as exc:
            assert isinstance(exc, RuntimeError), type(exc)
            assert any(str(exc).startswith(p + " (bytes ") for p in FILES), str(exc)
        else:
            raise SystemExit("no error")
        client.run_on_scheduler(lambda dask_scheduler: setattr(dask_scheduler, "allowed_failures", allowed))
        # every worker killed, the pattern with them: the lost tasks run again on the workers
        # their nannies start, the pattern's node recomputed; the result is complete
        got = killed_during(2, lambda: kd.count(FILES, ws, blocksize=64, client=client))
        assert got.tolist() == expected, (got.tolist(), expected)
        # a block of a copy written again by another worker: the same bytes at the same offsets
        copies = killed_during(1, lambda: kd.redact(FILES, ws, COPIES, blocksize=64, client=client))
        for path, output in zip(FILES, copies.output):
            with open(output, "rb") as fh:
                assert fh.read() == ws.redact(open(path, "rb").read()), path
        assert sorted(p.name for p in COPIES.rglob("*") if p.is_file()) == ["f.txt", "h.txt", "z.txt"]
    print(len(workers()))
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_a_worker_killed_mid_computation(tree, tmp_path):
    """Worker processes SIGKILLed while they run a task (each worker's first task waits until
    the kill): their nannies start new workers, the scheduler runs the lost tasks again and
    ``count`` is complete -- the pattern too was on the workers killed -- and so are
    ``redact``'s copies; when the scheduler allows no more failures the call raises
    KilledWorker naming the file. Afterwards no worker process is left."""
    files = [str(tree / name) for name in ("d/f.txt", "d/g/h.txt", "z.txt")]
    (tmp_path / "flags").mkdir()
    proc = subprocess.run([sys.executable, "-c", WORKERS_LEFT + _KILL_SCRIPT, str(tmp_path / "flags"), str(tmp_path / "copies"),
                           *files], capture_output=True, text=True, env=_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == ["0"]


# --- errors ----------------------------------------------------------------------------------

def test_missing_path_fails_at_call_time(client, tree):
    missing = str(tree / "nope.txt")
    for fn in (kd.find, kd.count, kd.count_each):
        with pytest.raises(FileNotFoundError) as info:
            fn([str(tree / "c.txt"), missing], WORDS, client=client)
        assert info.value.filename == missing
    with pytest.raises(FileNotFoundError, match="no file matches"):
        kd.find(str(tree / "*.nothing"), WORDS, client=client)
    with pytest.raises(FileNotFoundError):
        kd.count("memory://kd-no-such-dir/x.txt", WORDS, client=client)


def test_file_removed_after_planning_fails_with_its_path(client, tmp_path):
    keep, gone = tmp_path / "keep.txt", tmp_path / "gone.txt"
    keep.write_bytes(b"ab" * 50)
    gone.write_bytes(b"ab" * 50)
    df = kd.find([keep, gone], WORDS, blocksize=16, client=client)  # planned: sizes known
    gone.unlink()
    with pytest.raises(FileNotFoundError, match=re.escape(str(gone))):
        df.compute()


def test_bad_arguments(client, tree):
    p = str(tree / "c.txt")
    with pytest.raises(ValueError):
        kd.find(p, WORDS, blocksize=0)
    with pytest.raises(ValueError, match="blocksize"):
        kd.find(p, WORDS, blocksize="lots")
    with pytest.raises(TypeError):
        kd.find(p, WORDS, blocksize=True)
    with pytest.raises(TypeError):
        kd.count(p, WORDS, client="tcp://nowhere:1")
    with pytest.raises(TypeError):
        kd.find(123, WORDS)
    with pytest.raises(ValueError):
        kd.find(p, [])  # the WordSet's own checks
    with pytest.raises(ValueError):
        kd.find(p, [b""])
    with pytest.raises(ValueError, match="ignore_case"):
        kd.find(p, kmpsearch.compile(b"ab"), ignore_case=True)
    big = tree / "sparse.bin"
    with open(big, "wb") as f:
        f.truncate(kd.MAX_TASKS + 10)
    try:
        with pytest.raises(ValueError, match="tasks"):
            kd.find(big, WORDS, blocksize=1)
    finally:
        big.unlink()
    with pytest.raises(IsADirectoryError):
        kd._Planner(recursive=False).add(tree)


# --- shipped once -----------------------------------------------------------------------------

def test_the_pattern_is_pickled_once_per_computation(client, tree, monkeypatch):
    """Once into the graph; the LocalCluster's scheduler, in this process, pickles it once
    more to hand it to the first worker that needs it (the others fetch it from there):
    never once per task."""
    ws = kmpsearch.WordSet(WORDS)
    cls = type(ws)
    calls = []
    original = cls.__reduce__

    def counting(self):
        calls.append(1)
        return original(self)

    monkeypatch.setattr(cls, "__reduce__", counting)
    files = files_of(tree)
    n_tasks = len(kd._tasks(kd._expand(files), ws._longest, 5))
    assert n_tasks > 100
    assert kd.count(files, ws, blocksize=5, client=client).tolist() == [ws.count_in_file(p) for p in files]
    assert 1 <= len(calls) <= 2
    calls.clear()
    df = kd.find(files, ws, blocksize=5, client=client)
    assert df.npartitions == n_tasks
    assert len(df.compute()) == sum(ws.count_in_file(p) for p in files)
    assert 1 <= len(calls) <= 2


# --- the command ------------------------------------------------------------------------------

def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([PKG_ROOT, *filter(None, [env.get("PYTHONPATH")])])
    env.pop("KMPSEARCH_CLI_CHUNK", None)
    env.update(extra)
    return env


def cli(*args, cwd=None, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kmpsearch", *map(str, args)], capture_output=True,
                          env=_env(**env), cwd=cwd, timeout=120)


def _no_times(out: bytes) -> list:
    """JSON Lines without their elapsed times."""
    objs = [json.loads(line) for line in out.splitlines()]
    for obj in objs:
        data = obj["data"]
        data.pop("elapsed_total", None)
        data.get("stats", {}).pop("elapsed", None)
    return objs


@pytest.mark.parametrize("options", [[], ["-c"], ["-l"], ["-i", "--json"], ["-q"], ["-n", "-C1"], ["-o", "-b"]])
def test_cli_dask_output_equals_the_plain_command(client, tree, options):
    words = ["-e", "ab", "-e", "aAb", "-e", "babba", "-e", "b"]
    ops = ["-r", *options, *words, "c.txt", "d", "z.txt", "a0.txt", "missing.txt"]
    plain = cli(*ops, cwd=tree)
    on_dask = cli("--dask", client.scheduler.address, *ops, cwd=tree, KMPSEARCH_DASK_BLOCKSIZE="13",
                  KMPSEARCH_CLI_CHUNK="6")
    assert plain.returncode == on_dask.returncode == (0 if "-q" in options else 2)
    if "--json" in options:  # the stats' elapsed times differ from run to run
        assert _no_times(on_dask.stdout) == _no_times(plain.stdout)
    else:
        assert on_dask.stdout == plain.stdout
    if "-q" not in options:
        assert on_dask.stderr == plain.stderr == b"kmpsearch: missing.txt: No such file or directory\n"
        assert len(plain.stdout.splitlines()) >= 5


def test_cli_dask_local_starts_and_stops_its_own_cluster(tree):
    plain = cli("-r", "-c", "-e", "aab", "-e", "b", cwd=tree)
    on_dask = cli("--dask", "local", "-r", "-c", "-e", "aab", "-e", "b", cwd=tree, KMPSEARCH_DASK_BLOCKSIZE="64")
    assert plain.returncode == on_dask.returncode == 0, on_dask.stderr
    assert on_dask.stdout == plain.stdout
    assert on_dask.stdout.splitlines()[0] == b"a0.txt:0"  # implicit '.', labelled as grep does


# --- docs/dask.md ----------------------------------------------------------------------------

def test_docs_cluster_example_runs_as_written(tmp_path):
    doc = (ROOT / "docs" / "dask.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```py\n(.*?)```", doc, flags=re.S)
    assert blocks, "docs/dask.md shows no example"
    for block in blocks:
        proc = subprocess.run([sys.executable, "-c", block], capture_output=True, text=True, cwd=tmp_path,
                              env=_env(), timeout=300)
        assert proc.returncode == 0, f"docs/dask.md example failed:\n{block}\n{proc.stderr}"
        left = sorted(p.name for p in tmp_path.iterdir())
        assert not left, f"docs/dask.md example left {left} in the current directory"


# --- the benchmark's helpers ------------------------------------------------------------------

def test_bench_split_and_fit(tmp_path):
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import dask_bench
    finally:
        sys.path.remove(str(ROOT / "bench"))
    src = tmp_path / "c.txt"
    data = bytes(random.Random(5).randrange(256) for _ in range(1001))
    src.write_bytes(data)
    parts = dask_bench.split_corpus(src)
    assert len(parts) == dask_bench.PARTS and b"".join(p.read_bytes() for p in parts) == data
    assert [p.stat().st_size for p in parts] == [125] * 7 + [126]
    assert dask_bench.split_corpus(src) == parts  # written once
    a, b = dask_bench.fit([8, 32, 128, 512], [0.5 + 0.002 * t for t in (8, 32, 128, 512)])
    assert a == pytest.approx(0.5) and b == pytest.approx(0.002)
