"""Streams, arrays and redaction (issue 15) on every backend, against simple references.

``finditer`` is checked over every kind of source (paths, binary file objects, compressed
files, pipes, sockets, iterables of chunks, text streams) with windows down to one byte,
so that matches straddle every window boundary; ``as_array`` against the lists; ``redact``
and ``redact_stream`` against a reference that marks every covered position, then masks.
"""

from __future__ import annotations

import array
import bz2
import gzip
import io
import lzma
import os
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kmpsearch
from conftest import examples, ref_find_all, require_extra

PKG_ROOT = str(Path(kmpsearch.__file__).resolve().parent.parent)

# --------------------------------------------------------------------------- references

def ref_words(haystack, words) -> list[tuple[int, int]]:
    """Every (offset, index) of every distinct word, by a find loop per word."""
    distinct = list(dict.fromkeys(words))
    return sorted((off, i) for i, w in enumerate(distinct) for off in ref_find_all(haystack, w))


def ref_redact(haystack, words, mask):
    """Mark every position some occurrence covers, then mask the marked ones."""
    covered = [False] * len(haystack)
    for w in words:
        for off in ref_find_all(haystack, w):
            covered[off:off + len(w)] = [True] * len(w)
    if isinstance(haystack, str):
        return "".join(mask if c else ch for c, ch in zip(covered, haystack))
    return bytes(mask[0] if c else b for c, b in zip(covered, haystack))


# --------------------------------------------------------------------------- sources

def _pipe_source(data: bytes):
    r, w = os.pipe()

    def feed():
        with open(w, "wb", buffering=0) as f:
            for k in range(0, len(data), 7):  # several writes: reads see pieces
                f.write(data[k:k + 7])

    threading.Thread(target=feed, daemon=True).start()
    return open(r, "rb")  # a BufferedReader over a pipe, as sys.stdin.buffer


def _socket_source(data: bytes):
    a, b = socket.socketpair()

    def feed():
        with a:
            for k in range(0, len(data), 5):
                a.sendall(data[k:k + 5])

    threading.Thread(target=feed, daemon=True).start()
    f = b.makefile("rb")
    b.close()  # the file object keeps the socket open
    return f


class ReadOnly:
    """A file-like object with read() only."""

    def __init__(self, data: bytes) -> None:
        self.f = io.BytesIO(data)

    def read(self, n: int = -1) -> bytes:
        return self.f.read(min(n, 3) if n > 0 else n)


def _chunks(data: bytes):
    """Irregular chunks of every buffer kind, empty ones included."""
    out, k, step = [], 0, 1
    kinds = (bytes, bytearray, memoryview, lambda b: array.array("B", b))
    while k < len(data):
        out.append(kinds[step % 4](data[k:k + step]))
        if step % 3 == 0:
            out.append(b"")
        k += step
        step = step % 5 + 1
    return out


SOURCES = ("memory-bytes", "pathlib", "memory-bytearray", "open-rb", "unbuffered", "bytesio", "chunks", "generator",
           "gzip", "gzip-fileobj", "bz2", "lzma", "pipe", "socket", "read-only")


def make_source(kind: str, data: bytes, tmp_path: Path):
    path = tmp_path / "hay.bin"
    path.write_bytes(data)
    if kind == "memory-bytes":  # in-memory data, as find_all takes it (re.finditer too)
        return data
    if kind == "pathlib":
        return path
    if kind == "memory-bytearray":
        return bytearray(data)
    if kind == "open-rb":
        return open(path, "rb")
    if kind == "unbuffered":
        return open(path, "rb", buffering=0)
    if kind == "bytesio":
        return io.BytesIO(data)
    if kind == "chunks":
        return _chunks(data)
    if kind == "generator":
        return (bytes([b]) for b in data)
    if kind == "gzip":
        gz = tmp_path / "hay.gz"
        gz.write_bytes(gzip.compress(data))
        return gzip.open(gz)
    if kind == "gzip-fileobj":
        return gzip.GzipFile(fileobj=io.BytesIO(gzip.compress(data)))
    if kind == "bz2":
        return bz2.BZ2File(io.BytesIO(bz2.compress(data)))
    if kind == "lzma":
        return lzma.open(io.BytesIO(lzma.compress(data)))
    if kind == "pipe":
        return _pipe_source(data)
    if kind == "socket":
        return _socket_source(data)
    if kind == "read-only":
        return ReadOnly(data)
    raise AssertionError(kind)


