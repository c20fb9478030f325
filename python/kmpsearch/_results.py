"""Shaping results: the cores give arrays (``kmpsearch._contract``); the public functions
give lists, code point offsets for ``str``, or the arrays themselves (``as_array=True``).

Lists are made here and nowhere else, ``LIST_SLICE`` entries at a time: each slice is one
C loop (``list.extend`` of a memoryview slice, or of a ``zip`` of two), and between slices
the interpreter runs its signal handlers, so Ctrl-C stops even a list of a hundred million
offsets within a few milliseconds.
"""

from __future__ import annotations

from array import array

from ._windows import UTF8_CONTINUATION

__all__ = ["LIST_SLICE", "as_list", "char_offsets", "empty", "from_pairs", "merge", "pairs_list", "regroup",
           "to_chars"]

#: entries per slice when a result becomes a list: Ctrl-C is seen between slices (see docs/tuning.md)
LIST_SLICE = 1 << 20
#: the same for (offset, word index) tuples, each about five times the work of an int
PAIRS_SLICE = LIST_SLICE >> 2


def empty(want: str, nwords: int):
    """The result of a search that found nothing (of a core's kind: arrays)."""
    if want == "count":
        return 0
    if want == "each":
        return array("q", bytes(8 * nwords))
    if want == "offsets":
        return array("q")
    return array("q"), array("i")


def as_list(values: array) -> list[int]:
    """``values.tolist()``, a slice at a time."""
    if len(values) <= LIST_SLICE:
        return values.tolist()
    out: list[int] = []
    with memoryview(values) as view:
        for start in range(0, len(view), LIST_SLICE):
            out.extend(view[start:start + LIST_SLICE])
    return out


def pairs_list(offsets: array, words: array) -> list[tuple[int, int]]:
    """``list(zip(offsets, words))``, a slice at a time."""
    out: list[tuple[int, int]] = []
    with memoryview(offsets) as o, memoryview(words) as w:
        for start in range(0, len(o), PAIRS_SLICE):
            stop = start + PAIRS_SLICE
            out.extend(zip(o[start:stop], w[start:stop]))
    return out


def regroup(found, want: str, group: array, nwords: int):
    """A result over a word set's spellings (``WordSet(..., ignore_case="unicode")``) as one
    over its ``nwords`` words: ``group[i]`` is the word of spelling ``i``."""
    if want == "each":
        out = array("q", bytes(8 * nwords))
        for i, n in enumerate(found):
            out[group[i]] += n
        return out
    if want != "pairs":
        return found
    offsets, words = found
    out_w = array("i")
    lookup = group.__getitem__
    with memoryview(words) as w:
        for start in range(0, len(w), LIST_SLICE):
            out_w.extend(map(lookup, w[start:start + LIST_SLICE]))
    return offsets, out_w


def merge(parts: list, want: str, nwords: int):
    """One result from the results of consecutive pieces of an input (windows, blocks)."""
    if not parts:
        return empty(want, nwords)
    if want == "count":
        return sum(parts)
    if want == "each":
        total = array("q", parts[0])
        for part in parts[1:]:
            for i, n in enumerate(part):
                total[i] += n
        return total
    if want == "offsets":
        out = array("q")
        for part in parts:
            out.extend(part)
        return out
    offsets, words = array("q"), array("i")
    for o, w in parts:
        offsets.extend(o)
        words.extend(w)
    return offsets, words


def from_pairs(pairs, want: str, nwords: int):
    """The result of ``want`` from matches as ``(offsets, word indices)`` arrays (those a
    ``kmpsearch._semantics.Chooser`` kept)."""
    offsets, words = pairs
    if want == "count":
        return len(offsets)
    if want == "each":
        counts = array("q", bytes(8 * nwords))
        for w in words:
            counts[w] += 1
        return counts
    return offsets if want == "offsets" else pairs


def char_offsets(data: bytes, offsets) -> list[int]:
    """Ascending byte offsets into the UTF-8 ``data`` as code point offsets (what
    ``str.find`` gives: UTF-8 is self-synchronising, so a match starts on a character)."""
    view = memoryview(data)
    out = []
    prev_byte = prev_char = 0
    for off in offsets:
        prev_char += len(view[prev_byte:off].tobytes().translate(None, UTF8_CONTINUATION))
        prev_byte = off
        out.append(prev_char)
    return out


def to_chars(found, want: str, utf8: bytes | None):
    """A result with byte offsets into ``utf8`` (the encoded ``str``) as code point
    offsets; unchanged when ``utf8`` is None (ASCII text, or bytes)."""
    if utf8 is None or want in ("count", "each"):
        return found
    if want == "offsets":
        return array("q", char_offsets(utf8, found)) if len(found) else found
    offsets, words = found
    return (array("q", char_offsets(utf8, offsets)) if len(offsets) else offsets), words
