"""SCENARIO=words, the match-semantics rows: what ``whole_words``, ``matches`` and
``ignore_case="unicode"`` cost, and ``replace`` (the match-semantics issue's speed goals).

After the N groups of ``words.py`` (SEMANTICS=0 leaves these rows out), for each native
backend with threads=all, over the whole corpus, medians of REPEATS warm runs taken in turns
(``in_turns``: round after round of one run of each row, so that a busy spell on a shared
machine slows the rows compared alike):

* 1,000 words (``wordgen.semantics_words``: the even-numbered ones are whole words cut from
  the corpus -- a run of letters and digits between whitespace -- so that ``whole_words``
  finds them; each odd-numbered one a prefix of the word before, so that leftmost-longest
  has choices to make): ``count`` of
  ``WordSet(words)`` (the baseline, measured here beside the others), of
  ``WordSet(words, whole_words=True)``, ``WordSet(words, matches="leftmost-longest")`` and
  ``WordSet(words, ignore_case="unicode")``; goal: each within 1.5x of the same core's
  baseline;
* 10 words (the first ten of those): ``WordSet(words).replace(haystack, b"*")`` against
  ``count`` of the same set plus one copy of the corpus (``bytes(haystack)``); goal: within 2x.

Beside them, one thread each (they have no threads): ahocorasick_rs
``BytesAhoCorasick(words, matchkind=MATCHKIND_LEFTMOST_LONGEST).find_matches_as_indexes``
(leftmost-longest; its time against the fastest kmpsearch leftmost-longest row); flashtext
``KeywordProcessor(case_sensitive=True)`` -- whole words, leftmost-longest, pure Python --
``extract_keywords`` (against ``whole_words``) and ``replace_keywords`` with the 10 words
(against ``replace``; it replaces whole words only). flashtext is given the text line by line,
decoded and split outside the timing (``replace_keywords`` builds its result by string
concatenation: quadratic in the length of one call's input). A peer slower than
PEER_RUN_BUDGET a run is measured on a prefix and extrapolated (``≈``).

Every count is checked against an independent reference (``wordgen.reference_matches``:
every occurrence, ASCII letters folded or not, numpy and a dict, no search library; then
``wordgen.whole_matches`` and ``wordgen.leftmost_longest``), and every replaced copy piece
by piece (``wordgen.is_replaced``); a difference fails the run. ``ignore_case="unicode"``
is checked against the ASCII-folded reference: the corpus is ASCII, where the only other
spellings of ASCII letters (the Kelvin sign, the long s) cannot occur.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import corpus as corpora
import harness
import wordgen
from harness import Row, fmt_ratio, fmt_seconds

#: the issue's numbers of words: the semantics rows, and replace
COUNT_WORDS = 1000
REPLACE_WORDS = 10
REPLACEMENT = b"*"
#: (measures, WordSet keywords, the goal: at most this many times the same core's count)
VARIANTS = (
    ("count", {}, None),
    ("whole_words", {"whole_words": True}, 1.5),
    ("leftmost-longest", {"matches": "leftmost-longest"}, 1.5),
    ("ignore_case='unicode'", {"ignore_case": "unicode"}, 1.5),
)
REPLACE_GOAL = 2.0
HEADERS = ["N", "Implementation", "measures", "threads", "time (s)", "GB/s", "×", "× CPU", "× of", "matches"]


@dataclass
class Line:
    """A row of the semantics table: the timed row, and what its × is relative to."""

    row: Row
    n: int
    want: Callable[[int], int] | None = None   # the reference count over the row's span
    against: list[Row] = field(default_factory=list)   # × = time / the sum of their times
    against_label: str = ""
    goal: float | None = None
    ratio: float | None = None
    cpu: list[float] = field(default_factory=list)   # rows timed in turns: CPU seconds of each run
    cpu_ratio: float | None = None


@dataclass
class Semantics:
    lines: list[Line] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)       # counts or copies that differ from the reference
    errors: list[str] = field(default_factory=list)       # kmpsearch rows that could not run
    peer_errors: list[str] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    words: list[bytes] = field(default_factory=list)
    threads: int = 1
    skipped: list[str] = field(default_factory=list)      # native backends without a word-set core


class _Lines:
    """flashtext's input for a span: the text decoded and split into lines once, outside the timing."""

    def __init__(self, hay: memoryview) -> None:
        self.hay, self.span, self.lines = hay, -1, []

    def get(self, span: int) -> list[str]:
        if span != self.span:
            self.lines = []
            self.lines = str(self.hay[:span], "ascii").splitlines(keepends=True)
            self.span = span
        return self.lines


