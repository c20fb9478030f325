"""Word sets for SCENARIO=words, and an independent count of their occurrences.

``make_words(n, source)`` gives ``n`` distinct words of 4 to 12 letters and digits: the
even-numbered ones cut from ``source`` (the first bytes of the corpus, so they occur),
the odd-numbered ones random. One random stream with a fixed seed draws them in order,
so ``make_words(k, s)`` is exactly ``make_words(n, s)[:k]`` for ``k <= n``: the N = 10
set is the first ten words of the N = 100,000 one.

``make_words(n, source, whole=True)``: the same, but each cut word is a whole word of
``source`` (a run of letters and digits with no letter, digit or ``_`` on either side).
``semantics_words(n, source)``, the words of the match-semantics rows: those whole words
(``whole_words`` needs word boundaries; a window of a random corpus rarely has them), each
followed by a prefix of itself (leftmost-longest then has a choice to make wherever the
longer word occurs).

``reference_count(buf, words)`` counts every occurrence of every word in ``buf``,
overlapping ones included, without any string-search library: a numpy filter on the
first four bytes at every offset (a bit table of the words' first four bytes), then an
exact comparison of each candidate offset with the words that start with those bytes. It is what the
benchmark checks every row against.
"""

from __future__ import annotations

import random
import re
import string
from collections import defaultdict
from pathlib import Path
from typing import Iterable

WORD_ALPHABET = (string.ascii_letters + string.digits).encode("ascii")
MIN_LEN, MAX_LEN = 4, 12
#: the word sets' fixed seed (issue #13)
WORDS_SEED = 13
#: cut words come from the first bytes of the corpus (the same words for every SIZE >= this)
CUT_FROM = 16 << 20
#: a run of ASCII word bytes (letters, digits, ``_``), from its start
_WORD_RUN = re.compile(rb"(?<![0-9A-Za-z_])[0-9A-Za-z_]+")
#: the N values of SCENARIO=words
DEFAULT_COUNTS = (10, 1_000, 10_000, 100_000)


def parse_counts(text: str | None) -> list[int]:
    """``"10,1000"`` or ``"10,1k,100k"`` -> ``[10, 1000]``; ``None`` or empty -> the default."""
    if not text or not text.strip():
        return list(DEFAULT_COUNTS)
    out: list[int] = []
    for item in text.replace(" ", "").split(","):
        if not item:
            continue
        scale = 1
        if item[-1] in "kK":
            item, scale = item[:-1], 1000
        try:
            n = int(item) * scale
        except ValueError:
            raise ValueError(f"WORDS: cannot read {item!r}: use e.g. 10,1000,10k,100k") from None
        if n < 1:
            raise ValueError(f"WORDS: every N must be >= 1, got {n}")
        if n not in out:
            out.append(n)
    if not out:
        raise ValueError("WORDS: no N given")
    return sorted(out)


def make_words(n: int, source: bytes | memoryview, seed: int = WORDS_SEED, whole: bool = False) -> list[bytes]:
    """``n`` distinct words, 4-12 bytes of ASCII letters and digits (see the module doc).

    ``source`` is where the cut words come from (only its first CUT_FROM bytes are used);
    a word whose length has no all-alphanumeric window there (``whole``: no whole word of
    that length) is random instead.
    """
    src = bytes(memoryview(source)[:CUT_FROM])
    rng = random.Random(seed)
    seen: set[bytes] = set()
    out: list[bytes] = []
    alphabet = WORD_ALPHABET
    no_window: set[int] = set()  # lengths the source has no all-alphanumeric window of
    while len(out) < n:
        length = rng.randint(MIN_LEN, MAX_LEN)
        word = b""
        if len(out) % 2 == 0 and len(src) >= length and length not in no_window:
            # a window of the corpus made only of letters and digits (same length until found);
            # whole: the first run of word bytes from a random offset on
            for _ in range(10_000):
                at = rng.randrange(len(src) - length + 1)
                if whole:
                    run = _WORD_RUN.search(src, at)
                    if run is not None and len(run.group()) == length and run.group().isalnum():
                        word = run.group()
                        break
                elif src[at:at + length].isalnum():
                    word = src[at:at + length]
                    break
            else:
                no_window.add(length)
        if not word:
            word = bytes(rng.choice(alphabet) for _ in range(length))
        if word in seen:
            continue
        seen.add(word)
        out.append(word)
    return out


