"""SCENARIO=words: N words at once (issue #13), every backend beside the multi-pattern peers.

For each N of WORDS (default 10, 1,000, 10,000 and 100,000; see ``wordgen.py`` for the
words: 4-12 letters and digits, half cut from the corpus, half random, a fixed seed):

* build: each implementation compiles the N words (median of up to 3 builds in this
  process; ``memory_bytes`` for kmpsearch, the library's own figure for a peer), and again
  once in a fresh process that reports its resident-memory growth (a figure every
  implementation has, peers included);
* search, in this process over an mmap of the corpus: every backend's ``WordSet.count``
  (native ones with threads=1 and threads=all, pure-Python rungs on a prefix,
  extrapolated), ``find_all`` for the fastest; the peers ahocorasick_rs (overlapping),
  pyahocorasick (``Automaton.iter``, every match) and Hyperscan (literal database, block
  mode, counted in the match callback), on the whole corpus when a run fits PEER_RUN_BUDGET,
  else on a prefix, extrapolated;
* as processes: ``kmpsearch -c -f words corpus`` beside ``rg --count-matches -F -f`` and
  ``grep -c -F -f`` (LC_ALL=C), on the whole file when a run fits PROCESS_RUN_BUDGET, else
  on a prefix file with the start-up fitted from a second, small run.

Then, unless SEMANTICS=0, the match-semantics rows (``semantics.py``): ``whole_words``,
``matches="leftmost-longest"`` and ``ignore_case="unicode"`` with 1,000 words and
``replace`` with 10, per native backend, beside ahocorasick_rs (leftmost-longest) and
flashtext; their own table, goals and checks.

Every count of every occurrence is checked against ``wordgen.reference_count`` over the
same bytes (numpy and a dict: no string-search library). rg counts non-overlapping leftmost
matches and grep matching lines: those are shown, labelled, never compared.

Also a script: ``python bench/words.py --build IMPL WORDS_FILE`` builds one set in a fresh
process and prints its build time and resident-memory growth as JSON (used by the above).
"""

from __future__ import annotations

import gc
import json
import math
import mmap
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus as corpora  # noqa: E402
import semantics  # noqa: E402
import wordgen  # noqa: E402
from harness import (  # noqa: E402
    MAX_RUNS, BenchError, Row, Runner, fmt_ratio, fmt_seconds, machine_line, pure_backends,
    save_and_report, single_threaded,
)

#: an in-process peer runs on the whole corpus when one run takes at most this (FULL=1: always)
PEER_RUN_BUDGET = 4.0
#: the same for a command run as a process
PROCESS_RUN_BUDGET = 5.0
#: builds quicker than this are repeated (median of BUILD_RUNS)
BUILD_REPEAT_BELOW = 1.0
BUILD_RUNS = 3
#: a fresh-process build is given this long before it is reported as timed out
BUILD_TIMEOUT = 600
DEFAULT_PREFIX = "4MiB"


# --------------------------------------------------------------------------- peers

@dataclass
class Peer:
    """A library that finds many words at once, run in this process."""

    name: str
    label: str
    pip: str
    module: str
    counts: str                                     # "all": overlapping, checked
    build: Callable[[Any, list[bytes]], Any]        # (module, words) -> compiled
    runner: Callable[[Any, memoryview], Callable[[int], int]]   # (compiled, haystack) -> run(span)
    memory: Callable[[Any], int | None] = lambda obj: None
    memory_note: str = ""
    prepare: Callable[[Any, memoryview], Callable[[int], None]] | None = None

    def load(self):
        import importlib

        return importlib.import_module(self.module)


def _ahocorasick_rs_run(ac, hay: memoryview) -> Callable[[int], int]:
    def run(span: int) -> int:
        return len(ac.find_matches_as_indexes(hay[:span], overlapping=True))
    return run


def _pyahocorasick_build(mod, words: list[bytes]):
    if not getattr(mod, "unicode", 1):  # a bytes build: keys are bytes
        keys = words
    else:
        keys = [w.decode("ascii") for w in words]
    automaton = mod.Automaton(mod.STORE_INTS)
    for i, key in enumerate(keys):
        automaton.add_word(key, i)
    automaton.make_automaton()
    return automaton


class _Texts:
    """pyahocorasick (a unicode build) searches str: the span decoded once, outside the timing."""

    def __init__(self, hay: memoryview) -> None:
        self.hay, self.span, self.text = hay, -1, ""

    def get(self, span: int) -> str:
        if span != self.span:
            self.text = ""
            self.text = str(self.hay[:span], "ascii")
            self.span = span
        return self.text


def _pyahocorasick_run(automaton, hay: memoryview) -> Callable[[int], int]:
    texts = _Texts(hay)

    def run(span: int) -> int:
        n = 0
        for _ in automaton.iter(texts.get(span)):
            n += 1
        return n
    run.prepare = texts.get  # type: ignore[attr-defined]
    return run


def _hyperscan_build(hs, words: list[bytes]):
    db = hs.Database(mode=hs.HS_MODE_BLOCK)
    db.compile(expressions=words, ids=list(range(len(words))), elements=len(words), flags=0, literal=True)
    return db


def _hyperscan_run(db, hay: memoryview) -> Callable[[int], int]:
    def run(span: int) -> int:
        found = 0

        def on_match(ident, start, end, flags, context):
            nonlocal found
            found += 1

        db.scan(hay[:span], match_event_handler=on_match)
        return found
    return run


