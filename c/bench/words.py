"""Word lists for the word-set benchmark (c/bench/bench_words.py, c/bench/wordbench.c).

N words of 4-12 bytes, fixed seed: the even-numbered ones cut from the corpus at random
places (so they occur), the others random letters and digits; distinct, as the Python
frontend passes them. ``python c/bench/words.py CORPUS N OUT`` writes them as
little-endian uint32 length + bytes, one after the other.
"""

from __future__ import annotations

import mmap
import random
import string
import struct
import sys

RANDOM_ALPHABET = (string.ascii_letters + string.digits).encode("ascii")


def make_words(corpus: bytes | mmap.mmap, n: int, seed: int = 20241125) -> list[bytes]:
    rng = random.Random(seed * 1_000_003 + n)
    size = len(corpus)
    seen: set[bytes] = set()
    words: list[bytes] = []
    i = 0
    while len(words) < n:
        length = rng.randint(4, 12)
        if i % 2 == 0:
            pos = rng.randrange(size - length)
            w = bytes(corpus[pos:pos + length])
        else:
            w = bytes(rng.choice(RANDOM_ALPHABET) for _ in range(length))
        i += 1
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


def write_words(words: list[bytes], path: str) -> None:
    with open(path, "wb") as f:
        for w in words:
            f.write(struct.pack("<I", len(w)))
            f.write(w)


def main(argv: list[str]) -> int:
    corpus_path, n, out = argv[1], int(argv[2]), argv[3]
    with open(corpus_path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        write_words(make_words(mm, n), out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
