"""What every benchmark scenario shares: rows, the runner that times them, the machine line,
the backend list (read from ``kmpsearch.backends.TABLE``) and number formatting.

``bench/run.py`` (the default, byte, long, adversarial and file scenarios) and
``bench/words.py`` (SCENARIO=words) build their rows on this.
"""

from __future__ import annotations

import gc
import json
import math
import os
import platform
import statistics
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus as corpora  # noqa: E402  (bench/corpus.py, beside this file)

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"

#: a peer whose full-size run would take longer than this (seconds) runs on a prefix
PEER_BUDGET = 2.0
#: a first run this slow is kept as a repeat (the data is already in the page cache)
KEEP_FIRST_RUN = 0.25
#: rows quicker than this get more than REPEATS runs, up to MAX_RUNS
SHORT_ROW_SECONDS = 0.3
MAX_RUNS = 51
GB = 1e9


class BenchError(Exception):
    """A problem with the run's set-up or arguments: message, exit status 2."""


# --------------------------------------------------------------------------- the machine

def machine_info(threads_all: int) -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    gil = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True
    return {
        "cpu": cpu,
        "cores_usable": usable,
        "cores_online": os.cpu_count(),
        "threads_all": threads_all,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "gil": bool(gil),
        "os": f"{platform.system()} {platform.release()}",
    }


def machine_line(m: dict[str, Any]) -> str:
    return (f"Machine: {m['cpu']}, {m['cores_usable']} cores available ({m['cores_online']} online), "
            f"{m['implementation']} {m['python']} with the GIL {'enabled' if m['gil'] else 'disabled'}, {m['os']}")


# --------------------------------------------------------------------------- rows

@dataclass
class Row:
    name: str                     # unique with threads; contains the backend's name, `find` or `floor`
    label: str                    # what the table and the chart show (measures has its own column)
    kind: str                     # "backend" | "peer" | "floor"
    measures: str                 # count | find_all | count_in_file | find_all_in_file | list | one pass
    threads: int
    run: Callable[[int], Any]     # run(span) -> int | list | None, over bytes [0, span)
    backend: str | None = None
    pure: bool = False            # a pure-Python rung (charts colour it apart)
    scan: str | None = None
    span_mode: str = "full"       # "full" | "prefix" | "adaptive"
    prefix: int | None = None     # for span_mode == "prefix"
    fit: bool = False             # multiprocessing: fixed start-up cost + linear, from two sizes
    prepare: Callable[[int], None] | None = None
    talk: float | None = None
    #: what ``matches`` counts: "all" (every occurrence, overlaps included: checked against the
    #: reference), "leftmost" (non-overlapping leftmost matches) or "lines" (matching lines)
    counts: str = "all"
    group: Any = None             # a scenario's grouping (SCENARIO=words: the number of words)
    budget: float | None = None   # adaptive rows: seconds a run may take (default PEER_BUDGET)
    fit_small: int | None = None  # fit rows: the small size (default threads x 2 MiB)
    note: str | None = None       # shown after the label in tables
    # results
    span: int = 0
    times: list[float] = field(default_factory=list)
    measured: float = math.nan
    seconds: float = math.nan
    matches: int | None = None
    extrapolated: bool = False
    fit_params: dict[str, float] | None = None
    error: str | None = None
    vs_python: float | None = None
    vs_floor: float | None = None
    reference: int | None = None  # the independent count, when it differs from ``matches``

    size: int = 0                 # the run's SIZE: what ``seconds`` is for

    @property
    def gbps(self) -> float:
        return self.size / self.seconds / GB if self.seconds and not math.isnan(self.seconds) else math.nan


def result_count(result: Any) -> int | None:
    if result is None:
        return None
    if isinstance(result, list):
        return len(result)
    return int(result)


def timed(fn: Callable[[int], Any], span: int) -> tuple[float, Any]:
    gc.collect()
    t0 = time.perf_counter()
    result = fn(span)
    return time.perf_counter() - t0, result