PEERS = (
    Peer("ahocorasick_rs", "ahocorasick_rs (overlapping)", "ahocorasick-rs", "ahocorasick_rs", "all",
         lambda mod, words: mod.BytesAhoCorasick(words), _ahocorasick_rs_run,
         memory_note="no size reported"),
    Peer("pyahocorasick", "pyahocorasick (iter)", "pyahocorasick", "ahocorasick", "all",
         _pyahocorasick_build, _pyahocorasick_run,
         memory=lambda a: a.get_stats().get("total_size"), memory_note="get_stats()['total_size']"),
    Peer("hyperscan", "Hyperscan (literal, block)", "hyperscan", "hyperscan", "all",
         _hyperscan_build, _hyperscan_run, memory=lambda db: db.size(), memory_note="Database.size()"),
)


def versions(peers: dict[str, tuple[Peer, Any]], tools: list["Tool"]) -> dict[str, str]:
    """What was compared with, and its version."""
    from importlib import metadata

    out: dict[str, str] = {}
    for name, (peer, mod) in peers.items():
        try:
            out[name] = metadata.version(peer.pip)
        except metadata.PackageNotFoundError:
            out[name] = getattr(mod, "__version__", "?")
        if name == "hyperscan":
            try:  # the library inside the wheel (vectorscan or Hyperscan)
                db = mod.Database(mode=mod.HS_MODE_BLOCK)
                db.compile(expressions=[b"ab"], ids=[0], elements=1, flags=0, literal=True)
                info = db.info().decode(errors="replace").split(" Features")[0].replace("Version:", "").strip()
                out[name] += f" (libhs {info}: vectorscan on Linux/macOS wheels)"
            except Exception:
                pass
    for tool in tools:
        if tool.name == "kmpsearch-cli":
            continue
        try:
            first = subprocess.run(tool.argv(Path("-"), Path("-"))[:1] + ["--version"], stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, timeout=30).stdout.decode(errors="replace")
            first = first.splitlines()[0].strip() if first else "?"
            out[tool.name] = first.replace("grep (GNU grep)", "GNU grep").replace("ripgrep ", "")
        except (OSError, subprocess.SubprocessError):
            out[tool.name] = "?"
    return out


def load_peers() -> tuple[dict[str, tuple[Peer, Any]], dict[str, str]]:
    """({name: (peer, module)} for the peers that import, {name: why not} for the others)."""
    ok: dict[str, tuple[Peer, Any]] = {}
    missing: dict[str, str] = {}
    for peer in PEERS:
        try:
            ok[peer.name] = (peer, peer.load())
        except Exception as exc:  # ImportError, or a broken wheel
            missing[peer.name] = f"cannot import {peer.module} ({type(exc).__name__}: {exc}); pip install {peer.pip}"
    return ok, missing


# --------------------------------------------------------------------------- commands

@dataclass
class Tool:
    """A command that counts words in a file, run as a process."""

    name: str
    label: str
    counts: str
    argv: Callable[[Path, Path], list[str]]   # (words file, corpus file) -> argv
    threads: int = 1
    env: dict[str, str] | None = None


def kmpsearch_command() -> list[str]:
    script = Path(sys.executable).with_name("kmpsearch")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kmpsearch"]


def load_tools(threads_all: int, backend: str) -> tuple[list[Tool], dict[str, str]]:
    tools: list[Tool] = []
    missing: dict[str, str] = {}
    kmp = kmpsearch_command()
    tools.append(Tool("kmpsearch-cli", f"kmpsearch -c -f (command, {backend})", "all",
                      lambda words, path: kmp + ["--no-progress", "--backend", backend, "-j", str(threads_all),
                                                 "-c", "-f", str(words), str(path)],
                      threads=threads_all))
    rg = shutil.which("rg")
    if rg:
        tools.append(Tool("rg", "rg --count-matches -F -f", "leftmost",
                          lambda words, path: [rg, "--no-config", "--count-matches", "-F", "-f", str(words), str(path)]))
    else:
        missing["rg"] = "ripgrep is not installed (Debian: apt-get install ripgrep)"
    grep = shutil.which("grep")
    if grep:
        tools.append(Tool("grep", "grep -c -F -f (LC_ALL=C)", "lines",
                          lambda words, path: [grep, "-c", "-F", "-f", str(words), str(path)],
                          env=dict(os.environ, LC_ALL="C")))
    else:
        missing["grep"] = "grep is not installed"
    return tools, missing