def _versions(mods: dict[str, Any]) -> dict[str, str]:
    from importlib import metadata

    out = {}
    for name, dist in (("ahocorasick_rs", "ahocorasick-rs"), ("flashtext", "flashtext")):
        if name in mods:
            try:
                out[name] = metadata.version(dist)
            except metadata.PackageNotFoundError:
                out[name] = getattr(mods[name], "__version__", "?")
    return out


def load_peers() -> tuple[dict[str, Any], dict[str, str]]:
    """({name: module} of the peers that import, {name: why not})."""
    import importlib

    mods, missing = {}, {}
    for name, pip in (("ahocorasick_rs", "ahocorasick-rs"), ("flashtext", "flashtext")):
        try:
            mods[name] = importlib.import_module(name)
        except Exception as exc:  # ImportError, or a broken wheel
            missing[name] = f"cannot import {name} ({type(exc).__name__}: {exc}); pip install {pip}"
    return mods, missing


def measure(km, backends: list[str], threads: int, haystack: memoryview, runner, progress, console,
            peer_budget: float, is_fallback: Callable[[Any], bool]) -> Semantics:
    """The semantics rows of ``backends`` (native ones) over ``haystack``, timed by ``runner``."""
    size = len(haystack)
    sem = Semantics(threads=threads)
    words = wordgen.semantics_words(COUNT_WORDS, haystack[:min(size, wordgen.CUT_FROM)])
    few = words[:REPLACE_WORDS]
    sem.words = words
    mods, sem.unavailable = load_peers()
    sem.versions = _versions(mods)

    # ---- the reference: every occurrence with ASCII letters folded; the exact ones among them
    progress.update(runner.current, description=f"semantics: reference over {corpora.human_size(size)}",
                    visible=True)
    folded = wordgen.reference_matches(haystack, words, ignore_case=True)
    exact_words, few_words = set(words), set(few)
    exact = [m for m in folded if bytes(haystack[m[0]:m[0] + m[1]]) in exact_words]
    exact_few = [m for m in exact if bytes(haystack[m[0]:m[0] + m[1]]) in few_words]
    progress.update(runner.current, visible=False)

    def inside(matches, span):
        return matches if span == size else [m for m in matches if m[0] + m[1] <= span]

    wants: dict[str, Callable[[int], int]] = {
        "count": lambda span: len(inside(exact, span)),
        "whole_words": lambda span: len(wordgen.whole_matches(haystack, inside(exact, span), span)),
        "leftmost-longest": lambda span: len(wordgen.leftmost_longest(inside(exact, span))),
        "ignore_case='unicode'": lambda span: len(inside(folded, span)),
    }
    console.log(f"semantics: {COUNT_WORDS:,} words ({', '.join(w.decode() for w in words[:4])}, …): "
                f"{len(exact):,} occurrences, {wants['whole_words'](size):,} whole words, "
                f"{len(folded):,} ignoring case")

    def add(line: Line) -> Line:
        runner.add_total(1)
        runner.measure(line.row)
        sem.lines.append(line)
        return line

    def row(name, label, kind, measures, run, n, **kw) -> Row:
        return Row(name=name, label=label, kind=kind, measures=measures, threads=kw.pop("threads", threads),
                   run=run, group=n, counts=kw.pop("counts", "semantics"), **kw)

    def counter(ws):
        def run(span):
            return ws.count(haystack[:span], threads=threads)
        return run

    # ---- kmpsearch, 1,000 words: the plain count and each semantics, timed in turns
    group: list[Line] = []
    for name in backends:
        cls = km.get_backend(name).WordSet
        mine: list[Line] = []
        for measures, options, goal in VARIANTS:
            progress.update(runner.current, description=f"semantics: building {name} {measures}", visible=True)
            try:
                ws = cls(words, **options)
            except Exception as exc:
                sem.errors.append(f"{name} WordSet({COUNT_WORDS:,} words, {options}): {type(exc).__name__}: {exc}")
                continue
            if is_fallback(ws):
                sem.skipped.append(name)
                mine = []
                break
            mine.append(Line(row(f"{name} {measures}", f"kmpsearch {name}", "backend", measures, counter(ws),
                                 COUNT_WORDS, backend=name), COUNT_WORDS, wants[measures], goal=goal))
        for line in mine[1:]:
            if mine[0].row.measures == "count":
                line.against, line.against_label = [mine[0].row], f"{name} count"
        group += mine
    in_turns(runner, group, f"{COUNT_WORDS:,} words")
    sem.lines += group

    # ---- kmpsearch, 10 words: replace against count + one copy, timed in turns
    def copy(span):
        bytes(haystack[:span])
    copy_line = Line(row("copy", "one copy: bytes(haystack)", "floor", "copy", copy, REPLACE_WORDS,
                         threads=1, counts="none"), REPLACE_WORDS)
    group = [copy_line]
    sets: dict[str, Any] = {}
    for name in backends:
        if name in sem.skipped:
            continue
        try:
            ws = sets[name] = km.get_backend(name).WordSet(few)
        except Exception as exc:
            sem.errors.append(f"{name} WordSet({REPLACE_WORDS} words): {type(exc).__name__}: {exc}")
            continue

        def replace(span, ws=ws):
            ws.replace(haystack[:span], REPLACEMENT, threads=threads)
        base = Line(row(f"{name} count {REPLACE_WORDS}", f"kmpsearch {name}", "backend", "count", counter(ws),
                        REPLACE_WORDS, backend=name), REPLACE_WORDS, lambda span: len(inside(exact_few, span)))
        group += [base, Line(row(f"{name} replace {REPLACE_WORDS}", f"kmpsearch {name}", "backend", "replace",
                                 replace, REPLACE_WORDS, backend=name), REPLACE_WORDS,
                             against=[base.row, copy_line.row], against_label=f"{name} count + copy",
                             goal=REPLACE_GOAL)]
    in_turns(runner, group, f"{REPLACE_WORDS} words")
    sem.lines += group
    replaced = wordgen.leftmost_longest(exact_few)
    for line in group:
        r = line.row
        if r.measures != "replace" or r.error:
            continue
        # the copy, checked once (untimed)
        progress.update(runner.current, description=f"semantics: checking {r.backend}'s replaced copy", visible=True)
        out = sets[r.backend].replace(haystack, REPLACEMENT, threads=threads)
        r.matches = out.count(REPLACEMENT)  # (the corpus holds none)
        if not wordgen.is_replaced(out, haystack, replaced, REPLACEMENT):
            r.reference, r.note = len(replaced), "the copy differs from the reference"
            sem.failed.append(f"{r.backend}: replace of {REPLACE_WORDS} words is not the corpus with its "
                              f"{len(replaced):,} leftmost-longest matches replaced ({r.matches:,} replaced)")
        del out
    progress.update(runner.current, visible=False)
    sets.clear()
    gc.collect()
    best: dict[str, Line] = {}   # measures -> the fastest kmpsearch row
    for line in sem.lines:
        if line.row.kind == "backend" and line.n == (REPLACE_WORDS if line.row.measures == "replace" else COUNT_WORDS):
            _fastest(best, line.row.measures, line)

    # ---- peers, one thread each
    if "ahocorasick_rs" in mods:
        mod = mods["ahocorasick_rs"]
        try:
            ac = mod.BytesAhoCorasick(words, matchkind=mod.MATCHKIND_LEFTMOST_LONGEST)

            def ac_run(span, ac=ac):
                return len(ac.find_matches_as_indexes(haystack[:span]))
            r = row("ahocorasick_rs leftmost-longest", "ahocorasick_rs (leftmost-longest)", "peer", "leftmost-longest",
                    ac_run, COUNT_WORDS, threads=1, span_mode="adaptive", prefix=size, budget=peer_budget)
            _peer(add(Line(r, COUNT_WORDS, wants["leftmost-longest"])), best, "leftmost-longest")
        except Exception as exc:
            sem.peer_errors.append(f"ahocorasick_rs: {type(exc).__name__}: {exc}")
    if "flashtext" in mods:
        mod = mods["flashtext"]
        texts = _Lines(haystack)

        def processor(ws: list[bytes], clean: str | None):
            kp = mod.KeywordProcessor(case_sensitive=True)
            for w in ws:
                kp.add_keyword(w.decode("ascii"), clean)  # clean None: the keyword itself
            return kp

        try:
            kp = processor(words, None)

            def extract(span, kp=kp):
                return sum(len(kp.extract_keywords(line)) for line in texts.get(span))
            r = row("flashtext extract_keywords", "flashtext extract_keywords (by line)", "peer", "whole_words",
                    extract, COUNT_WORDS, threads=1, span_mode="adaptive", prefix=size, budget=peer_budget,
                    prepare=texts.get)
            _peer(add(Line(r, COUNT_WORDS, wants["whole_words"])), best, "whole_words")
            kp10 = processor(few, REPLACEMENT.decode())

            def replace_keywords(span, kp=kp10):
                for line in texts.get(span):
                    kp.replace_keywords(line)
            r = row("flashtext replace_keywords", "flashtext replace_keywords (by line)", "peer", "replace",
                    replace_keywords, REPLACE_WORDS, threads=1, span_mode="adaptive", prefix=size,
                    budget=peer_budget, prepare=texts.get)
            _peer(add(Line(r, REPLACE_WORDS)), best, "replace")
            if not r.error:  # whole words only: the copy it should make, checked once (untimed)
                want = wordgen.whole_matches(haystack, inside(exact_few, r.span), r.span)
                out = "".join([kp10.replace_keywords(t) for t in texts.get(r.span)]).encode("ascii")
                r.matches = out.count(REPLACEMENT)
                if not wordgen.is_replaced(out, haystack[:r.span], want, REPLACEMENT):
                    r.reference, r.note = len(want), "the copy differs from the reference"
                    sem.failed.append(f"flashtext: replace_keywords over {corpora.human_size(r.span)} is not the text "
                                      f"with its {len(want):,} whole-word matches replaced")
                del out
            texts.span, texts.lines = -1, []
        except Exception as exc:
            sem.peer_errors.append(f"flashtext: {type(exc).__name__}: {exc}")

    # ---- ratios and checks
    cpu_of = {id(line.row): statistics.median(line.cpu) for line in sem.lines if line.cpu}
    for line in sem.lines:
        r = line.row
        if r.error:
            (sem.errors if r.kind == "backend" else sem.peer_errors).append(f"{r.label} {r.measures}: {r.error}")
            continue
        if line.against and not any(a.error for a in line.against):
            line.ratio = r.seconds / sum(a.seconds for a in line.against)
            cpu = [cpu_of.get(id(a)) for a in line.against]
            if line.cpu and None not in cpu:
                line.cpu_ratio = statistics.median(line.cpu) / sum(cpu)
        if line.want is not None and r.matches is not None:
            want = line.want(r.span)
            if r.matches != want:
                r.reference = want
                sem.failed.append(f"N={line.n:,}: {r.label} {r.measures} found {r.matches:,} in the first "
                                  f"{r.span:,} bytes; the reference finds {want:,}")
    return sem


