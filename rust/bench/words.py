"""Measure the Rust core (word sets and single patterns) against its peers.

    .venv/bin/python rust/bench/words.py [--size 1GiB] [--repeats 3] [--n 10,1000,10000,100000]
                                         [--scans fast,textbook] [--threads 1,2] [--peers] [--single]

Word sets: N words of 4-12 bytes, half cut from the corpus at random places, half random
from its alphabet (seed 13), counted through the core's ``WordSet.count`` (what the
frontend calls); peers in the same run: ahocorasick_rs (``BytesAhoCorasick``,
overlapping, matches counted from its list) and Hyperscan (block mode, literal database,
one Python callback per match, single thread). Prints medians of ``--repeats`` runs
(the machine is shared: medians, never asserted anywhere). ``--single``: the single
pattern scenarios (3J1 in the corpus; 1 GiB of ``a`` with ``a``x999 + ``b``; 64 MiB
with 1 vs 2 threads).
"""

from __future__ import annotations

import argparse
import mmap
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import corpus  # noqa: E402

import kmpsearch_rust as k  # noqa: E402


CPU = {}


def median_time(fn, repeats):
    """Median wall time of `repeats` runs (and, in CPU["last"], their median process CPU
    time: all threads together; the shared machine makes wall times noisy)."""
    times, cpus, result = [], [], None
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    CPU["last"] = statistics.median(cpus)
    return statistics.median(times), result


