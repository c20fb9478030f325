#!/usr/bin/env python3
"""`make bench`: the whole kmpsearch ladder on one corpus, side by side with its peers.

Every backend that imports here (``kmpsearch.available_backends()``, filtered by
BACKENDS) is timed in this process, warm, over an ``mmap`` of the corpus, with
threads=1 and threads=all and each scan of its row in ``kmpsearch.backends.TABLE``; next to them run what a user
would write instead -- a ``mm.find`` loop, ``re.finditer`` with a lookahead (both
collect overlapping matches) -- and the floor: one memchr pass, ``mm.find`` of a byte
that never occurs. The pure-Python rungs run on a prefix and are extrapolated linearly
to the full size (labelled ``≈``) unless FULL=1. Every row's match count is checked
against an independent count over the same bytes; any disagreement fails the run.

Knobs (environment variables, or the options of the same name; empty means default):
SIZE (1GiB), PATTERN (3J1), THREADS (all usable CPUs), BACKENDS (comma list), FULL=1,
REPEATS (3), SCENARIO (default|byte|long|adversarial|file|words|streams|dask|tree), PREFIX (16MiB), SEED,
WORDS (SCENARIO=words: the numbers of words, default 10,1000,10000,100000; see bench/words.py),
SEMANTICS=0 (SCENARIO=words without its match-semantics rows, bench/semantics.py).
SCENARIO=streams: finditer, as_array and redact (bench/streams.py); SCENARIO=dask: bench/dask_bench.py;
SCENARIO=tree: ``kmpsearch -r`` against rg and grep over a tree (bench/tree.py): TREE (a directory;
default: a generated tree of SIZE, 600MiB by default), WORD (default import).

Results: a table on the terminal, and bench/results/latest.{json,md,png}.
"""

from __future__ import annotations

import argparse
import math
import mmap
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus as corpora  # noqa: E402  (bench/corpus.py, beside this file)
from harness import (  # noqa: E402  (bench/harness.py)
    BENCH_DIR, MAX_RUNS, RESULTS_DIR, BenchError, Row, Runner, fmt_ratio, fmt_seconds, machine_info,
    machine_line, pure_backends, resolve_backends, save_and_report, single_threaded,
)

SCENARIOS = ("default", "byte", "long", "adversarial", "file", "words", "streams", "dask", "tree")
#: SCENARIO=adversarial's haystacks, one after the other: (label, the unit repeated to SIZE).
#: The needle `a`x999 + `b` occurs in neither; in the second every `b` is a near miss.
ADVERSARIAL_INPUTS = (("a×n", b"a"), ("(a×998+b)×n", b"a" * 998 + b"b"))
#: the talk's figures for 1 GB on its author's machine: (backend, scan, all threads?) -> seconds
TALK = {
    ("python", "textbook", False): 262.0,
    ("multiprocessing", "textbook", True): 25.0,
    ("cython", "textbook", False): 5.0,
    ("rust", "textbook", True): 0.94,
}
# --------------------------------------------------------------------------- configuration

def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog="Each option defaults to the environment variable of the same name.")
    p.add_argument("--size", default=_env("SIZE"),
                   help="corpus size, e.g. 64MiB, 1GiB, 1000000 (default 1GiB; SCENARIO=tree: 600MiB, the "
                        "generated tree)")
    p.add_argument("--pattern", default=_env("PATTERN"), help="needle (UTF-8); default 3J1, or the scenario's")
    p.add_argument("--threads", default=_env("THREADS"), help="what threads=all means (default: usable CPUs)")
    p.add_argument("--backends", default=_env("BACKENDS"), help="comma list of backends (default: all available)")
    p.add_argument("--full", action="store_true", default=(_env("FULL") or "0").lower() in ("1", "yes", "true", "on"),
                   help="run the pure-Python rungs and slow peers on the whole corpus")
    p.add_argument("--repeats", type=int, default=int(_env("REPEATS") or 3), help="timed runs per row (median)")
    p.add_argument("--scenario", default=_env("SCENARIO") or "default", choices=SCENARIOS)
    p.add_argument("--prefix", default=_env("PREFIX"),
                   help="prefix for the pure-Python rungs (default 16MiB; 4MiB for the adversarial and words scenarios)")
    p.add_argument("--words", default=_env("WORDS"),
                   help="SCENARIO=words: the numbers of words, e.g. 10,1000 or 10,1k,10k,100k (default)")
    p.add_argument("--semantics", default=(_env("SEMANTICS") or "1").lower() not in ("0", "no", "false", "off"),
                   action=argparse.BooleanOptionalAction,
                   help="SCENARIO=words: the match-semantics rows (whole_words, leftmost-longest, "
                        "ignore_case='unicode' with 1,000 words, replace with 10; default on, SEMANTICS=0: off)")
    p.add_argument("--tree", default=_env("TREE"),
                   help="SCENARIO=tree: search this directory instead of the generated tree")
    p.add_argument("--word", default=_env("WORD"), help="SCENARIO=tree: the word (default import)")
    p.add_argument("--seed", type=int, default=int(_env("SEED") or corpora.DEFAULT_SEED))
    p.add_argument("--out", type=Path, default=RESULTS_DIR, help="where latest.{json,md,png} go")
    args = p.parse_args(argv)
    args.size = args.size or ("600MiB" if args.scenario == "tree" else "1GiB")
    try:
        args.size_bytes = corpora.parse_size(args.size)
        args.prefix_bytes = corpora.parse_size(args.prefix or ("4MiB" if args.scenario in ("adversarial", "words")
                                                                else "16MiB"))
    except ValueError as exc:
        raise BenchError(str(exc)) from None
    if args.repeats < 1:
        raise BenchError("REPEATS must be at least 1")
    if args.repeats < 3:
        print(f"note: REPEATS={args.repeats}: medians of fewer than 3 runs are noisy", file=sys.stderr)
    return args


