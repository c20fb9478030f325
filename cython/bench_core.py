#!/usr/bin/env python3
"""Time the Cython core directly (compiled objects, the core contract), beside the cffi backend.

    .venv/bin/python cython/bench_core.py [--repeats 5] [--words 10,1000,10000,100000]
                                          [--size 1GiB] [--only single|words]

Single pattern: ``count`` of ``3J1`` in the 1 GiB corpus (fast scan, threads 1 and 2; the
textbook scan too), the adversarial scenario (1 GiB of ``a``, needle ``a``*999 + ``b``, fast
scan, 2 threads), each beside ``kmpsearch.get_backend("cffi").count`` in the same run.
Word sets: ``count`` for N words of 4-12 bytes (half cut from the corpus at random places,
half random letters and digits; the lists of c/bench/words.py), threads 1 and 2, both scans; compile time and
``memory_bytes``. Medians of ``--repeats`` runs (the machine is shared: noisy). Never run
by the tests.
"""

from __future__ import annotations

import argparse
import mmap
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import corpus as corpora  # noqa: E402
import string  # noqa: E402

RANDOM_ALPHABET = (string.ascii_letters + string.digits).encode("ascii")

import kmpsearch  # noqa: E402
from kmpsearch import _kmp_cython as core  # noqa: E402


CPU = {}  # the process CPU time of the last median_time (median), for a loaded machine


def median_time(fn, repeats):
    times, cpus, result = [], [], None
    for _ in range(repeats):
        c = time.process_time()
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    CPU["last"] = statistics.median(cpus)
    return statistics.median(times), result


def make_words(data, n: int, seed: int = 20241125) -> list[bytes]:
    """N distinct words of 4-12 bytes: the even-numbered draws cut from the corpus at random
    places, the others random letters and digits (the same lists as c/bench/words.py)."""
    rng = random.Random(seed * 1_000_003 + n)
    size = len(data)
    seen: set[bytes] = set()
    words: list[bytes] = []
    i = 0
    while len(words) < n:
        length = rng.randint(4, 12)
        if i % 2 == 0:
            pos = rng.randrange(size - length)
            w = bytes(data[pos:pos + length])
        else:
            w = bytes(rng.choice(RANDOM_ALPHABET) for _ in range(length))
        i += 1
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--words", default="10,1000,10000,100000")
    ap.add_argument("--size", default="1GiB")
    ap.add_argument("--only", choices=("single", "words"), default=None)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--scans", default="fast,textbook")
    args = ap.parse_args(argv)
    size = corpora.parse_size(args.size)
    path = corpora.ensure_corpus(max(size, 1 << 30))  # words are drawn from the 1 GiB corpus
    f = open(path, "rb")
    mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    view = memoryview(mm)[:size]
    warm = core.compile_pattern(b"\xff")        # fault the mapping in before timing anything
    warm.count(view, 2, 1 << 20, "fast", "auto")
    threads_list = [int(t) for t in args.threads.split(",")]
    scans = args.scans.split(",")
    r = args.repeats
    try:
        cffi = kmpsearch.get_backend("cffi")
    except ImportError:
        cffi = None

    if args.only in (None, "single"):
        print(f"# single pattern, {corpora.human_size(size)}, medians of {r}")
        pat = core.compile_pattern(b"3J1")
        for scan in ("fast", "textbook"):
            for th in threads_list:
                t, n = median_time(lambda: pat.count(view, th, 1 << 20, scan, "auto"), r if scan == "fast" else 3)
                line = f"3J1 {scan:8} threads={th}: cython {t:.4f} s ({n})"
                if cffi is not None:
                    tc, nc = median_time(lambda: cffi.count(view, b"3J1", threads=th, scan=scan), r if scan == "fast" else 3)
                    assert nc == n
                    line += f"   cffi {tc:.4f} s"
                print(line, flush=True)
        apath = corpora.ensure_repeated(size)
        fa = open(apath, "rb")
        am = mmap.mmap(fa.fileno(), 0, access=mmap.ACCESS_READ)
        warm.count(am, 2, 1 << 20, "fast", "auto")
        needle = b"a" * 999 + b"b"
        adv = core.compile_pattern(needle)
        for th in threads_list:
            t, n = median_time(lambda: adv.count(am, th, 1 << 20, "fast", "auto"), r)
            line = f"adversarial fast threads={th}: cython {t:.4f} s ({n})"
            if cffi is not None:
                tc, _ = median_time(lambda: cffi.count(am, needle, threads=th, scan="fast"), r)
                line += f"   cffi {tc:.4f} s"
            print(line, flush=True)
        # a needle the pair test cannot help with: every text position is a candidate
        needle2 = b"a" * 500 + b"b" + b"a" * 499
        adv2 = core.compile_pattern(b"a" * 1000)
        t, n = median_time(lambda: adv2.count(am[:64 << 20], 2, 1 << 20, "fast", "auto"), 3)
        print(f"a*1000 in 64 MiB of a (every byte a match) threads=2: {t:.4f} s ({n})")
        del needle2
        am.close()

    if args.only in (None, "words"):
        print(f"# word sets, {corpora.human_size(size)}, count, medians of {max(3, r // 2)}")
        for n in (int(x) for x in args.words.split(",")):
            words = make_words(mm, n)
            t0 = time.perf_counter()
            ws = core.compile_words(words, False)
            tc = time.perf_counter() - t0
            lay = ws._layout
            print(f"N={n}: compile {tc * 1000:.1f} ms, memory {ws.memory_bytes / 1e6:.2f} MB, "
                  f"{lay['form']} automaton of {lay['states']} states, k={lay['k']}", flush=True)
            counts = {}
            for scan in scans:
                for th in threads_list:
                    t, c = median_time(lambda: ws.count(view, th, 1 << 20, scan, "auto"),
                                       max(3, r // 2) if scan == "fast" or n <= 1000 else 1)
                    counts.setdefault(c, []).append(scan)
                    print(f"  {scan:8} threads={th}: {t:.4f} s (cpu {CPU['last']:.4f} s)  {size / t / 1e9:.2f} GB/s  ({c} matches)", flush=True)
            assert len(counts) == 1, counts
    return 0


if __name__ == "__main__":
    sys.exit(main())