def in_turns(runner, lines: list[Line], what: str) -> None:
    """Time the rows of ``lines`` over the whole corpus in turns: a warm-up run of each, then
    rounds of one run of every row (at least REPEATS rounds; more, up to MAX_RUNS, while a
    round is quick). On a shared machine a busy spell then slows every row of its round
    alike: the ratios between the rows hold better than when each row's runs come one after
    the other. Each run's CPU time (``time.process_time``: every thread of this process) is
    kept beside its wall time: what the run cost whatever else the machine was doing."""
    size, progress = runner.size, runner.progress
    runner.add_total(len(lines))
    live: list[Line] = []
    warm = 0.0
    for line in lines:
        r = line.row
        r.span, r.size = size, size
        progress.update(runner.current, description=f"semantics, {what}: {r.label} {r.measures} [warm-up]",
                        visible=True)
        try:
            t, _, r.matches = _timed(r.run, size)
            warm += t
            live.append(line)
        except Exception as exc:
            r.error = f"{type(exc).__name__}: {exc}"
            runner.console.print(f"[bold red]ERROR[/] {r.name}: {r.error}")
    rounds = max(runner.repeats, min(harness.MAX_RUNS, int(harness.SHORT_ROW_SECONDS * len(live) / max(warm, 1e-6))))
    progress.update(runner.current, total=rounds, completed=0)
    for i in range(rounds):
        progress.update(runner.current, description=f"semantics, {what}: round {i + 1}/{rounds} of {len(live)} rows",
                        completed=i)
        for line in list(live):
            r = line.row
            try:
                t, cpu, again = _timed(r.run, size)
                if again != r.matches:
                    raise AssertionError(f"{again} matches in one run, {r.matches} in another")
                r.times.append(t)
                line.cpu.append(cpu)
            except Exception as exc:
                r.error = f"{type(exc).__name__}: {exc}"
                runner.console.print(f"[bold red]ERROR[/] {r.name}: {r.error}")
                live.remove(line)
    for line in lines:
        r = line.row
        if not r.error:
            r.measured = r.seconds = statistics.median(r.times)
            runner.console.log(f"{r.label + ' ' + r.measures:<40} threads={r.threads:<3} {r.seconds:9.4f} s  "
                               f"{r.gbps:8.3f} GB/s  matches={r.matches if r.matches is not None else '-'}  "
                               f"(in turns, {len(r.times)} runs; CPU {statistics.median(line.cpu):.4f} s)")
        progress.advance(runner.overall)
    progress.update(runner.current, visible=False)