def _run_tool(tool: Tool, words: Path, path: Path) -> int:
    proc = subprocess.run(tool.argv(words, path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, env=tool.env)
    if proc.returncode not in (0, 1):  # 1: nothing matched (grep's convention, all three)
        raise RuntimeError(f"{tool.name} exited {proc.returncode}: {proc.stderr.decode(errors='replace')[-300:]}")
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else b"0"
    return int(last.rsplit(b":", 1)[-1])  # "PATH:COUNT" (kmpsearch) or "COUNT" (one file: rg, grep)


# --------------------------------------------------------------------------- builds

@dataclass
class Build:
    n: int
    name: str
    label: str
    kind: str                       # "backend" | "peer"
    seconds: float = math.nan       # median in this process
    runs: int = 0
    memory: int | None = None       # as the implementation reports it
    memory_note: str = ""
    fresh_seconds: float | None = None   # one build in a fresh process
    rss: int | None = None               # that process's resident-memory growth
    error: str | None = None
    note: str | None = None
    native: bool = False            # a native kmpsearch backend


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _time_build(make: Callable[[], Any]) -> tuple[float, int, Any]:
    """(median seconds, runs, the last object): quick builds are repeated."""
    times: list[float] = []
    obj = None
    while True:
        obj = None
        gc.collect()
        t0 = time.perf_counter()
        obj = make()
        times.append(time.perf_counter() - t0)
        if len(times) >= BUILD_RUNS or times[-1] >= BUILD_REPEAT_BELOW:
            break
    return statistics.median(times), len(times), obj


def fresh_build(impl: str, words_file: Path) -> dict[str, Any]:
    """Build ``impl`` from ``words_file`` in a fresh interpreter: {seconds, rss} or {error}."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--build", impl, str(words_file)]
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                              timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {BUILD_TIMEOUT} s"}
    if proc.returncode != 0:
        return {"error": proc.stderr.decode(errors="replace").strip().splitlines()[-1:] or f"exit {proc.returncode}"}
    return json.loads(proc.stdout)


def _build_main(impl: str, words_file: str) -> int:
    """``--build IMPL WORDS_FILE``: the child of ``fresh_build``."""
    words = [w for w in Path(words_file).read_bytes().split(b"\n") if w]
    peers = {p.name: p for p in PEERS}
    if impl in peers:
        peer = peers[impl]
        mod = peer.load()
        make = lambda: peer.build(mod, words)  # noqa: E731
    else:
        import kmpsearch

        cls = kmpsearch.get_backend(impl).WordSet
        make = lambda: cls(words)  # noqa: E731
    gc.collect()
    before = _rss_bytes()
    t0 = time.perf_counter()
    obj = make()
    seconds = time.perf_counter() - t0
    gc.collect()
    after = _rss_bytes()
    print(json.dumps({"seconds": seconds, "rss": None if before is None or after is None else after - before}))
    del obj
    return 0


def is_fallback(ws) -> bool:
    """A native backend's word set that runs the pure-Python Aho-Corasick (no native core for
    word sets in this build)."""
    return type(getattr(ws, "_core", None)).__module__ == "kmpsearch._pycore"


# --------------------------------------------------------------------------- the scenario

def words_file_for(n: int, size: int, seed: int) -> Path:
    cut = corpora.human_size(min(size, wordgen.CUT_FROM))
    return corpora.CORPUS_DIR / f"words-{n}-seed{wordgen.WORDS_SEED}-{cut}-{seed}.txt"


def run(args, km, console, backends: list[str], missing: dict[str, str], machine: dict, threads_all: int) -> int:
    from rich import box
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.table import Table

    if not console.is_terminal:  # a log or a pipe: room for the wider words table
        console.width = max(console.width, 180)
    try:
        counts = wordgen.parse_counts(args.words)
    except ValueError as exc:
        console.print(f"[bold red]bench: {exc}[/]")
        return 2
    size = args.size_bytes
    table = {b.name: b for b in km.backends.TABLE}
    pure_names, one_thread = pure_backends(km), single_threaded(km)
    peers, peers_missing = load_peers()
    cli_backend = next((b for b in km.backends.PREFERENCE if b in backends), backends[0])
    tools, tools_missing = load_tools(threads_all, cli_backend)
    unavailable = dict(missing)
    unavailable.update(peers_missing)
    unavailable.update(tools_missing)
    compared = versions(peers, tools)
    console.print(f"words: N = {', '.join(f'{n:,}' for n in counts)}; compared with: "
                  + (", ".join(f"{k} {v}" for k, v in compared.items()) or "nothing"))
    for name, why in {**peers_missing, **tools_missing}.items():
        console.print(f"[yellow]not available: {name}: {why}[/]")

    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console)
    rows: list[Row] = []
    builds: list[Build] = []
    failed: list[str] = []
    notes_fallback: set[str] = set()
    sem: semantics.Semantics | None = None
    with progress:
        task = progress.add_task(f"corpus {corpora.human_size(size)}", total=size)
        t0 = time.perf_counter()
        path = corpora.ensure_corpus(size, args.seed, progress=lambda d, t: progress.update(task, completed=d, total=t))
        progress.update(task, visible=False)
        console.log(f"corpus {path} ready in {time.perf_counter() - t0:.1f} s")
        with open(path, "rb") as f:
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        haystack = memoryview(mm)
        file_cache: dict[int, Path] = {}

        def file_for(span: int) -> Path:
            if span not in file_cache:
                file_cache[span] = path if span == size else corpora.ensure_prefix(path, span)
            return file_cache[span]

        try:
            master = wordgen.make_words(max(counts), haystack[:min(size, wordgen.CUT_FROM)])
            runner = Runner(size, args.repeats, args.full, args.prefix_bytes, progress, console)

            def floor(span: int) -> None:
                if mm.find(b"\xff", 0, span) != -1:
                    raise BenchError("the floor needs a byte absent from the corpus")
            floor_row = Row(name="floor memchr", label="floor: mm.find(b'\\xff')", kind="floor", measures="one pass",
                            threads=1, run=floor, counts="none")
            runner.add_total(1)
            runner.measure(floor_row)  # also brings every page of the corpus into the page cache

            for n in counts:
                words = master[:n]
                words_path = wordgen.write_words(words, words_file_for(n, size, args.seed))
                group_rows, group_builds = _run_group(
                    n, words, words_path, args, km, backends, table, pure_names, one_thread, peers, tools,
                    threads_all, haystack, size, file_for, runner, progress, console, notes_fallback)
                rows += group_rows
                builds += group_builds
                # every count of every occurrence against the reference over the same bytes
                reference: dict[int, int] = {}
                for r in group_rows:
                    if r.error or r.matches is None or r.counts != "all":
                        continue
                    if r.span not in reference:
                        progress.update(runner.current, description=f"N={n:,}: reference count over "
                                        f"{corpora.human_size(r.span)}", visible=True)
                        reference[r.span] = wordgen.reference_count(haystack[:r.span], words)
                    if r.matches != reference[r.span]:
                        r.reference = reference[r.span]
                        failed.append(f"N={n:,}: {r.label} {r.measures} (threads={r.threads}) found "
                                      f"{r.matches:,} in the first {r.span:,} bytes; the reference finds "
                                      f"{reference[r.span]:,}")
                progress.update(runner.current, visible=False)
                console.log(f"N={n:,}: counts checked over {len(reference)} span(s)")
            rows.append(floor_row)
            if args.semantics:
                natives = [b for b in backends if table[b].native]
                sem = semantics.measure(km, natives, threads_all, haystack, runner, progress, console,
                                        PEER_RUN_BUDGET, is_fallback)
                failed += sem.failed
        except BenchError as exc:
            progress.stop()
            console.print(f"[bold red]bench: {exc}[/]")
            return 2
        finally:
            haystack.release()
            mm.close()

    # a kmpsearch row that cannot run fails the run; a broken peer or command is reported, not fatal
    ours = [r for r in rows if r.kind in ("backend", "floor") or r.name.startswith("kmpsearch-cli")]
    errors = [f"N={r.group}: {r.label} {r.measures} (threads={r.threads}): {r.error}" for r in ours if r.error]
    errors += [f"N={b.n}: build {b.label}: {b.error}" for b in builds if b.error and b.kind == "backend"]
    peer_errors = [f"N={r.group}: {r.label}: {r.error}" for r in rows if r.error and r not in ours]
    peer_errors += [f"N={b.n}: build {b.label}: {b.error}" for b in builds if b.error and b.kind != "backend"]
    if sem is not None:
        errors += [f"semantics: {e}" for e in sem.errors]
        peer_errors += [f"semantics: {e}" for e in sem.peer_errors]

    # ---- ratios: × vs ahocorasick_rs (how many times faster), and the floor
    floor_s = floor_row.seconds if not floor_row.error else math.nan
    base = {r.group: r for r in rows if r.backend is None and r.name.startswith("ahocorasick_rs") and not r.error}
    for r in rows:
        if r.error:
            continue
        b = base.get(r.group)
        r.vs_python = b.seconds / r.seconds if b is not None else None  # (the column is "× vs ahocorasick_rs")
        r.vs_floor = r.seconds / floor_s if not math.isnan(floor_s) else None

    targets = check_targets(rows, builds, counts)
    note_lines = notes(args, counts, rows, builds, unavailable, threads_all, notes_fallback, master)
    if compared:
        note_lines.append("Versions: " + "; ".join(f"{k} {v}" for k, v in compared.items()) + ".")
    if peer_errors:
        note_lines.append("Peers or commands that failed here (not counted as a failure of the run): "
                          + "; ".join(peer_errors))

    # ---- output
    search = Table(title=f"kmpsearch: words in {corpora.human_size(size)} (scenario words)", title_justify="left",
                   caption=machine_line(machine), caption_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for i, h in enumerate(SEARCH_HEADERS):
        search.add_column(h, justify="left" if i in (1, 2) else "right", no_wrap=i == 1)
    for cells, r in zip(search_cells(rows), rows):
        style = "bold red" if r.error or r.reference is not None else "dim" if r.kind != "backend" else None
        search.add_row(*cells, style=style)
    console.print(search)
    build_table = Table(title="build: compiling the word set", title_justify="left", box=box.SIMPLE_HEAD,
                        pad_edge=False)
    for i, h in enumerate(BUILD_HEADERS):
        build_table.add_column(h, justify="left" if i == 1 else "right", no_wrap=i == 1)
    for cells, b in zip(build_cells(builds), builds):
        build_table.add_row(*cells, style="dim" if b.kind != "backend" else None)
    console.print(build_table)
    console.print("targets (issue #13):")
    for t in targets:
        console.print(f"  {t['mark']} {t['text']}", markup=False, highlight=False)
    for line in note_lines:
        console.print(f"  • {line}", markup=False, highlight=False)
    if sem is not None:
        semantics.show(console, sem)

    args.out.mkdir(parents=True, exist_ok=True)
    payload = {
        "machine": machine,
        "config": {"size": size, "size_text": corpora.human_size(size), "scenario": "words", "words": counts,
                   "words_seed": wordgen.WORDS_SEED, "word_lengths": [wordgen.MIN_LEN, wordgen.MAX_LEN],
                   "threads_all": threads_all, "backends": backends, "unavailable": unavailable, "compared": compared,
                   "full": args.full, "repeats": args.repeats, "prefix": args.prefix_bytes, "seed": args.seed,
                   "corpus": str(path), "first_words": [w.decode() for w in master[:10]],
                   "kmpsearch": getattr(km, "__version__", None), "kmpsearch_path": str(Path(km.__file__).parent)},
        "consistent": not failed,
        "errors": errors + failed,
        "targets": targets,
        "rows": [{
            "words": r.group, "name": r.name, "label": r.label, "kind": r.kind, "backend": r.backend,
            "pure": r.pure, "measures": r.measures, "threads": r.threads, "counts": r.counts,
            "seconds": None if math.isnan(r.seconds) else r.seconds,
            "gbps": None if math.isnan(r.seconds) else r.gbps, "matches": r.matches, "reference": r.reference,
            "extrapolated": r.extrapolated, "scanned_bytes": r.span,
            "measured_seconds": None if math.isnan(r.measured) else r.measured, "times": r.times,
            "fit": r.fit_params, "vs_ahocorasick_rs": r.vs_python, "vs_floor": r.vs_floor, "note": r.note,
            "error": r.error,
        } for r in rows],
        "builds": [{
            "words": b.n, "name": b.name, "label": b.label, "kind": b.kind,
            "seconds": None if math.isnan(b.seconds) else b.seconds, "runs": b.runs, "memory_bytes": b.memory,
            "memory_note": b.memory_note, "fresh_seconds": b.fresh_seconds, "rss_bytes": b.rss, "error": b.error,
            "note": b.note,
        } for b in builds],
    }
    if sem is not None:
        payload["semantics"] = semantics.payload(sem)
    text = markdown(args, machine, rows, builds, targets, note_lines)
    if sem is not None:
        text += "\n" + "\n".join(semantics.markdown(sem)) + "\n"
    return save_and_report(args.out, payload, text,
                           lambda png: chart(png, args, machine, rows, builds), console, failed, errors,
                           "with the reference count")


def _run_group(n, words, words_path, args, km, backends, table, pure_names, one_thread, peers, tools,
               threads_all, haystack, size, file_for, runner, progress, console, notes_fallback):
    """Builds and rows of one N."""
    rows: list[Row] = []
    builds: list[Build] = []
    compiled: dict[str, Any] = {}
    thread_counts = [1] if threads_all == 1 else [1, threads_all]

    # ---- builds (in this process: the objects the rows search with)
    for name in backends:
        cls = km.get_backend(name).WordSet
        b = Build(n, name, f"kmpsearch {name}", "backend", native=table[name].native)
        progress.update(runner.current, description=f"N={n:,}: building {name}", visible=True)
        try:
            b.seconds, b.runs, compiled[name] = _time_build(lambda: cls(words))
            b.memory = compiled[name].memory_bytes or None
            b.memory_note = "memory_bytes" if b.memory else "memory_bytes: 0 (not measured)"
            if table[name].native and is_fallback(compiled[name]):
                b.note = "pure-Python AC: no native word-set core"
                notes_fallback.add(name)
        except Exception as exc:
            b.error = f"{type(exc).__name__}: {exc}"
        builds.append(b)
    for pname, (peer, mod) in peers.items():
        b = Build(n, pname, peer.label, "peer", memory_note=peer.memory_note)
        progress.update(runner.current, description=f"N={n:,}: building {pname}", visible=True)
        try:
            b.seconds, b.runs, compiled[pname] = _time_build(lambda: peer.build(mod, words))
            b.memory = peer.memory(compiled[pname])
        except Exception as exc:
            b.error = f"{type(exc).__name__}: {exc}"
        builds.append(b)
    console.log(f"N={n:,}: built " + ", ".join(f"{b.name} {fmt_seconds(b.seconds)} s" for b in builds if not b.error))

    # ---- kmpsearch rows
    def backend_row(name: str, threads: int, measures: str, slow: bool) -> Row:
        ws = compiled[name]
        fn = getattr(ws, measures)

        def run(span, fn=fn, threads=threads):
            return fn(haystack[:span], threads=threads)
        # a process pool: a longer prefix, so that its start-up (each worker compiles the set)
        # and its per-byte cost can be told apart
        prefix = args.prefix_bytes * (4 if table[name].parallel == "processes" else 1)
        return Row(name=f"{name} words {measures}", label=f"kmpsearch {name}", kind="backend", measures=measures,
                   threads=threads, run=run, backend=name, scan=table[name].default_scan, pure=slow,
                   span_mode="prefix" if slow else "full", prefix=prefix if slow else None,
                   fit=table[name].parallel == "processes", group=n,
                   note="pure-Python AC" if slow and table[name].native else None)

    ladder: list[Row] = []
    for name in backends:
        if name not in compiled:
            continue
        slow = name in pure_names or is_fallback(compiled[name])
        if name in one_thread:
            counts_t = [1]
        elif slow:
            counts_t = [threads_all]
        else:
            counts_t = thread_counts
        for t in counts_t:
            ladder.append(backend_row(name, t, "count", slow))
    runner.add_total(len(ladder))
    for row in ladder:
        rows.append(runner.measure(row))
        _check_fit(row, rows)
    done = [r for r in rows if not r.error]
    if done:
        fastest = min([r for r in done if not r.pure] or done, key=lambda r: r.seconds)
        extra = backend_row(fastest.backend, fastest.threads, "find_all", fastest.pure)
        runner.add_total(1)
        rows.append(runner.measure(extra))

    # ---- peers, in this process
    for pname, (peer, mod) in peers.items():
        if pname not in compiled:
            continue
        fn = peer.runner(compiled[pname], haystack)
        row = Row(name=f"{pname} words", label=peer.label, kind="peer", measures="count", threads=1, run=fn,
                  span_mode="adaptive", prefix=size, budget=PEER_RUN_BUDGET, counts=peer.counts, group=n,
                  prepare=getattr(fn, "prepare", None))
        runner.add_total(1)
        rows.append(runner.measure(row))
    for pname in list(compiled):
        if pname in peers:
            del compiled[pname]

    # ---- commands, as processes
    for tool in tools:
        def run_tool(span, tool=tool):
            return _run_tool(tool, words_path, file_for(span))
        row = Row(name=f"{tool.name} words", label=tool.label, kind="command", measures="process", threads=tool.threads,
                  run=run_tool, counts=tool.counts, group=n, fit_small=2 << 20, prepare=lambda span: file_for(span))
        runner.add_total(1)
        try:
            span = _process_span(row, size, args.full, runner, progress)
        except Exception as exc:
            row.error = f"{type(exc).__name__}: {exc}"
            row.size = size
            console.print(f"[bold red]ERROR[/] {row.name}: {row.error}")
            runner.progress.advance(runner.overall)
            rows.append(row)
            continue
        if span == 0:  # too slow to run again: its calibration run is the row
            runner.console.log(f"{row.label} {row.measures:<14} threads={row.threads:<3} {row.seconds:9.4f} s  "
                               f"(≈, one run of {row.measured:.1f} s on {corpora.human_size(row.span)})")
            runner.progress.advance(runner.overall)
            rows.append(row)
            continue
        if span < size:
            row.span_mode, row.prefix, row.fit = "prefix", span, True
        rows.append(runner.measure(row))

    # ---- builds in a fresh process: cold build time and resident-memory growth
    compiled.clear()
    gc.collect()
    for b in builds:
        if b.error:
            continue
        progress.update(runner.current, description=f"N={n:,}: building {b.name} in a fresh process", visible=True)
        got = fresh_build(b.name, words_path)
        if "error" in got:
            b.note = ((b.note + "; ") if b.note else "") + f"fresh-process build failed: {got['error']}"
        else:
            b.fresh_seconds, b.rss = got["seconds"], got["rss"]
    progress.update(runner.current, visible=False)
    return rows, builds


def _check_fit(row: Row, rows: list[Row]) -> None:
    """A fitted process-pool row (start-up + per-byte, from two short runs on a busy machine)
    may not claim more than ``threads`` times the one-thread pure-Python speed: such a fit is
    noise, and the row falls back to plain linear extrapolation (which overstates it)."""
    if not row.fit_params or row.error:
        return
    single = [r for r in rows if r.group == row.group and r.pure and r.threads == 1 and r.kind == "backend"
              and not r.error and r is not row]
    if single and row.seconds < single[0].seconds / max(1, row.threads) / 1.25:
        row.fit_params["rejected"] = (f"fitted {row.seconds:.1f} s is faster than {row.threads} x "
                                      f"{single[0].label} ({single[0].seconds:.1f} s)")
        row.seconds = row.measured * row.size / row.span
        row.note = "linear extrapolation: the start-up fit was noise"


def _process_span(row: Row, size: int, full: bool, runner: Runner, progress) -> int:
    """How much of the corpus a command runs on: all of it when a run fits PROCESS_RUN_BUDGET
    (or FULL=1), else a power-of-two MiB prefix that does (start-up fitted by the runner).

    A command that takes longer than the budget on the smallest prefix (2 MiB) is not run
    again: that run becomes the row (one run, extrapolated linearly) and 0 is returned.
    """
    if full:
        return size
    small = min(size, 2 << 20)
    progress.update(runner.current, description=f"{row.name} [calibrating]", visible=True)
    row.prepare(small)
    t0 = time.perf_counter()
    found = row.run(small)
    t_small = time.perf_counter() - t0
    if t_small >= PROCESS_RUN_BUDGET and small < size:
        row.span, row.size, row.times, row.matches = small, size, [t_small], found
        row.measured, row.extrapolated, row.seconds = t_small, True, t_small * size / small
        row.note = "one run"
        return 0
    t_small = min(t_small, timed_once(row.run, small))
    # the second size: 16 MiB, or less when that would take much longer than the budget
    big = min(size, 16 << 20, max(2 * small, int(small * 2 * PROCESS_RUN_BUDGET / max(t_small, 1e-3)) >> 20 << 20))
    if big <= small:
        return size
    row.prepare(big)
    t_big = timed_once(row.run, big)
    per_byte = max((t_big - t_small) / (big - small), 1e-12)
    fixed = max(t_small - per_byte * small, 0.0)
    if fixed + per_byte * size <= 1.5 * PROCESS_RUN_BUDGET:  # (the estimate is rough on a busy machine)
        return size
    span = int((PROCESS_RUN_BUDGET - fixed) / per_byte)
    mib = max(4, 1 << max(0, (span >> 20).bit_length() - 1))  # a power of two MiB, at least 4
    return min(size, mib << 20)


def timed_once(fn: Callable[[int], Any], span: int) -> float:
    t0 = time.perf_counter()
    fn(span)
    return time.perf_counter() - t0


# --------------------------------------------------------------------------- targets

def check_targets(rows: list[Row], builds: list[Build], counts: list[int]) -> list[dict[str, Any]]:
    """The goals of issue #13, read off this run (they are goals: a miss does not fail the run)."""
    ok = [r for r in rows if not r.error and not math.isnan(r.seconds)]

    def find(n, pred) -> Row | None:
        got = [r for r in ok if r.group == n and pred(r)]
        return min(got, key=lambda r: r.seconds) if got else None

    def count_row(n, backend, threads=None):
        return find(n, lambda r: r.backend == backend and r.measures == "count" and not r.pure
                    and (threads is None or r.threads == threads))

    def fallback(n, backend) -> bool:
        return find(n, lambda r: r.backend == backend and r.pure) is not None

    maxt = max((r.threads for r in ok if r.kind == "backend"), default=1)
    out: list[dict[str, Any]] = []

    def add(met: bool | None, text: str) -> None:
        out.append({"met": met, "mark": "✓" if met else "·" if met is None else "✗", "text": text})

    def all_of(results: list[bool | None]) -> bool | None:
        """False if any check failed, else None if any was not measured, else True."""
        if False in results:
            return False
        return None if None in results or not results else True

    for backend, label in (("cffi", "C"), ("rust", "Rust")):
        parts, results = [], []
        for n in counts:
            mine, peer = count_row(n, backend, maxt), find(n, lambda r: r.name.startswith("ahocorasick_rs"))
            if mine is None or peer is None:
                results.append(None)
                parts.append(f"N={n:,}: not measured" + (" (no native word-set core in this build)"
                                                          if fallback(n, backend) else ""))
                continue
            results.append(mine.seconds < peer.seconds)
            parts.append(f"N={n:,}: {fmt_seconds(mine.seconds)} vs {'≈' if peer.extrapolated else ''}"
                         f"{fmt_seconds(peer.seconds)} s")
        add(all_of(results), f"{label} count (threads={maxt}) faster than ahocorasick_rs (overlapping) at every N: "
            + "; ".join(parts))
    if 1000 in counts:
        hs = find(1000, lambda r: r.name.startswith("hyperscan"))
        for backend, label in (("cffi", "C"), ("rust", "Rust")):
            mine = count_row(1000, backend, maxt)
            if mine is None or hs is None:
                add(None, f"{label} count at N=1,000 within 2× of Hyperscan's single-thread time: not measured")
            else:
                add(mine.seconds <= 2 * hs.seconds,
                    f"{label} count at N=1,000 within 2× of Hyperscan's single-thread time: "
                    f"{fmt_seconds(mine.seconds)} s vs {'≈' if hs.extrapolated else ''}{fmt_seconds(hs.seconds)} s "
                    f"({mine.seconds / hs.seconds:.2f}×)")
    big = max(counts)
    for b in builds:  # the native cores' goal (the pure-Python rungs compile in plain Python)
        if b.n == big and b.kind == "backend" and b.native and not b.error and b.note is None and big >= 100_000:
            add(b.seconds < 1.0, f"{b.label}: {big:,} words compile in under 1 s: {fmt_seconds(b.seconds)} s")
    if 1000 in counts:
        cli = find(1000, lambda r: r.name.startswith("kmpsearch-cli"))
        rg = find(1000, lambda r: r.name.startswith("rg "))
        if cli is None or rg is None:
            add(None, "kmpsearch -c -f with 1,000 words faster than rg --count-matches -F -f: not measured")
        else:
            add(cli.seconds < rg.seconds, f"kmpsearch -c -f with 1,000 words faster than rg --count-matches -F -f: "
                f"{'≈' if cli.extrapolated else ''}{fmt_seconds(cli.seconds)} s vs "
                f"{'≈' if rg.extrapolated else ''}{fmt_seconds(rg.seconds)} s")
    parts, results = [], []
    for n in counts:
        for t in sorted({r.threads for r in ok if r.backend == "cffi" and r.group == n}):
            c, cy = count_row(n, "cffi", t), count_row(n, "cython", t)
            if c is None or cy is None:
                continue
            results.append(cy.seconds <= 3 * c.seconds)
            parts.append(f"N={n:,} t={t}: {cy.seconds / c.seconds:.2f}×")
    add(all_of(results), "Cython within 3× of the C core (count, same threads): "
        + ("; ".join(parts) if parts else "not measured"))
    return out