def make_words(data, n, seed=13):
    rng = random.Random(seed)
    alphabet = corpus.ALPHABET
    words, seen = [], set()
    while len(words) < n:
        length = rng.randint(4, 12)
        if len(words) % 2 == 0:
            at = rng.randrange(0, len(data) - length)
            w = bytes(data[at:at + length])
        else:
            w = bytes(rng.choice(alphabet) for _ in range(length))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="1GiB")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n", default="10,1000,10000,100000")
    ap.add_argument("--scans", default="fast,textbook")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--peers", action="store_true")
    ap.add_argument("--single", action="store_true")
    ap.add_argument("--adversarial", action="store_true",
                    help="word sets on adversarial text: the fast scan's budgeted fallback")
    ap.add_argument("--slow-repeats", type=int, default=None,
                    help="repeats of the textbook scan and of the peers (default: --repeats)")
    a = ap.parse_args()
    size = corpus.parse_size(a.size)
    # a smaller size is the prefix of a bigger corpus (bench/corpus.py)
    paths = sorted(corpus.CORPUS_DIR.glob(f"*-{corpus.DEFAULT_SEED}.txt"), key=lambda q: q.stat().st_size)
    path = next((q for q in paths if q.stat().st_size >= size), None)
    if path is None:
        sys.exit(f"no corpus of {a.size}: run .venv/bin/python bench/corpus.py {a.size}")
    with open(path, "rb") as f:
        data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    view = memoryview(data)[:size]
    sum(view[i] for i in range(0, len(view), 4096))  # fault the pages in
    gib = len(view) / (1 << 30)
    print(f"corpus {path.name} ({len(view)} bytes); medians of {a.repeats}; wall seconds (s/GiB) and "
          f"process CPU seconds (all threads)")

    if a.single:
        p = k.compile_pattern(b"3J1")
        for threads in (1, 2):
            t, c = median_time(lambda: p.count(view, threads, 1 << 20, "fast", "auto"), a.repeats)
            print(f"single 3J1 count fast threads={threads}: {t:.4f} s ({c} matches)")
        adv = b"a" * (1 << 30)
        p = k.compile_pattern(b"a" * 999 + b"b")
        for scan in ("fast", "textbook"):
            for threads in (1, 2):
                t, c = median_time(lambda: p.count(adv, threads, 1 << 20, scan, "auto"), a.repeats)
                print(f"single adversarial 1GiB a, a*999+b, {scan} threads={threads}: {t:.4f} s cpu {CPU['last']:.4f} s ({c})")
        del adv
        small = view[:64 << 20]
        for needle in (b"3J1", b"a" * 999 + b"b"):
            p = k.compile_pattern(needle)
            for threads in (1, 2):
                t, c = median_time(lambda: p.count(small, threads, 1 << 20, "fast", "auto"), max(5, a.repeats))
                print(f"single 64MiB {needle[:8]!r}.. fast threads={threads}: {t * 1000:.2f} ms cpu {CPU['last'] * 1000:.2f} ms ({c})")

    if a.adversarial:
        hay = b"a" * (16 << 20)
        cases = (("16MiB of a, words a^1..a^40 (671M matches)", hay, [b"a" * i for i in range(1, 41)]),
                 ("64MiB of 'prefpref123pref499', 500 words pref000..pref499",
                  b"prefpref123pref499" * ((64 << 20) // 18), [b"pref%03d" % i for i in range(500)]),
                 ("16MiB of a, 10 words a^4..a^13 (Teddy)", hay, [b"a" * i for i in range(4, 14)]))
        for label, text, words in cases:
            ws = k.compile_words(words, False)
            for scan in ("fast", "textbook"):
                t, c = median_time(lambda: ws.count(text, 1, 1 << 20, scan, "auto"), 1)
                print(f"adversarial {label}: {scan} 1 thread {t:.3f} s ({c} matches)")

    for n in [int(x) for x in a.n.split(",") if x]:
        words = make_words(view, n)
        t0 = time.perf_counter()
        ws = k.compile_words(words, False)
        compile_s = time.perf_counter() - t0
        mem = ws.memory_bytes
        t0 = time.perf_counter()
        ws.build_automaton()
        auto_s = time.perf_counter() - t0
        st = ws.stats()
        print(f"N={n}: compile {compile_s * 1000:.1f} ms, {mem / 2**20:.2f} MiB; automaton +{auto_s * 1000:.1f} ms, "
              f"total {ws.memory_bytes / 2**20:.2f} MiB; teddy={st['teddy']} bitmap 2^{st['bitmap_bits']}")
        slow = a.repeats if a.slow_repeats is None else a.slow_repeats
        expected = None
        for scan in a.scans.split(","):
            for threads in [int(x) for x in a.threads.split(",")]:
                t, c = median_time(lambda: ws.count(view, threads, 1 << 20, scan, "auto"),
                                   a.repeats if scan == "fast" else slow)
                if expected is None:
                    expected = c
                assert c == expected, (c, expected)
                print(f"  rust {scan:8s} threads={threads}: {t:.3f} s ({t / gib:.3f} s/GiB, {len(view) / t / 1e9:.2f} GB/s)"
                      f" cpu {CPU['last']:.3f} s, {c} matches")
        if a.peers:
            try:
                import ahocorasick_rs
                t0 = time.perf_counter()
                ac = ahocorasick_rs.BytesAhoCorasick(words)
                build = time.perf_counter() - t0
                t, c = median_time(lambda: len(ac.find_matches_as_indexes(view, overlapping=True)), slow)
                print(f"  ahocorasick_rs overlapping (build {build * 1000:.0f} ms): {t:.3f} s ({t / gib:.3f} s/GiB)"
                      f" cpu {CPU['last']:.3f} s, {c}"
                      + ("" if c == expected else f" != {expected}"))
            except ImportError as exc:
                print("  ahocorasick_rs:", exc)
            try:
                import hyperscan
                db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
                t0 = time.perf_counter()
                db.compile(expressions=words, ids=list(range(len(words))), elements=len(words),
                           flags=0, literal=True)
                build = time.perf_counter() - t0
                box = [0]

                def on_match(ident, start, end, flags, ctx):
                    box[0] += 1

                def scan_hs():
                    box[0] = 0
                    db.scan(view, match_event_handler=on_match)
                    return box[0]
                t, c = median_time(scan_hs, slow)
                print(f"  hyperscan block literal 1 thread (build {build * 1000:.0f} ms): {t:.3f} s ({t / gib:.3f} s/GiB)"
                      f" cpu {CPU['last']:.3f} s, {c}"
                      + ("" if c == expected else f" != {expected}"))
            except Exception as exc:  # noqa: BLE001 - a peer that cannot run is reported
                print("  hyperscan:", type(exc).__name__, exc)


if __name__ == "__main__":
    main()