class Runner:
    """Times rows, shows progress, logs each result."""

    def __init__(self, size: int, repeats: int, full: bool, prefix: int, progress, console):
        self.size, self.repeats, self.full, self.prefix = size, repeats, full, prefix
        self.progress, self.console = progress, console
        self.overall = progress.add_task("rows", total=0)
        self.current = progress.add_task("", total=repeats, visible=False)

    def add_total(self, n: int) -> None:
        self.progress.update(self.overall, total=(self.progress.tasks[self.overall].total or 0) + n)

    def _repeat(self, row: Row, span: int, label: str) -> tuple[list[float], int | None]:
        """Median-ready times over ``span`` bytes: a warm-up run, then ``repeats`` timed runs."""
        self.progress.update(self.current, description=f"{row.name} [{label}] warm-up",
                             total=self.repeats, completed=0, visible=True)
        times: list[float] = []
        t, result = timed(row.run, span)
        count = result_count(result)
        del result
        if t >= KEEP_FIRST_RUN:
            times.append(t)
        # quick rows get more runs (up to about SHORT_ROW_SECONDS in all): a shared machine's
        # hiccups then move the median less
        runs = max(self.repeats, min(MAX_RUNS, int(SHORT_ROW_SECONDS / max(t, 1e-6))))
        self.progress.update(self.current, total=runs)
        while len(times) < runs:
            self.progress.update(self.current, description=f"{row.name} [{label}] run {len(times) + 1}/{runs}",
                                 completed=len(times))
            t, result = timed(row.run, span)
            again = result_count(result)
            del result
            if again != count:
                raise AssertionError(f"{row.name}: {again} matches in one run, {count} in another")
            times.append(t)
        self.progress.update(self.current, completed=runs)
        return times, count

    def _adaptive_span(self, row: Row) -> int:
        """Whole corpus if a run fits the row's budget (PEER_BUDGET) or FULL=1, else a prefix
        that does, at most ``row.prefix`` (default: the PREFIX knob)."""
        if self.full:
            return self.size
        budget = row.budget or PEER_BUDGET
        cap = min(row.prefix or self.prefix, self.size)
        probe = min(256 << 10, self.size)
        while True:
            self.progress.update(self.current, description=f"{row.name} [calibrating on {corpora.human_size(probe)}]",
                                 visible=True)
            if row.prepare:
                row.prepare(probe)
            t, _ = timed(row.run, probe)
            if t >= 0.05 or probe >= cap:
                break
            probe = min(probe * 4, self.size)
        rate = max(t, 1e-9) / probe
        if rate * self.size <= budget:
            return self.size
        span = int(budget / 2 / rate) >> 20 << 20  # whole MiB, about half the budget a run
        return max(probe, min(span, cap))

    def measure(self, row: Row) -> Row:
        try:
            if row.span_mode == "prefix" and not self.full:
                span = min(row.prefix or self.prefix, self.size)
            elif row.span_mode == "adaptive":
                span = self._adaptive_span(row)
            else:
                span = self.size
            row.span, row.size = span, self.size
            if row.prepare:
                row.prepare(span)
            label = "full" if span == self.size else f"first {corpora.human_size(span)}"
            row.times, row.matches = self._repeat(row, span, label)
            row.measured = statistics.median(row.times)
            row.extrapolated = span != self.size
            row.seconds = row.measured * self.size / span
            if row.extrapolated and row.fit:
                self._fit(row, span)
        except Exception as exc:  # a failing row fails the run, after the others have run
            row.error = f"{type(exc).__name__}: {exc}"
            self.console.print(f"[bold red]ERROR[/] {row.name}: {row.error}")
            self.console.print(traceback.format_exc(), markup=False, highlight=False)
        else:
            where = "" if not row.extrapolated else f"  (≈, measured {row.measured:.3f} s on {corpora.human_size(span)})"
            self.console.log(f"{row.label + ' ' + row.measures:<40} threads={row.threads:<3} {row.seconds:9.4f} s  "
                             f"{row.gbps:8.3f} GB/s  matches={row.matches if row.matches is not None else '-'}{where}")
        self.progress.update(self.current, visible=False)
        self.progress.advance(self.overall)
        return row

    def _fit(self, row: Row, span: int) -> None:
        """Extrapolate as fixed start-up + per-byte cost, from ``span`` and a small size.

        The small size still splits into ``threads`` chunks (the plan gives every chunk
        at least 1 MiB of start positions), so the pool starts there too.
        """
        small = row.fit_small or max(1, row.threads) * (2 << 20)
        if span < 2 * small:
            return
        if row.prepare:
            row.prepare(small)
        times, _ = self._repeat(row, small, f"start-up, {corpora.human_size(small)}")
        t_small = statistics.median(times)
        per_byte = (row.measured - t_small) / (span - small)
        fixed = row.measured - per_byte * span
        if per_byte <= 0 or fixed <= 0:
            return  # noise: keep the plain linear extrapolation
        row.fit_params = {"fixed_seconds": fixed, "seconds_per_byte": per_byte, "small_bytes": small,
                          "small_seconds": t_small}
        row.seconds = fixed + per_byte * self.size


