"""The package-level API: backend registry, selection by environment, the chunk plan."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import kmpsearch
from conftest import REQUIRED, ref_find_all
from kmpsearch import plan_chunks, plan_word_chunks
from kmpsearch.backends import NATIVE, TABLE, info, required

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "KMPSEARCH_BACKEND"}
    full_env.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env, timeout=120)


def test_pure_python_backends_always_available():
    names = kmpsearch.available_backends()
    for name in (row.name for row in TABLE if not row.native):  # need no build
        assert name in names
    assert set(names) <= set(kmpsearch.KNOWN_BACKENDS)
    assert REQUIRED <= set(names), f"required backends missing: {REQUIRED - set(names)}"
    # fastest first: the order of PREFERENCE
    assert names == [n for n in kmpsearch.PREFERENCE if n in names]


def test_every_backend_module_has_the_same_api():
    for name in kmpsearch.available_backends():
        mod = kmpsearch.get_backend(name)
        for fn in ("compile", "find_all", "count", "find_all_in_file", "count_in_file"):
            assert callable(getattr(mod, fn)), (name, fn)
            assert getattr(mod, fn).__doc__
        assert issubclass(mod.Pattern, kmpsearch.Pattern) and issubclass(mod.WordSet, kmpsearch.WordSet)
        row = info(name)
        assert mod.SCANS == row.scans and mod.DEFAULT_SCAN == row.scans[0]
        assert set(mod.SCANS) == {"fast", "textbook"}
        # the core contract: one search entry per compiled object, nothing else to search with
        for compiled in (mod.core.compile_pattern(b"ab"), mod.core.compile_words([b"ab", b"c"], False)):
            assert callable(compiled.search), name
            assert isinstance(compiled.memory_bytes, int)
            old = [m for m in ("count", "count_each", "find_all", "find_array", "count_fd", "count_each_fd",
                               "find_all_fd", "find_array_fd") if hasattr(compiled, m)]
            assert not old, (name, old)


def test_public_signatures_and_names():
    import inspect

    # private knobs (_min_chunk, _simd, _block, _window) stay out of what help() shows
    for fn in (kmpsearch.find_all, kmpsearch.count, kmpsearch.finditer, kmpsearch.count_in_file,
               kmpsearch.WordSet.find_all, kmpsearch.WordSet.count_each, kmpsearch.Pattern.redact_stream,
               kmpsearch.WordSet.find_all_in_file):
        params = inspect.signature(fn).parameters
        assert "threads" in params and not [p for p in params if p.startswith("_")], (fn, list(params))
    assert kmpsearch.find_all(b"abab", b"ab", _min_chunk=1, threads=2) == [0, 2]  # they still work
    # tab completion: the names chosen on first use are listed too
    names = dir(kmpsearch)
    for name in ("find_all", "compile", "finditer", "count", "WordSet", "Pattern", "get_backend"):
        assert name in names, name


def test_one_backend_table():
    assert kmpsearch.KNOWN_BACKENDS == tuple(b.name for b in TABLE)
    assert sorted(kmpsearch.PREFERENCE) == sorted(kmpsearch.KNOWN_BACKENDS)
    assert [info(n).rank for n in kmpsearch.PREFERENCE] == sorted(b.rank for b in TABLE)
    assert set(NATIVE) == {b.name for b in TABLE if b.native}
    assert required("native") == set(NATIVE) and required("python, cffi") == {"python", "cffi"}
    assert required("all") == set(kmpsearch.KNOWN_BACKENDS) and required("") == set()
    for row in TABLE:
        assert "auto" in row.simd and row.parallel in ("threads", "processes", "python-threads", "none")
        assert (ROOT / "python" / "kmpsearch" / "backends" / f"{row.name}.py").is_file()
    # the backend modules on disk are exactly the table's rows
    on_disk = {p.stem for p in (ROOT / "python" / "kmpsearch" / "backends").glob("*.py")} - {"__init__"}
    assert on_disk == set(kmpsearch.KNOWN_BACKENDS)


def test_compile_and_the_default_classes():
    pat = kmpsearch.compile(b"aa")
    assert isinstance(pat, kmpsearch.Pattern) and pat.backend == kmpsearch.backend
    assert kmpsearch.Pattern(b"aa") == pat  # the base class builds the default backend's
    ws = kmpsearch.WordSet([b"a"])
    assert type(ws) is kmpsearch.get_backend(kmpsearch.backend).WordSet


def test_get_backend_errors():
    with pytest.raises(ImportError, match="unknown kmpsearch backend 'bogus'"):
        kmpsearch.get_backend("bogus")
    with pytest.raises(TypeError):
        kmpsearch.get_backend(3)


def test_default_backend_is_the_fastest_available():
    if os.environ.get("KMPSEARCH_BACKEND"):
        assert kmpsearch.backend == os.environ["KMPSEARCH_BACKEND"]
    else:
        assert kmpsearch.backend == kmpsearch.available_backends()[0]
    mod = kmpsearch.get_backend(kmpsearch.backend)
    assert kmpsearch.find_all is mod.find_all
    assert kmpsearch.count_in_file is mod.count_in_file


@pytest.mark.parametrize("name", ["python", "threads"])
def test_environment_variable_selects_backend(name):
    proc = run_python("import kmpsearch; print(kmpsearch.backend, kmpsearch.find_all(b'aaaa', b'aa'))",
                      KMPSEARCH_BACKEND=name)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [name, "[0,", "1,", "2]"]


@pytest.mark.parametrize("use", ["from kmpsearch import count", "kmpsearch.backend",
                                 "kmpsearch.find_all(b'aa', b'a')"])
def test_unavailable_backend_in_environment_is_an_import_error(use):
    # `import kmpsearch` succeeds (get_backend and the command still work); first use fails
    proc = run_python(f"import kmpsearch; print(kmpsearch.available_backends()); {use}",
                      KMPSEARCH_BACKEND="bogus")
    assert proc.returncode != 0
    assert "'python'" in proc.stdout  # never a silent fallback, though python is right there
    assert "ImportError: KMPSEARCH_BACKEND='bogus'" in proc.stderr, proc.stderr


def test_threads_none_means_usable_cpus():
    n = kmpsearch.default_threads()
    assert n >= 1
    if hasattr(os, "sched_getaffinity"):
        assert n == len(os.sched_getaffinity(0))


# --- the chunk plan -----------------------------------------------------------------------

@given(st.integers(0, 5000), st.integers(1, 60), st.integers(1, 12), st.integers(1, 700))
def test_plan_partitions_start_positions(n, m, threads, min_chunk):
    chunks = plan_chunks(n, m, threads, min_chunk)
    if m > n:
        assert chunks == []
        return
    positions = n - m + 1
    assert 1 <= len(chunks) <= threads
    assert len(chunks) == 1 or positions // len(chunks) >= min_chunk
    own = [(s, e - (m - 1)) for s, e in chunks]
    assert own[0][0] == 0 and own[-1][1] == positions
    for (s1, e1), (s2, e2) in zip(own, own[1:]):
        assert e1 == s2  # contiguous, no gap, no overlap of own ranges
    assert all(e > s for s, e in own)
    assert all(e <= n for _, e in chunks)


@given(st.lists(st.sampled_from(b"ab"), max_size=200).map(bytes),
       st.lists(st.sampled_from(b"ab"), min_size=1, max_size=7).map(bytes),
       st.integers(1, 9), st.integers(1, 20))
def test_plan_finds_each_match_exactly_once(haystack, needle, threads, min_chunk):
    found = []
    for s, e in plan_chunks(len(haystack), len(needle), threads, min_chunk):
        found += [s + i for i in ref_find_all(haystack[s:e], needle)]
    assert found == ref_find_all(haystack, needle)


@given(st.lists(st.sampled_from(b"ab"), max_size=120).map(bytes),
       st.lists(st.lists(st.sampled_from(b"ab"), min_size=1, max_size=7).map(bytes), min_size=1, max_size=4),
       st.integers(1, 9), st.integers(1, 20))
def test_word_plan_finds_each_match_exactly_once(haystack, words, threads, min_chunk):
    expected = sorted((i, j) for j, w in enumerate(words) for i in ref_find_all(haystack, w))
    found = []
    for s, e, own in plan_word_chunks(len(haystack), max(map(len, words)), threads, min_chunk):
        found += [(s + i, j) for j, w in enumerate(words) for i in ref_find_all(haystack[s:e], w) if s + i < own]
    assert sorted(found) == expected


def test_plan_rejects_nonsense():
    for args in ((10, 0, 1, 1), (10, 1, 0, 1), (10, 1, 1, 0)):
        with pytest.raises(ValueError):
            plan_chunks(*args)


# --- the README and docs/ ----------------------------------------------------------------

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _examples(doc: Path, fence: str = "python") -> list[str]:
    return re.findall(rf"```{fence}\n(.*?)```", doc.read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.parametrize("doc", [d for d in DOCS if _examples(d)], ids=lambda d: d.relative_to(ROOT).as_posix())
def test_readme_example_runs_as_written(doc, tmp_path):
    """Every ```python block of README.md and docs/*.md runs as written, on its own, from an
    empty current directory that it leaves empty: examples make their own input and write
    only into temporary directories, so that pasting one leaves nothing behind."""
    for block in _examples(doc):
        if re.search(r"^import numpy", block, flags=re.M) and importlib.util.find_spec("numpy") is None:
            continue  # the numpy example needs numpy (not a dependency of kmpsearch)
        proc = subprocess.run([sys.executable, "-c", block], capture_output=True, text=True, cwd=tmp_path, timeout=300)
        assert proc.returncode == 0, f"{doc.name} example failed:\n{block}\n{proc.stderr}"
        left = sorted(p.name for p in tmp_path.iterdir())
        assert not left, f"{doc.name} example left {left} in the current directory:\n{block}"


def test_every_python_example_is_run():
    """The README shows Python; every code block names its language, and every Python block
    is fenced ```python (run above), except the cluster examples of docs/dask.md, fenced
    ```py and run by tests/test_dask.py."""
    assert _examples(ROOT / "README.md"), "README.md shows no python example"
    for doc in DOCS:
        fences, inside = [], False
        for line in doc.read_text(encoding="utf-8").splitlines():
            if line.startswith("```"):
                if not inside:
                    fences.append(line[3:].strip())
                inside = not inside
        allowed = {"python", "sh", "console", "text"} | ({"py"} if doc.name == "dask.md" else set())
        assert set(fences) <= allowed, f"{doc.name}: code blocks fenced {sorted(set(fences) - allowed)} are not run"
    assert _examples(ROOT / "docs" / "dask.md", "py")
