"""Masking: ``redact`` and ``redact_stream`` (every byte or character a match covers replaced
by one mask character, the length kept).

``mask_windows(searcher, windows, destination, fill)`` is the interface the command uses
too: the windows of ``kmpsearch._streams.windows`` (want the searcher's ``_mask_want``:
``"pairs"`` when a match's length is its word's -- a word set, or a Pattern searched as
several spellings, ``_varied`` -- else ``"offsets"``) masked into a writable binary file
object.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from ._args import encode_text
from ._windows import write_all

__all__ = ["mask_found", "mask_windows", "replacer", "replace_found", "replace_windows"]


def _lengths(searcher, text: bool):
    """Length of each word in what the offsets count: code points for str, else bytes (a
    list indexed by the core's word index where matches vary in length, ``_varied``; else
    an int, the length of every match)."""
    if searcher._varied:
        if not text:
            return searcher._lengths
        group = searcher._group
        chars = [len(w) for w in searcher._words]  # a spelling has its word's length in characters
        return chars if group is None else [chars[g] for g in group]
    return len(searcher._needle) if text else searcher._longest


def _covered(pairs: bool, found, lengths, start: int = -1, end: int = -1) -> Iterator[tuple[int, int]]:
    """The union of the spans ``[offset, offset + length)`` of the matches ``found``
    (ascending offsets for a Pattern; ``(offset, word index)`` pairs for a word set) and
    of ``[start, end)`` (which starts before them all), as disjoint ascending
    ``(start, end)`` pairs: overlapping and adjacent spans merged."""
    if pairs:
        for off, i in found:
            stop = off + lengths[i]
            if off <= end:
                if stop > end:
                    end = stop
                continue
            if end > start:
                yield start, end
            start, end = off, stop
    else:
        m = lengths
        for off in found:
            if off <= end:
                end = off + m
                continue
            if end > start:
                yield start, end
            start, end = off, off + m
    if end > start:
        yield start, end


def _runs(lengths, fill):
    """The fill run of each length (a list of lengths, or one)."""
    return [fill * n for n in lengths] if isinstance(lengths, list) else fill * lengths


def _dense(matches: int, size: int) -> bool:
    """Whether masking ``matches`` matches in ``size`` bytes is cheaper in a mutable copy
    (two copies of the bytes, one assignment a match) than joining the pieces (one copy,
    two objects a span): break-even near a match per kilobyte (docs/tuning.md)."""
    return matches > size >> 10


def _joined(data, base: int, limit: int, spans: Iterable[tuple[int, int]], fill):
    """``(masked, end)``: ``data[:limit]`` (a str, or a byte view whose first item is at
    offset ``base``) with the parts covered by ``spans`` (absolute, ascending, disjoint,
    none before ``base``; clipped to ``limit``) replaced by ``fill`` repeated, joined: one
    copy; ``end`` where the last span ends (-1: none)."""
    runs: dict[int, Any] = {}
    end = -1
    pieces = []
    prev = 0
    for a, end in spans:
        b = min(end - base, limit)
        a -= base
        if b <= a:
            continue
        pieces.append(data[prev:a])
        run = runs.get(b - a)
        if run is None:
            run = runs[b - a] = fill * (b - a)
        pieces.append(run)
        prev = b
    pieces.append(data[prev:limit])
    return ("" if isinstance(data, str) else b"").join(pieces), end


def _mask(searcher, data, base: int, stop: int, found, n: int, lengths, runs, fill, carry: int = -1):
    """``(masked, end)``: ``data[:stop - base]`` (a str, or a byte view of the input from
    offset ``base`` on) with every item covered by the ``n`` matches ``found`` (ascending
    offsets, or (offset, word index) pairs; absolute, none before ``base``) or by
    ``[base, carry)`` replaced by ``fill``; ``end``: where the coverage ends, past
    ``stop`` for a match that goes on in the next window. ``lengths`` and ``runs``: each
    word's length and fill run (an int and a run for one length, see ``_lengths``)."""
    pairs = searcher._varied
    limit = stop - base
    if isinstance(data, str) or not _dense(n, limit):
        spans = _covered(pairs, found, lengths, base, carry) if carry > base else _covered(pairs, found, lengths)
        return _joined(data, base, limit, spans, fill)
    # many matches: a mutable copy, masked match by match (overlaps masked twice: the same
    # bytes). A slice reaching past the end extends the copy to the match's end: so the
    # copy's length tells where the coverage ends, and the extension is cut off.
    out = bytearray(data[:limit])
    if carry > base:
        out[:carry - base] = fill * (carry - base)
    if pairs:
        for off, i in found:
            off -= base
            out[off:off + lengths[i]] = runs[i]
    elif lengths == 1:
        byte = fill[0]
        for off in found:
            out[off - base] = byte
    else:
        for off in found:
            off -= base
            out[off:off + lengths] = runs
    end = base + len(out)
    del out[limit:]
    return bytes(out), end