def _timed(fn: Callable[[int], Any], span: int) -> tuple[float, float, int | None]:
    """(wall seconds, CPU seconds, the count) of one run."""
    gc.collect()
    c0, t0 = time.process_time(), time.perf_counter()
    result = fn(span)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return wall, cpu, harness.result_count(result)


def _fastest(best: dict[str, Line], measures: str, line: Line) -> None:
    if not line.row.error and (measures not in best or line.row.seconds < best[measures].row.seconds):
        best[measures] = line


def _peer(line: Line, best: dict[str, Line], measures: str) -> Line:
    """A peer's × is against the fastest kmpsearch row that measures the same."""
    if measures in best:
        line.against, line.against_label = [best[measures].row], f"{best[measures].row.backend} {measures}"
    return line


# --------------------------------------------------------------------------- output

def cells(sem: Semantics) -> list[list[str]]:
    out = []
    for line in sem.lines:
        r = line.row
        label = r.label + (f" [{r.note}]" if r.note else "")
        if r.error:
            out.append([f"{line.n:,}", label, r.measures, str(r.threads), "ERROR", "—", "—", "—", "—", r.error[:50]])
            continue
        matches = "—" if r.matches is None else f"{r.matches:,}"
        if r.matches is not None and r.extrapolated:
            matches += f" in {corpora.human_size(r.span)}"
        if r.reference is not None:
            matches += f" ≠ {r.reference:,}!"
        out.append([f"{line.n:,}", label, r.measures, str(r.threads),
                    ("≈" if r.extrapolated else "") + fmt_seconds(r.seconds), f"{r.gbps:.3g}",
                    fmt_ratio(line.ratio), fmt_ratio(line.cpu_ratio), line.against_label if line.ratio is not None
                    else "", matches])
    return out


