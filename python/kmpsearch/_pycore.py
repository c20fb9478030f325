"""The pure-Python cores: Knuth-Morris-Pratt for one word, Aho-Corasick for many.

Written to be read. ``KMP`` and ``AhoCorasick`` are the compiled forms (plain picklable
objects: the multiprocessing backend ships them to each worker once); ``scan_window`` runs one of them over one chunk's window, reading it in bounded
blocks through a ``read(offset, size)`` function and carrying the automaton's state from
block to block, so memory stays bounded and any word length works with any block size.
``run_chunks`` splits a search along the shared chunk plan (``kmpsearch._plan``) and
``PyCore`` is the core of the ``python`` and ``threads`` backends (``Compiled.search``:
the core contract of ``kmpsearch._contract``).

Two scans, as in the native cores:

* ``"textbook"``: the automaton reads every byte;
* ``"fast"``: while the automaton is in its start state (no partial match), jump to the
  next byte that can begin a match -- ``bytes.find`` of the needle's first byte for KMP, a
  compiled byte-class ``re`` search for Aho-Corasick (both run in C) -- then continue the
  automaton. The worst case stays linear: the scan never moves backwards.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import threading
from array import array
from collections import deque
from operator import itemgetter
from typing import Any, Callable

from ._calls import submit
from ._contract import BIG, STREAM, WANTS, FileBatch, FileRange, Options
from ._plan import plan_chunks, plan_word_chunks
from ._semantics import choose

__all__ = ["BLOCK", "KMP", "SCANS", "AhoCorasick", "PyCore", "check", "failure", "finish", "merge", "plan",
           "run_chunks", "scan_window", "search_batch", "source_of"]

#: the scans of the pure-Python cores
SCANS = ("textbook", "fast")

#: bytes read per step; a window is never copied whole
BLOCK = 1 << 20

#: ASCII letters folded to lower case, every other byte unchanged (``ignore_case``)
FOLD = bytes.maketrans(bytes(range(65, 91)), bytes(range(97, 123)))

Read = Callable[[int, int], bytes]


def empty(want: str, nwords: int = 1):
    """The accumulated result of a search that found nothing."""
    return 0 if want == "count" else [0] * nwords if want == "each" else []


def collects(want: str) -> bool:
    """Whether ``want`` keeps the matches themselves (not only counts)."""
    return want == "offsets" or want == "pairs"


# --------------------------------------------------------------------------- KMP

def failure(needle: bytes) -> list[int]:
    """``fail[i]``: length of the longest proper border of ``needle[:i + 1]``."""
    fail = [0] * len(needle)
    k = 0
    for i in range(1, len(needle)):
        c = needle[i]
        while k and needle[k] != c:
            k = fail[k - 1]
        if needle[k] == c:
            k += 1
        fail[i] = k
    return fail


def _kmp_textbook(block: bytes, base: int, needle: bytes, fail: list[int], k: int,
                  out: list[int] | None) -> tuple[int, int]:
    last = len(needle) - 1
    count = 0
    for i, c in enumerate(block):
        while k and needle[k] != c:
            k = fail[k - 1]
        if needle[k] == c:
            if k == last:
                count += 1
                if out is not None:
                    out.append(base + i - last)
                k = fail[last]
            else:
                k += 1
    return k, count


def _kmp_fast(block: bytes, base: int, needle: bytes, fail: list[int], k: int,
              out: list[int] | None) -> tuple[int, int]:
    last = len(needle) - 1
    first = needle[:1]
    find = block.find
    n = len(block)
    count = 0
    i = 0
    while i < n:
        if k == 0:
            i = find(first, i)
            if i < 0:
                break
        c = block[i]
        while k and needle[k] != c:
            k = fail[k - 1]
        if needle[k] == c:
            if k == last:
                count += 1
                if out is not None:
                    out.append(base + i - last)
                k = fail[last]
            else:
                k += 1
        i += 1
    return k, count


class KMP:
    """A compiled needle: its bytes and failure function."""

    words = 1

    def __init__(self, needle: bytes) -> None:
        self.needle = needle
        self.fail = failure(needle)
        self.longest = len(needle)
        self.lengths = [len(needle)]

    def plan(self, n: int, threads: int, min_chunk: int) -> list[tuple[int, int, int]]:
        m = self.longest
        return [(s, e, e - m + 1) for s, e in plan_chunks(n, m, threads, min_chunk)]

    def scan(self, block: bytes, base: int, state: int, own_end: int, fast: bool, want: str, acc) -> int:
        """Feed ``block`` (first byte at offset ``base``) from ``state``; record into ``acc``
        (a list of offsets, or a one-item list holding the count). A KMP window never holds
        a match starting at or after ``own_end``, so it needs no filter."""
        out = acc if collects(want) else None
        state, c = (_kmp_fast if fast else _kmp_textbook)(block, base, self.needle, self.fail, state, out)
        if out is None:
            acc[0] += c
        return state


# --------------------------------------------------------------------------- Aho-Corasick

class AhoCorasick:
    """Many words compiled into one automaton: the trie's goto function (a dict per state),
    BFS failure links, and for each state every word that ends there (its own and those
    reached through failure links), as ``(word index, length)``."""

    def __init__(self, words: list[bytes], ignore_case: bool) -> None:
        self.words = len(words)
        self.ignore_case = ignore_case
        keys = [w.lower() for w in words] if ignore_case else words  # bytes.lower: ASCII only
        self.longest = max(map(len, keys))
        self.lengths = [len(w) for w in words]
        goto: list[dict[int, int]] = [{}]
        own: list[list[tuple[int, int]]] = [[]]
        for index, word in enumerate(keys):
            s = 0
            for c in word:
                nxt = goto[s].get(c)
                if nxt is None:
                    nxt = len(goto)
                    goto.append({})
                    own.append([])
                    goto[s][c] = nxt
                s = nxt
            own[s].append((index, len(word)))
        fail = [0] * len(goto)
        out: list[tuple[tuple[int, int], ...]] = [()] * len(goto)
        queue = deque(goto[0].values())
        for s in queue:
            out[s] = tuple(own[s])
        while queue:
            r = queue.popleft()
            for c, s in goto[r].items():
                f = fail[r]
                while f and c not in goto[f]:
                    f = fail[f]
                fail[s] = goto[f].get(c, 0) if r else 0
                out[s] = tuple(own[s]) + out[fail[s]]
                queue.append(s)
        self.goto, self.fail, self.out = goto, fail, out
        # the fast scan's jump to the next byte that begins some word (the text is folded
        # first when ignore_case): a few bytes.find (memchr) when there are few such bytes,
        # else a byte-class regular expression (slower per byte, but then most bytes begin a word)
        firsts = sorted({k[0] for k in keys})
        self.firsts = [bytes([b]) for b in firsts] if len(firsts) <= 4 else None
        self.first = re.compile(b"[" + b"".join(re.escape(bytes([b])) for b in firsts) + b"]")

    def plan(self, n: int, threads: int, min_chunk: int) -> list[tuple[int, int, int]]:
        return plan_word_chunks(n, self.longest, threads, min_chunk)

    def scan(self, block: bytes, base: int, s: int, own_end: int, fast: bool, want: str, acc) -> int:
        """Feed ``block`` from state ``s``; record the matches that start before ``own_end``
        into ``acc`` (a list of ``(offset, index)``, a list of per-word counts, or a one-item
        list holding the total)."""
        goto, fail, out = self.goto, self.fail, self.out
        search = self.first.search
        if self.ignore_case:
            block = block.translate(FOLD)
        n = len(block)
        firsts = self.firsts if fast else None
        if firsts:
            find = block.find
            nexts = [find(b) for b in firsts]
            nexts = [n if p < 0 else p for p in nexts]
        i = 0
        total = 0
        collect = collects(want)
        while i < n:
            if fast and s == 0:
                if firsts:
                    for k, p in enumerate(nexts):
                        if p < i:
                            p = find(firsts[k], i)
                            nexts[k] = n if p < 0 else p
                    i = min(nexts)
                    if i >= n:
                        break
                else:
                    hit = search(block, i)
                    if hit is None:
                        break
                    i = hit.start()
            c = block[i]
            while True:
                nxt = goto[s].get(c)
                if nxt is not None:
                    s = nxt
                    break
                if s == 0:
                    break
                s = fail[s]
            found = out[s]
            if found:
                end = base + i + 1
                for index, length in found:
                    start = end - length
                    if start < own_end:
                        if collect:
                            acc.append((start, index))
                        elif want == "each":
                            acc[index] += 1
                        else:
                            total += 1
            i += 1
        if want == "count":
            acc[0] += total
        return s


# --------------------------------------------------------------------------- running

def scan_window(read: Read, compiled, start: int, end: int, own_end: int, fast: bool, want: str,
                block: int = BLOCK, stop: threading.Event | None = None, cancel=None):
    """Scan bytes ``[start, end)`` obtained through ``read(offset, size)``, keeping the matches
    that start before ``own_end``. A short read (a file that shrank) ends the scan with the
    matches found so far; ``stop`` (set when the caller gave up, e.g. on Ctrl-C) ends it at
    the next block; ``cancel`` (the call's flag, see ``kmpsearch._calls.run``) set raises
    KeyboardInterrupt at the next block."""
    if collects(want):  # KMP: offsets in an array('q'), 8 bytes each; Aho-Corasick: pairs to sort
        acc: Any = [] if isinstance(compiled, AhoCorasick) else array("q")
    else:
        acc = [0] * compiled.words if want == "each" else [0]
    state = 0
    pos = start
    while pos < end:
        if stop is not None and stop.is_set():
            break
        if cancel is not None and cancel[0]:
            raise KeyboardInterrupt("kmpsearch: the search was cancelled")
        data = read(pos, min(block, end - pos))
        if not data:
            break
        state = compiled.scan(data, pos, state, own_end, fast, want, acc)
        pos += len(data)
    if collects(want) and isinstance(compiled, AhoCorasick):
        acc.sort()  # found in order of their ends: (offset, word index)
    return acc[0] if want == "count" else acc


def merge(results: list, want: str):
    """Combine per-chunk results (chunk order is offset order)."""
    if want == "count":
        return sum(results)
    if want == "each":
        return [sum(col) for col in zip(*results)]
    if len(results) == 1:
        return results[0]
    out = array("q") if isinstance(results[0], array) else []
    for part in results:
        out.extend(part)
    return out


def finish(found, want: str, compiled):
    """An accumulated result as the core contract's: an int, or arrays."""
    if want == "count":
        return found
    if want == "each":
        return array("q", found)
    if isinstance(compiled, AhoCorasick):
        offsets = array("q", map(itemgetter(0), found))
        return (offsets, array("i", map(itemgetter(1), found))) if want == "pairs" else offsets
    offsets = found if isinstance(found, array) else array("q", found)
    return (offsets, array("i", bytes(4 * len(offsets)))) if want == "pairs" else offsets


def plan(compiled, n: int, base: int, threads: int, min_chunk: int) -> list[tuple[int, int, int]]:
    """The chunks of ``n`` bytes from offset ``base`` on: ``(start, end, own_end)``, absolute."""
    return [(s + base, e + base, o + base) for s, e, o in compiled.plan(n, threads, min_chunk)]


def run_chunks(read: Read, chunks, compiled, fast: bool, want: str, block: int,
               make_pool: Callable[[int], Any] | None = None, cancel=None):
    """Search the ``chunks`` (``plan``) of an input read through ``read``.

    With more than one chunk and a ``make_pool(k)`` (e.g. ``ThreadPoolExecutor``), the
    chunks run in that pool (a chunk whose thread cannot start: here); otherwise here, one
    after the other.
    """
    if not chunks:
        return empty(want, compiled.words)
    if len(chunks) == 1 or make_pool is None:
        return merge([scan_window(read, compiled, *chunk, fast, want, block, None, cancel) for chunk in chunks],
                     want)
    stop = threading.Event()
    pool = make_pool(len(chunks))
    try:
        tasks = [submit(pool, scan_window, read, compiled, *chunk, fast, want, block, stop, cancel)
                 for chunk in chunks]
        results = [t.result() for t in tasks]
    except BaseException:
        # Ctrl-C (or an error in one chunk): the other chunks stop at their next block
        # instead of running to their end, and no thread outlives the call
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return merge(results, want)


def read_view(buf: memoryview) -> Read:
    return lambda off, size: buf[off:off + size].tobytes()


def read_fd(fd: int) -> Read:
    return lambda off, size: os.pread(fd, size, off)


def check(want: str, opts: Options) -> bool:
    """``want`` and the options a pure-Python core understands; whether the scan is the fast
    one. KeyboardInterrupt when the call's cancel flag is set already."""
    if want not in WANTS:
        raise ValueError(f"want must be one of {', '.join(WANTS)}, got {want!r}")
    if opts.scan not in SCANS:
        raise ValueError(f"scan must be one of {', '.join(SCANS)}, got {opts.scan!r}")
    if opts.cancel is not None and opts.cancel[0]:
        raise KeyboardInterrupt("kmpsearch: the search was cancelled")
    return opts.scan == "fast"


#: how a batch's files are opened: read-only, not waiting for a FIFO's writer
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_NONBLOCK", 0)


def search_batch(batch: FileBatch, want: str, opts: Options, search_range, nwords: int):
    """A ``FileBatch`` searched file by file with ``search_range(FileRange, want, options)``
    (one thread each): ``(status, found)`` as the core contract says."""
    status = array("q")
    parts = []
    one = opts._replace(threads=1)
    for path in batch.paths:
        if opts.cancel is not None and opts.cancel[0]:
            raise KeyboardInterrupt("kmpsearch: the search was cancelled")
        try:
            fd = os.open(path, _OPEN_FLAGS)
        except OSError as exc:
            status.append(exc.errno or errno.EIO)
            continue
        try:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                status.append(errno.EISDIR)
            elif not stat.S_ISREG(st.st_mode) or st.st_size == 0:
                status.append(STREAM)
            elif st.st_size >= batch.max_size:
                status.append(BIG)
            else:
                got = search_range(FileRange(fd, 0, st.st_size), want, one)
                status.append(0)
                parts.append((len(status) - 1, got))
        except OSError as exc:
            status.append(exc.errno or errno.EIO)
        finally:
            os.close(fd)
    return status, _batch_found(len(status), parts, want, nwords)


def _batch_found(n: int, parts, want: str, nwords: int):
    """The ``found`` of a batch of ``n`` files from ``(index, result)`` of those searched."""
    if want == "count" or want == "each":
        found = array("q", bytes(8 * n * (nwords if want == "each" else 1)))
        for i, got in parts:
            if want == "count":
                found[i] = got
            else:
                found[i * nwords:(i + 1) * nwords] = got
        return found
    bounds = array("q", bytes(8 * (n + 1)))
    offsets, words = array("q"), array("i")
    at = 0
    for i, got in parts:
        bounds[at + 1:i + 1] = array("q", [len(offsets)]) * (i - at)  # files before: none
        if want == "pairs":
            offsets.extend(got[0])
            words.extend(got[1])
        else:
            offsets.extend(got)
        at = i
        bounds[i + 1] = len(offsets)
    bounds[at + 1:] = array("q", [len(offsets)]) * (n - at)
    return (bounds, offsets) if want == "offsets" else (bounds, offsets, words)


def source_of(source) -> tuple[Read, int, int]:
    """``(read, size, base)`` of a core contract source (memory, or a ``FileRange``)."""
    if isinstance(source, FileRange):
        if source.fd < 0:
            raise OSError(errno.EBADF, os.strerror(errno.EBADF))
        return read_fd(source.fd), source.size, source.start
    return read_view(source), len(source), 0


class Compiled:
    """A compiled pattern or word set of a pure-Python core (the core contract's object).

    Its scans run Python code (Ctrl-C reaches them), so ``kmpsearch._calls.run`` calls it
    directly (``interruptible``), and it looks at the cancel flag between blocks too."""

    __slots__ = ("algo", "make_pool")
    interruptible = True
    memory_bytes = 0  # not measured for the pure-Python cores

    def __init__(self, algo, make_pool: Callable[[int], Any] | None) -> None:
        self.algo = algo
        self.make_pool = make_pool

    def search(self, source, want: str, opts: Options):
        fast = check(want, opts)
        if opts.whole or opts.kind != "overlapping":
            return choose(self.search, source, want, opts, self.algo.lengths)
        if isinstance(source, FileBatch):
            return search_batch(source, want, opts, self.search, self.algo.words)
        read, n, base = source_of(source)
        pool = self.make_pool
        chunks = plan(self.algo, n, base, opts.threads if pool is not None else 1, opts.min_chunk)
        found = run_chunks(read, chunks, self.algo, fast, want, opts.block or BLOCK, pool, opts.cancel)
        return finish(found, want, self.algo)


class PyCore:
    """The core of the ``python`` (no pool: the calling thread) and ``threads`` backends."""

    def __init__(self, make_pool: Callable[[int], Any] | None = None) -> None:
        self.make_pool = make_pool

    def compile_pattern(self, needle: bytes) -> Compiled:
        return Compiled(KMP(needle), self.make_pool)

    def compile_words(self, words: list[bytes], ignore_case: bool) -> Compiled:
        return Compiled(AhoCorasick(words, ignore_case), self.make_pool)
