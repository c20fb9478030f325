"""The conformance suite: every backend must give exactly the reference's answers.

The reference is a ``find`` loop (``ref_find_all``); hypothesis draws haystacks and needles
from small alphabets so that overlaps and periodic patterns are common, and tiny
``_min_chunk`` values put chunk boundaries everywhere.
"""

from __future__ import annotations

import array
import mmap
import os
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import differential, examples, ref_find_all, run_threads


def check(backend, haystack, needle, **kw):
    expected = ref_find_all(haystack, needle)
    assert backend.find_all(haystack, needle, **kw) == expected
    assert backend.count(haystack, needle, **kw) == len(expected)
    return expected


small_bytes = st.lists(st.sampled_from(b"ab\x00\xff"), max_size=300).map(bytes)
small_needles = st.lists(st.sampled_from(b"ab\x00\xff"), min_size=1, max_size=9).map(bytes)
chars = st.sampled_from(["a", "b", "é", "ß", "€", "😀", "𝄞", "\x00", "\ud800", "\udfff"])
small_text = st.lists(chars, max_size=200).map("".join)
small_text_needles = st.lists(chars, min_size=1, max_size=6).map("".join)


# --- differential properties -------------------------------------------------------

def test_overlapping_matches(backend):
    assert backend.find_all(b"aaaa", b"aa") == [0, 1, 2]
    assert backend.count(b"aaaa", b"aa") == 3
    assert backend.find_all("aaaa", "aa") == [0, 1, 2]


def test_bytes_match_reference(backend):
    differential(backend, 300, check, small_bytes, small_needles)


