"""SCENARIO=streams: what people do with the locations (issue 15), native backends.

On the corpus (1 GiB by default), for each native backend, medians of REPEATS warm runs
(at least 5), with threads=THREADS (default: every usable CPU):

* **finditer**: ``Pattern.finditer(path)`` of ``3J1`` (every offset, the file searched by
  the core in 4 MiB ranges, ``threads`` at once, yielded one by one) against
  ``find_all_in_file`` (the core's ``pread`` search, one list); target: at most 1.3x;
* **arrays**: ``find_all(haystack, b"3")`` (15.8 M offsets in the 1 GiB corpus) as a list,
  ``as_array=True`` (the core's array as it is) and ``count``; target: the array in at most
  0.2 s;
* **redact**: ``WordSet(10 words).redact(haystack)`` (the words of SCENARIO=words, N = 10)
  against ``count`` plus one copy of the corpus (``bytes(haystack)``); target: at most 2x.

Every result is checked: finditer gives the offsets of find_all_in_file, the array the
list's offsets, and the redacted copy has exactly as many masked bytes as the union of the
matches covers (the corpus holds no ``*``). Results: a table on the terminal and
bench/results/latest.{json,md}.
"""

from __future__ import annotations

import gc
import json
import mmap
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus as corpora  # noqa: E402
import wordgen  # noqa: E402
from harness import fmt_ratio, fmt_seconds, machine_line  # noqa: E402

#: at least this many timed runs per row (the median is reported)
MIN_REPEATS = 5
TARGETS = {"finditer": 1.3, "array": 0.2, "redact": 2.0}


def median_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median of ``repeats`` timed calls after one warm-up call; the warm-up's result."""
    result = fn()
    times = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def covered_bytes(offsets, index, lengths) -> int:
    """Bytes covered by the union of the matches (offsets ascending)."""
    total = 0
    end = -1
    for off, i in zip(offsets, index):
        stop = off + lengths[i]
        if stop <= end:
            continue
        total += stop - max(off, end)
        end = stop
    return total


