"""What counts as a match beyond "the bytes are equal": whole words.

A match is a whole word (``grep -w``'s rule, not regex ``\\b``) when the character before it
and the character after it are not word characters. Word characters are Unicode ``\\w`` as
Python's ``re`` has it for ``str`` (letters, digits -- anything ``str.isalnum`` says --
and ``_``); text is read as UTF-8 around the match, and a byte that is not part of valid
UTF-8 is not a word character, so ``str`` and its UTF-8 bytes agree.
"""

from __future__ import annotations

__all__ = ["is_word_char", "whole_word"]

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