def targets(sem: Semantics) -> list[dict[str, Any]]:
    """The issue's speed goals read off this run (goals: a miss does not fail the run)."""
    out = []
    goals = [(measures, goal) for measures, _, goal in VARIANTS if goal] + [("replace", REPLACE_GOAL)]
    for measures, goal in goals:
        got = [line for line in sem.lines if line.row.kind == "backend" and line.row.measures == measures]
        parts = [f"{line.row.backend} " + (f"{fmt_ratio(line.ratio)} (CPU {fmt_ratio(line.cpu_ratio)})"
                                           if line.ratio is not None else "not measured") for line in got]
        if not got or any(line.ratio is None for line in got):
            met = None
        else:
            met = all(line.ratio <= goal for line in got)
        what = (f"replace with {REPLACE_WORDS} words within {goal:g}× of count + one copy"
                if measures == "replace" else
                f"{measures} ({COUNT_WORDS:,} words) within {goal:g}× of the same core's count")
        out.append({"met": met, "mark": "✓" if met else "·" if met is None else "✗",
                    "text": f"{what} (threads={sem.threads}): " + ("; ".join(parts) or "not measured")})
    return out


def notes(sem: Semantics) -> list[str]:
    words = ", ".join(w.decode() for w in sem.words[:4])
    out = [f"Match semantics: {COUNT_WORDS:,} words ({words}, …; `wordgen.semantics_words`: the "
           "even-numbered ones whole words cut from the corpus, each odd-numbered one a prefix of the word "
           "before, so that leftmost-longest has choices to make) and their first "
           f"{REPLACE_WORDS}; kmpsearch with threads={sem.threads} over the whole corpus, each WordSet compiled "
           "outside the timing; the kmpsearch rows of one N (and the copy) timed in turns: a warm-up of each, then "
           "rounds of one run of every row. ×: the row's median time over that of the row(s) named in × of (the "
           "sum for count + copy); × CPU: the same with CPU time (every thread of the process), what a run cost "
           "whatever else ran on the machine. replace's replacement is b'*'.",
           "ahocorasick_rs: `BytesAhoCorasick(words, matchkind=MATCHKIND_LEFTMOST_LONGEST)."
           "find_matches_as_indexes(haystack)`, one thread. flashtext: `KeywordProcessor(case_sensitive=True)` "
           "(whole words, leftmost-longest: the same matches as whole_words here, where whole words cannot "
           "overlap), given the text line by line (decoded and split outside the timing; `replace_keywords` is "
           "quadratic in the length of one call's input), one thread, pure Python; its replace replaces whole "
           "words only (fewer than kmpsearch's replace).",
           "Every count is checked against an independent reference (every occurrence, ASCII letters folded or "
           "not; then whole words and the leftmost-longest choice); each replaced copy piece by piece. "
           "ignore_case='unicode' is checked against the ASCII-folded count: the corpus is ASCII."]
    if sem.skipped:
        out.append(f"{', '.join(sem.skipped)}: no native word-set core in this build; no semantics rows.")
    if sem.unavailable:
        out.append("Not available here: " + "; ".join(f"{k} ({v})" for k, v in sem.unavailable.items()))
    if sem.versions:
        out.append("Versions: " + "; ".join(f"{k} {v}" for k, v in sem.versions.items()) + ".")
    return out


