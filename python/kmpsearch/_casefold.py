"""Unicode case for ``WordSet(words, ignore_case="unicode")``: simple case folding.

Two characters are equal ignoring case when their simple case foldings (Unicode's
CaseFolding.txt, statuses C and S: one code point to one) are the same code point: ``K``,
``k`` and ``K`` (KELVIN SIGN); ``s``, ``S`` and ``ſ``; ``ß`` and ``ẞ``; ``σ``, ``ς``
and ``Σ``. The folding is Python's own Unicode data: ``str.casefold`` where it maps a
character to one character (status C), else ``str.lower`` where that is one character
(status S: ``ẞ`` to ``ß``), else the character itself (``İ``, ``ŉ``: no simple folding).

The cores compare bytes, so a word is searched as its *case variants*: the byte strings of
every spelling that folds to the same as the word, ASCII letters left to the cores' ASCII
case folding (``ignore_case=True``). A UTF-8 match is a run of whole characters, so the
variants find exactly the text that folds as the word does, at its own offsets and with its
own length in bytes (``K`` is 3 bytes, ``k`` one). Most words have one variant; each ``k``,
``s`` or non-ASCII cased letter multiplies their number by its class's size (2 to 4), so a
word has at most ``MAX_VARIANTS`` of them.

The table is built when this module is first imported (tens of milliseconds); it is never
changed afterwards.
"""

from __future__ import annotations

__all__ = ["MAX_VARIANTS", "fold", "variants"]

#: case variants one word may have (a 12-letter Greek or Cyrillic word has 4,096)
MAX_VARIANTS = 4096


def _simple_fold(ch: str) -> str:
    full = ch.casefold()
    if len(full) == 1:
        return full
    low = ch.lower()
    return low if len(low) == 1 else ch


def every_char() -> str:
    """Every code point, in order, as one string (UTF-32 made plane by plane)."""
    plane = bytearray(4 << 16)
    plane[0::4] = bytes(range(256)) * 256
    plane[1::4] = b"".join(bytes([high]) * 256 for high in range(256))
    parts = []
    for number in range(17):
        plane[2::4] = bytes([number]) * (1 << 16)
        parts.append(plane.decode("utf-32-le", "surrogatepass"))
    return "".join(parts)


def _build() -> tuple[dict[int, int], dict[str, tuple[str, ...]]]:
    """``(fold, spellings)``: ``fold`` maps each code point whose folding is another one to
    it (a ``str.translate`` table); ``spellings`` maps a folded character to every character
    that folds to it, but with ASCII letters only as lowercase (the cores fold those)."""
    table: dict[int, int] = {}
    step = 1024
    everything = every_char()
    for block in range(0, 0x110000, step):
        chars = everything[block:block + step]
        if chars.casefold() == chars and chars.lower() == chars:
            continue  # nothing in this block changes under folding
        for ch in chars:
            f = _simple_fold(ch)
            if f != ch:
                table[ord(ch)] = ord(f)
    classes: dict[str, set[str]] = {}
    for cp, f in table.items():
        classes.setdefault(chr(f), {chr(f)}).add(chr(cp).lower() if cp < 128 else chr(cp))
    spellings = {f: tuple(sorted(members)) for f, members in classes.items() if len(members) > 1}
    return table, spellings


_FOLD, _SPELLINGS = _build()


def fold(text: str) -> str:
    """``text`` with every character replaced by its simple case folding (the length kept)."""
    return text.translate(_FOLD)


def variants(word: str) -> list[str]:
    """Every spelling of ``word`` that folds as it does, up to ASCII letter case, in a fixed
    order (the word's own first); ValueError when there are more than ``MAX_VARIANTS``."""
    folded = fold(word)
    choices = []
    total = 1
    for own, f in zip(word, folded):
        alts = _SPELLINGS.get(f)
        if alts is None:
            choices.append((own,))
            continue
        first = own.lower() if own.isascii() else own
        choices.append((first, *(a for a in alts if a != first)))
        total *= len(choices[-1])
        if total > MAX_VARIANTS:
            shown = word if len(word) <= 40 else word[:37] + "..."
            raise ValueError(f"ignore_case='unicode': the word {shown!r} has more than {MAX_VARIANTS} "
                             "spellings that differ in case (each cased non-ASCII letter, k and s multiply "
                             "them); search it in shorter pieces, or with ignore_case=True (ASCII letters only)")
    out = [""]
    for alts in choices:
        out = [head + a for head in out for a in alts]
    return out