# --------------------------------------------------------------------------- output

SEARCH_HEADERS = ["N", "Implementation", "measures", "threads", "time (s)", "GB/s", "× vs ahocorasick_rs",
                  "× the floor", "matches"]
BUILD_HEADERS = ["N", "Implementation", "build (s)", "memory", "fresh process: build (s)", "RSS growth"]
_COUNTS_SHOWN = {"leftmost": "non-overlapping", "lines": "lines"}


def human_bytes(n: int | None) -> str:
    if n is None:
        return "—"
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(n) >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def search_cells(rows: list[Row]) -> list[list[str]]:
    out = []
    for r in rows:
        n = f"{r.group:,}" if r.group is not None else ""
        label = r.label + (f" [{r.note}]" if r.note else "")
        if r.error:
            out.append([n, label, r.measures, str(r.threads), "ERROR", "—", "—", "—", r.error[:50]])
            continue
        time_s = ("≈" if r.extrapolated else "") + fmt_seconds(r.seconds)
        if r.matches is None:
            matches = "—"
        else:
            matches = f"{r.matches:,}"
            if r.counts in _COUNTS_SHOWN:
                matches += f" ({_COUNTS_SHOWN[r.counts]})"
            if r.extrapolated:
                matches += f" in {corpora.human_size(r.span)}"
        if r.reference is not None:
            matches += f" ≠ {r.reference:,}!"
        out.append([n, label, r.measures, str(r.threads), time_s, f"{r.gbps:.3g}", fmt_ratio(r.vs_python),
                    fmt_ratio(r.vs_floor), matches])
    return out