# --------------------------------------------------------------------------- the plan

def plan(args, km, backends: list[str], haystack: memoryview, mm: mmap.mmap, path: Path, needle: bytes,
         threads_all: int, tag: str = ""):
    """Build the scenario's rows (``tag``: appended to every row's name and label, which
    haystack they search when the scenario has several).

    Returns (ladder rows, extras(fastest row) -> rows, peer rows, floor row, find_loop(span)),
    find_loop being the independent count every row is checked against.
    """
    size, scenario = args.size_bytes, args.scenario
    table = {b.name: b for b in km.backends.TABLE}
    pure_names, one_thread = pure_backends(km), single_threaded(km)
    talk_applies = scenario == "default" and needle == b"3J1"
    file_cache: dict[int, Path] = {}

    def file_for(span: int) -> Path:
        if span not in file_cache:
            file_cache[span] = path if span == size else corpora.ensure_prefix(path, span)
        return file_cache[span]

    def prepare_file(span: int) -> None:
        file_for(span)

    def backend_row(name: str, scan: str, threads: int, measures: str) -> Row:
        mod = km.get_backend(name)
        fn = getattr(mod, measures)
        if measures.endswith("_in_file"):
            def run(span, fn=fn):
                return fn(file_for(span), needle, threads=threads, scan=scan)
            prepare = prepare_file
        else:
            def run(span, fn=fn):
                return fn(haystack[:span], needle, threads=threads, scan=scan)
            prepare = None
        pure = name in pure_names
        processes = km.backends.info(name).parallel == "processes"  # the rung that gains from 2 cores
        # the talk's figures are for counting "3J1" in its random 1 GB text: shown only for that search
        talk = TALK.get((name, scan, threads > 1)) if talk_applies and measures == "count" else None
        return Row(name=f"{name} {scan} {measures}{tag}", label=f"{name} {scan}{tag}", kind="backend",
                   measures=measures, threads=threads, run=run, backend=name, scan=scan, pure=pure,
                   span_mode="prefix" if pure else "full",
                   prefix=(2 * args.prefix_bytes if processes else args.prefix_bytes) if pure else None,
                   fit=processes, prepare=prepare, talk=talk)

    thread_counts = [1] if threads_all == 1 else [1, threads_all]

    def scans_of(name: str) -> list[str]:
        scans = list(table[name].scans)
        # textbook first: the talk's algorithm, then the accelerated scan
        return sorted(scans, key=lambda s: (s != "textbook", s))

    ladder: list[Row] = []
    for name in backends:
        counts = [1] if name in one_thread else thread_counts
        if scenario == "file":
            scan = table[name].default_scan
            ladder.append(backend_row(name, scan, counts[-1], "count"))
            for t in counts:
                ladder.append(backend_row(name, scan, t, "count_in_file"))
            ladder.append(backend_row(name, scan, counts[-1], "find_all_in_file"))
            continue
        measures = "find_all" if scenario == "byte" else "count"
        for scan in scans_of(name):
            for t in counts:
                ladder.append(backend_row(name, scan, t, measures))

    def extras(fastest: Row) -> list[Row]:
        """Rows for the fastest backend: the list's cost and file search against in-memory count."""
        if scenario == "file":
            return []
        name, scan, t = fastest.backend, fastest.scan, fastest.threads
        other = "count" if fastest.measures == "find_all" else "find_all"
        return [backend_row(name, scan, t, other), backend_row(name, scan, t, "find_all_in_file")]

    def find_loop(span: int) -> list[int]:
        out, find, i = [], mm.find, mm.find(needle, 0, span)
        append = out.append
        while i >= 0:
            append(i)
            i = find(needle, i + 1, span)
        return out

    rx = re.compile(b"(?=" + re.escape(needle) + b")", re.DOTALL)
    shown = repr(needle)[2:-1]
    if len(shown) > 12:
        shown = f"{repr(needle[:6])[2:-1]}…{len(needle)}B"

    def re_loop(span: int) -> list[int]:
        return [m.start() for m in rx.finditer(mm, 0, span)]

    def floor(span: int) -> None:
        at = mm.find(b"\xff", 0, span)
        if at != -1:
            raise BenchError(f"the floor needs a byte absent from the corpus, but 0xff occurs at {at}")
        return None

    peers = [
        Row(name=f"mm.find loop{tag}", label=f"mm.find loop{tag}", kind="peer", measures="list", threads=1,
            run=find_loop, span_mode="adaptive"),
        Row(name=f"re.finditer lookahead{tag}", label=f"re.finditer (?={shown}){tag}", kind="peer", measures="list",
            threads=1, run=re_loop, span_mode="adaptive"),
    ]
    floor_row = Row(name=f"floor memchr{tag}", label=f"floor: mm.find(b'\\xff'){tag}", kind="floor",
                    measures="one pass", threads=1, run=floor)
    return ladder, extras, peers, floor_row, find_loop


