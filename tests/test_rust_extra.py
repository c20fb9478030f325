"""Rust-backend specifics the conformance suite does not see: the extension module
``kmpsearch_rust`` itself (errors, descriptors, stub), the GIL released during a search,
and no thread outliving a search."""

from __future__ import annotations

import errno
import importlib.util
import os
import pathlib
import sys
import sysconfig
import threading
import time

import pytest

from conftest import load_backend, ref_find_all


@pytest.fixture(scope="module")
def rust():
    return load_backend("rust")


@pytest.fixture(scope="module")
def ext(rust):
    import kmpsearch_rust
    return kmpsearch_rust


def test_module_surface(ext):
    assert ext.SCANS == ("fast", "textbook")
    assert ext.DEFAULT_MIN_CHUNK == 1 << 20
    assert isinstance(ext.__version__, str)
    pkg = pathlib.Path(importlib.util.find_spec("kmpsearch_rust").origin).parent
    assert (pkg / "py.typed").exists()
    assert any(pkg.glob("*.pyi")), "the type stub is not installed"
    assert "must not mutate" in ext.__doc__ or "do not" in ext.__doc__.lower()


def test_kernel_errors(ext):
    with pytest.raises(ValueError):
        ext.count(b"abc", b"")
    with pytest.raises(ValueError):
        ext.count(b"abc", b"a", 0)
    with pytest.raises(ValueError):
        ext.count(b"abc", b"a", 1, 0)
    with pytest.raises(ValueError):
        ext.find_all(b"abc", b"a", 1, 1, "quick")
    with pytest.raises(TypeError):
        ext.count(memoryview(b"abcabc")[::2], b"a")
    with pytest.raises(ValueError):
        ext.count_fd(-1, b"a")
    assert ext.find_all(bytearray(b"aaaa"), b"aa", 3, 1, "textbook") == [0, 1, 2]
    assert ext.count(memoryview(b"xaaaax")[1:5], b"aa") == 3


def test_fd_errors_carry_errno(ext, tmp_path):
    path = tmp_path / "w.bin"
    path.write_bytes(b"abc" * 10)
    fd = os.open(path, os.O_WRONLY)
    try:
        with pytest.raises(OSError) as info:
            ext.count_fd(fd, b"abc")
        assert info.value.errno == errno.EBADF
    finally:
        os.close(fd)
    with pytest.raises(OSError) as info:
        ext.find_all_fd(fd, b"abc")  # closed now
    assert info.value.errno == errno.EBADF


def test_fd_is_neither_closed_nor_moved(ext, tmp_path):
    data = b"xx3J1" * 5000
    path = tmp_path / "d.bin"
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.lseek(fd, 7, os.SEEK_SET)
        for threads in (1, 3):
            assert ext.find_all_fd(fd, b"3J1", threads, 1000, "fast") == ref_find_all(data, b"3J1")
            assert ext.count_fd(fd, b"3J1", threads, 1000, "textbook") == 5000
        assert os.lseek(fd, 0, os.SEEK_CUR) == 7
        os.fstat(fd)  # still open
    finally:
        os.close(fd)


def test_search_runs_with_the_gil_released(rust):
    # ~0.1-0.5 s of textbook KMP: the main thread must run during the middle of it
    haystack = b"a" * (48 << 20)
    needle = b"a" * 99 + b"b"
    span = []

    def search():
        t0 = time.perf_counter()
        assert rust.count(haystack, needle, threads=1, scan="textbook") == 0
        span.extend((t0, time.perf_counter()))

    t = threading.Thread(target=search)
    ticks = []
    t.start()
    while t.is_alive():
        ticks.append(time.perf_counter())
        for _ in range(200):
            pass
    t.join()
    t0, t1 = span
    lo, hi = t0 + (t1 - t0) / 4, t1 - (t1 - t0) / 4
    inside = sum(lo <= x <= hi for x in ticks)
    assert inside > 10, f"the main thread ran {inside} times in the middle half of a {t1 - t0:.3f} s search"


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")
def test_no_thread_outlives_a_search(rust):
    # the pool of a search is joined before it returns (an OS thread may take a moment
    # to leave /proc after it finished, hence the short wait)
    def settled_count(limit):
        deadline = time.monotonic() + 2
        while (n := len(os.listdir("/proc/self/task"))) > limit and time.monotonic() < deadline:
            time.sleep(0.01)
        return n

    before = len(os.listdir("/proc/self/task"))
    data = b"ab3J1" * 20000
    for threads in (2, 4, 8):
        assert rust.count(data, b"3J1", threads=threads, _min_chunk=1000) == 20000
    assert settled_count(before) <= before


@pytest.mark.skipif(not sysconfig.get_config_var("Py_GIL_DISABLED"), reason="free-threaded builds only")
def test_does_not_enable_the_gil(ext):
    assert not sys._is_gil_enabled()
