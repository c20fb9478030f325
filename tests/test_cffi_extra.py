"""Checks specific to the cffi backend (the C library in c/) and its core (the core contract of kmpsearch._frontend):
the cdef comes from the real header, the GIL is released during a search, buffers of every
kind go to C without a copy, errors map to Python exceptions, the library's chunk plan is
python/kmpsearch/_plan.py's, word sets agree with a naive reference, and a file that
shrinks during a search never crashes the process."""

from __future__ import annotations

import errno
import mmap
import os
import re
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import load_backend, ref_find_all
from kmpsearch._plan import plan_chunks

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

def test_gil_is_released_during_a_search(core):
    # a textbook scan of 96 MiB on one thread takes a few hundred ms; while it runs, this
    # thread must keep running Python code (with the GIL held, it would stall throughout)
    data = bytes(96 << 20)
    took: list[float] = []
    pattern = core.compile_pattern(b"\x00\x01")

    def search():
        start = time.perf_counter()
        assert pattern.count(memoryview(data), 1, 1 << 20, "textbook", "auto") == 0
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


def test_buffers_of_every_kind(core, cffi_backend, tmp_path):
    data = b"xx3J1yy" * 1000 + b"3J1"
    expected = ref_find_all(data, b"3J1")
    pattern = core.compile_pattern(b"3J1")
    words = core.compile_words([b"3J1", b"yy"], False)
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        with memoryview(mm) as view:
            assert pattern.find_all(view, 3, 100, "fast", "auto") == expected
            assert words.count(view, 2, 50, "fast", "auto") == len(expected) + 1000
            with view[7:] as tail:
                assert pattern.count(tail, 2, 50, "textbook", "sse2") == len(expected) - 1
        assert cffi_backend.find_all(mm, b"3J1", threads=3, _min_chunk=100) == expected
    assert pattern.find_all(memoryview(bytearray(data)), 1, 1 << 20, "fast", "auto") == expected
    assert pattern.find_all(memoryview(data)[0:0], 1, 1, "fast", "auto") == []
    assert words.find_all(memoryview(b""), 4, 1, "fast", "auto") == []
    assert words.count_each(memoryview(b""), 4, 1, "fast", "auto") == [0, 0]
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
            obj.count_fd(-1, 10, 1, 1 << 20, "fast", "auto")
        with pytest.raises(ValueError):
            obj.count(memoryview(b"ab"), 1, 1, "quick", "auto")
        with pytest.raises(ValueError):
            obj.find_all(memoryview(b"ab"), 1, 1, "fast", "avx512")
    r, w = os.pipe()
    os.close(w)
    try:
        for call in (pattern.find_all_fd, words.find_all_fd, words.count_each_fd):
            with pytest.raises(OSError) as info:
                call(r, 10, 1, 1 << 20, "fast", "auto")
            assert info.value.errno == errno.ESPIPE and info.value.filename is None
    finally:
        os.close(r)


def test_objects_are_immutable(core):
    pattern = core.compile_pattern(b"ab")
    words = core.compile_words([b"ab", b"c"], False)
    with pytest.raises(AttributeError):
        pattern.needle = b"cd"
    with pytest.raises(AttributeError):
        words._ws = None
    assert len(words) == 2 and words.memory_bytes > 0