def semantics_words(n: int, source: bytes | memoryview, seed: int = WORDS_SEED) -> list[bytes]:
    """``n`` distinct words: ``make_words(n, source, seed, whole=True)`` with each odd-numbered
    word replaced by a prefix of the word before it (at least MIN_LEN bytes, shorter than it;
    the random word when that word has MIN_LEN bytes or the prefix is already there).
    ``semantics_words(k, s)`` is ``semantics_words(n, s)[:k]`` for ``k <= n``."""
    base = make_words(n, source, seed, whole=True)
    rng = random.Random(seed + 1)
    seen: set[bytes] = set()
    out: list[bytes] = []
    for i, word in enumerate(base):
        before = base[i - 1] if i % 2 else b""
        if len(before) > MIN_LEN:
            prefix = before[:rng.randint(MIN_LEN, len(before) - 1)]
            word = prefix if prefix not in seen else word
        while word in seen:  # (a random word equal to an earlier prefix: another random one)
            word = bytes(rng.choice(WORD_ALPHABET) for _ in range(rng.randint(MIN_LEN, MAX_LEN)))
        seen.add(word)
        out.append(word)
    return out


def write_words(words: Iterable[bytes], path: Path) -> Path:
    """One word a line (the ``-f`` file of grep, rg and ``kmpsearch``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = b"".join(w + b"\n" for w in words)
    if not path.exists() or path.read_bytes() != data:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path


def naive_count(buf: bytes | memoryview, words: Iterable[bytes]) -> int:
    """Sum over the words of an overlapping ``bytes.find`` loop (slow: for tests and tiny inputs)."""
    data = bytes(buf)
    total = 0
    for w in set(words):
        i = data.find(w)
        while i >= 0:
            total += 1
            i = data.find(w, i + 1)
    return total


#: the first-four-bytes filter's table: about 128 entries a word (fewer than 1% false
#: candidates), 2**16 to 2**23 entries (small tables stay in cache: the gather is the cost)
_TABLE_MIN_BITS, _TABLE_MAX_BITS = 16, 23
_MUL = 2654435761  # Knuth's multiplicative hash


def reference_count(buf, words: Iterable[bytes], block: int = 4 << 20) -> int:
    """Every occurrence of every word in ``buf`` (bytes-like), overlaps included.

    Words shorter than 4 bytes are counted with a plain find loop. Memory: a few times
    ``block`` at a time.
    """
    return _reference(buf, words, block, None)


def reference_offsets(buf, words: Iterable[bytes], block: int = 4 << 20) -> list[int]:
    """The start offset of every occurrence of every word in ``buf``, overlaps included (an
    offset repeated when several words start there; not sorted): ``reference_count``'s
    occurrences, each one's offset."""
    offsets: list[int] = []
    _reference(buf, words, block, offsets)
    return offsets


def reference_matches(buf, words: Iterable[bytes], block: int = 4 << 20,
                      ignore_case: bool = False) -> list[tuple[int, int]]:
    """Every occurrence of every word in ``buf`` as ``(offset, length)``, sorted, overlaps
    included (``reference_count``'s occurrences). ``ignore_case``: ASCII letters compare
    folded (the words and the text lowered block by block; words equal once lowered count
    once)."""
    found: list = []
    _reference(buf, words, block, found, pairs=True, fold=ignore_case)
    found.sort()
    return found