def markdown(sem: Semantics) -> list[str]:
    lines = ["## Match semantics", "", "| " + " | ".join(HEADERS) + " |",
             "| " + " | ".join(["---:", ":---", ":---"] + ["---:"] * 5 + [":---", "---:"]) + " |"]
    for c in cells(sem):
        lines.append("| " + " | ".join(x.replace("|", "\\|") for x in c) + " |")
    lines += ["", "### Targets (match semantics)", ""]
    lines += [f"- {t['mark']} {t['text']}" for t in targets(sem)]
    lines += [""] + [f"- {n}" for n in notes(sem)]
    return lines


def show(console, sem: Semantics) -> None:
    from rich import box
    from rich.table import Table

    table = Table(title="match semantics", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for i, h in enumerate(HEADERS):
        table.add_column(h, justify="left" if i in (1, 2, 8) else "right", no_wrap=i == 1)
    for c, line in zip(cells(sem), sem.lines):
        r = line.row
        table.add_row(*c, style="bold red" if r.error or r.reference is not None
                      else "dim" if r.kind != "backend" else None)
    console.print(table)
    console.print("targets (match semantics):")
    for t in targets(sem):
        console.print(f"  {t['mark']} {t['text']}", markup=False, highlight=False)
    for n in notes(sem):
        console.print(f"  • {n}", markup=False, highlight=False)


def payload(sem: Semantics) -> dict[str, Any]:
    return {
        "words": COUNT_WORDS, "replace_words": REPLACE_WORDS, "threads": sem.threads,
        "first_words": [w.decode() for w in sem.words[:10]], "versions": sem.versions,
        "unavailable": sem.unavailable, "targets": targets(sem),
        "rows": [{
            "words": line.n, "name": line.row.name, "label": line.row.label, "kind": line.row.kind,
            "backend": line.row.backend, "measures": line.row.measures, "threads": line.row.threads,
            "seconds": None if math.isnan(line.row.seconds) else line.row.seconds, "matches": line.row.matches,
            "reference": line.row.reference, "extrapolated": line.row.extrapolated,
            "scanned_bytes": line.row.span, "times": line.row.times, "ratio": line.ratio,
            "cpu_times": line.cpu, "cpu_ratio": line.cpu_ratio,
            "ratio_of": line.against_label or None, "goal": line.goal, "error": line.row.error,
        } for line in sem.lines],
    }
