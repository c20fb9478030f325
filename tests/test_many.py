"""Many files: ``count_in_files`` / ``find_all_in_files`` on every backend (the search the
command and kmpsearch.dask share: ``kmpsearch._tree`` expands, ``kmpsearch._many`` searches
in FileBatch batches), against one ``find_all_in_file`` per file."""

from __future__ import annotations

import errno
import os
import random

import pytest

from kmpsearch import _many


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """Nested directories, many small files, a big one (a file of its own), an empty one, a
    FIFO (skipped inside a walk), a symbolic link (skipped), in more than one batch."""
    monkeypatch.setattr(_many, "BATCH", 7)
    monkeypatch.setattr(_many, "BIG_FILE", 4096)
    rng = random.Random(11)
    root = tmp_path / "t"
    paths = []
    for d in ("a", "a/b", "c", "c/d/e"):
        (root / d).mkdir(parents=True, exist_ok=True)
    for k in range(40):
        d = rng.choice(["", "a", "a/b", "c", "c/d/e"])
        p = root / d / f"f{k:02d}.txt"
        p.write_bytes(bytes(rng.choice(b"ab\n") for _ in range(rng.randrange(0, 300))))
        paths.append(p)
    big = root / "a" / "big.bin"
    big.write_bytes(bytes(rng.choice(b"ab") for _ in range(10_000)))
    paths.append(big)
    (root / "c" / "empty").write_bytes(b"")
    paths.append(root / "c" / "empty")
    if hasattr(os, "mkfifo"):
        os.mkfifo(root / "c" / "fifo")
    (root / "link").symlink_to(big)
    return root, sorted(paths, key=lambda p: [part for part in p.relative_to(root).parts])


def _order(root, paths):
    """The walk's order: depth first, names sorted at each level."""
    def key(p):
        return list(p.relative_to(root).parts)
    return [str(p) for p in sorted(paths, key=key)]


def test_files_of_a_tree_in_walk_order(backend, tree):
    root, paths = tree
    ws = backend.WordSet([b"ab", b"bab", b"a\nb"])
    pat = backend.compile(b"aba")
    want_pairs = {str(p): ws.find_all_in_file(p) for p in paths}
    counts = list(ws.count_in_files(root, threads=3))
    assert [label for label, _ in counts] == _order(root, paths)
    assert dict(counts) == {k: len(v) for k, v in want_pairs.items()}
    assert dict(ws.find_all_in_files(root, threads=2)) == want_pairs
    assert dict(pat.find_all_in_files([root / "a", str(root / "c")])) == \
        {str(p): pat.find_all_in_file(p) for p in paths if p.parts[len(root.parts)] in ("a", "c")}
    arrays = dict(ws.find_all_in_files(root, as_array=True))
    assert {k: list(zip(*v)) for k, v in arrays.items()} == want_pairs


def test_globs_lists_and_errors(backend, tree):
    root, paths = tree
    ws = backend.WordSet([b"ab"])
    got = dict(ws.count_in_files([f"{root}/a/*.txt", root / "c" / "empty", f"{root}/**/f0*.txt"]))
    assert set(got) == {str(p) for p in paths if p.parent == root / "a" and p.suffix == ".txt"} | \
        {str(root / "c" / "empty")} | {str(p) for p in paths if p.name.startswith("f0")}
    with pytest.raises(FileNotFoundError) as exc:
        list(ws.count_in_files([root / "a", root / "missing"]))
    assert exc.value.filename == str(root / "missing")
    seen = []
    got = list(ws.count_in_files([root / "missing", f"{root}/none*", root / "c" / "empty"],
                                 on_error=lambda path, e: seen.append((path, e.errno))))
    assert got == [(str(root / "c" / "empty"), 0)]
    assert seen == [(str(root / "missing"), errno.ENOENT), (f"{root}/none*", errno.ENOENT)]
    with pytest.raises(TypeError):
        ws.count_in_files(42)
    with pytest.raises(TypeError):
        ws.count_in_files(root, on_error="print")
    with pytest.raises(ValueError):
        ws.count_in_files(root, threads=0)


def test_str_words_and_a_directory_of_many(backend, tmp_path):
    root = tmp_path / "many"
    root.mkdir()
    for k in range(600):  # more than two batches of the default size
        (root / f"{k:04d}.txt").write_text("clé " * (k % 3))
    got = list(backend.WordSet(["clé"]).count_in_files(root))
    assert [n for _, n in got] == [k % 3 for k in range(600)]
