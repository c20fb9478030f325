"""Generated trees for SCENARIO=tree: a source-like tree of text files, and a tree of tiny files.

``ensure_tree(size, seed)`` makes (once) a tree of about ``size`` bytes in nested directories:
at the default 600 MiB, 50,000 files (fewer or more in proportion to ``size``), in about one
directory per 12 files, up to 10 levels deep (a random recursive tree: each new directory
hangs under one drawn from those already made, the first ones more often: they have the most
children, as a source tree's top levels do; about 50 at the top, most 3 to 7
levels deep). Directory sizes vary (a log-normal weight each). File
sizes are log-normal (median about 3.4 KiB, sigma 1.6, from 200 bytes up to 4 MiB, scaled
so that they add up to ``size``): mostly small files and a long tail of big ones, as in a
source tree. File names are identifiers with source-like extensions.

The text: lines of "code" drawn from a vocabulary (about 8,000 identifiers made of
syllables, Zipf-distributed; keywords such as ``import``, ``def``, ``return`` and ``self``
at fixed rates; numbers, quoted strings, 1 % UTF-8 words such as ``café``, ``→`` or
``日本語``), separated by spaces and punctuation, indented. ``import`` is one word token in
400 (about 200,000 occurrences in 600 MiB: a Python tree's rate). The text is a pool of up
to 64 MiB generated with numpy (a vectorised gather of token bytes), and each file is a
line-aligned slice of the pool at a random offset: every file starts at a line start and
ends with a newline (so no word crosses a file boundary).

``ensure_tiny(n, seed)``: ``n`` files of 1 to 5 lines of the same text (tens to a few
hundred bytes), in the same kind of directory tree: the per-file cost alone.

Everything comes from one ``numpy.random.PCG64(seed)`` stream per tree: the same seed gives
the same tree, byte for byte, on every machine. A tree is written under a temporary name,
renamed when complete, then its stamp file ``<name>.json`` (the parameters, the number of
files and bytes) is written beside it; a tree whose stamp matches the parameters and whose
files are all there (count and bytes) is reused. Trees live in ``bench/corpus/``
(git-ignored): ``tree-600MiB-<seed>/`` and ``tiny-50000-<seed>/``.

Run as a script to make one: ``python bench/treegen.py 64MiB`` (prints its path).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus as corpora  # noqa: E402  (bench/corpus.py)

#: the full-size tree: FILES files, SIZE bytes in all; other sizes scale the file count
SIZE = 600 << 20
FILES = 50_000
TINY_FILES = 50_000
#: bumped when the generator changes what it writes (a stamp of another version is stale)
GENERATOR = 1
FILES_PER_DIR = 12
MAX_DEPTH = 10
#: file sizes: log-normal, median MEDIAN bytes, then scaled to the total; clipped to [MIN, MAX]
MEDIAN_SIZE, SIGMA = 3400, 1.6
MIN_SIZE, MAX_SIZE = 200, 4 << 20
#: the text pool: at most this much (files are slices of it)
POOL_MAX = 64 << 20
TINY_LINES = (1, 5)

Progress = Callable[[int, int], None]

SYLLABLES = ("ba be bi bo bu ca ce ci co da de di do du fa fe fi fo ga ge gi go ha he hi ho ja jo ka ke ki "
             "ko la le li lo lu ma me mi mo mu na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su "
             "ta te ti to tu va ve vi vo wa we wi xa ya yo za ze zo str get set add run max min len buf ptr "
             "idx err val key obj node list map item data file path name size").split()
#: (token, share of the word tokens): keywords and common words at fixed rates
KEYWORDS = (
    ("import", 0.0025), ("from", 0.002), ("def", 0.006), ("return", 0.006), ("self", 0.02), ("class", 0.002),
    ("if", 0.008), ("else", 0.003), ("for", 0.004), ("in", 0.006), ("not", 0.003), ("None", 0.004),
    ("True", 0.002), ("False", 0.002), ("and", 0.003), ("or", 0.002), ("is", 0.003), ("with", 0.002),
    ("as", 0.002), ("the", 0.01), ("a", 0.006), ("of", 0.005), ("to", 0.005), ("int", 0.002), ("str", 0.002),
    ("print", 0.001), ("const", 0.001), ("static", 0.001), ("void", 0.001), ("struct", 0.001),
    ("#include", 0.0005), ("0", 0.005), ("1", 0.005), ("2", 0.002), ("42", 0.001), ("0x1f", 0.001),
    ("3.14", 0.001), ("100", 0.002), ('"error"', 0.001), ("'utf-8'", 0.001), ('""', 0.001),
)
#: UTF-8 words, 1 % of the word tokens in all
UTF8_WORDS = ("café", "naïve", "Größe", "über", "→", "≤", "π", "日本語", "中文", "ñandú", "Ωmega", "déjà",
              "façade", "Łódź", "😀", "résumé", "Straße", "λ")
UTF8_SHARE = 0.01
N_IDENTIFIERS = 8000
#: (separator, weight) between two word tokens; the ones with a newline end lines
SEPARATORS = (
    (" ", 0.50), (", ", 0.07), ("(", 0.05), (")", 0.03), (".", 0.07), (" = ", 0.04), (": ", 0.02),
    ("):", 0.01), ("()", 0.01), ("  # ", 0.01), ("[", 0.01), ("]", 0.01), (" == ", 0.005), (" + ", 0.01),
    ("\n", 0.08), ("\n    ", 0.05), ("\n        ", 0.03), ("\n\n", 0.01), ("\n\t", 0.005), (";\n", 0.01),
)
EXTENSIONS = (("py", 0.4), ("c", 0.1), ("h", 0.08), ("txt", 0.08), ("md", 0.06), ("rst", 0.05), ("json", 0.05),
              ("js", 0.08), ("cfg", 0.03), ("html", 0.04), ("toml", 0.03))


@dataclass
class Plan:
    """What a tree holds: the text pool, the directories, and each file as a slice of the pool."""

    pool: bytes
    dirs: list[str]            # relative paths, parents before children ("" is the root)
    paths: list[str]           # each file's relative path
    starts: "object"           # numpy int64 arrays: file i is pool[starts[i]:ends[i]]
    ends: "object"

    @property
    def total(self) -> int:
        return int((self.ends - self.starts).sum())


def tree_files(size: int) -> int:
    """The number of files of a generated tree of ``size`` bytes (50,000 at 600 MiB)."""
    return max(1, round(FILES * size / SIZE))


def tiny_files(size: int) -> int:
    """The number of tiny files for SIZE (50,000 at the default 600 MiB)."""
    return max(1, round(TINY_FILES * size / SIZE))


def tree_name(size: int, seed: int) -> str:
    return f"tree-{corpora.human_size(size)}-{seed}"


def tiny_name(n: int, seed: int) -> str:
    return f"tiny-{n}-{seed}"


# --------------------------------------------------------------------------- the text

def _vocabulary(rng) -> tuple[list[bytes], "object"]:
    """(word tokens, their probabilities)."""
    import numpy as np

    syl = SYLLABLES
    counts = rng.integers(1, 4, size=N_IDENTIFIERS)
    styles = rng.random(N_IDENTIFIERS)
    picks = rng.integers(0, len(syl), size=(N_IDENTIFIERS, 3))
    seen: set[bytes] = set()
    idents: list[bytes] = []
    for i in range(N_IDENTIFIERS):
        parts = [syl[j] for j in picks[i, :counts[i]]]
        if styles[i] < 0.5:
            word = "_".join(parts)
        elif styles[i] < 0.8:
            word = parts[0] + "".join(p.capitalize() for p in parts[1:])
        else:
            word = "".join(parts)
        b = word.encode()
        if b not in seen:
            seen.add(b)
            idents.append(b)
    keywords = [k.encode() for k, _ in KEYWORDS]
    kw_p = np.array([p for _, p in KEYWORDS])
    utf8 = [w.encode() for w in UTF8_WORDS]
    utf8_p = np.full(len(utf8), UTF8_SHARE / len(utf8))
    rest = 1.0 - kw_p.sum() - UTF8_SHARE
    zipf = 1.0 / (np.arange(len(idents)) + 10.0)
    ident_p = zipf / zipf.sum() * rest
    p = np.concatenate([kw_p, utf8_p, ident_p])
    return keywords + utf8 + idents, p / p.sum()


def make_pool(size: int, rng, vocabulary) -> bytes:
    """About ``size`` bytes of lines (cut after the last newline) of ``vocabulary``'s words
    (``_vocabulary``), from ``rng``."""
    import numpy as np

    words, word_p = vocabulary
    seps = [s.encode() for s, _ in SEPARATORS]
    sep_p = np.array([w for _, w in SEPARATORS], dtype=float)
    sep_p /= sep_p.sum()
    tokens = words + seps
    table = np.frombuffer(b"".join(tokens), dtype=np.uint8)
    lens = np.array([len(t) for t in tokens], dtype=np.int64)
    firsts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    nw = len(words)
    out: list[bytes] = []
    done = 0
    step = 1 << 20  # word tokens a block: about 8 MiB of text
    while done < size:
        seq = np.empty(2 * step, dtype=np.int64)
        seq[0::2] = rng.choice(nw, size=step, p=word_p)
        seq[1::2] = rng.choice(len(seps), size=step, p=sep_p) + nw
        seq_lens = lens[seq]
        ends = np.cumsum(seq_lens)
        total = int(ends[-1])
        # byte k of the block is byte (k - out_start[t]) of token t: a gather from the table
        idx = np.arange(total, dtype=np.int64)
        idx -= np.repeat(ends - seq_lens - firsts[seq], seq_lens)
        block = table[idx].tobytes()
        out.append(block)
        done += len(block)
    pool = b"".join(out)
    cut = pool.rfind(b"\n", 0, size)
    return pool[:cut + 1] if cut >= 0 else pool[:size] + b"\n"


def _line_starts(pool: bytes):
    """Offsets where lines start, and len(pool) last (the pool ends with a newline)."""
    import numpy as np

    arr = np.frombuffer(pool, dtype=np.uint8)
    nl = np.flatnonzero(arr == 10)
    return np.concatenate([[0], nl + 1]).astype(np.int64)


# --------------------------------------------------------------------------- the shape

def _directories(n_dirs: int, rng, idents: list[bytes]) -> list[str]:
    """``n_dirs`` directories (the root first): a random recursive tree, at most MAX_DEPTH deep."""
    depth = [0]
    paths = [""]
    children: list[set[str]] = [set()]
    parents = rng.random(n_dirs)
    names = rng.integers(0, len(idents), size=n_dirs)
    for i in range(1, n_dirs):
        p = int(parents[i] ** 1.6 * i)  # biased toward the first (shallow) ones
        while depth[p] >= MAX_DEPTH:
            p = int(rng.integers(0, i))
        name = idents[names[i]].decode()
        if name in children[p]:
            name = f"{name}_{i}"
        children[p].add(name)
        paths.append(f"{paths[p]}/{name}" if paths[p] else name)
        depth.append(depth[p] + 1)
        children.append(set())
    return paths


def _file_paths(n: int, dirs: list[str], rng, idents: list[bytes]) -> list[str]:
    import numpy as np

    weights = rng.lognormal(0.0, 1.0, size=len(dirs))
    where = rng.choice(len(dirs), size=n, p=weights / weights.sum())
    ext_p = np.array([w for _, w in EXTENSIONS])
    exts = rng.choice(len(EXTENSIONS), size=n, p=ext_p / ext_p.sum())
    names = rng.integers(0, len(idents), size=n)
    taken: dict[int, set[str]] = {}
    out = []
    for i in range(n):
        d = int(where[i])
        name = f"{idents[names[i]].decode()}.{EXTENSIONS[exts[i]][0]}"
        used = taken.setdefault(d, set())
        if name in used:
            name = f"{name.rsplit('.', 1)[0]}_{i}.{EXTENSIONS[exts[i]][0]}"
        used.add(name)
        out.append(f"{dirs[d]}/{name}" if dirs[d] else name)
    return out


def file_sizes(n: int, size: int, rng, max_size: int = MAX_SIZE):
    """``n`` log-normal sizes, clipped to [MIN_SIZE, max_size], scaled to add up to about ``size``."""
    import numpy as np

    sizes = rng.lognormal(np.log(MEDIAN_SIZE), SIGMA, size=n)
    lo = min(MIN_SIZE, size / n)
    for _ in range(8):
        sizes = np.clip(sizes * (size / sizes.sum()), lo, max_size)
    return sizes.astype(np.int64)


def plan(size: int, seed: int, tiny: int | None = None) -> Plan:
    """The tree of ``size`` bytes (or, with ``tiny=n``, ``n`` tiny files) for ``seed``."""
    import numpy as np

    rng = np.random.Generator(np.random.PCG64([seed, 1 if tiny else 0]))
    n = tiny if tiny else tree_files(size)
    pool_size = 4 << 20 if tiny else min(POOL_MAX, max(1 << 20, 2 * size))
    vocabulary = _vocabulary(rng)
    pool = make_pool(pool_size, rng, vocabulary)
    starts_of_lines = _line_starts(pool)
    nlines = len(starts_of_lines) - 1
    names = vocabulary[0][len(KEYWORDS) + len(UTF8_WORDS):len(KEYWORDS) + len(UTF8_WORDS) + 2000]
    idents = [w for w in names if w.isalpha() and w.isascii()]  # for the names of directories and files
    dirs = _directories(max(1, n // FILES_PER_DIR), rng, idents)
    paths = _file_paths(n, dirs, rng, idents)
    if tiny:
        k = rng.integers(TINY_LINES[0], TINY_LINES[1] + 1, size=n)
        first = rng.integers(0, nlines - TINY_LINES[1], size=n)
        starts, ends = starts_of_lines[first], starts_of_lines[first + k]
    else:
        max_size = min(MAX_SIZE, len(pool) // 4)
        sizes = file_sizes(n, size, rng, max_size)
        # a line-aligned slice: from the first line start at or after a random offset, to the
        # end of the line where ``size`` bytes are reached
        room = len(pool) - sizes - max_size // 4  # room for the alignment at both ends
        off = (rng.random(n) * np.maximum(room, 1)).astype(np.int64)
        starts = starts_of_lines[np.searchsorted(starts_of_lines, off)]
        ends = starts_of_lines[np.minimum(np.searchsorted(starts_of_lines, starts + sizes), nlines)]
    return Plan(pool=pool, dirs=dirs, paths=paths, starts=starts, ends=ends)


# --------------------------------------------------------------------------- on disk

def scan(root: Path) -> tuple[int, int]:
    """(regular files, their bytes) under ``root``; symbolic links are not followed or counted
    (grep -r, rg and kmpsearch -r skip the ones they meet while walking)."""
    files = total = 0
    stack = [os.fspath(root)]
    while stack:
        with os.scandir(stack.pop()) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    stack.append(e.path)
                elif e.is_file(follow_symlinks=False):
                    files += 1
                    total += e.stat(follow_symlinks=False).st_size
    return files, total


def _params(kind: str, size: int, seed: int, n: int) -> dict:
    return {"kind": kind, "generator": GENERATOR, "size": size, "seed": seed, "files": n}


def _reusable(root: Path, stamp: Path, params: dict) -> dict | None:
    try:
        info = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not root.is_dir() or {k: info.get(k) for k in params} != params:
        return None
    if scan(root) != (info.get("files"), info.get("total_bytes")):
        return None
    return info


def _write(p: Plan, root: Path, stamp: Path, params: dict, progress: Progress | None) -> dict:
    if stamp.exists():
        stamp.unlink()
    if root.exists():
        shutil.rmtree(root)
    tmp = root.with_name(f".{root.name}.{os.getpid()}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        for d in p.dirs:
            os.makedirs(tmp / d if d else tmp, exist_ok=True)
        view = memoryview(p.pool)
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
        total = p.total
        done = 0
        base = os.fspath(tmp)
        for i, (rel, a, b) in enumerate(zip(p.paths, p.starts.tolist(), p.ends.tolist())):
            fd = os.open(f"{base}/{rel}", flags, 0o644)
            try:
                data = view[a:b]
                while data:
                    data = data[os.write(fd, data):]
            finally:
                os.close(fd)
            done += b - a
            if progress and i % 2000 == 0:
                progress(done, total)
        os.replace(tmp, root)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    info = dict(params, total_bytes=p.total, dirs=len(p.dirs), files=len(p.paths),
                largest=int((p.ends - p.starts).max()), smallest=int((p.ends - p.starts).min()),
                median=int(sorted((p.ends - p.starts).tolist())[len(p.paths) // 2]))
    stamp.write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    if progress:
        progress(total, total)
    return info


def ensure_tree(size: int, seed: int = corpora.DEFAULT_SEED, directory: Path = corpora.CORPUS_DIR,
                progress: Progress | None = None) -> tuple[Path, dict, bool]:
    """(the tree's root, its stamp's contents, whether it was generated now)."""
    root = directory / tree_name(size, seed)
    stamp = root.with_name(root.name + ".json")
    params = _params("tree", size, seed, tree_files(size))
    info = _reusable(root, stamp, params)
    if info is not None:
        return root, info, False
    directory.mkdir(parents=True, exist_ok=True)
    return root, _write(plan(size, seed), root, stamp, params, progress), True


def ensure_tiny(n: int, seed: int = corpora.DEFAULT_SEED, directory: Path = corpora.CORPUS_DIR,
                progress: Progress | None = None) -> tuple[Path, dict, bool]:
    """(the tiny files' root, its stamp's contents, whether it was generated now)."""
    root = directory / tiny_name(n, seed)
    stamp = root.with_name(root.name + ".json")
    params = _params("tiny", 0, seed, n)
    info = _reusable(root, stamp, params)
    if info is not None:
        return root, info, False
    directory.mkdir(parents=True, exist_ok=True)
    return root, _write(plan(0, seed, tiny=n), root, stamp, params, progress), True


def main(argv: list[str]) -> int:
    size = corpora.parse_size(argv[1] if len(argv) > 1 else "600MiB")
    seed = int(argv[2]) if len(argv) > 2 else corpora.DEFAULT_SEED
    root, info, made = ensure_tree(size, seed)
    print(root, json.dumps(info), "generated" if made else "reused")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