def run(args, km, console, backends: list[str], missing: dict[str, str], machine: dict, threads_all: int) -> int:
    from rich import box
    from rich.table import Table

    native = [b for b in backends if km.backends.info(b).native]
    if not native:
        console.print("[bold red]bench: SCENARIO=streams measures the native backends; none is available[/]")
        return 2
    skipped = [b for b in backends if b not in native]
    repeats = max(args.repeats, MIN_REPEATS)
    size = args.size_bytes
    t0 = time.perf_counter()
    path = corpora.ensure_corpus(size, args.seed)
    console.log(f"corpus {path} ready in {time.perf_counter() - t0:.1f} s")
    rows: list[dict[str, Any]] = []
    failed: list[str] = []
    with open(path, "rb") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    hay = memoryview(mm)
    try:
        words = wordgen.make_words(10, hay[:min(size, wordgen.CUT_FROM)])
        copy_s, _ = median_time(lambda: bytes(hay), repeats)  # also brings the corpus into the page cache
        for name in native:
            mod = km.get_backend(name)
            console.log(f"{name} ...")
            pat = mod.compile(b"3J1")
            file_s, in_file = median_time(lambda: pat.find_all_in_file(path, threads=threads_all), repeats)
            iter_s, iterated = median_time(lambda: list(pat.finditer(path, threads=threads_all)), repeats)
            if iterated != in_file:
                failed.append(f"{name}: finditer gave {len(iterated)} offsets, find_all_in_file {len(in_file)}")

            one = mod.compile(b"3")
            count_s, n3 = median_time(lambda: one.count(hay, threads=threads_all), repeats)
            list_s, as_list = median_time(lambda: one.find_all(hay, threads=threads_all), repeats)
            array_s, as_array = median_time(lambda: one.find_all(hay, threads=threads_all, as_array=True), repeats)
            if len(as_list) != n3 or as_array.tolist() != as_list:
                failed.append(f"{name}: find_all(b'3') as_array differs from the list")
            del as_list, as_array

            ws = mod.WordSet(words)
            wcount_s, nw = median_time(lambda: ws.count(hay, threads=threads_all), repeats)
            redact_s, redacted = median_time(lambda: ws.redact(hay, threads=threads_all), repeats)
            offsets, index = ws.find_all(hay, threads=threads_all, as_array=True)
            want = covered_bytes(offsets, index, [len(w) for w in ws.words])
            if len(redacted) != size or redacted.count(b"*") != want or len(offsets) != nw:
                failed.append(f"{name}: redact masked {redacted.count(b'*')} bytes, the matches cover {want}")
            del redacted

            rows.append({
                "backend": name, "threads": threads_all,
                "find_all_in_file_3J1": file_s, "finditer_3J1": iter_s, "finditer_ratio": iter_s / file_s,
                "matches_3J1": len(in_file),
                "count_3": count_s, "find_all_3_list": list_s, "find_all_3_array": array_s,
                "matches_3": n3,
                "count_10_words": wcount_s, "copy": copy_s, "redact_10_words": redact_s,
                "redact_ratio": redact_s / (wcount_s + copy_s), "matches_10_words": nw,
            })
    finally:
        hay.release()
        mm.close()

    table = Table(title=f"SCENARIO=streams, {corpora.human_size(size)}, threads={threads_all}, "
                        f"medians of {repeats} (seconds)", box=box.SIMPLE_HEAVY)
    for col in ("backend", "find_all_in_file 3J1", "finditer 3J1", "ratio", "count b'3'", "list b'3'",
                "array b'3'", "count 10 words", "copy", "redact 10 words", "ratio"):
        table.add_column(col, justify="left" if col == "backend" else "right")
    for r in rows:
        table.add_row(r["backend"], fmt_seconds(r["find_all_in_file_3J1"]), fmt_seconds(r["finditer_3J1"]),
                      fmt_ratio(r["finditer_ratio"]), fmt_seconds(r["count_3"]), fmt_seconds(r["find_all_3_list"]),
                      fmt_seconds(r["find_all_3_array"]), fmt_seconds(r["count_10_words"]),
                      fmt_seconds(r["copy"]), fmt_seconds(r["redact_10_words"]), fmt_ratio(r["redact_ratio"]))
    console.print(table)
    checks = []
    array_target = TARGETS["array"] * size / (1 << 30)  # 0.2 s for 1 GiB
    for r in rows:
        checks += [
            (f"{r['backend']}: finditer within {TARGETS['finditer']}x of find_all_in_file",
             r["finditer_ratio"] <= TARGETS["finditer"], fmt_ratio(r["finditer_ratio"])),
            (f"{r['backend']}: find_all(b'3', as_array=True) within {array_target:.3g} s",
             r["find_all_3_array"] <= array_target,
             f"{fmt_seconds(r['find_all_3_array'])} s"),
            (f"{r['backend']}: redact within {TARGETS['redact']}x of count + one copy",
             r["redact_ratio"] <= TARGETS["redact"], fmt_ratio(r["redact_ratio"])),
        ]
    for label, ok, got in checks:
        console.print(f"[{'green' if ok else 'yellow'}]{'met' if ok else 'not met'}[/]: {label}: {got}")
    if skipped:
        console.print(f"not measured (pure Python, minutes on this corpus): {', '.join(skipped)}")
    console.print(f"counts: 3J1 {rows[0]['matches_3J1']:,}, b'3' {rows[0]['matches_3']:,}, "
                  f"10 words {rows[0]['matches_10_words']:,}")

    args.out.mkdir(parents=True, exist_ok=True)
    payload = {"scenario": "streams", "machine": machine, "size": size, "repeats": repeats, "rows": rows,
               "words": [w.decode() for w in words], "targets": TARGETS,
               "checks": [{"what": label, "met": ok, "got": got} for label, ok, got in checks],
               "failed": failed}
    (args.out / "latest.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    lines = [f"# SCENARIO=streams, {corpora.human_size(size)}, threads={threads_all}, medians of {repeats}", "",
             machine_line(machine), "",
             "| backend | find_all_in_file 3J1 | finditer 3J1 | × | count b'3' | list b'3' | array b'3' | "
             "count 10 words | copy | redact 10 words | × |",
             "| :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r['backend']} | {fmt_seconds(r['find_all_in_file_3J1'])} | {fmt_seconds(r['finditer_3J1'])} | "
                     f"{fmt_ratio(r['finditer_ratio'])} | {fmt_seconds(r['count_3'])} | "
                     f"{fmt_seconds(r['find_all_3_list'])} | {fmt_seconds(r['find_all_3_array'])} | "
                     f"{fmt_seconds(r['count_10_words'])} | {fmt_seconds(r['copy'])} | "
                     f"{fmt_seconds(r['redact_10_words'])} | {fmt_ratio(r['redact_ratio'])} |")
    lines += [""] + [f"- {'met' if ok else 'not met'}: {label}: {got}" for label, ok, got in checks]
    (args.out / "latest.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    console.print(f"saved {args.out}/latest.json, latest.md")
    if failed:
        for line in failed:
            console.print(f"[bold red]bench: {line}[/]")
        return 1
    return 0