def close(source) -> None:
    if hasattr(source, "close"):
        source.close()


STRADDLE = b"abcab" * 9 + b"xcabcabcab\x00\xff\xffab"
STRADDLE_WORDS = [b"abcab", b"ca", b"b", b"\xff\xffa", b"bcabcabc"]


# --------------------------------------------------------------------------- finditer

@pytest.mark.parametrize("kind", SOURCES)
def test_finditer_every_source_kind(backend, kind, tmp_path):
    words = backend.WordSet(STRADDLE_WORDS)
    expected = ref_words(STRADDLE, STRADDLE_WORDS)
    for window in (1, 3, None):
        source = make_source(kind, STRADDLE, tmp_path)
        try:
            assert list(words.finditer(source, threads=2, _window=window)) == expected, window
        finally:
            close(source)
    source = make_source(kind, STRADDLE, tmp_path)
    try:
        assert list(backend.compile(b"cab").finditer(source, _window=2)) == ref_find_all(STRADDLE, b"cab")
    finally:
        close(source)


@pytest.mark.parametrize("window", [1, 2, 3, 4, 5, 7, 8, 9, 13])
def test_finditer_matches_straddling_every_window_boundary(backend, window):
    # each window boundary falls at every position of every match in turn
    expected = ref_words(STRADDLE, STRADDLE_WORDS)
    words = backend.WordSet(STRADDLE_WORDS)
    assert list(words.finditer([STRADDLE], _window=window)) == expected
    pat = backend.compile(b"bcabcabc")
    assert list(pat.finditer(io.BytesIO(STRADDLE), _window=window)) == ref_find_all(STRADDLE, b"bcabcabc")
    assert list(backend.finditer([STRADDLE[:5], STRADDLE[5:]], b"ab", _window=window)) == \
        ref_find_all(STRADDLE, b"ab")


def test_finditer_property(backend):
    @examples(backend, 60)
    @given(data=st.lists(st.sampled_from(b"ab\x00"), max_size=120).map(bytes),
           words=st.lists(st.lists(st.sampled_from(b"ab\x00"), min_size=1, max_size=5).map(bytes),
                          min_size=1, max_size=5),
           window=st.integers(1, 40), cut=st.integers(1, 17))
    def prop(data, words, window, cut):
        chunks = [data[k:k + cut] for k in range(0, len(data), cut)]
        ws = backend.WordSet(words)
        assert list(ws.finditer(chunks, _window=window)) == ref_words(data, words)
        assert list(backend.compile(words[0]).finditer(chunks, _window=window)) == ref_find_all(data, words[0])

    prop()


def test_finditer_empty_and_short_inputs(backend, tmp_path):
    pat = backend.compile(b"abc")
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert list(pat.finditer(empty)) == []
    assert list(pat.finditer([])) == [] and list(pat.finditer([b"", b""])) == []
    assert list(pat.finditer([b"ab"])) == []
    assert list(backend.WordSet([b"abcdef", b"b"]).finditer([b"ab"], _window=1)) == [(1, 1)]


def test_finditer_path_in_ranges_any_width_and_threads(backend, tmp_path):
    """A file given by path: a native core searches it range by range, several ranges at
    once; every match once and in order, whatever the range width and thread count."""
    rnd = random.Random(5)
    data = bytes(rnd.choice(b"abc") for _ in range(4000))
    path = tmp_path / "f"
    path.write_bytes(data)
    words = [b"abc", b"ca", b"b", b"cabca"]
    pat, ws = backend.compile(b"abca"), backend.WordSet(words)
    for threads in (1, 2, 3, 5):
        for window in (1, 2, 7, 64, None):
            assert list(pat.finditer(path, threads=threads, _window=window)) == ref_find_all(data, b"abca")
            assert list(ws.finditer(path, threads=threads, _window=window)) == ref_words(data, words)