def build_cells(builds: list[Build]) -> list[list[str]]:
    out = []
    for b in builds:
        label = b.label + (f" [{b.note}]" if b.note else "")
        if b.error:
            out.append([f"{b.n:,}", label, "ERROR", "—", "—", b.error[:50]])
            continue
        memory = human_bytes(b.memory) if b.memory is not None else "—"
        fresh = fmt_seconds(b.fresh_seconds) if b.fresh_seconds is not None else "—"
        out.append([f"{b.n:,}", label, fmt_seconds(b.seconds), memory, fresh, human_bytes(b.rss)])
    return out


def notes(args, counts, rows, builds, unavailable, threads_all, fallback, master) -> list[str]:
    size = corpora.human_size(args.size_bytes)
    out = [f"Scenario `words`: N = {', '.join(f'{n:,}' for n in counts)} distinct words of "
           f"{wordgen.MIN_LEN}-{wordgen.MAX_LEN} ASCII letters and digits (seed {wordgen.WORDS_SEED}; "
           f"even-numbered ones cut from the first {corpora.human_size(min(args.size_bytes, wordgen.CUT_FROM))} "
           f"of the corpus, odd-numbered ones random; each set is the start of the next: "
           f"{', '.join(w.decode() for w in master[:4])}, …) in {size} of random text "
           f"({args.size_bytes:,} bytes). Median of at least {args.repeats} warm runs (quick rows: more, up to "
           f"{MAX_RUNS}); in-process rows search an mmap of the corpus.",
           f"threads: 1, or {threads_all} = every usable CPU. kmpsearch rows: `WordSet(words).count(haystack, "
           "threads=...)` (compiled once, outside the timing), `find_all` for the fastest; every occurrence, "
           "overlapping ones included.",
           "Peers in this process, single-threaded: ahocorasick_rs `BytesAhoCorasick(words)."
           "find_matches_as_indexes(haystack, overlapping=True)` (its only way to get every match: a list); "
           "pyahocorasick `Automaton.iter` over the text decoded to str outside the timing (every match); "
           "Hyperscan (vectorscan wheel) literal database (`compile(..., literal=True)`), block mode, "
           "counted in the match callback (a Python call per match).",
           "Commands run as processes on the corpus file (or a prefix file); their time includes start-up: "
           "kmpsearch (the command's default, overlapping count), rg --count-matches -F -f (counts "
           "non-overlapping leftmost matches: not the same number), grep -c -F -f with LC_ALL=C (counts "
           "matching lines). Only counts of every occurrence are checked against the reference.",
           "Every overlapping count is checked against an independent count over the same bytes (a numpy "
           "first-four-bytes filter, then a dict of words; no string-search library).",
           "× vs ahocorasick_rs: how many times faster than ahocorasick_rs at the same N (above 1: faster). "
           "× the floor: how many times slower than one memchr pass over the same bytes."]
    if any(r.extrapolated for r in rows):
        out.append("≈ = measured on the first bytes of the corpus (size in the matches column) and extrapolated "
                   "linearly to the full size; rows that start processes or a process pool add their start-up "
                   "once (fitted from a second, small run). FULL=1 measures everything on the whole corpus.")
    out.append("build: compiling the N words in this process (median of up to 3); memory: what the implementation "
               "reports (kmpsearch `WordSet.memory_bytes`, pyahocorasick `get_stats()['total_size']`, Hyperscan "
               "`Database.size()`; ahocorasick_rs reports none); fresh process: one build in a new interpreter and "
               "its resident-memory growth (RSS after minus before; the same measure for every implementation).")
    if fallback:
        out.append(f"{', '.join(sorted(fallback))}: this build has no native word-set core, so WordSet runs the "
                   "pure-Python Aho-Corasick there; those rows run on a prefix like the pure-Python rungs.")
    if unavailable:
        out.append("Not available here: " + "; ".join(f"{k} ({v})" for k, v in unavailable.items()))
    return out