# --------------------------------------------------------------------------- output

def table_rows(rows: list[Row]) -> list[list[str]]:
    out = []
    for r in rows:
        if r.error:
            out.append([r.label, r.measures, str(r.threads), "ERROR", "—", "—", "—", r.error[:40], "—"])
            continue
        time_s = ("≈" if r.extrapolated else "") + fmt_seconds(r.seconds)
        if r.matches is None:
            matches = "—"
        elif r.extrapolated:
            matches = f"{r.matches:,} in {corpora.human_size(r.span)}"
        else:
            matches = f"{r.matches:,}"
        if r.reference is not None:
            matches += f" ≠ {r.reference:,}!"
        out.append([r.label, r.measures, str(r.threads), time_s, f"{r.gbps:.3g}", fmt_ratio(r.vs_python),
                    fmt_ratio(r.vs_floor), matches, f"{r.talk:g}" if r.talk is not None else ""])
    return out


HEADERS = ["Implementation", "measures", "threads", "time (s)", "GB/s", "× vs pure Python", "× the floor",
           "matches", "talk (s, 1 GB)"]


def notes(args, needle: bytes, rows: list[Row], baseline: Row | None, missing: dict[str, str]) -> list[str]:
    size = corpora.human_size(args.size_bytes)
    out = [f"Scenario `{args.scenario}`: needle {needle[:40]!r}{'…' if len(needle) > 40 else ''} "
           f"({len(needle)} byte{'s' if len(needle) != 1 else ''}) in {size} ({args.size_bytes:,} bytes); median of at least "
           f"{args.repeats} warm runs in-process over an mmap (quick rows: more runs, up to {MAX_RUNS})."]
    if any(r.extrapolated for r in rows):
        out.append("≈ = measured on the first bytes of the corpus (size in the matches column) and extrapolated "
                   "linearly to the full size; multiprocessing rows add their pool start-up once "
                   "(fitted from a second, small run). FULL=1 measures everything on the whole corpus.")
    out.append("measures: `count` returns only the number; `find_all`/`list` build the list of every "
               "offset; `*_in_file` read the file with pread instead of the mmap.")
    if args.scenario == "adversarial":
        out.append("Haystacks: " + "; ".join(f"{label}: {unit[:8]!r}{'…' if len(unit) > 8 else ''} "
                                              f"({len(unit)} byte{'s' if len(unit) != 1 else ''}) repeated"
                                              for label, unit in ADVERSARIAL_INPUTS)
                   + ". Each row's ratios are to the rows of its own haystack.")
    if baseline:
        out.append(f"× vs pure Python: how many times faster than `{baseline.name}`, threads={baseline.threads}. "
                   "× the floor: how many times slower than one memchr pass over the same bytes.")
    out.append("talk (s): the talk's figures for 1 GB on its author's machine (pure Python 262, multiprocessing 25, "
               "Cython 5, PyO3 multithreaded 0.94), on the rows that match them.")
    if missing:
        out.append("Not available here: " + "; ".join(f"{k} ({v})" for k, v in missing.items()))
    return out