def test_periodic_needles_in_periodic_text(backend):
    @examples(backend, 200)
    @given(st.sampled_from([b"a", b"ab", b"aab", b"abaab", b"\x00\x00\xff"]),
           st.integers(0, 200), st.integers(1, 12), st.integers(1, 9), st.integers(1, 30), st.data())
    def run(unit, reps, needle_len, threads, min_chunk, data):
        haystack = unit * reps
        needle = (unit * (needle_len // len(unit) + 1))[:needle_len]
        scan = data.draw(st.sampled_from(backend.SCANS))
        check(backend, haystack, needle, threads=threads, _min_chunk=min_chunk, scan=scan)
    run()


def test_str_matches_reference_in_code_points(backend):
    differential(backend, 200, check, small_text, small_text_needles)


# --- chunk boundaries ----------------------------------------------------------------

def _straddling_haystack() -> bytes:
    # a mix of random-looking bytes and many overlapping needle occurrences
    import random
    rnd = random.Random(20261124)
    parts = []
    for _ in range(60):
        parts.append(bytes(rnd.choice(b"xyz") for _ in range(rnd.randrange(0, 9))))
        parts.append(b"abcab" * rnd.randrange(1, 4))
    return b"".join(parts)


@pytest.mark.parametrize("threads", range(1, 10))
def test_every_thread_count_across_chunk_boundaries(backend, threads):
    haystack = _straddling_haystack()
    for needle in (b"abcab", b"b", b"cabab", b"abcabcab"):
        for min_chunk in (1, 3, 7, 50, 1 << 20):
            for scan in backend.SCANS:
                check(backend, haystack, needle, threads=threads, _min_chunk=min_chunk, scan=scan)


@pytest.mark.parametrize("threads", [2, 5, 9])
def test_needle_longer_than_a_chunk(backend, threads):
    needle = b"abcab" * 8  # 40 bytes, chunks of 3 start positions
    haystack = b"x" + needle + b"abcab" * 20 + needle[:-1] + b"y" + needle
    for scan in backend.SCANS:
        expected = check(backend, haystack, needle, threads=threads, _min_chunk=3, scan=scan)
        assert len(expected) >= 15


def test_results_do_not_depend_on_threads_with_default_chunks(backend):
    # 3 MiB: more than one default chunk (1 MiB) for threads >= 2
    haystack = (b"\x00" * 1000 + b"3J1") * 3140
    expected = ref_find_all(haystack, b"3J1")
    for threads in (1, 2, 3):
        assert backend.count(haystack, b"3J1", threads=threads, scan=backend.SCANS[-1]) == len(expected)


# --- edge cases -----------------------------------------------------------------------

def test_needle_longer_than_or_equal_to_haystack(backend):
    assert backend.find_all(b"abc", b"abcd") == []
    assert backend.count(b"abc", b"abcd") == 0
    assert backend.find_all(b"abc", b"abc") == [0]
    assert backend.find_all(b"", b"a") == []
    assert backend.count("", "a") == 0
    assert backend.find_all("é", "é") == [0]


def test_one_byte_needles_nul_and_high_bytes(backend):
    haystack = bytes(range(256)) * 3 + b"\x00\x00\xff\xff"
    for needle in (b"\x00", b"\xff", b"\x00\x00", b"\xff\xff", b"\xff\x00", b"\x80"):
        check(backend, haystack, needle)
        check(backend, haystack, needle, threads=4, _min_chunk=5)


def test_huge_min_chunk_means_one_chunk(backend):
    # every core gets the same clamped value (cffi and rust take a u64: no OverflowError)
    for min_chunk in (2**63 - 1, 2**64, 10**30):
        check(backend, b"abaabaab" * 50, b"abaab", threads=4, _min_chunk=min_chunk)


def test_non_ascii_and_astral_text(backend):
    text = "ünïcödé 😀 𝄞 cö 😀😀 \x00 é" * 7
    for needle in ("cö", "😀", "😀😀", "𝄞 c", "\x00", "é", "ö 😀"):
        check(backend, text, needle)
        check(backend, text, needle, threads=3, _min_chunk=2)
    assert backend.find_all(text, "z") == []
    # a needle that is only part of a character's encoding never matches
    assert backend.count("é", "\u0301") == 0


def test_lone_surrogates(backend):
    text = "a\ud800b\udfff\ud800\udfffc"
    for needle in ("\ud800", "\udfff", "\ud800\udfff", "b\udfff"):
        check(backend, text, needle)


# --- accepted and rejected buffers ---------------------------------------------------

def test_accepted_buffer_types(backend, tmp_path):
    data = b"xxabcabcxxabc\x00abc"
    expected = ref_find_all(data, b"abc")
    mv = memoryview(b"__" + data + b"__")[2:-2]
    anon = mmap.mmap(-1, len(data))
    anon.write(data)
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        for hay in (data, bytearray(data), memoryview(data), mv, anon, mapped, array.array("B", data)):
            assert backend.find_all(hay, b"abc") == expected, type(hay)
            assert backend.count(hay, bytearray(b"abc")) == len(expected)
            assert backend.find_all(hay, memoryview(b"abc")) == expected
    anon.close()
    # multi-byte items: byte offsets
    arr = array.array("i", [1, 2, 3, 1, 2, 3])
    raw = arr.tobytes()
    assert backend.find_all(arr, raw[4:12]) == ref_find_all(raw, raw[4:12])
    # a C-contiguous 2-D view is searched as its bytes
    flat = b"abcabcabcabc"
    assert backend.find_all(memoryview(flat).cast("B", (3, 4)), b"ca") == ref_find_all(flat, b"ca")


def test_rejected_buffers_and_types(backend):
    with pytest.raises((TypeError, BufferError)):
        backend.find_all(memoryview(b"abcabcabc")[::2], b"a")
    with pytest.raises((TypeError, BufferError)):
        backend.count(memoryview(b"abcabcabc")[::2], b"a")
    for bad in (None, 12, 1.5, [1, 2], object()):
        with pytest.raises(TypeError):
            backend.find_all(bad, b"a")
        with pytest.raises(TypeError):
            backend.count(b"abc", bad)
    with pytest.raises(TypeError):
        backend.find_all("abc", b"a")
    with pytest.raises(TypeError):
        backend.find_all(b"abc", "a")
    with pytest.raises(TypeError):
        backend.count("abc", memoryview(b"a"))


def test_bad_arguments(backend):
    for fn in (backend.find_all, backend.count):
        with pytest.raises(ValueError):
            fn(b"abc", b"")
        with pytest.raises(ValueError):
            fn("abc", "")
        for threads in (0, -1, -100):
            with pytest.raises(ValueError):
                fn(b"abc", b"a", threads=threads)
        for threads in (1.0, "2", True, [2]):
            with pytest.raises(TypeError):
                fn(b"abc", b"a", threads=threads)
        with pytest.raises(ValueError):
            fn(b"abc", b"a", scan="bogus")
        with pytest.raises(TypeError):
            fn(b"abc", b"a", scan=1)
        with pytest.raises(TypeError):
            fn(b"abc", b"a", 2)  # threads is keyword-only
    # huge thread counts are fine: results never depend on threads
    assert backend.find_all(b"abcabc", b"bc", threads=10**6) == [1, 4]


# --- files ----------------------------------------------------------------------------

def _unchanged(path, before):
    st = path.stat()
    return (st.st_size, st.st_mtime_ns) == before


def test_files(backend, tmp_path):
    data = b"hello 3J1 world 3J13J1\x00\xff3J1" * 50
    path = tmp_path / "f.txt"
    path.write_bytes(data)
    before = (path.stat().st_size, path.stat().st_mtime_ns)
    expected = ref_find_all(data, b"3J1")
    for p in (path, str(path), bytes(path)):
        assert backend.find_all_in_file(p, b"3J1") == expected
        assert backend.count_in_file(p, b"3J1") == len(expected)
    assert backend.find_all_in_file(path, "3J1") == expected  # str needle: its UTF-8
    for threads in range(1, 10):
        assert backend.find_all_in_file(path, b"3J1", threads=threads, _min_chunk=7) == expected
        assert backend.count_in_file(path, b"J13", threads=threads, _min_chunk=5) == data.count(b"J13")
    assert _unchanged(path, before), "kmpsearch must never modify a file it searches"


def test_file_utf8_offsets_are_bytes(backend, tmp_path):
    path = tmp_path / "u.txt"
    path.write_text("ünïcödé cö 😀cö", encoding="utf-8")
    raw = path.read_bytes()
    assert backend.find_all_in_file(path, "cö") == ref_find_all(raw, "cö".encode())


def test_file_errors(backend, tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert backend.find_all_in_file(empty, b"a") == []
    assert backend.count_in_file(empty, b"a") == 0
    for fn in (backend.find_all_in_file, backend.count_in_file):
        with pytest.raises(FileNotFoundError):
            fn(tmp_path / "missing", b"a")
        with pytest.raises(IsADirectoryError):
            fn(tmp_path, b"a")
        with pytest.raises(TypeError):
            fn(3.5, b"a")
        with pytest.raises(TypeError):
            fn(None, b"a")
        with pytest.raises(ValueError):
            fn(empty, b"")
        with pytest.raises(ValueError):
            fn(empty, b"a", threads=0)
        with pytest.raises(TypeError):
            fn(empty, b"a", threads="1")


def test_read_error_names_the_file(backend):
    if not os.path.exists("/proc/self/mem"):
        pytest.skip("no /proc here")
    for fn in (backend.count_in_file, backend.WordSet([b"a", b"b"]).count_in_file):
        args = ("/proc/self/mem", b"a") if fn is backend.count_in_file else ("/proc/self/mem",)
        with pytest.raises(OSError) as info:
            fn(*args)  # its size reads as 0; reading it from offset 0 fails with EIO
        assert info.value.errno == 5 and info.value.filename == "/proc/self/mem"


def test_file_needle_straddles_read_blocks(backend, tmp_path):
    # matches across the 1 MiB read blocks of the file kernels and the chunk boundaries
    needle = b"<sensitive-word>"
    size = 3 * (1 << 20) + 4096
    data = bytearray(size)
    offsets = [0, (1 << 20) - 40, (1 << 20) - 5, 2 * (1 << 20) - 1, size // 2, size - len(needle)]
    for off in offsets:
        data[off:off + len(needle)] = needle
    path = tmp_path / "blocks.bin"
    path.write_bytes(data)
    expected = ref_find_all(bytes(data), needle)
    assert len(expected) == len(offsets)
    for threads in (1, 2, 3):
        assert backend.find_all_in_file(path, needle, threads=threads, scan="fast") == expected
        assert backend.count_in_file(path, needle, threads=threads, _min_chunk=1 << 18, scan="fast") == len(expected)


def test_file_that_reports_size_zero_is_read_to_its_end(backend, monkeypatch):
    # /proc files say st_size == 0 but have content: read in windows, not "no matches"
    import kmpsearch._streams as frontend

    path = "/proc/self/cmdline"  # this process's own command line: stable while it runs
    if not os.path.exists(path):
        pytest.skip("no /proc here")
    with open(path, "rb") as f:
        data = f.read()
    assert data and os.stat(path).st_size == 0
    needles = [b"\x00", data[:2], data[-3:], data[1:9]]
    for window in (1, 2, 3, 7, frontend.STREAM_WINDOW):
        monkeypatch.setattr(frontend, "STREAM_WINDOW", window)
        for needle in needles:
            expected = ref_find_all(data, needle)
            assert backend.find_all_in_file(path, needle, threads=2) == expected, (window, needle)
            assert backend.count_in_file(path, needle, threads=2) == len(expected)


def test_file_path_through_dev_fd(backend, tmp_path):
    # /dev/fd/N names this process's descriptor: worker processes must search that file
    # (the one kmpsearch opened), not whatever /dev/fd/N means to them
    if not os.path.isdir("/dev/fd"):
        pytest.skip("no /dev/fd here")
    data = (b"x" * 1000 + b"3J1") * 3000
    path = tmp_path / "fd.bin"
    path.write_bytes(data)
    expected = ref_find_all(data, b"3J1")
    with open(path, "rb") as f:
        via = f"/dev/fd/{f.fileno()}"
        assert backend.find_all_in_file(via, b"3J1", threads=2, _min_chunk=1000) == expected
        assert backend.count_in_file(via, b"3J1", threads=3, _min_chunk=1000) == len(expected)


def test_sparse_file_over_4_gib(backend, tmp_path):
    needle = b"3J1-secret"
    size = (4 << 30) + (1 << 20)
    path = tmp_path / "sparse.bin"
    try:
        with open(path, "wb") as f:
            f.truncate(size)
            for off in ((4 << 30) - 20, 4 << 30, size - len(needle)):
                f.seek(off)
                f.write(needle)
    except OSError as exc:  # pragma: no cover - filesystem without sparse files or space
        pytest.skip(f"cannot create a sparse file over 4 GiB here: {exc}")
    expected = [(4 << 30) - 20, 4 << 30, size - len(needle)]
    before = (path.stat().st_size, path.stat().st_mtime_ns)
    # "fast": the pure-Python rungs skip the zeros with find; the textbook scan would
    # take a quarter of an hour in pure Python (the native ones are tested both ways below)
    assert backend.find_all_in_file(path, needle, threads=2, scan="fast") == expected
    assert backend.count_in_file(path, needle, scan="fast") == 3
    assert _unchanged(path, before)


# --- concurrency ------------------------------------------------------------------------

def test_many_python_threads_share_one_backend(backend):
    shared = (b"xx3J1y" * 3000) + b"3J13J1"
    expected_shared = ref_find_all(shared, b"3J1")
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker(i: int) -> None:
        try:
            own = bytes([65 + i]) * (1000 + i) + b"3J1" * i
            barrier.wait()
            for _ in range(3):
                assert backend.find_all(shared, b"3J1", threads=2, _min_chunk=4096) == expected_shared
                assert backend.count(own, b"3J1", threads=3, _min_chunk=64) == i
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    run_threads(worker, 8, errors)


# --- compiled patterns ------------------------------------------------------------------

def test_compiled_pattern(backend, tmp_path):
    import pickle

    name = backend.__name__.rsplit(".", 1)[1]
    pat = backend.compile(bytearray(b"aa"))
    assert pat.needle == b"aa" and type(pat.needle) is bytes and pat.backend == name
    assert isinstance(pat, backend.Pattern) and repr(pat).startswith("<kmpsearch.Pattern b'aa'")
    for _ in range(3):  # reusable
        assert pat.find_all(b"aaaa") == [0, 1, 2]
        assert pat.count(memoryview(b"xaaax"), threads=2, _min_chunk=1) == 2
    path = tmp_path / "p.bin"
    path.write_bytes(b"aaa")
    assert pat.find_all_in_file(path) == [0, 1] and pat.count_in_file(str(path)) == 2
    text = backend.compile("cö")
    assert text.needle == "cö" and text.find_all("ünïcödé cö") == [3, 8]
    with pytest.raises(TypeError):
        text.find_all(b"c\xc3\xb6")
    with pytest.raises(TypeError):
        pat.count("aa")
    for p in (pat, text):
        again = pickle.loads(pickle.dumps(p))
        assert again == p and hash(again) == hash(p) and type(again) is type(p)
    assert backend.compile(b"ab") != backend.compile("ab")
    with pytest.raises(AttributeError):
        pat.needle = b"x"
    with pytest.raises(AttributeError):
        pat._core = None
    for bad in (b"", ""):
        with pytest.raises(ValueError):
            backend.compile(bad)
    for bad in (None, 3, [1], memoryview(b"abcabc")[::2]):
        with pytest.raises(TypeError):
            backend.compile(bad)


def test_scan_accepts_a_str_subclass(backend):
    import enum

    class Scan(str, enum.Enum):
        FAST = "fast"
        TEXTBOOK = "textbook"

    for scan in Scan:
        assert backend.count(b"abab", b"ab", scan=scan) == 2
        assert backend.WordSet([b"ab", b"b"]).count(b"abab", scan=scan) == 4


def test_one_pattern_shared_by_many_threads(backend):
    pat = backend.compile(b"3J1")
    shared = (b"xx3J1y" * 3000) + b"3J13J1"
    expected = ref_find_all(shared, b"3J1")
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def worker(i: int) -> None:
        try:
            barrier.wait()
            for _ in range(3):
                assert pat.find_all(shared, threads=2, _min_chunk=4096) == expected
                assert pat.count(b"3J1" * i, threads=3, _min_chunk=2) == i
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    run_threads(worker, 6, errors)


def test_buffers_of_pointers_or_objects_are_rejected(backend):
    import ctypes

    pointers = (ctypes.c_void_p * 4)()  # its bytes are addresses, not data
    for fn in (backend.find_all, backend.count):
        with pytest.raises(TypeError):
            fn(pointers, b"\x00")
    with pytest.raises(TypeError):
        backend.WordSet([b"\x00"]).count(pointers)
    assert backend.count((ctypes.c_int * 3)(1, 2, 1), (1).to_bytes(4, "little")) == 2  # numbers are fine
