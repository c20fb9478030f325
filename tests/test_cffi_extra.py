"""Checks specific to the cffi backend (the C library in c/) and its core (the core contract
of kmpsearch._contract) that the conformance suite and test_native.py do not make: the cdef
comes from the real header, buffers of every kind go to C without a copy, errors map to
Python exceptions, word sets agree with a naive reference at every forced SIMD level, and
100,000 words compile."""

from __future__ import annotations

import errno
import mmap
import os
import re
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import core_search, load_backend, ref_find_all

ROOT = Path(__file__).resolve().parent.parent
HEADER = ROOT / "c" / "include" / "kmp.h"
SIMDS = ("auto", "scalar", "sse2", "avx2")


@pytest.fixture(scope="module")
def cffi_backend():
    return load_backend("cffi")


@pytest.fixture(scope="module")
def core(cffi_backend):
    return cffi_backend.core


def ref_words(haystack: bytes, words: list[bytes], ignore_case: bool = False) -> list[tuple[int, int]]:
    """Every start, every word: (start, index) in (start, index) order."""
    def fold(b: bytes) -> bytes:
        return bytes(c + 32 if 65 <= c <= 90 else c for c in b) if ignore_case else b
    text = fold(haystack)
    folded = [fold(w) for w in words]
    return [(i, k) for i in range(len(text)) for k, w in enumerate(folded) if text.startswith(w, i)]


# --- the module and its cdef --------------------------------------------------------------

def test_module_exposes_ffi_and_lib(cffi_backend):
    from kmpsearch import _kmp_cffi

    assert hasattr(_kmp_cffi, "ffi") and hasattr(_kmp_cffi, "lib")
    assert _kmp_cffi.ffi.string(_kmp_cffi.lib.kmp_version()) == b"0.1.0"
    assert cffi_backend.simd() in ("avx2", "sse2", "scalar")
    assert cffi_backend.SCANS == ("fast", "textbook") and cffi_backend.DEFAULT_SCAN == "fast"
    assert cffi_backend.core.simd() == cffi_backend.simd()


def test_cdef_is_generated_from_the_header(cffi_backend):
    sys.path.insert(0, str(ROOT / "python"))
    try:
        import _cffi_kmp_build as builder
    finally:
        sys.path.pop(0)
    from kmpsearch._kmp_cffi import lib

    text = HEADER.read_text()
    cdef = builder.cdef_from_header(text)
    assert "#include" not in cdef and "KMP_API" not in cdef and 'extern "C"' not in cdef
    assert "KMP_OPTIONS_INIT" not in cdef and "#define KMP_H" not in cdef
    assert "#define KMP_MAX_THREADS ..." in cdef and "#define KMP_IGNORE_CASE ..." in cdef
    # every function and integer macro of the header made it into the module
    for name in re.findall(r"KMP_API\s+[\w\s\*]*?\b(kmp_\w+)\s*\(", text):
        assert hasattr(lib, name), name
    for name in re.findall(r"^#define[ \t]+(KMP_[A-Z_]+)[ \t]+\S", text, re.M):
        if not name.endswith("_INIT") and name != "KMP_API":
            assert isinstance(getattr(lib, name), int), name
    # a declaration added to a header needs no second edit
    extra = builder.cdef_from_header(text.replace("#endif /* KMP_H */", "KMP_API int kmp_new_thing(int x);\n"
                                                  "#define KMP_NEW_FLAG (1u << 7)\n#endif"))
    assert "int kmp_new_thing(int x);" in extra and "#define KMP_NEW_FLAG ..." in extra


# --- the core: single pattern ---------------------------------------------------------------

def test_buffers_of_every_kind(core, cffi_backend, tmp_path):
    data = b"xx3J1yy" * 1000 + b"3J1"
    expected = ref_find_all(data, b"3J1")
    pattern = core.compile_pattern(b"3J1")
    words = core.compile_words([b"3J1", b"yy"], False)
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        with memoryview(mm) as view:
            assert core_search(pattern, view, "offsets", 3, 100) == expected
            assert core_search(words, view, "count", 2, 50) == len(expected) + 1000
            with view[7:] as tail:
                assert core_search(pattern, tail, "count", 2, 50, "textbook", "sse2") == len(expected) - 1
        assert cffi_backend.find_all(mm, b"3J1", threads=3, _min_chunk=100) == expected
    assert core_search(pattern, bytearray(data), "offsets") == expected
    assert core_search(pattern, memoryview(data)[0:0], "offsets", 1, 1) == []
    assert core_search(words, b"", "pairs", 4, 1) == []
    assert core_search(words, b"", "each", 4, 1) == [0, 0]
    assert cffi_backend.count(b"", b"a") == 0


