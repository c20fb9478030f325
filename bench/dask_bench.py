"""`make bench SCENARIO=dask`: kmpsearch.dask on a local cluster against the local search.

The corpus (SIZE, default 1 GiB) split into 8 files (written once into bench/corpus/), counted

* locally: ``pattern.count_in_file(part, threads=THREADS)`` for each part, one after the other;
* on a ``distributed.LocalCluster`` of THREADS single-threaded worker processes, the one
  ``kmpsearch.dask`` starts when no client is given (started once, outside the timings): ``kmpsearch.dask.count(parts, pattern, client=..., blocksize=B)`` for
  several block sizes B (8 tasks at B = size / 8, up to 512 at B = size / 512).

The time per run is ``bytes / (workers x throughput) + tasks x overhead``: the slope of the
least-squares line of time against the number of tasks is the cost of one more task
(planning, graph, scheduling, one ranged read's set-up, the result), and a run over 1,024
blocks of 1 KiB (one 1 MiB file) measures it directly, on nearly empty ranges. Every dask
count is checked against the local one. Results: the table, and bench/results/dask.{json,md}.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus as corpora  # noqa: E402  (bench/corpus.py, beside this file)
from harness import RESULTS_DIR, BenchError, fmt_seconds, machine_line  # noqa: E402

PARTS = 8
TINY_FILE = 1 << 20
TINY_BLOCK = 1 << 10


def split_corpus(path: Path, parts: int = PARTS) -> list[Path]:
    """The corpus cut into ``parts`` files of equal size, written once beside it."""
    size = path.stat().st_size
    directory = path.parent / f"{path.stem}-{parts}parts"
    directory.mkdir(exist_ok=True)
    bounds = [size * i // parts for i in range(parts + 1)]
    out = []
    with open(path, "rb") as src:
        for i in range(parts):
            part = directory / f"part-{i}.txt"
            want = bounds[i + 1] - bounds[i]
            if not part.exists() or part.stat().st_size != want:
                src.seek(bounds[i])
                tmp = part.with_suffix(".tmp")
                with open(tmp, "wb") as dst:
                    left = want
                    while left:
                        chunk = src.read(min(left, 64 << 20))
                        dst.write(chunk)
                        left -= len(chunk)
                tmp.replace(part)
            out.append(part)
    return out


def median_time(fn, repeats: int) -> tuple[float, object]:
    result = fn()  # warm-up (page cache, imports, worker state): not timed
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        got = fn()
        times.append(time.perf_counter() - t0)
        if got != result:
            raise BenchError(f"two runs disagree: {got} != {result}")
    return statistics.median(times), result


def fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least squares ``y = a + b x``: ``(a, b)``."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return my - b * mx, b


def run(args, km, console, machine: dict, threads_all: int) -> int:
    import kmpsearch.dask as kd

    size = args.size_bytes
    needle = (args.pattern or "3J1").encode()
    pattern = km.compile(needle)
    repeats = args.repeats
    t0 = time.perf_counter()
    path = corpora.ensure_corpus(size, args.seed)
    parts = split_corpus(path)
    console.log(f"corpus {path.name} in {PARTS} files ready in {time.perf_counter() - t0:.1f} s")
    tiny_dir = RESULTS_DIR / "dask-tiny"
    tiny_dir.mkdir(parents=True, exist_ok=True)
    tiny = tiny_dir / "1MiB.txt"
    with open(path, "rb") as f:
        tiny.write_bytes(f.read(TINY_FILE))

    def local() -> int:
        return sum(pattern.count_in_file(p, threads=threads_all) for p in parts)

    local_s, expected = median_time(local, repeats)
    console.log(f"local count_in_file x {PARTS}, threads={threads_all}: {fmt_seconds(local_s)} s, {expected:,} matches")

    rows = []
    t0 = time.perf_counter()
    with kd._local_client(quiet=True, n_workers=threads_all) as client:  # the embedded default's cluster
        startup = time.perf_counter() - t0
        console.log(f"LocalCluster of {threads_all} worker processes started in {startup:.2f} s (not timed below)")
        for divisor in (PARTS, 4 * PARTS, 16 * PARTS, 64 * PARTS):
            blocksize = -(-size // divisor)
            tasks = len(kd._blocks(kd._expand(parts), len(needle), blocksize))

            def on_dask(blocksize=blocksize) -> int:
                return int(kd.count(parts, pattern, client=client, blocksize=blocksize).sum())

            secs, got = median_time(on_dask, repeats)
            if got != expected:
                raise BenchError(f"kmpsearch.dask counted {got:,} matches, the local search {expected:,}")
            rows.append({"blocksize": blocksize, "tasks": tasks, "seconds": secs})
            console.log(f"kmpsearch.dask.count blocksize={corpora.human_size(blocksize)}: {tasks} tasks, "
                        f"{fmt_seconds(secs)} s")
        tiny_tasks = len(kd._blocks(kd._expand([tiny]), len(needle), TINY_BLOCK))
        tiny_expected = pattern.count_in_file(tiny)

        def on_tiny() -> int:
            return int(kd.count([tiny], pattern, client=client, blocksize=TINY_BLOCK).sum())

        tiny_s, got = median_time(on_tiny, repeats)
        if got != tiny_expected:
            raise BenchError(f"kmpsearch.dask counted {got:,} matches in {tiny}, the local search {tiny_expected:,}")
    fixed, per_task = fit([r["tasks"] for r in rows], [r["seconds"] for r in rows])
    best = min(rows, key=lambda r: r["seconds"])

    headers = ["search", "block size", "tasks", "time (s)", "GB/s", "× local"]
    table = [[f"local count_in_file, threads={threads_all}", "—", "—", fmt_seconds(local_s),
              f"{size / local_s / 1e9:.3g}", "1.00×"]]
    for r in rows:
        table.append([f"kmpsearch.dask.count, {threads_all} workers", corpora.human_size(r["blocksize"]),
                      str(r["tasks"]), fmt_seconds(r["seconds"]), f"{size / r['seconds'] / 1e9:.3g}",
                      f"{r['seconds'] / local_s:.2f}×"])
    table.append([f"kmpsearch.dask.count, {threads_all} workers, 1 MiB file", corpora.human_size(TINY_BLOCK),
                  str(tiny_tasks), fmt_seconds(tiny_s), "—", "—"])
    notes = [
        f"Pattern {needle!r} in {corpora.human_size(size)} cut into {PARTS} files ({path.name}); medians of "
        f"{repeats} warm runs after one untimed run. The cluster (started once in {startup:.2f} s, not timed) has "
        f"{threads_all} single-threaded worker processes on this machine.",
        f"Per-task overhead: {per_task * 1e3:.2f} ms (slope of time against tasks over the block sizes; "
        f"intercept {fixed:.3f} s); on nearly empty ranges: {tiny_s / tiny_tasks * 1e3:.2f} ms per task "
        f"({tiny_tasks} blocks of {corpora.human_size(TINY_BLOCK)} in {fmt_seconds(tiny_s)} s).",
        f"Fastest dask row: blocksize {corpora.human_size(best['blocksize'])}, {best['seconds'] / local_s:.2f}× "
        "the local search's time.",
    ]
    md = [f"# kmpsearch benchmark: {corpora.human_size(size)}, scenario `dask`", "", machine_line(machine), "",
          "| " + " | ".join(headers) + " |", "| :--- | ---: | ---: | ---: | ---: | ---: |"]
    md += ["| " + " | ".join(cells) + " |" for cells in table]
    md += [""] + [f"- {n}" for n in notes]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "dask.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    (args.out / "dask.json").write_text(json.dumps({
        "machine": machine, "size": size, "pattern": needle.decode("latin-1"), "parts": PARTS, "repeats": repeats,
        "local_seconds": local_s, "matches": expected, "startup_seconds": startup, "rows": rows,
        "per_task_seconds_fit": per_task, "fixed_seconds_fit": fixed,
        "tiny": {"tasks": tiny_tasks, "seconds": tiny_s}}, indent=2), encoding="utf-8")

    from rich.table import Table

    out = Table(*headers, title=f"kmpsearch.dask, {corpora.human_size(size)} in {PARTS} files")
    for cells in table:
        out.add_row(*cells)
    console.print(out)
    for n in notes:
        console.print(f"- {n}", highlight=False)
    console.print(f"results: {args.out / 'dask.md'}, {args.out / 'dask.json'}")
    return 0