def _no_range_threads(before: set) -> bool:
    """No worker of a finditer is left: none in ``threading`` (they were joined), and within
    a moment none in /proc either (a joined thread's OS thread ends just after the join)."""
    if any(t.name.startswith("kmpsearch-range") for t in threading.enumerate()):
        return False
    for _ in range(200):
        if set(os.listdir("/proc/self/task")) <= before:
            return True
        time.sleep(0.01)
    return False


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")
@pytest.mark.thread_unsafe(reason="counts this process's threads")
def test_finditer_path_closed_early_or_on_a_shrinking_file(backend, tmp_path):
    path = tmp_path / "f"
    data = b"xab" * 100_000
    path.write_bytes(data)
    threads_before = set(os.listdir("/proc/self/task"))
    it = backend.compile(b"ab").finditer(path, threads=3, _window=4096)
    assert next(it) == 1
    it.close()  # the ranges in flight are stopped and joined
    assert _no_range_threads(threads_before)
    # a file that shrinks while it is read: the matches in what could be read, no error
    it = backend.compile(b"ab").finditer(path, threads=3, _window=4096)
    got = [next(it)]
    os.truncate(path, 3000)
    got += list(it)
    assert got == sorted(set(got)) and all(data[o:o + 2] == b"ab" for o in got)
    assert [o for o in got if o < 2999] == ref_find_all(data[:3000], b"ab")
    assert _no_range_threads(threads_before)


def test_finditer_is_lazy_and_closing_stops_reading(backend):
    pulled = []

    def endless():
        while True:  # an endless input: only laziness lets this test finish
            pulled.append(1)
            yield b"xxab"

    it = backend.compile(b"ab").finditer(endless(), _window=16)
    assert [next(it) for _ in range(3)] == [2, 6, 10]
    it.close()
    seen = len(pulled)
    assert seen <= 8  # one window and its overlap, not the input
    with pytest.raises(StopIteration):
        next(it)
    assert len(pulled) == seen