def markdown(args, machine: dict, rows: list[Row], note_lines: list[str]) -> str:
    lines = [f"# kmpsearch benchmark: {corpora.human_size(args.size_bytes)}, scenario `{args.scenario}`", "",
             machine_line(machine), "", "| " + " | ".join(HEADERS) + " |",
             "| " + " | ".join([":---", ":---", "---:"] + ["---:"] * (len(HEADERS) - 3)) + " |"]
    for cells in table_rows(rows):
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    lines.append("")
    lines += [f"- {n}" for n in note_lines]
    return "\n".join(lines) + "\n"


def chart(path: Path, args, machine: dict, rows: list[Row], needle: bytes) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    good = [r for r in rows if not r.error and not math.isnan(r.seconds)]
    colours = {"pure": "#e07b39", "native": "#3a76af", "peer": "#8c8c8c", "floor": "#222222"}

    def colour(r: Row) -> str:
        if r.kind == "backend":
            return colours["pure" if r.pure else "native"]
        return colours[r.kind]

    height = 0.38 * len(good) + 2.4
    fig, ax = plt.subplots(figsize=(11, height))
    ys = list(range(len(good)))[::-1]
    secs = [r.seconds for r in good]
    bars = ax.barh(ys, secs, color=[colour(r) for r in good], edgecolor="white", height=0.72)
    for bar, r in zip(bars, good):
        if r.extrapolated:
            bar.set_hatch("///")
            bar.set_edgecolor("#ffffff")
    ax.set_xscale("log")
    # the talk timed 1 GB; its figures are scaled to this run's size so that the markers compare
    talk_scale = args.size_bytes / (1 << 30)
    lo, hi = min(secs), max(secs + [r.talk * talk_scale for r in good if r.talk])
    ax.set_xlim(lo / 3, hi * 8)
    for y, r in zip(ys, good):
        right = r.seconds
        if r.talk:
            ax.plot([r.talk * talk_scale], [y], marker="D", color="#c0392b", markersize=6, zorder=3,
                    markeredgecolor="white")
            right = max(right, r.talk * talk_scale)
        ax.text(right * 1.15, y, f"{'≈' if r.extrapolated else ''}{fmt_seconds(r.seconds)} s",
                va="center", fontsize=8)
    ax.set_yticks(ys)
    ax.set_yticklabels([f"{r.label} {r.measures if r.kind == 'backend' else ''}  ·  t={r.threads}"
                        for r in good], fontsize=8)
    ax.set_xlabel(f"seconds for {corpora.human_size(args.size_bytes)} (log scale, lower is better)")
    shown = repr(needle[:20])[2:-1] + ("…" if len(needle) > 20 else "")
    ax.set_title(f"kmpsearch: '{shown}' in {corpora.human_size(args.size_bytes)} "
                 f"(scenario {args.scenario})\n{machine['cpu']}, {machine['cores_usable']} cores, "
                 f"Python {machine['python']}{'' if machine['gil'] else ' (free-threaded)'}", fontsize=10)
    ax.grid(axis="x", which="major", alpha=0.3)
    handles = [Patch(color=colours["pure"], label="kmpsearch, pure Python"),
               Patch(color=colours["native"], label="kmpsearch, native"),
               Patch(color=colours["peer"], label="peers (stdlib)"),
               Patch(color=colours["floor"], label="floor: one memchr pass"),
               Patch(facecolor="#bbbbbb", hatch="///", edgecolor="white", label="≈ extrapolated from a prefix")]
    if any(r.talk for r in good):
        label = "the talk" + ("" if talk_scale == 1 else f" (1 GB scaled to {corpora.human_size(args.size_bytes)})")
        handles.append(plt.Line2D([], [], marker="D", color="#c0392b", linestyle="", label=label))
    present = {("pure" if r.pure else "native") if r.kind == "backend" else r.kind for r in good}
    keep = {"kmpsearch, pure Python": "pure" in present, "kmpsearch, native": "native" in present,
            "peers (stdlib)": "peer" in present, "floor: one memchr pass": "floor" in present,
            "≈ extrapolated from a prefix": any(r.extrapolated for r in good)}
    handles = [h for h in handles if keep.get(h.get_label(), True)]
    fig.tight_layout(rect=(0, 0.62 / height, 1, 1))  # room below for the legend
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(argv)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    try:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
        from rich import box
        from rich.table import Table
    except ImportError as exc:
        print(f"bench: {exc}: install the bench extra (pip install 'kmpsearch[bench]', or rich matplotlib numpy)",
              file=sys.stderr)
        return 2
    console = Console(log_path=False)
    if not console.is_terminal:  # a log or a pipe: wide enough for the table on one line per row
        console = Console(log_path=False, width=150)
    try:
        import kmpsearch as km
    except ImportError as exc:
        console.print(f"[bold red]bench: cannot import kmpsearch: {exc}[/]")
        return 2

    try:
        threads_all = int(args.threads) if args.threads else km.default_threads()
        if threads_all < 1:
            raise ValueError
    except ValueError:
        console.print(f"[bold red]bench: THREADS must be an int >= 1, got {args.threads!r}[/]")
        return 2
    try:
        backends, missing = resolve_backends(km, args.backends)
    except BenchError as exc:
        console.print(f"[bold red]bench: {exc}[/]")
        return 2

    size = args.size_bytes
    machine = machine_info(threads_all)
    console.print(f"[bold]kmpsearch {getattr(km, '__version__', '?')}[/] from {Path(km.__file__).parent}")
    console.print(machine_line(machine))
    console.print(f"backends: {', '.join(backends)}"
                  + (f"; not available: {', '.join(f'{k} ({v})' for k, v in missing.items())}" if missing else ""))

    if args.scenario == "dask":
        import dask_bench  # bench/dask_bench.py

        return dask_bench.run(args, km, console, machine, threads_all)
    if args.scenario == "words":
        import words  # bench/words.py

        return words.run(args, km, console, backends, missing, machine, threads_all)
    if args.scenario == "streams":
        import streams  # bench/streams.py

        return streams.run(args, km, console, backends, missing, machine, threads_all)
    if args.scenario == "tree":
        import tree  # bench/tree.py

        return tree.run(args, km, console, backends, missing, machine, threads_all)

    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console)
    rows: list[Row] = []
    failed: list[str] = []
    paths: list[Path] = []
    # the haystacks: the corpus, or SCENARIO=adversarial's (label, unit repeated) each in turn
    inputs = ADVERSARIAL_INPUTS if args.scenario == "adversarial" else ((None, None),)
    runner = None
    with progress:
        for group, unit in inputs:
            # ---- corpus
            task = progress.add_task(f"corpus {corpora.human_size(size)}{f' {group}' if group else ''}", total=size)

            def report(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            t0 = time.perf_counter()
            if unit is not None:
                path = corpora.ensure_repeated(size, unit, progress=report)
            else:
                path = corpora.ensure_corpus(size, args.seed, progress=report)
            paths.append(path)
            progress.update(task, completed=size, visible=False)
            shown = path.relative_to(BENCH_DIR.parent) if path.is_relative_to(BENCH_DIR.parent) else path
            console.log(f"corpus {shown} ready in {time.perf_counter() - t0:.1f} s")

            with open(path, "rb") as f:
                mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            haystack = memoryview(mm)
            try:
                # ---- needle
                if args.scenario == "adversarial":
                    needle = args.pattern.encode() if args.pattern else b"a" * 999 + b"b"
                elif args.scenario == "long" and not args.pattern:
                    at = max(0, min(args.prefix_bytes, size) // 2 - 32)
                    needle = bytes(mm[at:at + 64])
                elif args.scenario == "byte":
                    needle = (args.pattern or "3").encode()
                    if len(needle) != 1:
                        raise BenchError(f"SCENARIO=byte needs a 1-byte PATTERN, got {needle!r}")
                else:
                    needle = (args.pattern or "3J1").encode()
                if not needle:
                    raise BenchError("PATTERN must not be empty")

                ladder, extras, peers, floor_row, find_loop = plan(args, km, backends, haystack, mm, path, needle,
                                                                   threads_all, tag=f" on {group}" if group else "")
                if runner is None:
                    runner = Runner(size, args.repeats, args.full, args.prefix_bytes, progress, console)
                runner.add_total(len(ladder) + (0 if args.scenario == "file" else 2) + len(peers) + 1)

                # the floor first: one pass over every page also warms the page cache
                runner.measure(floor_row)
                mine: list[Row] = []
                for row in ladder:
                    mine.append(runner.measure(row))
                timed = [r for r in mine if not r.error]
                native = [r for r in timed if not r.pure]
                if timed:
                    fastest = min(native or timed, key=lambda r: r.seconds)
                    more = extras(fastest)
                    for row in more:
                        mine.append(runner.measure(row))
                for row in peers:
                    mine.append(runner.measure(row))
                mine.append(floor_row)
                for r in mine:
                    r.group = group

                # ---- every count against an independent count over the same bytes
                progress.update(runner.current, description="checking match counts", visible=True)
                reference: dict[int, int] = {}
                for r in mine:
                    if r.error or r.matches is None:
                        continue
                    if r.span not in reference:
                        reference[r.span] = len(find_loop(r.span))
                    if r.matches != reference[r.span]:
                        r.reference = reference[r.span]
                        failed.append(f"{r.name} (threads={r.threads}) found {r.matches:,} matches in the first "
                                      f"{r.span:,} bytes; mm.find finds {reference[r.span]:,}")
                progress.update(runner.current, visible=False)
                rows += mine
            except BenchError as exc:
                progress.stop()
                console.print(f"[bold red]bench: {exc}[/]")
                return 2
            finally:
                haystack.release()
                mm.close()

    errors = [f"{r.name} (threads={r.threads}): {r.error}" for r in rows if r.error]

    # ---- ratios, each row against the floor and the pure-Python baseline of its haystack
    baselines: dict[str | None, Row] = {}
    for group, _ in inputs:
        base_candidates = [r for r in rows if r.group == group and r.backend == "python" and not r.error
                           and r.measures in ("count", "find_all")]
        base_candidates.sort(key=lambda r: (r.scan != "textbook", r.threads != 1, r.measures != "count"))
        if base_candidates:
            baselines[group] = base_candidates[0]
    floors = {r.group: r.seconds if not r.error else math.nan for r in rows if r.kind == "floor"}
    for r in rows:
        if r.error:
            continue
        baseline, floor_s = baselines.get(r.group), floors.get(r.group, math.nan)
        r.vs_python = baseline.seconds / r.seconds if baseline else None
        r.vs_floor = r.seconds / floor_s if not math.isnan(floor_s) else None
    baseline = next(iter(baselines.values()), None)

    # ---- output
    note_lines = notes(args, needle, rows, baseline, missing)
    table = Table(title=f"kmpsearch: {corpora.human_size(size)}, scenario {args.scenario}", title_justify="left",
                  caption=machine_line(machine), caption_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for i, h in enumerate(HEADERS):
        table.add_column(h, justify="left" if i < 2 else "right", no_wrap=i == 0)
    for cells, r in zip(table_rows(rows), rows):
        style = "bold red" if r.error or r.reference is not None else "dim" if r.kind != "backend" else None
        table.add_row(*cells, style=style)
    console.print(table)
    for n in note_lines:
        console.print(f"  • {n}", markup=False, highlight=False)

    args.out.mkdir(parents=True, exist_ok=True)
    payload = {
        "machine": machine,
        "config": {"size": size, "size_text": corpora.human_size(size), "pattern": needle.decode("latin-1"),
                   "pattern_hex": needle.hex(), "scenario": args.scenario, "threads_all": threads_all,
                   "backends": backends, "unavailable": missing, "full": args.full, "repeats": args.repeats,
                   "prefix": args.prefix_bytes, "seed": args.seed,
                   "corpus": str(paths[0]) if len(paths) == 1 else [str(p) for p in paths],
                   "kmpsearch": getattr(km, "__version__", None), "kmpsearch_path": str(Path(km.__file__).parent)},
        "consistent": not failed,
        "errors": errors + failed,
        "rows": [{
            "name": r.name, "kind": r.kind, "backend": r.backend, "scan": r.scan, "measures": r.measures,
            "input": r.group,
            "threads": r.threads, "seconds": None if math.isnan(r.seconds) else r.seconds,
            "gbps": None if math.isnan(r.seconds) else r.gbps, "matches": r.matches,
            "extrapolated": r.extrapolated, "scanned_bytes": r.span, "measured_seconds":
                None if math.isnan(r.measured) else r.measured, "times": r.times, "fit": r.fit_params,
            "vs_python": r.vs_python, "vs_floor": r.vs_floor, "talk_seconds": r.talk, "error": r.error,
        } for r in rows],
    }
    return save_and_report(args.out, payload, markdown(args, machine, rows, note_lines),
                           lambda png: chart(png, args, machine, rows, needle), console, failed, errors,
                           "on the number of matches")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        sys.exit(130)
