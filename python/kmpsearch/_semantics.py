"""What counts as a match beyond "the bytes are equal": whole words.

A match is a whole word (``grep -w``'s rule, not regex ``\\b``) when the character before it
and the character after it are not word characters. Word characters are Unicode ``\\w`` as
Python's ``re`` has it for ``str`` (letters, digits -- anything ``str.isalnum`` says --
and ``_``); text is read as UTF-8 around the match, and a byte that is not part of valid
UTF-8 is not a word character, so ``str`` and its UTF-8 bytes agree.
"""

from __future__ import annotations

from ._contract import FileBatch, FileRange
from ._results import from_pairs

__all__ = ["KINDS", "Chooser", "choose", "is_word_char", "whole_word"]

#: ASCII word characters, by byte (the common case needs no decoding)
_ASCII_WORD = bytes(1 if (chr(b).isalnum() or b == 0x5F) else 0 for b in range(128))


def is_word_char(cp: int) -> bool:
    """Whether code point ``cp`` is a word character (``re``'s ``\\w``)."""
    if cp < 128:
        return bool(_ASCII_WORD[cp])
    ch = chr(cp)
    return ch.isalnum() or ch == "_"


def _before(data, pos: int) -> bool:
    """Whether the character that ends at ``pos`` (exclusive) is a word character."""
    if pos <= 0:
        return False
    b = data[pos - 1]
    if b < 0x80:
        return bool(_ASCII_WORD[b])
    start = pos - 1  # back over continuation bytes to the lead byte (at most 3 of them)
    while start > 0 and pos - start < 4 and 0x80 <= data[start] < 0xC0:
        start -= 1
    try:
        text = bytes(data[start:pos]).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return len(text) == 1 and is_word_char(ord(text))


def _after(data, pos: int) -> bool:
    """Whether the character that starts at ``pos`` is a word character."""
    if pos >= len(data):
        return False
    b = data[pos]
    if b < 0x80:
        return bool(_ASCII_WORD[b])
    size = 2 if 0xC2 <= b < 0xE0 else 3 if 0xE0 <= b < 0xF0 else 4 if 0xF0 <= b < 0xF5 else 0
    if not size:
        return False
    try:
        text = bytes(data[pos:pos + size]).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return is_word_char(ord(text))


def whole_word(data, start: int, end: int) -> bool:
    """Whether ``data[start:end]`` (bytes-like, UTF-8) is a whole word of ``data``."""
    return not _before(data, start) and not _after(data, end)


#: the match kinds (the aho-corasick crate's MatchKind): every occurrence, or non-overlapping
#: matches chosen leftmost, then the longest word / the word listed first
KINDS = ("overlapping", "leftmost-longest", "leftmost-first")


def _word_before(before: bytes) -> bool:
    """Whether the character that ends ``before`` (its last 1-4 bytes) is a word character."""
    return _before(before, len(before))


def _word_after(after: bytes) -> bool:
    return _after(after, 0)


class Chooser:
    """The matches a search keeps of the core's candidates (every occurrence of every word,
    sorted by offset then word index): whole words first, then the match kind's choice.

    ``keep`` is called for consecutive pieces of one input (the whole of it, or windows):
    ``data`` the piece's bytes from offset ``base``, holding every candidate and the 4 bytes
    after it where the input goes on; ``before`` the (up to 4) bytes before ``data``. The
    end of the last chosen match carries from piece to piece, so a choice never depends on
    where pieces start."""

    __slots__ = ("lengths", "whole", "kind", "end")

    def __init__(self, lengths, whole: bool, kind: str) -> None:
        self.lengths = lengths
        self.whole = whole
        self.kind = kind
        self.end = -1

    def keep(self, data, base: int, offsets, words, before: bytes = b""):
        """``(offsets array('q'), word indices array('i'))`` kept, in order."""
        from array import array

        lengths, whole, kind = self.lengths, self.whole, self.kind
        out_o, out_w = array("q"), array("i")
        n = len(offsets)
        i = 0
        while i < n:
            off = offsets[i]
            best = -1
            while i < n and offsets[i] == off:  # the candidates that start here
                w = words[i]
                i += 1
                if whole:
                    s = off - base
                    e = s + lengths[w]
                    prev = bytes(data[s - 4:s]) if s >= 4 else (before + bytes(data[:s]))[-4:]
                    if _word_before(prev) or _word_after(bytes(data[e:e + 4])):
                        continue
                if kind == "overlapping":
                    out_o.append(off)
                    out_w.append(w)
                elif best < 0 or (kind == "leftmost-longest" and lengths[w] > lengths[best]):
                    best = w  # leftmost-first: the first kept here (lowest index)
            if best >= 0 and off >= self.end:
                out_o.append(off)
                out_w.append(best)
                self.end = off + lengths[best]
        return out_o, out_w


def choose(search, source, want: str, opts, lengths):
    """The core contract's search with match semantics (``options.whole``, ``options.kind``)
    for a core that chooses in Python: the candidates of ``search(source, "pairs", ...)``
    (every occurrence), kept by a ``Chooser``; ``lengths`` the words' lengths in bytes."""
    if opts.kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {opts.kind!r}")
    if isinstance(source, (FileRange, FileBatch)):
        raise ValueError("whole words and match kinds are chosen in memory only (not a FileRange or FileBatch)")
    found = search(source, "pairs", opts._replace(whole=False, kind="overlapping"))
    return from_pairs(Chooser(lengths, opts.whole, opts.kind).keep(source, 0, *found), want, len(lengths))