def mask_found(searcher, data, found, text: bool, fill):
    """``data`` (a str, or a byte view) masked where the matches ``found`` (the core
    contract's result of the searcher's ``_mask_want``; code point offsets for a str)
    cover it."""
    pairs = searcher._varied
    n = len(found[0]) if pairs else len(found)
    lengths = _lengths(searcher, text)
    matches = zip(*found) if pairs else found
    return _mask(searcher, data, 0, len(data), matches, n, lengths, _runs(lengths, fill), fill)[0]


def mask_windows(searcher, windows, destination, fill: bytes) -> int:
    """Write each window's own bytes to ``destination`` with every byte a match covers
    replaced by ``fill``; return the number of matches. A match may cover bytes of the
    next windows: ``carry`` is where the coverage so far ends."""
    pairs = searcher._varied
    count = 0
    carry = 0
    lengths = _lengths(searcher, False)
    runs = _runs(lengths, fill)
    for base, view, own, found in windows:
        n = len(found[0]) if pairs else len(found)
        count += n
        data, end = _mask(searcher, view, base, base + own, zip(*found) if pairs else found, n, lengths, runs,
                          fill, carry)
        carry = max(carry, end)
        write_all(destination, data)
    return count


# --------------------------------------------------------------------------- replacement

def replacer(replacement: object, words: tuple, text: bool):
    """``(word index, matched bytes) -> bytes`` for ``replace``'s ``replacement``: one
    ``str`` (for ``str`` text) or bytes-like (for bytes) for every word, a sequence of them
    with one per word, or a callable ``(word index, matched) -> str / bytes`` (``matched`` a
    ``str`` for ``str`` text). TypeError / ValueError now for what cannot be one."""
    kind = "str" if text else "bytes-like"

    def encoded(value: object, what: str) -> bytes:
        if text:
            if not isinstance(value, str):
                raise TypeError(f"{what} must be a str for str text, not {type(value).__name__}")
            return encode_text(value)
        if isinstance(value, str):
            raise TypeError(f"{what} must be bytes-like for bytes text, not str")
        try:
            with memoryview(value) as mv:  # type: ignore[arg-type]
                return mv.tobytes()
        except TypeError:
            raise TypeError(f"{what} must be {kind}, not {type(value).__name__}") from None

    if callable(replacement):
        def call(i: int, matched: bytes) -> bytes:
            got = replacement(i, matched.decode("utf-8", "surrogatepass") if text else matched)
            return encoded(got, "the replacement's result")
        return call
    if isinstance(replacement, (str, bytes, bytearray, memoryview)) or not hasattr(replacement, "__iter__"):
        one = encoded(replacement, "replacement")
        return lambda i, matched: one
    each = [encoded(r, "each replacement") for r in replacement]
    if len(each) != len(words):
        raise ValueError(f"replacement holds {len(each)} replacements for {len(words)} words: give one per word")
    return lambda i, matched: each[i]


def replace_found(data, found, lengths, replace) -> bytes:
    """``data`` (bytes-like) with each match of ``found`` (``(offsets, word indices)``,
    ascending, not overlapping) replaced by ``replace(word, matched)``."""
    pieces = []
    prev = 0
    for off, i in zip(*found):
        end = off + lengths[i]
        pieces.append(data[prev:off])
        pieces.append(replace(i, bytes(data[off:end])))
        prev = end
    pieces.append(data[prev:])
    return b"".join(pieces)


def replace_windows(searcher, windows, destination, replace) -> int:
    """Write each window's own bytes to ``destination`` with each chosen match (``"pairs"``,
    not overlapping) replaced; a match may go on past the window: ``skip`` is where the
    bytes still to write start. Returns the number replaced."""
    lengths = searcher._lengths
    count = 0
    skip = 0
    for base, view, own, found in windows:
        pieces = []
        prev = max(skip, base) - base
        for off, i in zip(*found):
            off -= base
            end = off + lengths[i]
            pieces.append(view[prev:off])
            pieces.append(replace(i, bytes(view[off:end])))
            prev = end
            count += 1
        if prev < own:
            pieces.append(view[prev:own])
        skip = max(skip, base + prev)
        write_all(destination, b"".join(pieces))
    return count