def _reference(buf, words: Iterable[bytes], block: int, offsets: list | None, pairs: bool = False,
               fold: bool = False) -> int:
    """The count; ``offsets``: each occurrence's offset appended (``pairs``: ``(offset,
    length)``); ``fold``: ASCII letters compared lowered."""
    import numpy as np

    words = {w.lower() for w in words} if fold else set(words)
    short = [w for w in words if len(w) < 4]
    by_len: dict[int, set[bytes]] = defaultdict(set)
    for w in words:
        if len(w) >= 4:
            by_len[len(w)].add(w)
    view = memoryview(buf).cast("B") if not isinstance(buf, (bytes, bytearray)) else memoryview(buf)
    n = len(view)
    if offsets is None:
        total = naive_count(bytes(view).lower() if fold else view, short) if short else 0
    else:
        total = 0
        data = bytes(view) if short else b""
        if fold:
            data = data.lower()
        for w in short:
            i = data.find(w)
            while i >= 0:
                offsets.append((i, len(w)) if pairs else i)
                total += 1
                i = data.find(w, i + 1)
        del data
    if not by_len or n < 4:
        return total
    longest = max(by_len)
    by_first: dict[bytes, tuple[bytes, ...]] = {}  # first four bytes -> the words that start so
    for ws in by_len.values():
        for w in ws:
            by_first[w[:4]] = by_first.get(w[:4], ()) + (w,)
    firsts = np.unique(np.frombuffer(b"".join(w[:4] for ws in by_len.values() for w in ws), dtype="<u4"))
    bits = max(_TABLE_MIN_BITS, min(_TABLE_MAX_BITS, (len(firsts) * 128).bit_length()))
    shift = np.uint32(32 - bits)
    mul = np.uint32(_MUL)
    table = np.zeros(1 << bits, dtype=bool)
    table[(firsts * mul) >> shift] = True
    # the key buffers are made once: fresh large arrays cost a page fault per page
    keys = np.empty(min(block, n), dtype=np.uint32)
    tmp = np.empty_like(keys)
    start = 0
    while start < n - 3:
        stop = min(n - 3, start + block)  # the offsets [start, stop) are checked here
        m = stop - start
        data = bytes(view[start:min(n, stop + max(longest, 4) - 1)])
        if fold:
            data = data.lower()
        a = np.frombuffer(data, dtype=np.uint8)
        k, t = keys[:m], tmp[:m]
        # k = the little-endian uint32 of the four bytes at each offset, then its hash
        np.copyto(k, a[:m], casting="unsafe")
        for j in (1, 2, 3):
            np.copyto(t, a[j:m + j], casting="unsafe")
            np.left_shift(t, np.uint32(8 * j), out=t)
            np.bitwise_or(k, t, out=k)
        np.multiply(k, mul, out=k)
        np.right_shift(k, shift, out=k)
        get, startswith = by_first.get, data.startswith
        if offsets is None:
            for i in np.flatnonzero(table[k]).tolist():
                ws = get(data[i:i + 4])
                if ws:
                    total += sum(startswith(w, i) for w in ws)
        else:
            for i in np.flatnonzero(table[k]).tolist():
                ws = get(data[i:i + 4])
                if ws:
                    for w in ws:
                        if startswith(w, i):
                            offsets.append((start + i, len(w)) if pairs else start + i)
                            total += 1
        start = stop
    return total


#: ASCII word characters (letters, digits, ``_``): ``grep -w``'s and kmpsearch's word
#: characters for ASCII text (the benchmark's corpus is ASCII)
WORD_BYTES = frozenset((string.ascii_letters + string.digits + "_").encode("ascii"))


def is_word_byte(data, i: int) -> bool:
    """Whether byte ``i`` of ``data`` is an ASCII word character; outside ``data``: False
    (an edge is a boundary)."""
    return 0 <= i < len(data) and data[i] in WORD_BYTES


def whole_matches(data, matches: Iterable[tuple[int, int]], end: int | None = None) -> list[tuple[int, int]]:
    """The ``(offset, length)`` matches of ``data[:end]`` that are whole words: no word byte
    just before or just after (ASCII text; the end of ``data[:end]`` is a boundary)."""
    end = len(data) if end is None else end
    return [(o, n) for o, n in matches if o + n <= end and not is_word_byte(data, o - 1)
            and (o + n == end or not is_word_byte(data, o + n))]


def leftmost_longest(matches: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Non-overlapping matches chosen leftmost-longest (the aho-corasick crate's
    ``MatchKind::LeftmostLongest``) from every ``(offset, length)`` occurrence: the longest
    of those that start first, then the same after its end."""
    out: list[tuple[int, int]] = []
    end = 0
    for o, n in sorted(matches, key=lambda m: (m[0], -m[1])):
        if o >= end:
            out.append((o, n))
            end = o + n
    return out


def is_replaced(out: bytes, data, matches: Iterable[tuple[int, int]], replacement: bytes) -> bool:
    """Whether ``out`` is ``data`` with each of the non-overlapping ``(offset, length)``
    ``matches`` replaced by ``replacement`` (compared piece by piece: no copy of ``data``)."""
    view = memoryview(data).cast("B") if not isinstance(data, (bytes, bytearray)) else memoryview(data)
    matches = sorted(matches)
    if len(out) != len(view) + sum(len(replacement) - n for _, n in matches):
        return False
    at = pos = 0
    for o, n in matches:
        if not (out.startswith(view[at:o], pos) and out.startswith(replacement, pos + o - at)):
            return False
        pos += o - at + len(replacement)
        at = o + n
    return out.startswith(view[at:], pos)
