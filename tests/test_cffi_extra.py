"""Checks specific to the cffi backend (the C library in c/): the GIL is released during a
search, buffers of every kind go to C without a copy, errors map to Python exceptions, and
a file that shrinks during a search never crashes the process."""

from __future__ import annotations

import errno
import mmap
import os
import threading
import time

import pytest

from conftest import load_backend, ref_find_all


@pytest.fixture(scope="module")
def cffi_backend():
    return load_backend("cffi")


def test_module_exposes_ffi_and_lib(cffi_backend):
    from kmpsearch import _kmp_cffi

    assert hasattr(_kmp_cffi, "ffi") and hasattr(_kmp_cffi, "lib")
    assert _kmp_cffi.ffi.string(_kmp_cffi.lib.kmp_version()) == b"0.1.0"
    assert cffi_backend.simd() in ("avx2", "sse2", "scalar")
    assert cffi_backend.SCANS == ("fast", "textbook") and cffi_backend.DEFAULT_SCAN == "fast"


def test_gil_is_released_during_a_search(cffi_backend):
    # a textbook scan of 96 MiB on one thread takes a few hundred ms; while it runs, this
    # thread must keep running Python code (with the GIL held, it would stall throughout)
    data = bytes(96 << 20)
    took: list[float] = []

    def search():
        start = time.perf_counter()
        assert cffi_backend.count(data, b"\x00\x01", threads=1, scan="textbook") == 0
        took.append(time.perf_counter() - start)

    worker = threading.Thread(target=search)
    worker.start()
    gaps, last = [], time.perf_counter()
    while worker.is_alive():
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
    worker.join()
    if took[0] < 0.05:
        pytest.skip(f"the search took only {took[0]:.3f} s: too fast to observe")
    assert max(gaps) < took[0] * 0.6, f"this thread stalled {max(gaps):.3f} s of a {took[0]:.3f} s search"


def test_buffers_of_every_kind(cffi_backend, tmp_path):
    data = b"xx3J1yy" * 1000 + b"3J1"
    expected = ref_find_all(data, b"3J1")
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        assert cffi_backend.find_all(mm, b"3J1", threads=3, _min_chunk=100) == expected
        view = memoryview(mm)[7:]
        try:
            assert cffi_backend.count(view, b"3J1", threads=2, _min_chunk=50) == len(expected) - 1
        finally:
            view.release()
    assert cffi_backend.find_all(bytearray(data), b"3J1") == expected
    assert cffi_backend.find_all(memoryview(data)[0:0], b"3J1") == []
    assert cffi_backend.count(b"", b"a") == 0


def test_error_mapping(cffi_backend):
    from kmpsearch._kmp_cffi import lib

    fail = cffi_backend._fail
    assert isinstance(fail(lib.KMP_ERR_NOMEM), MemoryError)
    err = fail(lib.KMP_ERR_IO, errno.EACCES, "/some/file")
    assert isinstance(err, PermissionError) and err.errno == errno.EACCES and err.filename == "/some/file"
    assert isinstance(fail(lib.KMP_ERR_INVALID), ValueError)
    # the kernels on descriptors the frontend would never hand over
    with pytest.raises(ValueError):
        cffi_backend._count_fd(-1, "/x", b"ab", 1, 1 << 20, "fast")
    r, w = os.pipe()
    os.close(w)
    try:
        with pytest.raises(OSError) as info:
            cffi_backend._find_all_fd(r, "/pipe", b"ab", 1, 1 << 20, "fast")
        assert info.value.errno == errno.EINVAL
    finally:
        os.close(r)


def test_file_shrinking_during_a_search(cffi_backend, tmp_path):
    # another thread cuts the file while the library reads it: the matches found so far (or
    # all of them), never a crash -- the library reads with pread, it maps nothing
    unit = b"..3J1.." * 1000
    data = unit * 2000  # 14 MB
    expected = set(ref_find_all(data, b"3J1"))
    path = tmp_path / "shrinking.bin"
    for delay in (0.0, 0.001, 0.003, 0.006):
        path.write_bytes(data)

        def cut():
            time.sleep(delay)
            os.truncate(path, len(data) // 3)

        cutter = threading.Thread(target=cut)
        cutter.start()
        try:
            found = cffi_backend.find_all_in_file(path, b"3J1", threads=2, _min_chunk=1 << 16)
        finally:
            cutter.join()
        assert found == sorted(found) and set(found) <= expected
        assert cffi_backend.count_in_file(path, b"3J1") == len(ref_find_all(data[: len(data) // 3], b"3J1"))