def test_closing_early_closes_the_file_it_opened_not_the_one_given(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"ab" * 1000)
    fds = set(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    it = kmpsearch.compile(b"ab").finditer(path, _window=8)
    assert next(it) == 0
    it.close()
    if fds is not None:
        assert set(os.listdir("/proc/self/fd")) == fds
    with open(path, "rb") as f:
        it = kmpsearch.compile(b"ab").finditer(f, _window=8)
        assert next(it) == 0
        it.close()
        assert not f.closed
        assert f.read(2) != b""  # still usable


def test_matches_are_yielded_before_the_end_of_a_pipe(backend):
    """A slow writer: the first match arrives while the writer still holds the pipe open."""
    r, w = os.pipe()
    got_first = threading.Event()
    waited = []

    def writer():
        with open(w, "wb", buffering=0) as f:
            f.write(b"..needle..")
            waited.append(got_first.wait(timeout=20))
            f.write(b"needle")

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    with open(r, "rb") as f:
        it = backend.compile(b"needle").finditer(f)
        assert next(it) == 2
        got_first.set()
        assert list(it) == [10]
    t.join(30)
    assert waited == [True]


@pytest.mark.parametrize("window", [16, 100])
def test_data_already_buffered_is_searched_without_waiting(window):
    """A BufferedReader over a pipe may hold bytes the window had no room for: they are
    searched at once, not after the writer's next write."""
    r, w = os.pipe()
    got = threading.Event()
    waited = []

    def writer():
        with open(w, "wb", buffering=0) as f:
            f.write(b"." * 130 + b"needle" + b"." * 10)
            waited.append(got.wait(timeout=20))

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    with open(r, "rb") as f:  # buffer_size 8192: larger than the window
        it = kmpsearch.compile(b"needle").finditer(f, _window=window)
        assert next(it) == 130
        got.set()
        assert list(it) == []
    t.join(30)
    assert waited == [True]


def test_finditer_over_gzip_streams(backend, tmp_path):
    data = b"".join(b"line %d: token=%d\n" % (i, i * 7) for i in range(3000))
    gz = tmp_path / "log.gz"
    with gzip.open(gz, "wb") as f:
        f.write(data)
    words = backend.WordSet([b"token=7", b"line 29"])
    with gzip.open(gz, "rb") as f:
        assert list(words.finditer(f, _window=4096)) == ref_words(data, [b"token=7", b"line 29"])
    with gzip.open(gz, "rb") as f:
        assert list(backend.compile("token=7").finditer(f)) == ref_find_all(data, b"token=7")


ALPHABET = "ab\u00e9\u20ac\U0001f600"


def test_finditer_text_streams_give_code_point_offsets(backend, tmp_path):
    text = ("a\U0001f600b\u00e9\u20ac" * 7 + "\U0001f600\U0001f600ab") * 3
    words = ["\U0001f600b", "\u20aca", "b", "\U0001f600\U0001f600"]
    expected = ref_words(text, words)
    assert expected == backend.WordSet(words).find_all(text)
    path = tmp_path / "t.txt"
    path.write_text(text, encoding="utf-8")
    ws = backend.WordSet(words)
    for window in (1, 2, 3, 5, None):
        assert list(ws.finditer(io.StringIO(text), _window=window)) == expected
        with open(path, encoding="utf-8") as f:
            assert list(ws.finditer(f, _window=window)) == expected
        assert list(ws.finditer([text[k:k + 3] for k in range(0, len(text), 3)], _window=window)) == expected
    # the same file as bytes: byte offsets of the UTF-8
    data = text.encode()
    assert list(ws.finditer(path)) == ref_words(data, [w.encode() for w in words])
    assert list(backend.compile("\U0001f600b").finditer(io.StringIO(text), _window=1)) == \
        ref_find_all(text, "\U0001f600b")


def test_finditer_text_property(backend):
    # surrogates: a pair cut between two chunks is two code points, as it is in one str
    surrogates = ALPHABET + "\ud83d\ude00"

    @examples(backend, 50)
    @given(text=st.text(st.sampled_from(surrogates), max_size=60),
           words=st.lists(st.text(st.sampled_from(surrogates), min_size=1, max_size=3), min_size=1, max_size=4),
           window=st.integers(1, 9), cut=st.integers(1, 7))
    def prop(text, words, window, cut):
        chunks = [text[k:k + cut] for k in range(0, len(text), cut)]
        assert list(backend.WordSet(words).finditer(chunks, _window=window)) == ref_words(text, words)
        assert list(backend.compile(words[0]).finditer(io.StringIO(text), _window=window)) == \
            ref_find_all(text, words[0])

    prop()


def test_finditer_bad_sources(tmp_path):
    pat = kmpsearch.compile(b"ab")
    for bad in (42, None, 3.5, object()):
        with pytest.raises(TypeError, match="source must be"):
            pat.finditer(bad)
    with pytest.raises(TypeError, match="haystack is str"):
        pat.finditer("ab")  # a bytes needle, str data (a str is data now, not a path)
    with pytest.raises(TypeError, match="text stream"):
        pat.finditer(io.StringIO("ab"))  # bytes needle, text stream
    with pytest.raises(TypeError, match="str chunk"):
        list(pat.finditer(["ab"]))
    with pytest.raises(TypeError, match="chunk"):
        list(pat.finditer([b"ab", 3]))
    with pytest.raises(TypeError):
        list(kmpsearch.compile("ab").finditer(["ab", b"ab"]))
    with pytest.raises(TypeError):
        list(kmpsearch.compile("ab").finditer(io.BytesIO(b"ab"), threads="2"))
    with pytest.raises(ValueError):
        pat.finditer([b"ab"], _window=0)
    with pytest.raises(FileNotFoundError) as exc:
        list(pat.finditer(tmp_path / "missing"))
    assert exc.value.filename == str(tmp_path / "missing")
    with pytest.raises(IsADirectoryError):
        list(pat.finditer(tmp_path))


def test_finditer_searches_data_in_memory_and_opens_only_path_objects(backend, tmp_path, monkeypatch):
    # str and bytes-like sources are data, as for find_all and re.finditer; a path is an
    # os.PathLike (pathlib.Path), never a str that happens to name a file
    assert list(backend.WordSet([b"he"]).finditer(b"ushers")) == [(2, 0)]
    assert list(backend.WordSet(["he", "sh"]).finditer("\u00fcshers")) == [(1, 1), (2, 0)]
    assert list(backend.compile(b"ab").finditer(memoryview(b"xabab")[1:])) == [0, 2]
    assert list(backend.finditer(array.array("B", b"abab"), b"ab", _window=1)) == [0, 2]
    assert list(backend.finditer("\u00e9ab\u00e9ab", "ab", _window=2)) == [1, 4]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ushers").write_bytes(b"he he he")
    assert list(backend.compile(b"he").finditer(b"ushers")) == [2]  # not the file's 3
    assert list(backend.compile(b"he").finditer(tmp_path / "ushers")) == [0, 3, 6]
    assert list(backend.compile(b"he").redact_stream(b"ushers", out := io.BytesIO()) for _ in [0]) == [1]
    assert out.getvalue() == b"us**rs"


def test_finditer_str_needle_over_bytes_searches_the_utf8(tmp_path):
    data = "x\u00e9\u00e9\U0001f600\u00e9".encode()
    assert list(kmpsearch.compile("\u00e9").finditer([data], _window=1)) == ref_find_all(data, "\u00e9".encode())


def test_memory_stays_bounded_by_the_window():
    """32 MiB through finditer and redact_stream, two matches every 1000 bytes: the peak of
    Python allocations stays near the window (1 MiB), far below the input."""
    import tracemalloc

    block = (b"." * 997 + b"key") * 65

    def source():
        for _ in range(512):  # 32 MiB in 64 KiB chunks
            yield block

    class Sink:
        n = 0

        def write(self, data) -> int:
            self.n += len(data)
            return len(data)

    words = kmpsearch.WordSet([b"key", b".k"])
    tracemalloc.start()
    try:
        found = sum(1 for _ in words.finditer(source()))
        sink = Sink()
        masked = words.redact_stream(source(), sink)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found == masked == 2 * 65 * 512 and sink.n == 512 * len(block)
    assert peak < 10 << 20, peak


def test_file_whose_size_reads_as_zero_as_array():
    path = "/proc/version"
    if not os.path.exists(path):
        pytest.skip("no /proc")
    with open(path, "rb") as f:
        data = f.read()
    assert kmpsearch.find_all_in_file(path, b" ", as_array=True).tolist() == ref_find_all(data, b" ")
    offsets, index = kmpsearch.WordSet([b" ", b"e"]).find_all_in_file(path, as_array=True)
    assert list(zip(offsets, index)) == ref_words(data, [b" ", b"e"])


def test_top_level_finditer_on_every_backend_module(backend):
    assert list(backend.finditer(io.BytesIO(b"aaaa"), b"aa")) == [0, 1, 2]
    assert backend.finditer.__name__ == "finditer" and backend.finditer.__doc__


# --------------------------------------------------------------------------- arrays

def test_arrays_equal_lists(backend, tmp_path):
    hay = STRADDLE * 5
    path = tmp_path / "hay"
    path.write_bytes(hay)
    pat = backend.compile(b"cab")
    got = pat.find_all(hay, as_array=True)
    assert isinstance(got, array.array) and got.typecode == "q" and got.tolist() == pat.find_all(hay)
    got = pat.find_all_in_file(path, as_array=True)
    assert got.typecode == "q" and got.tolist() == pat.find_all_in_file(path) == ref_find_all(hay, b"cab")
    assert backend.find_all(hay, b"ab", as_array=True).tolist() == ref_find_all(hay, b"ab")
    assert backend.find_all_in_file(path, b"ab", as_array=True).tolist() == ref_find_all(hay, b"ab")
    for words in (STRADDLE_WORDS, [b"cab"]):  # several words, and the one-word set
        ws = backend.WordSet(words)
        for offsets, index in (ws.find_all(hay, as_array=True), ws.find_all_in_file(path, as_array=True)):
            assert (offsets.typecode, index.typecode) == ("q", "i")
            assert list(zip(offsets, index)) == ws.find_all(hay) == ref_words(hay, words)
    # nothing found: empty arrays of the right types
    assert pat.find_all(b"xyz", as_array=True) == array.array("q")
    assert backend.WordSet([b"q", b"r"]).find_all(b"xyz", as_array=True) == (array.array("q"), array.array("i"))


def test_arrays_of_str_haystacks_give_code_points(backend):
    text = "\u00e9\U0001f600ab\u00e9ab"
    assert backend.find_all(text, "ab", as_array=True).tolist() == [2, 5]
    offsets, index = backend.WordSet(["ab", "\u00e9"]).find_all(text, as_array=True)
    assert list(zip(offsets, index)) == [(0, 1), (2, 0), (4, 1), (5, 0)]


class RecordingCore:
    """The python backend's core, recording what each search asks of it: the Python layer
    asks the core contract's ``search`` for arrays ("offsets", "pairs") and shapes them."""

    def __init__(self, calls: list) -> None:
        from kmpsearch._pycore import PyCore

        self.core, self.calls = PyCore(), calls

    def compile_pattern(self, needle):
        return RecordingCompiled(self.core.compile_pattern(needle), "pattern", self.calls)

    def compile_words(self, words, ignore_case):
        return RecordingCompiled(self.core.compile_words(words, ignore_case), "words", self.calls)


class RecordingCompiled:
    interruptible = True
    memory_bytes = 0

    def __init__(self, inner, kind: str, calls: list) -> None:
        self.inner, self.kind, self.calls = inner, kind, calls

    def search(self, source, want, opts):
        from kmpsearch._contract import FileRange

        self.calls.append((self.kind, want, "file" if isinstance(source, FileRange) else "memory"))
        return self.inner.search(source, want, opts)


def test_the_python_layer_asks_the_core_for_arrays(tmp_path):
    from kmpsearch._api import make_api
    from kmpsearch.backends import info

    calls: list = []
    api = make_api(info("python"), RecordingCore(calls))
    path = tmp_path / "f"
    path.write_bytes(b"abcab" * 3)
    assert api["find_all"](b"abcab" * 3, b"ab", as_array=True).tolist() == [0, 3, 5, 8, 10, 13]
    assert api["find_all_in_file"](path, b"ab", as_array=True).tolist() == [0, 3, 5, 8, 10, 13]
    assert api["find_all"](b"abcab" * 3, b"ab") == [0, 3, 5, 8, 10, 13]
    ws = api["WordSet"]([b"ab", b"ca"])
    offsets, index = ws.find_all("abcab\u00e9ab".encode(), as_array=True)
    assert list(zip(offsets, index)) == [(0, 0), (2, 1), (3, 0), (7, 0)]
    assert ws.find_all(b"abca") == [(0, 0), (2, 1)]
    assert ws.count_each(b"abca") == [1, 1]
    assert ws.redact(b"abcab-") == b"*****-"
    assert calls == [("pattern", "offsets", "memory"), ("pattern", "offsets", "file"),
                     ("pattern", "offsets", "memory"), ("words", "pairs", "memory"), ("words", "pairs", "memory"),
                     ("words", "each", "memory"), ("words", "pairs", "memory")]
    calls.clear()
    assert api["WordSet"](["ab"]).find_all("\u00e9ab", as_array=True) == (array.array("q", [1]), array.array("i", [0]))
    assert calls == [("pattern", "pairs", "memory")]  # a one-word set: the pattern's search, as pairs


def test_array_is_a_buffer_numpy_views_without_a_copy():
    np = require_extra("numpy")
    got = kmpsearch.find_all(b"ab" * 100, b"ab", as_array=True)
    view = np.frombuffer(got, dtype=np.int64)
    assert view.tolist() == list(range(0, 200, 2))
    got[0] = 7
    assert view[0] == 7  # the same memory


def test_as_array_must_be_a_bool(tmp_path):
    with pytest.raises(TypeError, match="as_array"):
        kmpsearch.find_all(b"ab", b"a", as_array=1)
    path = tmp_path / "f"
    path.write_bytes(b"ab")
    with pytest.raises(TypeError, match="as_array"):
        kmpsearch.WordSet([b"a"]).find_all_in_file(path, as_array="yes")


# --------------------------------------------------------------------------- redaction

def test_redact_overlapping_and_adjacent(backend):
    ws = backend.WordSet([b"aba", b"ab", b"cd"])
    assert ws.redact(b"xababa-abcdab-cdcd") == b"x*****-******-****"
    assert backend.compile(b"aa").redact(b"aaa.a.aa") == b"***.a.**"
    assert backend.compile("\U0001f600a").redact("\U0001f600a\U0001f600\U0001f600ab", "-") == "--\U0001f600--b"
    assert backend.WordSet(["\u00e9t\u00e9", "t"]).redact("\u00e9t\u00e9 et", "#") == "### e#"
    assert ws.redact(bytearray(b"ab"), b"#") == b"##" and type(ws.redact(memoryview(b"ab"))) is bytes


small_bytes = st.lists(st.sampled_from(b"ab\xff"), max_size=80).map(bytes)
small_words = st.lists(st.lists(st.sampled_from(b"ab\xff"), min_size=1, max_size=4).map(bytes),
                       min_size=1, max_size=4)


def check_redact(mod, data: bytes, words: list[bytes], window: int) -> None:
    """``redact`` and ``redact_stream`` (chunks of 3 bytes, windows of ``window``) of a
    WordSet and of a Pattern against the reference."""
    expected = ref_redact(data, words, b"#")
    ws = mod.WordSet(words)
    assert ws.redact(data, b"#") == expected
    assert mod.compile(words[-1]).redact(data, "#") == ref_redact(data, words[-1:], b"#")
    out = io.BytesIO()
    assert ws.redact_stream([data[k:k + 3] for k in range(0, len(data), 3)], out, "#", _window=window) == \
        len(ref_words(data, words))
    assert out.getvalue() == expected


def test_redact_property(backend):
    @examples(backend, 60)
    @given(data=small_bytes, words=small_words, window=st.integers(1, 12))
    def prop(data, words, window):
        check_redact(backend, data, words, window)

    prop()


@pytest.mark.parametrize("dense", [True, False])
def test_redact_both_ways_of_masking(dense, monkeypatch):
    """Many matches are masked in a mutable copy, few by joining the pieces: both exact."""
    from kmpsearch import _masking

    monkeypatch.setattr(_masking, "_dense", lambda matches, size: dense)

    @settings(max_examples=150, deadline=None)
    @given(data=small_bytes, words=small_words, window=st.integers(1, 12))
    def prop(data, words, window):
        check_redact(kmpsearch, data, words, window)

    prop()


def test_redact_str_property(backend):
    @examples(backend, 40)
    @given(text=st.text(st.sampled_from(ALPHABET), max_size=40),
           words=st.lists(st.text(st.sampled_from(ALPHABET), min_size=1, max_size=3), min_size=1, max_size=4))
    def prop(text, words):
        assert backend.WordSet(words).redact(text) == ref_redact(text, words, "*")
        assert backend.compile(words[0]).redact(text, "\u2588") == ref_redact(text, words[:1], "\u2588")

    prop()


@pytest.mark.parametrize("window", [1, 2, 3, 5, 8, None])
def test_redact_stream_tiny_windows(backend, window, tmp_path):
    data = STRADDLE * 3
    path = tmp_path / "in"
    path.write_bytes(data)
    ws = backend.WordSet(STRADDLE_WORDS)
    expected = ref_redact(data, STRADDLE_WORDS, b"*")
    for source in (path, data, io.BytesIO(data), _chunks(data), _pipe_source(data)):
        out = io.BytesIO()
        assert ws.redact_stream(source, out, _window=window) == len(ref_words(data, STRADDLE_WORDS))
        assert out.getvalue() == expected
        close(source)
    assert path.read_bytes() == data  # never modified
    raw = tmp_path / "out"
    with open(raw, "wb", buffering=0) as f:  # a raw stream: short writes are completed
        backend.compile(b"bcabcabc").redact_stream(path, f, b"\x00", _window=window)
    assert raw.read_bytes() == ref_redact(data, [b"bcabcabc"], b"\x00")


def test_redact_of_a_gzip_stream(tmp_path):
    data = b"user=alice password=hunter2\n" * 500
    gz = tmp_path / "dump.gz"
    gz.write_bytes(gzip.compress(data))
    out = io.BytesIO()
    with gzip.open(gz) as f:
        assert kmpsearch.WordSet([b"hunter2", b"alice"]).redact_stream(f, out, _window=100) == 1000
    assert out.getvalue() == data.replace(b"hunter2", b"*******").replace(b"alice", b"*****")


def test_mask_and_destination_are_checked():
    ws = kmpsearch.WordSet([b"ab"])
    for bad, exc in ((b"", ValueError), (b"##", ValueError), ("##", ValueError), ("\u00e9", ValueError),
                     (35, TypeError), (None, TypeError)):
        with pytest.raises(exc, match="mask"):
            ws.redact(b"ab", bad)
    tws = kmpsearch.WordSet(["ab"])
    for bad, exc in ((b"#", TypeError), ("", ValueError), ("##", ValueError), (None, TypeError)):
        with pytest.raises(exc, match="mask"):
            tws.redact("ab", bad)
    assert tws.redact("ab", "\u00e9") == "\u00e9\u00e9"
    with pytest.raises(TypeError):
        ws.redact("ab")  # bytes words, str haystack
    with pytest.raises(TypeError, match="destination"):
        ws.redact_stream([b"ab"], None)
    with pytest.raises(TypeError, match="binary"):
        ws.redact_stream([b"ab"], io.StringIO())
    with pytest.raises(TypeError, match="text stream"):
        tws.redact_stream(io.StringIO("ab"), io.BytesIO())
    with pytest.raises(TypeError, match="str chunk"):
        tws.redact_stream(["ab"], io.BytesIO())
    with pytest.raises(ValueError, match="mask"):
        ws.redact_stream([b"ab"], io.BytesIO(), "##")


def test_redact_stream_to_any_writer():
    class Collect:  # a write() that returns None, as many hand-written writers do
        def __init__(self) -> None:
            self.parts: list[bytes] = []

        def write(self, data) -> None:
            self.parts.append(bytes(data))

    out = Collect()
    assert kmpsearch.compile(b"ab").redact_stream([b"xa", b"bx" * 3], out, _window=1) == 1
    assert b"".join(out.parts) == b"x**xbxbx"


# --------------------------------------------------------------------------- the command

def cli(*args, input: bytes = b"", **env: str) -> subprocess.CompletedProcess:
    full = dict(os.environ)
    full["PYTHONPATH"] = os.pathsep.join([PKG_ROOT, *filter(None, [full.get("PYTHONPATH")])])
    full.pop("KMPSEARCH_CLI_CHUNK", None)
    full.update(env)
    return subprocess.run([sys.executable, "-m", "kmpsearch", *map(os.fsdecode, args)], input=input,
                          capture_output=True, env=full, timeout=120)


BINARY = bytes(range(256)) * 40 + b"\n\r\n\x00" + os.urandom(3000) + b"no newline at the end"


@pytest.mark.parametrize("chunk", ["1", "3", "4096", ""])
def test_cli_redact_round_trip(tmp_path, chunk):
    path = tmp_path / "in.bin"
    clean = BINARY.replace(b"zebra", b"").replace(b"secret", b"")
    path.write_bytes(clean)
    cp = cli("--redact", "-e", "zebra", "-e", "secret", path, KMPSEARCH_CLI_CHUNK=chunk)
    assert (cp.returncode, cp.stderr) == (1, b"")
    assert cp.stdout == clean  # unchanged byte for byte
    dirty = b"secret" + clean + b"zebrasecretsecre" + clean[:100] + b"zebra"
    path.write_bytes(dirty)
    cp = cli("--redact=#", "-e", "zebra", "-e", "secretsec", "-e", "ets", path, KMPSEARCH_CLI_CHUNK=chunk)
    assert (cp.returncode, cp.stderr) == (0, b"")
    assert cp.stdout == ref_redact(dirty, [b"zebra", b"secretsec", b"ets"], b"#")
    assert path.read_bytes() == dirty  # the input is never modified
    cp = cli("--redact", "secret", input=dirty, KMPSEARCH_CLI_CHUNK=chunk)  # standard input
    assert (cp.returncode, cp.stdout) == (0, ref_redact(dirty, [b"secret"], b"*"))
    cp = cli("--redact", "-i", "-e", "SeCrEt", path, KMPSEARCH_CLI_CHUNK=chunk)  # -i: ASCII letters either case
    assert (cp.returncode, cp.stdout) == (0, ref_redact(dirty, [b"secret"], b"*"))


def test_cli_redact_errors(tmp_path):
    path = tmp_path / "in"
    path.write_bytes(b"a secret")
    for args, message in ((("--redact=##", "x", path), b"MASK must be one byte"),
                          (("--redact", "x", path, path), b"one input only"),
                          (("--redact", "-c", "x", path), b"not allowed with -c"),
                          (("--redact", "-r", "x", path), b"not allowed with -r"),
                          (("--redact", "--dask", "local", "x", path), b"not allowed with --dask")):
        cp = cli(*args)
        assert cp.returncode == 2 and message in cp.stderr and cp.stdout == b"", args
    cp = cli("--redact", "x", tmp_path / "missing")
    assert cp.returncode == 2 and b"No such file" in cp.stderr
    cp = cli("--redact", "x", tmp_path)
    assert cp.returncode == 2 and b"Is a directory" in cp.stderr
    # redirected onto the input: refused, the input left as it was
    with open(path, "ab") as out:
        cp = subprocess.run([sys.executable, "-m", "kmpsearch", "--redact", "secret", str(path)], stdout=out,
                            stderr=subprocess.PIPE, env=dict(os.environ, PYTHONPATH=PKG_ROOT), timeout=60)
    assert cp.returncode == 2 and b"input file is also the output" in cp.stderr
    assert path.read_bytes() == b"a secret"
    # a mask given as the next word is a pattern, not a mask
    cp = cli("--redact", "secret", path)
    assert (cp.returncode, cp.stdout) == (0, b"a ******")
