"""Benchmark corpora: generated once, deterministically, reused when present.

The main corpus is ``size`` bytes drawn uniformly (numpy's unbiased bounded integers)
from Python's ``string.ascii_letters + string.digits + string.whitespace`` -- the
talk's alphabet, 68 characters -- with a fixed seed. It is generated in fixed-size
blocks from one random stream and the last block is cut, so a corpus of ``k`` bytes is
exactly the first ``k`` bytes of any larger corpus with the same seed: a prefix file is
the prefix of the big one.

Files go to ``bench/corpus/<size>-<seed>.txt`` (git-ignored). They are written under a
temporary name and renamed at the end, so an interrupted run never leaves half a corpus
under the final name. Byte 0xff never occurs in a corpus: the benchmark's floor row
(``mm.find(b"\\xff")``) relies on that.

Run as a script to generate one: ``python bench/corpus.py 64MiB``.
"""

from __future__ import annotations

import itertools
import os
import re
import string
import sys
from pathlib import Path
from typing import Callable

ALPHABET = (string.ascii_letters + string.digits + string.whitespace).encode("ascii")
DEFAULT_SEED = 20240917
#: bytes drawn per step; fixed, so that prefixes of corpora agree (see module doc)
BLOCK = 16 << 20
CORPUS_DIR = Path(__file__).resolve().parent / "corpus"

_UNITS = {
    "": 1, "b": 1,
    "k": 1 << 10, "kib": 1 << 10, "kb": 10**3,
    "m": 1 << 20, "mib": 1 << 20, "mb": 10**6,
    "g": 1 << 30, "gib": 1 << 30, "gb": 10**9,
    "t": 1 << 40, "tib": 1 << 40, "tb": 10**12,
}

Progress = Callable[[int, int], None]  # (bytes done, bytes total)


def parse_size(text: str | int) -> int:
    """``"64MiB"`` -> 67108864; ``"1GiB"``, ``"1G"`` (binary), ``"1GB"`` (decimal), ``"1000000"``."""
    if isinstance(text, int):
        n = text
    else:
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(text))
        unit = m.group(2).lower() if m else None
        if m is None or unit not in _UNITS:
            raise ValueError(f"cannot read size {text!r}: use e.g. 64MiB, 1GiB, 500MB or 1000000")
        n = int(float(m.group(1)) * _UNITS[unit])
    if n < 1:
        raise ValueError(f"size must be at least 1 byte, got {text!r}")
    return n


def human_size(n: int) -> str:
    """67108864 -> ``"64MiB"``; sizes that are not whole KiB/MiB/GiB stay in bytes."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale}{unit}"
    return str(n)


def _write_atomically(path: Path, size: int, fill: Callable[[object, Progress | None], None],
                      progress: Progress | None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            fill(f, progress)
            f.flush()
            os.fsync(f.fileno())
        if tmp.stat().st_size != size:  # pragma: no cover - a bug, not a condition
            raise RuntimeError(f"wrote {tmp.stat().st_size} bytes to {tmp}, expected {size}")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def corpus_path(size: int, seed: int = DEFAULT_SEED, directory: Path = CORPUS_DIR) -> Path:
    return directory / f"{human_size(size)}-{seed}.txt"


def ensure_corpus(size: int, seed: int = DEFAULT_SEED, directory: Path = CORPUS_DIR,
                  progress: Progress | None = None) -> Path:
    """Return the path of the random corpus of ``size`` bytes, generating it if absent."""
    path = corpus_path(size, seed, directory)
    if path.exists() and path.stat().st_size == size:
        return path

    import numpy as np

    alphabet = np.frombuffer(ALPHABET, dtype=np.uint8)

    def fill(f, progress):
        rng = np.random.Generator(np.random.PCG64(seed))
        done = 0
        while done < size:
            idx = rng.integers(0, len(alphabet), size=BLOCK, dtype=np.uint8)  # always a whole block
            chunk = alphabet[idx]
            take = min(BLOCK, size - done)
            f.write(memoryview(chunk)[:take])
            done += take
            if progress:
                progress(done, size)

    return _write_atomically(path, size, fill, progress)


def repeated_name(unit: bytes) -> str:
    """The file name part of ``unit`` repeated: ``b"a"`` -> ``a``, ``b"a" * 998 + b"b"`` ->
    ``a998b`` (runs of ASCII letters), anything else ``x`` + hex."""
    if unit.isascii() and unit.isalpha():
        runs = [(chr(byte), len(list(run))) for byte, run in itertools.groupby(unit)]
        return "".join(c + (str(n) if n > 1 else "") for c, n in runs)
    return f"x{unit.hex()}"


def ensure_repeated(size: int, unit: bytes = b"a", directory: Path = CORPUS_DIR,
                    progress: Progress | None = None) -> Path:
    """A file of ``unit`` repeated, cut at ``size`` bytes (the adversarial scenario's haystacks:
    ``b"a"``, and ``b"a" * 998 + b"b"`` where every ``b`` is a near miss of ``a``×999 + ``b``)."""
    path = directory / f"{human_size(size)}-{repeated_name(unit)}.txt"
    if path.exists() and path.stat().st_size == size:
        return path

    def fill(f, progress):
        block = unit * max(1, min(BLOCK, size) // len(unit))  # whole units: the period runs on
        done = 0
        while done < size:
            take = min(len(block), size - done)
            f.write(block[:take] if take < len(block) else block)
            done += take
            if progress:
                progress(done, size)

    return _write_atomically(path, size, fill, progress)


def ensure_prefix(source: Path, size: int, directory: Path = CORPUS_DIR) -> Path:
    """A file holding the first ``size`` bytes of ``source`` (for file rows run on a prefix)."""
    stem, _, rest = source.name.partition("-")
    path = directory / f"{human_size(size)}-{rest}"
    if path == source or (path.exists() and path.stat().st_size == size):
        return path

    def fill(f, progress):
        with open(source, "rb") as src:
            left = size
            while left:
                data = src.read(min(BLOCK, left))
                if not data:
                    raise RuntimeError(f"{source} is shorter than {size} bytes")
                f.write(data)
                left -= len(data)

    return _write_atomically(path, size, fill, None)


def main(argv: list[str]) -> int:
    size = parse_size(argv[1] if len(argv) > 1 else "1GiB")
    seed = int(argv[2]) if len(argv) > 2 else DEFAULT_SEED
    print(ensure_corpus(size, seed))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