def test_file_shrinking_during_a_search(core, tmp_path):
    # another thread cuts the file while the library reads it: the matches found so far (or
    # all of them), never a crash -- the library reads with pread, it maps nothing
    unit = b"..3J1.." * 1000
    data = unit * 2000  # 14 MB
    expected = set(ref_find_all(data, b"3J1"))
    path = tmp_path / "shrinking.bin"
    pattern = core.compile_pattern(b"3J1")
    words = core.compile_words([b"3J1", b"J1."], False)
    for delay in (0.0, 0.001, 0.003, 0.006):
        path.write_bytes(data)

        def cut():
            time.sleep(delay)
            os.truncate(path, len(data) // 3)

        cutter = threading.Thread(target=cut)
        cutter.start()
        try:
            with open(path, "rb") as f:
                found = pattern.find_all_fd(f.fileno(), len(data), 2, 1 << 16, "fast", "auto")
        finally:
            cutter.join()
        assert found == sorted(found) and set(found) <= expected
        with open(path, "rb") as f:  # the size the frontend saw, a file now shorter: no error
            assert pattern.count_fd(f.fileno(), len(data), 2, 1 << 16, "fast", "auto") == \
                len(ref_find_all(data[: len(data) // 3], b"3J1"))
            got = words.find_all_fd(f.fileno(), len(data), 3, 1 << 15, "fast", "auto")
            short = data[: len(data) // 3]
            assert got == sorted([(i, 0) for i in ref_find_all(short, b"3J1")] +
                                 [(i, 1) for i in ref_find_all(short, b"J1.")])
            assert words.count_fd(f.fileno(), len(data), 3, 1 << 15, "textbook", "auto") == len(got)


# --- the chunk plan -------------------------------------------------------------------------

def test_plan_is_the_reference_plan(core):
    import random

    rng = random.Random(63)
    values = [0, 1, 2, 3, 5, 100, 4096, 2**20, 2**32, 2**63 - 1, 2**63, 2**63 + 99, 2**64 - 1]
    for n in values:
        for _ in range(60):
            nn = max(0, n - rng.randrange(0, 1000)) if n > 1000 else n
            m = rng.choice([1, 2, 3, rng.randrange(1, 50), rng.randrange(1, nn + 2)])
            threads = rng.randrange(1, 257)
            min_chunk = rng.choice([1, rng.randrange(1, 100), rng.randrange(1, 2**63)])
            assert core.plan(nn, m, threads, min_chunk) == plan_chunks(nn, m, threads, min_chunk), \
                (nn, m, threads, min_chunk)


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
    assert ws.find_all(view, threads, min_chunk, scan, simd) == want
    assert ws.count(view, threads, min_chunk, scan, simd) == len(want)
    each = [0] * len(words)
    for _, k in want:
        each[k] += 1
    assert ws.count_each(view, threads, min_chunk, scan, simd) == each


def test_words_contract_example(core):
    ws = core.compile_words([b"he", b"she", b"hers"], False)
    assert ws.find_all(memoryview(b"ushers"), 1, 1, "fast", "auto") == [(1, 1), (2, 0), (2, 2)]
    ic = core.compile_words([b"[a", b"@"], True)
    # ignore_case folds ASCII letters only: '[' != '{', '@' != '`'
    assert ic.find_all(memoryview(b"[A {a ` @ [a"), 2, 1, "fast", "auto") == [(0, 0), (8, 1), (10, 0)]


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
            assert ws.find_all_fd(fd, len(data), threads, min_chunk, scan, "auto") == want
            assert ws.count_fd(fd, len(data), threads, min_chunk, scan, "auto") == len(want)
            assert ws.count_each_fd(fd, len(data), threads, min_chunk, scan, "auto") == each
            # a size larger than the file (it shrank after the frontend's fstat): no error
            assert ws.find_all_fd(fd, len(data) + 999, threads, min_chunk, scan, "auto") == want
        assert f.tell() == 0  # pread only


def test_one_word_set_many_threads(core):
    import random

    rng = random.Random(11)
    words = distinct([bytes(rng.choice(b"ab") for _ in range(rng.randint(1, 6))) for _ in range(30)], False)
    data = memoryview(bytes(rng.choice(b"abc") for _ in range(50000)))
    ws = core.compile_words(words, False)
    want = ref_words(bytes(data), words)
    errors: list[str] = []

    def worker(i):
        for k in range(4):
            scan = ("fast", "textbook")[(i + k) % 2]
            if ws.find_all(data, 1 + (i + k) % 3, 1000, scan, "auto") != want:
                errors.append(f"thread {i} round {k}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


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
    got = ws.find_all(memoryview(text), 2, 1000, "fast", "auto")
    assert {k for _, k in got} >= set(range(2000))
    assert ws.count(memoryview(text), 2, 1000, "textbook", "auto") == len(got)
