"""Resource faults and interrupts (issue #14): each check runs in a subprocess, so that a
crash, an abort or a hang shows up as what it is, and measures against generous bounds
(these machines are shared: a bound is a sanity limit, not a benchmark)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.thread_unsafe(reason="starts subprocesses and sends them signals")

_SEARCH_THEN_REPORT = r'''
import sys, kmpsearch
m = kmpsearch.get_backend(sys.argv[1])
print("go", flush=True)
try:
    m.count(b"x" * (200 << 20), b"xy", threads=2, scan="textbook")
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(42)
print("finished", flush=True)
'''


def _interrupt_after(code: str, *args: str, wait: float = 1.5) -> tuple[float, subprocess.CompletedProcess]:
    p = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout.readline() == b"go\n"
    time.sleep(wait)
    start = time.perf_counter()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    return time.perf_counter() - start, subprocess.CompletedProcess(p.args, p.returncode, out, err)


def test_ctrl_c_stops_the_threads_backend_promptly():
    # the pool's chunks stop at their next 1 MiB block (was: ThreadPoolExecutor.__exit__
    # waited ~19 s for the running chunks)
    latency, cp = _interrupt_after(_SEARCH_THEN_REPORT, "threads")
    assert cp.returncode == 42 and cp.stdout == b"interrupted\n", cp.stderr[-500:]
    assert latency < 3.0, f"KeyboardInterrupt took {latency:.2f} s"