def test_error_mapping(core):
    from kmpsearch._kmp_cffi import lib
    from kmpsearch.backends.cffi import _error

    assert isinstance(_error(lib.KMP_ERR_NOMEM), MemoryError)
    err = _error(lib.KMP_ERR_IO, errno.EACCES)
    assert isinstance(err, PermissionError) and err.errno == errno.EACCES and err.filename is None
    assert err.strerror == os.strerror(errno.EACCES)
    assert isinstance(_error(lib.KMP_ERR_INVALID), ValueError)
    pattern = core.compile_pattern(b"ab")
    words = core.compile_words([b"ab"], True)
    # arguments the frontend would never pass
    for obj in (pattern, words):
        with pytest.raises(ValueError):
            core_search(obj, (-1, 10), "count")
        with pytest.raises(ValueError):
            core_search(obj, b"ab", "count", 1, 1, "quick")
        with pytest.raises(ValueError):
            core_search(obj, b"ab", "offsets", 1, 1, "fast", "avx512")
    r, w = os.pipe()
    os.close(w)
    try:
        for obj, want in ((pattern, "offsets"), (words, "pairs"), (words, "each")):
            with pytest.raises(OSError) as info:
                core_search(obj, (r, 10), want)
            assert info.value.errno == errno.ESPIPE and info.value.filename is None
    finally:
        os.close(r)


# --- the chunk plan -------------------------------------------------------------------------

# --- word sets ------------------------------------------------------------------------------

word_alphabet = b"abAB[{@`\x00\xff"
small_words = st.lists(st.lists(st.sampled_from(word_alphabet), min_size=1, max_size=7).map(bytes),
                       min_size=1, max_size=12)
word_text = st.lists(st.sampled_from(word_alphabet), max_size=250).map(bytes)


def distinct(words: list[bytes], ignore_case: bool) -> list[bytes]:
    """As the frontend passes them: distinct after ASCII case folding when ignore_case."""
    seen, out = set(), []
    for w in words:
        key = bytes(c + 32 if 65 <= c <= 90 else c for c in w) if ignore_case else w
        if key not in seen:
            seen.add(key)
            out.append(w)
    return out


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(small_words, word_text, st.booleans(), st.integers(1, 9), st.integers(1, 40),
       st.sampled_from(("fast", "textbook")), st.sampled_from(SIMDS))
def test_words_match_reference(core, words, text, ignore_case, threads, min_chunk, scan, simd):
    words = distinct(words, ignore_case)
    ws = core.compile_words(words, ignore_case)
    want = ref_words(text, words, ignore_case)
    view = memoryview(text)
    assert core_search(ws, view, "pairs", threads, min_chunk, scan, simd) == want
    assert core_search(ws, view, "count", threads, min_chunk, scan, simd) == len(want)
    each = [0] * len(words)
    for _, k in want:
        each[k] += 1
    assert core_search(ws, view, "each", threads, min_chunk, scan, simd) == each

def test_words_in_files(core, tmp_path):
    import random

    rng = random.Random(7)
    words = distinct([bytes(rng.choice(b"abc") for _ in range(rng.randint(1, 9))) for _ in range(40)], False)
    data = bytes(rng.choice(b"abcd") for _ in range(20000))
    path = tmp_path / "words.bin"
    path.write_bytes(data)
    ws = core.compile_words(words, False)
    want = ref_words(data, words)
    each = [0] * len(words)
    for _, k in want:
        each[k] += 1
    with open(path, "rb") as f:
        fd = f.fileno()
        for threads, min_chunk, scan in ((1, 1 << 20, "fast"), (3, 100, "fast"), (4, 7, "textbook")):
            assert core_search(ws, (fd, len(data)), "pairs", threads, min_chunk, scan) == want
            assert core_search(ws, (fd, len(data)), "count", threads, min_chunk, scan) == len(want)
            assert core_search(ws, (fd, len(data)), "each", threads, min_chunk, scan) == each
        assert f.tell() == 0  # pread only

def test_many_words_compile(core):
    import random

    rng = random.Random(100000)
    alnum = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    words = distinct([bytes(rng.choice(alnum) for _ in range(rng.randint(4, 12))) for _ in range(100000)], False)
    start = time.perf_counter()
    ws = core.compile_words(words, False)
    took = time.perf_counter() - start
    print(f"\n100,000 words: compiled in {took:.3f} s, {ws.memory_bytes / len(words):.0f} bytes per word")
    text = b" ".join(words[:2000])
    got = core_search(ws, text, "pairs", 2, 1000)
    assert {k for _, k in got} >= set(range(2000))
    assert core_search(ws, text, "count", 2, 1000, "textbook") == len(got)
