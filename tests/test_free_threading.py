"""Free-threading checks (issue 7).

* On a free-threaded CPython (3.14t, 3.15t) importing every backend must leave the GIL
  disabled: a native module that does not declare free-threading support
  (``Py_mod_gil`` / PyO3 ``gil_used = false`` / Cython ``freethreading_compatible``)
  makes CPython turn the GIL back on at import. On GIL builds that check is skipped.
* Stress tests, run on every build: many Python threads call one backend at once, on a
  shared buffer and on buffers of their own, while the kernels use threads of their own;
  every answer is compared with a ``bytes.find`` reference. Under pytest-run-parallel
  (>= 0.9) the whole test body additionally runs in several threads at once.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import sysconfig
import threading

import pytest

import kmpsearch
from kmpsearch.backends import TABLE, info
from conftest import REQUIRED, load_backend, ref_find_all

FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
GIL_BUILD_REASON = (
    f"GIL build of CPython ({sys.version.split()[0]}): the GIL cannot be disabled here, "
    "so 'the GIL stays disabled' is only checked on free-threaded interpreters (3.14t/3.15t)"
)

# the multiprocessing backend runs a process pool per call: stressing it from many threads
# tests fork-from-threads, not the backend
IN_PROCESS_BACKENDS = [row.name for row in TABLE if row.parallel != "processes"]

_IMPORT_ALL = r"""
import json, sys, warnings
warnings.simplefilter("always")
before = sys._is_gil_enabled()
caught = []
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    import kmpsearch
    loaded, failed = [], {}
    for name in kmpsearch.KNOWN_BACKENDS:
        try:
            kmpsearch.get_backend(name)
            loaded.append(name)
        except ImportError as exc:
            failed[name] = str(exc)
    caught = [str(x.message) for x in w]
print(json.dumps({"before": before, "after": sys._is_gil_enabled(), "loaded": loaded,
                  "failed": failed, "warnings": caught}))
"""


@pytest.mark.skipif(not FREE_THREADED, reason=GIL_BUILD_REASON)
@pytest.mark.thread_unsafe(reason="starts a subprocess and reads process-wide state")
def test_importing_every_backend_keeps_the_gil_disabled():
    # a fresh interpreter, so that nothing this pytest process imported before counts;
    # PYTHON_GIL=0 would force the GIL off and hide a module that re-enables it
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_GIL"}
    proc = subprocess.run([sys.executable, "-c", _IMPORT_ALL], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["before"] is False, "free-threaded interpreter started with the GIL enabled"
    missing = sorted(REQUIRED - set(result["loaded"]))
    assert not missing, f"required backends did not load: {result['failed']}"
    assert result["after"] is False, (
        f"importing the backends {result['loaded']} enabled the GIL: {result['warnings']}\n"
        f"{proc.stderr}")
    assert not [m for m in result["warnings"] if "GIL" in m], result["warnings"]


@pytest.mark.skipif(not FREE_THREADED, reason=GIL_BUILD_REASON)
@pytest.mark.thread_unsafe(reason="reads process-wide GIL state")
def test_gil_still_disabled_in_this_process_after_loading_backends():
    assert not os.environ.get("PYTHON_GIL"), "PYTHON_GIL is set: the check would prove nothing"
    for name in kmpsearch.KNOWN_BACKENDS:
        try:
            kmpsearch.get_backend(name)
        except ImportError:
            assert name not in REQUIRED
    assert sys._is_gil_enabled() is False


def test_build_kind_is_what_the_tox_env_says():
    # tox envs named "...t" must never run on a GIL interpreter (and the others never on a
    # free-threaded one); KMPSEARCH_EXPECT_FREE_THREADED is set by tox.ini
    expect = os.environ.get("KMPSEARCH_EXPECT_FREE_THREADED")
    if expect is None:
        pytest.skip("not run by tox (KMPSEARCH_EXPECT_FREE_THREADED unset)")
    assert FREE_THREADED == (expect == "1"), (sys.version, sysconfig.get_config_var("Py_GIL_DISABLED"))


# --- stress: many threads, one backend -------------------------------------------------

NEEDLES = [b"3J1", b"aab", b"abaabaab", b"\x00\xff", b"a" * 40, b"ab" * 300]
SHARED = (b"aabaabaab" * 700 + b"xx3J1y" * 900 + b"\x00\xff" * 500 + b"a" * 3000
          + b"ab" * 2500 + b"3J13J1")
SHARED_EXPECTED = {n: ref_find_all(SHARED, n) for n in NEEDLES}
SHARED_ARRAY = bytearray(SHARED)          # a second, mutable (but unmutated) shared buffer
_serial = itertools.count()
_serial_lock = threading.Lock()


def _own_buffer() -> bytes:
    with _serial_lock:
        k = next(_serial)
    # distinct for every call: content and length depend on k
    return (bytes([97 + k % 3]) * (500 + k % 97) + b"3J1" * (k % 11)
            + b"aab" * (k % 53) + b"\x00\xff" * (k % 7) + b"ab" * (k % 301))


def _hammer(backend, workers: int, rounds: int) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(workers)

    def work(i: int) -> None:
        try:
            barrier.wait()
            for r in range(rounds):
                threads = 1 + (i + r) % 3
                scan = backend.SCANS[(i + r) % len(backend.SCANS)]
                for needle in NEEDLES:
                    exp = SHARED_EXPECTED[needle]
                    got = backend.find_all(SHARED, needle, threads=threads, _min_chunk=1024,
                                           scan=scan)
                    assert got == exp, ("shared", needle, threads, scan)
                    got = backend.count(memoryview(SHARED_ARRAY), needle, threads=threads,
                                        _min_chunk=512, scan=scan)
                    assert got == len(exp), ("shared bytearray", needle, threads, scan)
                    own = _own_buffer()
                    exp_own = ref_find_all(own, needle)
                    assert backend.find_all(own, needle, threads=threads, _min_chunk=64,
                                            scan=scan) == exp_own, ("own", needle, threads, scan)
                    assert backend.count(own, needle, threads=threads, _min_chunk=64,
                                         scan=scan) == len(exp_own), ("own count", needle)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not errors, errors[:3]


@pytest.mark.force_parallel_threads(4)
@pytest.mark.parametrize("name", IN_PROCESS_BACKENDS)
def test_stress_threads_on_shared_and_distinct_buffers(name):
    backend = load_backend(name)
    native = info(name).native
    _hammer(backend, workers=6, rounds=4 if native else 1)


@pytest.mark.force_parallel_threads(4)
@pytest.mark.parametrize("name", IN_PROCESS_BACKENDS)
def test_stress_str_haystacks(name):
    # str inputs go through the frontend's code-point conversion in every thread
    backend = load_backend(name)
    text = ("é€😀a" * 500) + "needle" + ("ß" * 300) + "needle😀"
    expected = ref_find_all(text, "needle")
    for threads in (1, 2, 3):
        assert backend.find_all(text, "needle", threads=threads, _min_chunk=128) == expected
        assert backend.count(text, "e😀", threads=threads, _min_chunk=128) == 1