def markdown(args, machine, rows, builds, targets, note_lines) -> str:
    lines = [f"# kmpsearch benchmark: {corpora.human_size(args.size_bytes)}, scenario `words`", "",
             machine_line(machine), "", "## Search", "",
             "| " + " | ".join(SEARCH_HEADERS) + " |",
             "| " + " | ".join(["---:", ":---", ":---"] + ["---:"] * (len(SEARCH_HEADERS) - 3)) + " |"]
    for cells in search_cells(rows):
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    lines += ["", "## Build", "", "| " + " | ".join(BUILD_HEADERS) + " |",
              "| " + " | ".join(["---:", ":---"] + ["---:"] * (len(BUILD_HEADERS) - 2)) + " |"]
    for cells in build_cells(builds):
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    lines += ["", "## Targets (issue #13)", ""]
    lines += [f"- {t['mark']} {t['text']}" for t in targets]
    lines += ["", "## Notes", ""]
    lines += [f"- {n}" for n in note_lines]
    return "\n".join(lines) + "\n"


def chart(path: Path, args, machine: dict, rows: list[Row], builds: list[Build]) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(14, 8), gridspec_kw={"width_ratios": [3, 2]}, layout="constrained")
    # one colour per implementation in both panels; line style: what kind of row it is
    palette = list(plt.get_cmap("tab10").colors) + list(plt.get_cmap("Dark2").colors)
    implementations: list[str] = []

    def impl_of(label: str) -> str:
        return label.split(" [")[0]

    for r in rows:
        if r.group is not None and impl_of(r.label) not in implementations:
            implementations.append(impl_of(r.label))
    colour = {name: palette[i % len(palette)] for i, name in enumerate(implementations)}
    series: dict[tuple[str, int], list[Row]] = {}
    for r in rows:
        if r.error or math.isnan(r.seconds) or r.group is None or r.measures == "find_all":
            continue
        series.setdefault((impl_of(r.label), r.threads), []).append(r)
    for (impl, threads), rs in series.items():
        rs.sort(key=lambda r: r.group)
        kind = rs[0].kind
        if kind == "backend":
            style, marker = ("-" if threads > 1 or len([k for k in series if k[0] == impl]) == 1 else "--"), "o"
            label = f"{impl} · threads={threads}"
        else:
            style, marker, label = (":" if kind == "peer" else "-."), ("s" if kind == "peer" else "^"), impl
        c = colour.get(impl, "#444444")
        ax.plot([r.group for r in rs], [r.seconds for r in rs], style, marker=marker, color=c, label=label,
                linewidth=1.8 if kind == "backend" else 1.3, markersize=5)
        hollow = [r for r in rs if r.extrapolated]
        if hollow:
            ax.plot([r.group for r in hollow], [r.seconds for r in hollow], linestyle="", marker=marker,
                    markerfacecolor="white", color=c, markersize=5)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("N words")
    ax.set_ylabel(f"seconds to count in {corpora.human_size(args.size_bytes)} (log, lower is better)")
    ax.set_title("search: solid/dashed kmpsearch (threads=all/1), dotted peers, dash-dot commands;\n"
                 "hollow markers: extrapolated from a prefix", fontsize=9)
    ax.grid(which="major", alpha=0.3)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=3, fontsize=8, frameon=False)

    bseries: dict[str, list[Build]] = {}
    for b in builds:
        if not b.error and not math.isnan(b.seconds):
            bseries.setdefault(impl_of(b.label), []).append(b)
    for key, bs in bseries.items():
        bs.sort(key=lambda b: b.n)
        bx.plot([b.n for b in bs], [max(b.seconds, 1e-6) for b in bs], "-" if bs[0].kind == "backend" else ":",
                marker="o" if bs[0].kind == "backend" else "s", color=colour.get(key, "#444444"), markersize=4)
    bx.axhline(1.0, color="#c0392b", linewidth=0.8)
    bx.set_xscale("log")
    bx.set_yscale("log")
    bx.set_xlabel("N words")
    bx.set_ylabel("build seconds (log)")
    bx.set_title("build (same colours; red line: the 1 s target)", fontsize=9)
    bx.grid(which="major", alpha=0.3)
    fig.suptitle(f"kmpsearch: N words in {corpora.human_size(args.size_bytes)} (scenario words)\n"
                 f"{machine['cpu']}, {machine['cores_usable']} cores, Python {machine['python']}", fontsize=11)
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--build":
        sys.exit(_build_main(sys.argv[2], sys.argv[3]))
    print("usage: python bench/words.py --build IMPL WORDS_FILE (make bench SCENARIO=words runs the scenario)",
          file=sys.stderr)
    sys.exit(2)
