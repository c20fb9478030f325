"""A tree's small files through a backend's core: one call per file against FileBatch calls.

    python bench/tree_batch.py DIR WORD [--runs 7] [--batch 256] [--threads 2] [--backend rust]

Each run walks DIR with ``kmpsearch._tree.expand`` and searches every file for WORD, timed
whole (wall and process CPU seconds, medians of the runs), in these modes:

* ``walk``: the walk alone;
* ``per-file``: ``os.open``, ``os.fstat``, ``core.search(FileRange(fd, 0, size), ...)`` and
  ``os.close`` for each file, one thread;
* ``batch``: ``core.search(FileBatch(paths, 8 MiB), ..., Options(threads=T))`` every
  ``--batch`` files; a BIG file is then searched as a FileRange with T threads.

for ``"count"`` and ``"pairs"``; each line shows (files, files with matches, matches).
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import time

from kmpsearch._contract import BIG, FileBatch, FileRange, Options
from kmpsearch._tree import expand

FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_NONBLOCK", 0)
MAX_SIZE = 8 << 20


def matches(got, want: str) -> int:
    return got if want == "count" else len(got[0])


def walk(top: str, pat, want: str, args) -> tuple[int, int, int]:
    return sum(1 for _ in expand([top])), 0, 0


def search_range(pat, path, want: str, opts: Options) -> int:
    fd = os.open(path, FLAGS)
    try:
        return matches(pat.search(FileRange(fd, 0, os.fstat(fd).st_size), want, opts), want)
    finally:
        os.close(fd)


def per_file(top: str, pat, want: str, args) -> tuple[int, int, int]:
    n = files = total = 0
    one = Options()
    for f in expand([top]):
        n += 1
        c = search_range(pat, f.path, want, one)
        total += c
        files += c > 0
    return n, files, total


def batched(top: str, pat, want: str, args) -> tuple[int, int, int]:
    n = files = total = 0
    opts = Options(threads=args.threads)
    paths: list[bytes] = []

    def flush() -> None:
        nonlocal files, total
        status, found = pat.search(FileBatch(tuple(paths), MAX_SIZE), want, opts)
        if want == "count":
            total += sum(found)
            files += sum(1 for c in found if c)
        else:
            bounds = found[0]
            total += bounds[-1]
            files += sum(1 for i in range(len(paths)) if bounds[i + 1] > bounds[i])
        for i, st in enumerate(status):
            if st == BIG:
                c = search_range(pat, paths[i], want, opts)
                total += c
                files += c > 0
        paths.clear()

    for f in expand([top]):
        n += 1
        paths.append(os.fsencode(f.path))
        if len(paths) == args.batch:
            flush()
    if paths:
        flush()
    return n, files, total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("word")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--backend", default="rust")
    args = ap.parse_args()
    core = importlib.import_module(f"kmpsearch.backends.{args.backend}").core
    pat = core.compile_pattern(os.fsencode(args.word))
    modes = [("walk", walk, "count"), ("per-file count", per_file, "count"), ("batch count", batched, "count"),
             ("per-file pairs", per_file, "pairs"), ("batch pairs", batched, "pairs")]
    wall: dict[str, list[float]] = {name: [] for name, _, _ in modes}
    cpu: dict[str, list[float]] = {name: [] for name, _, _ in modes}
    found = {}
    for _ in range(args.runs):
        for name, fn, want in modes:
            t, c = time.perf_counter(), time.process_time()
            found[name] = fn(args.dir, pat, want, args)
            wall[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
    print(f"{args.backend}, batches of {args.batch}, {args.threads} threads, {args.runs} runs (medians):")
    for name, _, _ in modes:
        print(f"  {name:15s} wall {statistics.median(wall[name]):.3f} s (min {min(wall[name]):.3f})"
              f"  cpu {statistics.median(cpu[name]):.3f} s  {found[name]}")


if __name__ == "__main__":
    main()
