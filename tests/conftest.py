"""Shared fixtures: one conformance suite, parametrized over every backend.

A backend that does not import here is skipped with its reason, unless it is named in
the environment variable KMPSEARCH_REQUIRE (comma-separated names; ``native`` means every
native backend of the table in ``kmpsearch.backends``, as ``make test`` and tox set it),
which turns its absence into a failure.
"""

from __future__ import annotations

import collections
import importlib
import json
import os
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kmpsearch
from kmpsearch.backends import NATIVE, required

REQUIRED = required(os.environ.get("KMPSEARCH_REQUIRE", ""))
#: the tox env's report of the extras it could not install (ci/tox_extras.py), if any
EXTRAS_REPORT = os.environ.get("KMPSEARCH_EXTRAS_REPORT", "")


def _extras_missing() -> dict[str, str] | None:
    """``{extra: why}`` from the tox env's report; None outside tox (no report)."""
    if not EXTRAS_REPORT:
        return None
    with open(EXTRAS_REPORT, encoding="utf-8") as f:
        return json.load(f)


def require_extra(extra: str, *modules: str):
    """Import ``modules`` (default: the extra's own name) for a test that needs ``extra``.

    In a tox env (``KMPSEARCH_EXTRAS_REPORT``) the test is skipped with the reason the env
    could not install the extra, and fails if the extra was installed but does not import;
    elsewhere (a bare ``pytest``) a missing module skips the test, saying which. Returns the
    first module."""
    missing = _extras_missing()
    if missing is not None and extra in missing:
        pytest.skip(f"extra {extra!r} not installed in this env: {missing[extra]}", allow_module_level=True)
    got = []
    for name in modules or (extra,):
        if missing is None:
            got.append(pytest.importorskip(name, reason=f"the {extra!r} extra is not installed ({name} is missing)"))
        else:
            got.append(importlib.import_module(name))  # installed: an ImportError is a failure
    return got[0]


def pytest_configure(config):
    unknown = REQUIRED - set(kmpsearch.KNOWN_BACKENDS)
    if unknown:
        raise pytest.UsageError(f"KMPSEARCH_REQUIRE names unknown backends: {', '.join(sorted(unknown))}")


def load_backend(name: str):
    """The backend module, or skip (fail when it is required) saying why it cannot load."""
    try:
        return kmpsearch.get_backend(name)
    except ImportError as exc:
        if name in REQUIRED:
            pytest.fail(f"required backend {name!r} (KMPSEARCH_REQUIRE) did not load: {exc}")
        pytest.skip(str(exc))


@pytest.fixture(params=kmpsearch.KNOWN_BACKENDS)
def backend(request):
    return load_backend(request.param)


@pytest.fixture(params=NATIVE)
def native(request):
    """Each native backend (cffi, cython, rust: the table's native rows)."""
    return load_backend(request.param)


def ref_find_all(haystack, needle) -> list[int]:
    """Reference: every (overlapping) occurrence, by a ``find`` loop."""
    out = []
    i = haystack.find(needle)
    while i >= 0:
        out.append(i)
        i = haystack.find(needle, i + 1)
    return out


def run_threads(worker, n: int, errors: list) -> None:
    """Run ``worker(0)`` .. ``worker(n - 1)`` on ``n`` threads at once and join them; the
    workers append what they raise to ``errors``, which must stay empty."""
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def core_search(compiled, source, want: str, threads: int = 1, min_chunk: int = 1 << 20, scan: str = "fast",
                simd: str = "auto", cancel=None, block: int = 0):
    """A core's ``search`` (``kmpsearch._contract``) as plain Python: an int, a list of
    counts or offsets, or a list of ``(offset, word index)``. ``source``: bytes-like, or
    ``(fd, size)`` / ``(fd, size, start)`` for a file range."""
    from kmpsearch._contract import FileRange, Options

    if isinstance(source, tuple):
        fd, size, *start = source
        source = FileRange(fd, start[0] if start else 0, size)
    elif not isinstance(source, memoryview):
        source = memoryview(source)
    got = compiled.search(source, want, Options(threads, min_chunk, scan, simd, block, cancel))
    if want == "count":
        return got
    if want == "pairs":
        return list(zip(*got))
    return got.tolist()


def examples(backend, n: int) -> settings:
    """Hypothesis settings for ``n`` examples (fewer for multiprocessing: processes per call)."""
    slow = backend.__name__.endswith(".multiprocessing")
    return settings(max_examples=max(5, n // 8) if slow else n, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def differential(backend, n: int, check, haystacks, needles, threads=st.integers(1, 9),
                 min_chunk=st.integers(1, 40), **more) -> None:
    """The differential property of the suite: ``check(backend, haystack, needles,
    threads=, _min_chunk=, scan=, **more)`` (a search against a reference) on ``n``
    examples drawn from the strategies, the scan from the backend's; ``threads``,
    ``min_chunk`` and each of ``more`` a strategy or a fixed value."""
    def strategy(value):
        return value if isinstance(value, st.SearchStrategy) else st.just(value)

    @examples(backend, n)
    @given(haystacks, needles, strategy(threads), strategy(min_chunk), st.sampled_from(backend.SCANS),
           st.fixed_dictionaries({k: strategy(v) for k, v in more.items()}))
    def run(haystack, needle, t, c, scan, extra):
        check(backend, haystack, needle, threads=t, _min_chunk=c, scan=scan, **extra)

    run()


def pytest_terminal_summary(terminalreporter):
    """One line ``KMPSEARCH-SUMMARY {json}`` (ci/tox.sh reads it from each env's log): the
    env, passed / failed / skipped, the skip reasons grouped, the extras not installed."""
    stats = terminalreporter.stats
    reasons: collections.Counter = collections.Counter()
    for rep in stats.get("skipped", []):
        longrepr = rep.longrepr
        text = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reasons[text.removeprefix("Skipped: ")] += 1
    summary = {
        "env": os.environ.get("TOX_ENV_NAME", ""),
        "passed": len(stats.get("passed", [])),
        "failed": len(stats.get("failed", [])) + len(stats.get("error", [])),
        "skipped": sum(reasons.values()),
        "skip_reasons": dict(reasons.most_common()),
        "extras_missing": _extras_missing() or {},
    }
    terminalreporter.write_line("KMPSEARCH-SUMMARY " + json.dumps(summary, ensure_ascii=False))