# --------------------------------------------------------------------------- backends

def backend_table(km) -> tuple:
    """``kmpsearch.backends.TABLE``: the project's one list of backends (ladder order)."""
    import kmpsearch.backends

    return kmpsearch.backends.TABLE


def pure_backends(km) -> set[str]:
    """The pure-Python rungs (run on a prefix and extrapolated unless FULL=1)."""
    return {b.name for b in backend_table(km) if not b.native}


def single_threaded(km) -> set[str]:
    """Backends that always search on the calling thread (their threads=all row is skipped)."""
    return {b.name for b in backend_table(km) if b.parallel == "none"}


def resolve_backends(km, wanted: str | None) -> tuple[list[str], dict[str, str]]:
    """(backends to run in ladder order, {unavailable backend: why})."""
    ladder = tuple(b.name for b in backend_table(km))
    available = set(km.available_backends())
    missing: dict[str, str] = {}
    for name in ladder:
        if name not in available:
            try:
                km.get_backend(name)
            except ImportError as exc:
                missing[name] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    order = [n for n in ladder if n in available] + sorted(available - set(ladder))
    if not wanted:
        return order, missing
    chosen = [w.strip() for w in wanted.split(",") if w.strip()]
    bad = [w for w in chosen if w not in available]
    if bad:
        why = "; ".join(f"{b}: {missing.get(b, 'unknown backend')}" for b in bad)
        raise BenchError(f"BACKENDS asks for {', '.join(bad)}, not available here ({why}). "
                         f"Available: {', '.join(order)}")
    return [n for n in order if n in chosen] + [n for n in chosen if n not in order], missing


# --------------------------------------------------------------------------- formatting

def fmt_seconds(s: float) -> str:
    if math.isnan(s):
        return "—"
    if s >= 10:
        return f"{s:.1f}"
    if s >= 1:
        return f"{s:.3f}"
    return f"{s:.{min(7, 3 - math.floor(math.log10(max(s, 1e-9))))}f}"  # 3-4 significant digits


def fmt_ratio(x: float | None) -> str:
    if x is None or math.isnan(x):
        return "—"
    return f"{x:,.0f}×" if x >= 100 else f"{x:.1f}×" if x >= 10 else f"{x:.2f}×"


def save_and_report(out: Path, payload: dict[str, Any], markdown_text: str, draw_chart: Callable[[Path], None],
                    console, failed: list[str], errors: list[str], disagree: str) -> int:
    """Write ``latest.json``, ``latest.md`` and ``latest.png`` into ``out``, print the rows
    that failed (``failed``: results that ``disagree`` -- e.g. "with the reference count" --
    and ``errors``: rows that could not run), and return the exit status (1 if any)."""
    (out / "latest.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    (out / "latest.md").write_text(markdown_text, encoding="utf-8")
    try:
        draw_chart(out / "latest.png")
    except Exception as exc:  # the chart is a convenience: say so, keep the numbers
        errors.append(f"chart: {type(exc).__name__}: {exc}")
    console.print(f"saved {out}/latest.json, latest.md, latest.png")
    if failed:
        console.print(f"[bold red]FAIL: rows disagree {disagree}:[/]")
        for line in failed:
            console.print(f"  [red]{line}[/]", highlight=False)
    if errors:
        console.print("[bold red]FAIL: some rows could not run:[/]")
        for line in errors:
            console.print(f"  [red]{line}[/]", highlight=False)
    if failed or errors:
        print(f"bench: FAILED: {len(failed)} row(s) disagree {disagree}, {len(errors)} error(s)", file=sys.stderr)
        return 1
    return 0
