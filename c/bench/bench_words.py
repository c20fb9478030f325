"""The C library's word-set benchmark through the cffi core, with the peers when installed.

    .venv/bin/python c/bench/bench_words.py [--corpus PATH] [--repeats 3] [--n 10,1000,10000,100000]
                                            [--json OUT.json] [--no-peers] [--no-single]

For each N (words of 4-12 bytes, fixed seed, half cut from the corpus: c/bench/words.py):
``count`` over an mmap of the corpus with threads 1 and 2 and both scans, the build time
and the memory of the compiled set; ahocorasick_rs (BytesAhoCorasick,
``find_matches_as_indexes(..., overlapping=True)``) and Hyperscan (literal block-mode
database, every match counted by the callback) on one thread, where installed. Every count
is checked against the others. Then the single-pattern scenarios: 1 GiB of ``a`` with the
needle ``a``*999 + ``b`` (count, 2 threads, fast scan) and ``3J1`` in the corpus.

Times are medians of --repeats warm runs (wall clock; the CPU time of the process beside
them, which on a shared machine says more about the code than the wall clock does).
"""

from __future__ import annotations

import argparse
import json
import mmap
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "bench"))

from words import make_words  # noqa: E402

import corpus as corpora  # noqa: E402


def timed(fn, repeats: int):
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        result = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus), result


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n", default="10,1000,10000,100000")
    ap.add_argument("--json", default=None)
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--no-single", action="store_true")
    args = ap.parse_args(argv)

    from kmpsearch.backends.cffi import core

    path = Path(args.corpus) if args.corpus else corpora.ensure_corpus(1 << 30)
    rows: list[dict] = []

    def row(**kw):
        rows.append(kw)
        gib = kw.get("bytes", 1 << 30) / (1 << 30)
        print(f"| {kw['what']:<44} | {kw.get('n', ''):>7} | {kw.get('threads', ''):>2} | {kw['wall']:8.3f} | "
              f"{kw['cpu']:8.3f} | {gib / kw['wall']:6.2f} | {kw.get('note', '')}", flush=True)

    print("| what | N | threads | wall s (median) | cpu s | GiB/s | note |")
    print("|---|---:|---:|---:|---:|---:|---|")
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        size = len(mm)
        view = memoryview(mm)
        view.tobytes  # noqa: B018 - the mapping is warm after the corpus was made / read before
        for n in [int(x) for x in args.n.split(",")]:
            words = make_words(mm, n)
            builds = []
            for _ in range(3):
                t0 = time.perf_counter()
                ws = core.compile_words(words, False)
                builds.append(time.perf_counter() - t0)
            build = statistics.median(builds)
            print(f"| build N={n} | {n} | | {build:.3f} | | | {ws.memory_bytes} bytes, "
                  f"{ws.memory_bytes / n:.0f} B/word |", flush=True)
            rows.append({"what": "build", "n": n, "wall": build, "memory_bytes": ws.memory_bytes})
            counts = set()
            for scan in ("fast", "textbook"):
                for threads in (1, 2):
                    reps = args.repeats if not (scan == "textbook" and n >= 10000) else max(1, args.repeats // 2)
                    wall, cpu, c = timed(lambda: ws.count(view, threads, 1 << 20, scan, "auto"), reps)
                    counts.add(c)
                    row(what=f"cffi {scan} count", n=n, threads=threads, wall=wall, cpu=cpu, bytes=size,
                        note=f"{c} matches")
            if not args.no_peers:
                try:
                    import ahocorasick_rs

                    ac = ahocorasick_rs.BytesAhoCorasick(words)
                    reps = args.repeats if n <= 1000 else 1
                    wall, cpu, c = timed(lambda: len(ac.find_matches_as_indexes(mm, overlapping=True)), reps)
                    counts.add(c)
                    row(what="ahocorasick_rs overlapping", n=n, threads=1, wall=wall, cpu=cpu, bytes=size,
                        note=f"{c} matches")
                except ImportError:
                    pass
                try:
                    import hyperscan

                    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
                    t0 = time.perf_counter()
                    db.compile(expressions=words, ids=list(range(len(words))), elements=len(words), flags=0,
                               literal=True)
                    hs_build = time.perf_counter() - t0

                    def hs_count():
                        box = [0]

                        def on_match(i, a, b, fl, ctx):
                            box[0] += 1
                        db.scan(mm, match_event_handler=on_match)
                        return box[0]
                    wall, cpu, c = timed(hs_count, args.repeats if n <= 10000 else 1)
                    counts.add(c)
                    row(what="hyperscan literal block", n=n, threads=1, wall=wall, cpu=cpu, bytes=size,
                        note=f"{c} matches, build {hs_build:.3f} s")
                except ImportError:
                    pass
            if len(counts) != 1:
                print(f"COUNTS DISAGREE for N={n}: {sorted(counts)}", flush=True)
                return 1
        if not args.no_single:
            pat = core.compile_pattern(b"3J1")
            for threads in (1, 2):
                wall, cpu, c = timed(lambda: pat.count(view, threads, 1 << 20, "fast", "auto"), max(5, args.repeats))
                row(what="single pattern 3J1 (default scenario)", threads=threads, wall=wall, cpu=cpu, bytes=size,
                    note=f"{c} matches")
        view.release()
    if not args.no_single:
        a_path = corpora.ensure_repeated(1 << 30)
        with open(a_path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            view = memoryview(mm)
            pat = core.compile_pattern(b"a" * 999 + b"b")
            for scan in ("fast", "textbook"):
                wall, cpu, c = timed(lambda: pat.count(view, 2, 1 << 20, scan, "auto"), max(3, args.repeats))
                row(what=f"single pattern a*999+b in a*1GiB ({scan})", threads=2, wall=wall, cpu=cpu,
                    bytes=len(mm), note=f"{c} matches")
            view.release()
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
