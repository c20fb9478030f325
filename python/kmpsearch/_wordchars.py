"""The word characters of ``whole_words``: ``TABLE[cp] == 1`` when code point ``cp`` is a
word character (Unicode ``\\w`` as Python's ``re`` has it for ``str``: what ``str.isalnum``
says, and ``_``), else 0; ``bytes`` of length 0x110000.

One table, built when this module is first imported (milliseconds) and never changed; the
Python layer hands the same object to every core (``Options.word_chars``).
"""

from __future__ import annotations

import re

__all__ = ["TABLE"]


def _build() -> bytes:
    from ._casefold import every_char

    table = bytearray(0x110000)
    for run in re.finditer(r"\w+", every_char()):
        table[run.start():run.end()] = b"\x01" * (run.end() - run.start())
    return bytes(table)


TABLE = _build()
