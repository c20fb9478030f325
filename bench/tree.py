"""SCENARIO=tree: ``kmpsearch -r`` over a whole tree beside ripgrep and GNU grep, as processes.

The tree: a generated one (``bench/treegen.py``: 50,000 files, 600 MiB at the default SIZE,
nested like a source tree, a long tail of sizes; SIZE scales the number of files), or the
one given as TREE=/path (WORD: the word, default ``import``). Beside it, a generated tree of
tiny files (50,000 at the default SIZE, in proportion to SIZE otherwise; 1 to 5 lines each).

Each command runs as a process (stdout to a file, never /dev/null: GNU grep stops at the
first match when its output is /dev/null), LC_ALL=C for everyone (grep then reads every file
as bytes, as rg and kmpsearch do). One untimed warm-up run of every command of a group (its
output is the one checked; it also warms the page cache), then REPEATS rounds (at least 3)
running each command once in turn, so a slow moment of this shared machine falls on all of
them; medians of the wall times and of the CPU times (user + sys, ``os.wait4``'s rusage of
the child), and the largest peak RSS (GNU time's, when installed: see ``run_once``). The groups:

* ``count``: ``kmpsearch -r --count-matches WORD`` against ``rg -uuu --count-matches -F``
  and ``grep -r -c -F`` (grep counts matching lines, not matches);
* ``words``: the same with 1,000 words, ``-f words.txt`` (``wordgen.make_words`` with the
  tree's own text as the source: the words of SCENARIO=words, cut from the tree);
* ``lines``: ``kmpsearch -r -n WORD`` against ``rg -uuu -n -F`` and ``grep -r -n -F``;
* ``tiny``: ``kmpsearch -r -c WORD`` against ``grep -r -c -F`` and ``rg -uuu -c -F`` over the
  tiny files.

kmpsearch runs with its default backend and threads, with ``--backend`` for each native
backend here (BACKENDS filters them), and with ``-j 1``.

Checks (a disagreement where the semantics agree fails the run, exit 1):

* an independent count (``wordgen.reference_offsets``: numpy and a dict, no search library)
  of every occurrence of the words in every regular file, per file, and of the lines that
  hold WORD; every kmpsearch count row must give those per-file counts exactly;
* ``rg --count-matches`` counts non-overlapping matches: it must agree file by file when the
  words cannot overlap (``import`` cannot); for the 1,000 words, which can, both are shown
  and rg's may only be lower;
* the ``-n`` listings: the same lines (sorted: the walk orders differ) from every command,
  files that any of them calls binary left out (they print a note instead, each its own);
  their number per file is the reference's, and grep -c's;
* rg is left out where it reads other bytes: files with a UTF-16 byte-order mark, which it
  transcodes to UTF-8 before searching (a Python tree has a few);
* the tiny files: every command's per-file line counts are the reference's.

A kmpsearch backend whose core cannot search a FileBatch yet (probed: the cffi and Cython
cores on some branches) gives error rows, reported, not a failure. Targets (printed, never
asserted): ``--count-matches`` at most 1.0x rg's time with 1 word and 0.5x with 1,000
words, ``-n`` at most 1.2x rg's, the tiny files at most 1.0x grep's.

Results: a table on the terminal and bench/results/latest.{json,md,png}.
"""

from __future__ import annotations

import collections
import math
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus as corpora  # noqa: E402
import treegen  # noqa: E402
import wordgen  # noqa: E402
from harness import fmt_ratio, fmt_seconds, machine_line, save_and_report  # noqa: E402

MIN_REPEATS = 3
DEFAULT_WORD = "import"
N_WORDS = 1000
#: target: kmpsearch's time / the peer's (at most)
TARGETS = {"count": ("rg", 1.0), "words": ("rg", 0.5), "lines": ("rg", 1.2), "tiny": ("grep", 1.0)}
#: the reference reads the files in batches of this many bytes
REFERENCE_BATCH = 64 << 20
GROUP_TITLES = {
    "count": "--count-matches, 1 word",
    "words": f"--count-matches, {N_WORDS:,} words",
    "lines": "-n, 1 word: the lines",
    "tiny": "-c, tiny files",
}
HEADERS = ["search", "command", "threads", "wall (s)", "CPU (s)", "files/s", "peak RSS", "result", "× rg",
           "× grep"]


# --------------------------------------------------------------------------- commands

@dataclass
class Cmd:
    group: str                 # count | words | lines | tiny
    tool: str                  # kmpsearch | rg | grep
    label: str
    argv: list[str]
    threads: str
    counts: str                # matches | leftmost | lines | listing
    backend: str | None = None
    default: bool = False      # kmpsearch as a user runs it (default backend and threads)
    known: str | None = None   # why its error is expected (reported, not a failure)
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)   # peak RSS of each timed run (GNU time: see run_once)
    error: str | None = None
    out_bytes: int = 0
    per_file: dict[bytes, int] | None = None      # counts modes: path -> count (> 0)
    listing: list[bytes] | None = None            # listing mode: the lines
    binary: set[bytes] = field(default_factory=set)
    unparsed: int = 0
    files: int = 0             # files in the tree it searched

    @property
    def wall(self) -> float:
        return statistics.median(self.walls) if self.walls else math.nan

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpus) if self.cpus else math.nan

    @property
    def total(self) -> int | None:
        if self.per_file is not None:
            return sum(self.per_file.values())
        if self.listing is not None:
            return len(self.listing)
        return None


def kmpsearch_command() -> list[str]:
    script = Path(sys.executable).with_name("kmpsearch")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kmpsearch"]


def tool_version(exe: str) -> str:
    try:
        out = subprocess.run([exe, "--version"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             timeout=30).stdout.decode(errors="replace")
    except (OSError, subprocess.SubprocessError):
        return "?"
    first = out.splitlines()[0].strip() if out.strip() else "?"
    return first.replace("grep (GNU grep)", "GNU grep")


def file_batch_problem(km, name: str) -> str | None:
    """Why backend ``name``'s core cannot search a ``FileBatch`` (the command's way with a
    tree's small files), or None when it can (or when that cannot be probed here)."""
    try:
        from kmpsearch._contract import FileBatch, Options

        core = km.get_backend(name).core
    except Exception:
        return None
    with tempfile.TemporaryDirectory(prefix="kmpsearch-probe-") as tmp:
        path = os.path.join(tmp, "probe.txt")
        with open(path, "wb") as f:
            f.write(b"import x\n")
        batch = FileBatch((os.fsencode(path),), 1 << 20)
        try:
            core.compile_pattern(b"import").search(batch, "count", Options())
            core.compile_words([b"import", b"x"], False).search(batch, "count", Options())
        except Exception as exc:
            return f"its core cannot search a FileBatch yet ({type(exc).__name__}: {exc})"
    return None


def plan_commands(group: str, top: str, word: bytes, words_file: str | None, kmp: list[str], km_rows,
                  rg: str | None, grep: str | None) -> list[Cmd]:
    """The commands of one group over ``top``; ``km_rows``: (label suffix, extra args, backend,
    threads shown, default?, known problem) for each kmpsearch row."""
    w = os.fsdecode(word)
    pats = ["-f", words_file] if group == "words" else ["-e", w]
    shown_pat = "-f words.txt" if group == "words" else w
    mode = {"count": "--count-matches", "words": "--count-matches", "lines": "-n", "tiny": "-c"}[group]
    kcounts = {"count": "matches", "words": "matches", "lines": "listing", "tiny": "lines"}[group]
    out = []
    for suffix, extra, backend, threads, default, known in km_rows:
        out.append(Cmd(group, "kmpsearch", f"kmpsearch -r {mode}{suffix} {shown_pat}",
                       kmp + ["--no-progress", "-r", mode, *extra, *pats, top], threads, kcounts,
                       backend=backend, default=default, known=known))
    if rg:
        rcounts = {"count": "leftmost", "words": "leftmost", "lines": "listing", "tiny": "lines"}[group]
        out.append(Cmd(group, "rg", f"rg -uuu {mode} -F {shown_pat}",
                       [rg, "--no-config", "-uuu", mode, "-F", *pats, top], "auto", rcounts))
    if grep:
        gmode = {"count": "-c", "words": "-c", "lines": "-n", "tiny": "-c"}[group]
        gcounts = {"count": "lines", "words": "lines", "lines": "listing", "tiny": "lines"}[group]
        out.append(Cmd(group, "grep", f"grep -r {gmode} -F {shown_pat}" + (" (lines)" if gcounts == "lines" and
                                                                             group != "tiny" else ""),
                       [grep, "-r", gmode, "-F", *pats, top], "1", gcounts))
    return out


def gnu_time() -> str | None:
    """GNU time (Debian's ``time``), which reports its child's peak RSS (``%M``), or None."""
    exe = shutil.which("time") or ("/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None)
    if not exe:
        return None
    try:
        with tempfile.NamedTemporaryFile() as f:
            ok = subprocess.run([exe, "-f", "%M", "-o", f.name, "true"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, timeout=30).returncode == 0
            return exe if ok and f.read().strip().isdigit() else None
    except (OSError, subprocess.SubprocessError):
        return None


def run_once(argv: list[str], out: Path, err: Path, env: dict[str, str],
             timer: str | None = None) -> tuple[float, float, int | None, int]:
    """(wall seconds, user + sys seconds, peak RSS bytes or None, exit status) of one run.

    The CPU time comes from ``os.wait4``'s rusage of the child; the peak RSS does not: on Linux
    a child's ``ru_maxrss`` starts from the resident memory of the process that forked it (the
    forked copy's high-water mark survives exec), so every command forked from this big
    process would report this process's size. With ``timer`` (GNU time), the command is
    ``timer``'s child and ``timer`` -- a small process -- reports its peak (``%M``, from its own
    wait4 of the command); the run's CPU then includes ``timer``'s own, about a millisecond.
    """
    rss_file = out.with_name(out.name + ".rss")
    full = [timer, "-f", "%M", "-o", str(rss_file), "--", *argv] if timer else argv
    with open(out, "wb") as o, open(err, "wb") as e:
        t0 = time.perf_counter()
        proc = subprocess.Popen(full, stdout=o, stderr=e, stdin=subprocess.DEVNULL, env=env)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = code = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    rss = None
    if timer:
        try:  # the last line: "Command exited with non-zero status N" may come first
            rss = int(rss_file.read_text().strip().splitlines()[-1]) * 1024
        except (OSError, ValueError, IndexError):
            rss = None
    return wall, ru.ru_utime + ru.ru_stime, rss, code


# --------------------------------------------------------------------------- outputs

_COUNT_LINE = re.compile(rb"^(.*):(\d+)$")
_LISTING_PATH = re.compile(rb"^(.*?):\d+:")
_BINARY_NOTE = re.compile(rb"^(?:[^:]*(?:grep|kmpsearch|rg): )?(.*): binary file matches(?: \(.*\))?$"
                          rb"|^Binary file (.*) matches$")


def binary_notes(data: bytes, files: set[bytes]) -> set[bytes]:
    """The files a command said were binary (grep and kmpsearch: on stderr; rg: on stdout)."""
    out = set()
    for line in data.splitlines():
        if b"inary file" not in line:
            continue
        m = _BINARY_NOTE.match(line)
        if m:
            path = m.group(1) or m.group(2)
            if path in files:
                out.add(path)
    return out


def parse_output(cmd: Cmd, out: bytes, err: bytes, files: set[bytes]) -> None:
    cmd.out_bytes = len(out)
    cmd.binary = binary_notes(out + b"\n" + err, files)
    if cmd.counts == "listing":
        lines = out.splitlines()
        notes = {ln for ln in lines if b"inary file" in ln and binary_notes(ln, files)}
        cmd.listing = [ln for ln in lines if ln not in notes]
        return
    per_file: dict[bytes, int] = {}
    for line in out.splitlines():
        m = _COUNT_LINE.match(line)
        if not m or m.group(1) not in files:
            cmd.unparsed += 1
            continue
        n = int(m.group(2))
        if n:
            per_file[m.group(1)] = n
    cmd.per_file = per_file


def listing_per_file(lines: list[bytes]) -> collections.Counter:
    c: collections.Counter = collections.Counter()
    for ln in lines:
        m = _LISTING_PATH.match(ln)
        c[m.group(1) if m else b"?"] += 1
    return c


# --------------------------------------------------------------------------- the reference

def walk_files(top: str) -> list[bytes]:
    """Every regular file under ``top`` as the commands print it (``top/sub/name``), sorted;
    symbolic links met on the way are not followed (grep -r, rg and kmpsearch -r skip them)."""
    out: list[bytes] = []
    stack = [os.fsencode(top)]
    while stack:
        d = stack.pop()
        with os.scandir(d) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    stack.append(e.path)
                elif e.is_file(follow_symlinks=False):
                    out.append(e.path)
    out.sort()
    return out


@dataclass
class Reference:
    files: list[bytes]
    word: dict[bytes, int]        # every occurrence of WORD, per file (> 0)
    word_lines: dict[bytes, int]  # lines holding WORD, per file (> 0)
    words: dict[bytes, int]       # every occurrence of the N words, per file (> 0)
    utf16: set[bytes] = field(default_factory=set)  # files that start with a UTF-16 byte-order mark
    seconds: float = 0.0


def reference(files: list[bytes], word: bytes, words: list[bytes] | None, progress=None) -> Reference:
    """Per-file counts of every occurrence (overlaps included) of ``word`` and of ``words``, and
    of the lines holding ``word``, from the files' bytes: batches of files joined by a newline
    (no word holds one, so no match crosses from one file to the next), searched with
    ``wordgen.reference_offsets``, each offset given to its file with ``searchsorted``."""
    import numpy as np

    t0 = time.perf_counter()
    ref = Reference(files, {}, {}, {})
    i = 0
    done = 0
    while i < len(files):
        parts, names = [], []
        size = 0
        while i < len(files) and (not parts or size < REFERENCE_BATCH):
            with open(files[i], "rb") as f:
                data = f.read()
            if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
                ref.utf16.add(files[i])
            parts.append(data)
            names.append(files[i])
            size += len(data) + 1
            i += 1
        buf = b"\n".join(parts) + b"\n"
        starts = np.cumsum([0] + [len(p) + 1 for p in parts[:-1]])
        del parts
        arr = np.frombuffer(buf, dtype=np.uint8)
        newlines = np.flatnonzero(arr == 10)
        for target, ws in ((ref.word, [word]), (ref.words, words)):
            if not ws:
                continue
            offs = np.array(wordgen.reference_offsets(buf, ws), dtype=np.int64)
            where = np.searchsorted(starts, offs, side="right") - 1
            for k, n in zip(*np.unique(where, return_counts=True)):
                target[names[k]] = int(n)
            if target is ref.word and len(offs):
                line = np.unique(np.searchsorted(newlines, offs))  # the newline that ends each line
                lwhere = np.searchsorted(starts, newlines[line], side="right") - 1
                for k, n in zip(*np.unique(lwhere, return_counts=True)):
                    ref.word_lines[names[k]] = int(n)
        done += len(buf)
        if progress:
            progress(i, len(files))
    ref.seconds = time.perf_counter() - t0
    return ref


def can_overlap(words: list[bytes]) -> bool:
    """Whether two occurrences of these words (the same word twice included) can share a byte:
    when they cannot, a non-overlapping count (rg's) finds every occurrence."""
    ws = set(words)
    prefixes = {w[:i] for w in ws for i in range(1, len(w))}
    for w in ws:
        if any(w[i:] in prefixes for i in range(1, len(w))):
            return True
        if any(w[i:j] in ws for i in range(len(w)) for j in range(i + 1, len(w) + 1) if (i, j) != (0, len(w))):
            return True
    return False


def words_from_tree(files: list[bytes], n: int) -> list[bytes]:
    """``n`` words of SCENARIO=words (``wordgen.make_words``) cut from the tree's own text: its
    files in a fixed shuffled order (files with a NUL byte left out), up to ``wordgen.CUT_FROM``
    bytes, joined by newlines."""
    order = list(files)
    random.Random(wordgen.WORDS_SEED).shuffle(order)
    parts, size = [], 0
    for path in order:
        try:
            with open(path, "rb") as f:
                data = f.read(wordgen.CUT_FROM - size)
        except OSError:
            continue
        if b"\0" in data:
            continue
        parts.append(data)
        size += len(data) + 1
        if size >= wordgen.CUT_FROM:
            break
    return wordgen.make_words(n, b"\n".join(parts))


# --------------------------------------------------------------------------- checks

def compare_counts(what: str, got: dict[bytes, int], want: dict[bytes, int], skip: set[bytes] = frozenset(),
                   at_most: bool = False) -> str | None:
    """None if ``got`` equals ``want`` file by file (``at_most``: is nowhere above it), outside
    ``skip``; else what differs."""
    bad = []
    for path in sorted((set(got) | set(want)) - skip):
        g, w = got.get(path, 0), want.get(path, 0)
        if g > w if at_most else g != w:
            bad.append((path, g, w))
    if not bad:
        return None
    shown = "; ".join(f"{os.fsdecode(p)}: {g} vs {w}" for p, g, w in bad[:3])
    return (f"{what}: {len(bad):,} file(s) differ ({sum(g for _, g, _ in bad):,} vs {sum(w for _, _, w in bad):,}), "
            f"e.g. {shown}")


def compare_listings(a: Cmd, b: Cmd, skip: set[bytes]) -> str | None:
    def lines(c: Cmd) -> list[bytes]:
        return sorted(ln for ln in c.listing if (_LISTING_PATH.match(ln) or [None, None])[1] not in skip)

    la, lb = lines(a), lines(b)
    if la == lb:
        return None
    ca, cb = collections.Counter(la), collections.Counter(lb)
    only_a, only_b = list((ca - cb).elements()), list((cb - ca).elements())
    eg = (f"only {a.tool}: {only_a[0][:120]!r}" if only_a else f"only {b.tool}: {only_b[0][:120]!r}")
    return (f"{a.label} vs {b.label}: {len(la):,} vs {len(lb):,} lines ({len(only_a):,} only in the first, "
            f"{len(only_b):,} only in the second), e.g. {eg}")


def check(cmds: list[Cmd], ref: Reference, tiny_ref: dict[bytes, int], word_overlaps: bool,
          words_overlap: bool) -> tuple[list[dict[str, Any]], list[str]]:
    """(every check as {what, ok, detail}, the failures).

    Files left out where the semantics differ: those a command calls binary (it prints a note
    instead of their lines: every listing loses them, as do the line counts), and for rg the
    files with a UTF-16 byte-order mark (rg transcodes them to UTF-8 before searching; grep
    and kmpsearch search their bytes)."""
    checks: list[dict[str, Any]] = []
    failed: list[str] = []

    def add(ok: bool | None, what: str, detail: str = "") -> None:
        checks.append({"what": what, "ok": ok, "detail": detail})
        if ok is False:
            failed.append(f"{what}: {detail}")

    def skip(c: Cmd, base: set[bytes] = frozenset()) -> set[bytes]:
        return set(base) | (ref.utf16 if c.tool == "rg" else set())

    ok_cmds = [c for c in cmds if not c.error]
    by = collections.defaultdict(list)
    for c in ok_cmds:
        by[c.group].append(c)
    binary: set[bytes] = set().union(*(c.binary for c in by.get("lines", [])))
    for c in ok_cmds:
        if c.unparsed:
            add(False, f"{c.label}: output",
                f"{c.unparsed:,} line(s) not of the form PATH:COUNT with a file of the tree")

    for group, want, overlaps in (("count", ref.word, word_overlaps), ("words", ref.words, words_overlap)):
        for c in by.get(group, []):
            if c.counts == "matches":
                diff = compare_counts(shown(c), c.per_file, want)
                add(diff is None, f"{shown(c)}: every occurrence, per file, = the reference",
                    diff or f"{c.total:,} in {len(c.per_file):,} files")
            elif c.counts == "leftmost" and not overlaps:
                diff = compare_counts(c.label, c.per_file, want, skip=skip(c))
                add(diff is None, f"{c.label}: = the reference per file (the words cannot overlap)",
                    diff or f"{c.total:,} in {len(c.per_file):,} files")
            elif c.counts == "leftmost":
                diff = compare_counts(c.label, c.per_file, want, skip=skip(c), at_most=True)
                add(diff is None, f"{c.label}: non-overlapping matches, at most the reference in every file "
                    "(the words can overlap: rg counts fewer)",
                    diff or f"{c.total:,} against every occurrence: {sum(want.values()):,}")
            elif c.counts == "lines" and group == "count" and by.get("lines"):
                diff = compare_counts(c.label, c.per_file, ref.word_lines, skip=skip(c, binary))
                add(diff is None, f"{c.label}: matching lines per file = the reference (binary files aside)",
                    diff or f"{sum(v for k, v in c.per_file.items() if k not in binary):,} lines")
    lines = by.get("lines", [])
    if lines:
        first = next((c for c in lines if c.default), lines[0])
        counted = listing_per_file(first.listing)
        diff = compare_counts(f"{shown(first)} lines per file", counted, ref.word_lines, skip=binary)
        add(diff is None, f"{shown(first)}: lines per file = the reference (binary files aside)",
            diff or f"{len(first.listing):,} lines; {len(binary):,} binary file(s) left out")
        for c in lines:
            if c is not first:
                diff = compare_listings(first, c, skip(c, binary))
                add(diff is None, f"{shown(c)}: the same lines as {shown(first)} (sorted)", diff or "")
    for c in by.get("tiny", []):
        diff = compare_counts(c.label, c.per_file, tiny_ref, skip=skip(c))
        add(diff is None, f"{shown(c)}: matching lines per tiny file = the reference",
            diff or f"{c.total:,} lines in {len(c.per_file):,} files")
    return checks, failed


def tiny_reference(files: list[bytes], word: bytes) -> dict[bytes, int]:
    out = {}
    for path in files:
        with open(path, "rb") as f:
            n = sum(1 for line in f.read().split(b"\n") if word in line)
        if n:
            out[path] = n
    return out


# --------------------------------------------------------------------------- targets

def targets(cmds: list[Cmd], tiny_n: int) -> list[dict[str, Any]]:
    out = []
    texts = {"count": "kmpsearch -r --count-matches, 1 word: at most {x}× rg's time",
             "words": f"kmpsearch -r --count-matches, {N_WORDS:,} words: at most {{x}}× rg's time",
             "lines": "kmpsearch -r -n: at most {x}× rg -n -F's time",
             "tiny": f"kmpsearch -r -c on {tiny_n:,} tiny files: at most {{x}}× grep's time (as fast)"}
    for group, (peer, x) in TARGETS.items():
        mine = next((c for c in cmds if c.group == group and c.default and not c.error), None)
        other = next((c for c in cmds if c.group == group and c.tool == peer and not c.error), None)
        text = texts[group].format(x=x)
        if mine is None or other is None:
            out.append({"group": group, "met": None, "text": text, "detail": "not measured"})
            continue
        ratio = mine.wall / other.wall
        out.append({"group": group, "met": ratio <= x, "text": text, "ratio": ratio,
                    "detail": f"{fmt_seconds(mine.wall)} s vs {fmt_seconds(other.wall)} s: {ratio:.2f}×"})
    return out


# --------------------------------------------------------------------------- output

def human_bytes(n: float | None) -> str:
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return "—"
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(n) >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} B"


def shown(c: Cmd) -> str:
    """The row's command, with the backend a kmpsearch row ran."""
    if c.tool != "kmpsearch" or "--backend" in c.argv:
        return c.label
    return f"{c.label} ({c.backend}{', default' if c.default else ''})"


def result_text(c: Cmd) -> str:
    if c.error:
        return "error (known: see below)" if c.known else "ERROR: " + c.error[:60]
    if c.counts == "listing":
        return f"{c.total:,} lines" + (f", {len(c.binary)} binary" if c.binary else "")
    what = {"matches": "matches", "leftmost": "non-overlapping", "lines": "lines"}[c.counts]
    return f"{c.total:,} {what}"


def cells(cmds: list[Cmd]) -> list[list[str]]:
    rows = []
    peers = {}
    for c in cmds:
        if c.tool in ("rg", "grep") and not c.error:
            peers[(c.group, c.tool)] = c.wall
    last = None
    for c in cmds:
        search = GROUP_TITLES[c.group] if c.group != last else ""
        last = c.group
        if c.error:
            rows.append([search, shown(c), c.threads, "—", "—", "—", "—", result_text(c), "—", "—"])
            continue
        ratio = [fmt_ratio(c.wall / peers[(c.group, t)]) if (c.group, t) in peers else "—" for t in ("rg", "grep")]
        rows.append([search, shown(c), c.threads,
                     fmt_seconds(c.wall), fmt_seconds(c.cpu), f"{c.files / c.wall:,.0f}",
                     human_bytes(max(c.rss) if c.rss else None), result_text(c), *ratio])
    return rows


def markdown(title: str, machine: dict, cmds: list[Cmd], checks, tgts, note_lines: list[str]) -> str:
    lines = [f"# {title}", "", machine_line(machine), "", "| " + " | ".join(HEADERS) + " |",
             "| :--- | :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in cells(cmds):
        lines.append("| " + " | ".join(x.replace("|", "\\|") for x in row) + " |")
    lines += ["", "Targets:", ""]
    marks = {True: "met", False: "NOT met", None: "not measured"}
    lines += [f"- {marks[t['met']]}: {t['text']}: {t['detail']}" for t in tgts]
    lines += ["", "Checks:", ""]
    lines += [f"- {'ok' if c['ok'] else 'FAILED'}: {c['what']}" + (f": {c['detail']}" if c["detail"] else "")
              for c in checks]
    lines += [""] + [f"- {n}" for n in note_lines]
    return "\n".join(lines) + "\n"


def chart(path: Path, title: str, machine: dict, cmds: list[Cmd]) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    good = [c for c in cmds if not c.error]
    if not good:
        return
    colours = {"kmpsearch": "#3a76af", "rg": "#8c8c8c", "grep": "#c9a227"}
    fig, ax = plt.subplots(figsize=(11, 0.34 * len(good) + 1.8))
    ys = list(range(len(good)))[::-1]
    right = max(c.wall for c in good) * 1.15
    ax.barh(ys, [c.wall for c in good], color=[colours[c.tool] for c in good], height=0.72)
    for y, c in zip(ys, good):
        ax.text(c.wall + right * 0.005, y, f"{fmt_seconds(c.wall)} s", va="center", fontsize=7)
    ax.set_xlim(0, right)
    ax.set_yticks(ys)
    ax.set_yticklabels([f"{c.group}: {shown(c)}" for c in good], fontsize=7)
    ax.set_xlabel("wall seconds, median (lower is better)")
    ax.set_title(f"{title}\n{machine['cpu']}, {machine['cores_usable']} cores", fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --------------------------------------------------------------------------- the scenario

def run(args, km, console, backends: list[str], missing: dict[str, str], machine: dict, threads_all: int) -> int:
    from rich import box
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.table import Table

    if not console.is_terminal:
        console.width = max(console.width, 190)
    repeats = max(args.repeats, MIN_REPEATS)
    word = os.fsencode(args.word or DEFAULT_WORD)
    if not word or b"\n" in word:
        console.print("[bold red]bench: WORD must be one non-empty line[/]")
        return 2
    load_before = os.getloadavg()
    rg, grep = shutil.which("rg"), shutil.which("grep")
    unavailable = dict(missing)
    if not rg:
        unavailable["rg"] = "ripgrep is not installed (Debian: apt-get install ripgrep): its rows are left out"
    if not grep:
        unavailable["grep"] = "grep is not installed: its rows are left out"
    versions = {"kmpsearch": getattr(km, "__version__", "?")}
    versions.update({name: tool_version(exe) for name, exe in (("rg", rg), ("grep", grep)) if exe})
    default_backend = km.backends.select().__name__.rsplit(".", 1)[-1]
    native = [b for b in backends if km.backends.info(b).native]
    problems = {b: file_batch_problem(km, b) for b in dict.fromkeys([default_backend, *native])}
    km_rows = [("", [], default_backend, str(threads_all), True, problems.get(default_backend))]
    km_rows += [(f" --backend {b}", ["--backend", b], b, str(threads_all), False, problems.get(b)) for b in native]
    km_rows += [(" -j 1", ["-j", "1"], default_backend, "1", False, problems.get(default_backend))]
    kmp = kmpsearch_command()
    timer = gnu_time()
    if not timer:
        unavailable["time"] = ("GNU time is not installed (Debian: apt-get install time): no peak RSS (a child "
                               "forked from this process reports this process's size as its own)")
    console.print(f"default backend: {default_backend}; --backend rows: {', '.join(native) or 'none'}; "
                  f"compared with: {', '.join(f'{k} {v}' for k, v in versions.items() if k != 'kmpsearch')}")
    for b, why in problems.items():
        if why:
            console.print(f"[yellow]{b}: {escape(why)}: its rows are expected to fail (reported, not a failure)[/]")

    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console)
    cmds: list[Cmd] = []
    env = dict(os.environ, LC_ALL="C")
    with progress, tempfile.TemporaryDirectory(prefix="kmpsearch-bench-tree-") as tmp:
        # ---- the trees
        tiny_n = treegen.tiny_files(args.size_bytes)
        if args.tree:
            top = os.path.normpath(os.path.abspath(args.tree))
            if not os.path.isdir(top):
                progress.stop()
                console.print(f"[bold red]bench: TREE={args.tree}: not a directory[/]")
                return 2
            tree_info: dict[str, Any] = {"kind": "given", "path": top}
        else:
            task = progress.add_task(f"generating the tree ({corpora.human_size(args.size_bytes)})", total=1)
            t0 = time.perf_counter()
            root, tree_info, made = treegen.ensure_tree(
                args.size_bytes, args.seed, progress=lambda d, t: progress.update(task, completed=d, total=t))
            progress.update(task, visible=False)
            console.log(f"tree {root} {'generated' if made else 'reused'} in {time.perf_counter() - t0:.1f} s: "
                        f"{tree_info['files']:,} files, {tree_info['dirs']:,} directories, "
                        f"{human_bytes(tree_info['total_bytes'])}")
            top = str(root)
        task = progress.add_task(f"generating {tiny_n:,} tiny files", total=1)
        t0 = time.perf_counter()
        tiny_root, tiny_info, made = treegen.ensure_tiny(
            tiny_n, args.seed, progress=lambda d, t: progress.update(task, completed=d, total=t))
        progress.update(task, visible=False)
        console.log(f"tiny files {tiny_root} {'generated' if made else 'reused'} in {time.perf_counter() - t0:.1f} s: "
                    f"{tiny_info['files']:,} files, {human_bytes(tiny_info['total_bytes'])}")

        files = walk_files(top)
        if not files:
            progress.stop()
            console.print(f"[bold red]bench: no regular file under {top}[/]")
            return 2
        tiny_files = walk_files(str(tiny_root))
        total_bytes = sum(os.stat(p).st_size for p in files)
        tree_info = dict(tree_info, files=len(files), total_bytes=total_bytes)
        console.log(f"searching {top}: {len(files):,} files, {human_bytes(total_bytes)}; word {word!r}")

        # ---- the words and the reference
        t0 = time.perf_counter()
        words = words_from_tree(files, N_WORDS)
        words_file = wordgen.write_words(words, Path(tmp) / "words.txt")
        kept = corpora.CORPUS_DIR / f"{Path(top).name}-words-{N_WORDS}.txt"
        if not args.tree:
            wordgen.write_words(words, kept)  # beside the tree, to try by hand
        console.log(f"{N_WORDS:,} words cut from the tree's text in {time.perf_counter() - t0:.1f} s "
                    f"(first: {', '.join(w.decode() for w in words[:6])}, …)")
        task = progress.add_task("reference counts (numpy, no search library)", total=len(files))
        ref = reference(files, word, words, progress=lambda d, t: progress.update(task, completed=d))
        progress.update(task, visible=False)
        tiny_ref = tiny_reference(tiny_files, word)
        console.log(f"reference in {ref.seconds:.1f} s: {word.decode(errors='replace')} "
                    f"{sum(ref.word.values()):,} times in {len(ref.word):,} files "
                    f"({sum(ref.word_lines.values()):,} lines); {N_WORDS:,} words {sum(ref.words.values()):,} "
                    f"occurrences; tiny files: {sum(tiny_ref.values()):,} lines")
        word_overlaps, words_overlap = can_overlap([word]), can_overlap(words)

        # ---- the commands
        groups = [("count", top, files), ("words", top, files), ("lines", top, files),
                  ("tiny", str(tiny_root), tiny_files)]
        overall = progress.add_task("commands", total=0)
        current = progress.add_task("", total=1, visible=False)
        batches: list[tuple[list[Cmd], set[bytes]]] = []
        for group, where, fl in groups:
            gc = plan_commands(group, where, word, str(words_file), kmp, km_rows, rg, grep)
            for c in gc:
                c.files = len(fl)
            batches.append((gc, set(fl)))
            cmds += gc
        progress.update(overall, total=len(cmds) * (1 + repeats))
        out_path, err_path = Path(tmp) / "out", Path(tmp) / "err"
        for gc, fset in batches:
            for c in gc:  # the warm-up run: its output is the one checked
                progress.update(current, description=escape(f"{c.group}: {c.label} (warm-up)"), visible=True)
                wall, cpu, rss, code = run_once(c.argv, out_path, err_path, env, timer)
                progress.advance(overall)
                err = err_path.read_bytes()
                if code not in (0, 1):
                    msg = err.decode(errors="replace").strip().splitlines()
                    c.error = f"exit {code}: {msg[-1] if msg else ''}"
                    (console.print(f"[yellow]{escape(shown(c))}: {escape(c.error)} ({escape(c.known)})[/]") if c.known
                     else console.print(f"[bold red]ERROR[/] {escape(shown(c))}: {escape(c.error)}"))
                    progress.advance(overall, repeats)
                    continue
                parse_output(c, out_path.read_bytes(), err, fset)
            for rnd in range(repeats):
                for c in gc:
                    if c.error:
                        continue
                    progress.update(current, description=escape(f"{c.group}: {c.label} (run {rnd + 1}/{repeats})"))
                    wall, cpu, rss, code = run_once(c.argv, out_path, err_path, env, timer)
                    progress.advance(overall)
                    size = out_path.stat().st_size
                    if code not in (0, 1) or size != c.out_bytes:
                        c.error = f"run {rnd + 1}: exit {code}, {size:,} bytes of output (the warm-up: {c.out_bytes:,})"
                        console.print(f"[bold red]ERROR[/] {escape(shown(c))}: {escape(c.error)}")
                        continue
                    c.walls.append(wall)
                    c.cpus.append(cpu)
                    if rss is not None:
                        c.rss.append(rss)
            for c in gc:
                if not c.error:
                    console.log(f"{c.group:6} {shown(c):64} "
                                f"{fmt_seconds(c.wall):>8} s  cpu {fmt_seconds(c.cpu):>7} s  "
                                f"{c.files / c.wall:>9,.0f} files/s  "
                                f"{human_bytes(max(c.rss) if c.rss else None):>9}  {result_text(c)}",
                                markup=False, highlight=False)
        progress.update(current, visible=False)

    load_after = os.getloadavg()
    binary = set().union(*(c.binary for c in cmds if c.group == "lines" and not c.error))
    checks, failed = check(cmds, ref, tiny_ref, word_overlaps, words_overlap)
    tgts = targets(cmds, len(tiny_files))
    errors = [f"{c.group}: {c.label}: {c.error}" for c in cmds if c.error and c.tool == "kmpsearch" and not c.known]
    known = sorted({f"--backend {c.backend}: {c.known}; its rows fail ({c.error.split(':')[0]})" for c in cmds
                    if c.error and c.known})
    peer_errors = [f"{c.group}: {c.label}: {c.error}" for c in cmds if c.error and c.tool != "kmpsearch"]

    what = f"TREE={top}" if args.tree else f"a generated tree ({corpora.human_size(args.size_bytes)}, seed {args.seed})"
    title = f"kmpsearch -r: {what}, {len(files):,} files, {human_bytes(total_bytes)} (scenario tree)"
    note_lines = [
        f"{what}: {len(files):,} files, {total_bytes:,} bytes; tiny files: {len(tiny_files):,} files, "
        f"{tiny_info['total_bytes']:,} bytes. Word {word.decode(errors='replace')!r}; {N_WORDS:,} words "
        f"(-f) cut from the tree's text (bench/wordgen.py).",
        f"Each command a process, LC_ALL=C, stdout to a file; medians of {repeats} warm runs after one warm-up "
        "(rounds: every command of a group once in turn); CPU = user + sys; peak RSS: the largest of the runs "
        "(GNU time's %M: see bench/tree.py run_once). files/s: the tree's files / wall time. × rg, × grep: wall "
        "time against theirs.",
        "grep -c counts matching lines, rg --count-matches non-overlapping matches, kmpsearch --count-matches "
        "every occurrence (overlaps included): their totals differ by design when words can overlap.",
        f"Words that can overlap: {word.decode(errors='replace')!r}: {'yes' if word_overlaps else 'no'}; "
        f"the {N_WORDS:,} words: {'yes' if words_overlap else 'no'}.",
        f"Left out of the comparisons: {len(binary):,} binary file(s) from the listings and line counts (each "
        f"command prints a note instead of their lines); {len(ref.utf16):,} file(s) with a UTF-16 byte-order mark "
        "from rg's (rg transcodes them to UTF-8; grep and kmpsearch search the bytes). "
        f"Reference counts: {ref.seconds:.0f} s.",
        f"threads: kmpsearch's default is every usable CPU ({threads_all}); rg picks its own (auto); grep has one.",
        f"Load average (1, 5, 15 min) before: {', '.join(f'{x:.2f}' for x in load_before)}; after: "
        f"{', '.join(f'{x:.2f}' for x in load_after)}.",
        "Versions: " + "; ".join(f"{k} {v}" for k, v in versions.items()) + ".",
    ]
    if known:
        note_lines.append("Known, not counted as a failure: " + "; ".join(known))
    if peer_errors:
        note_lines.append("Peers that failed here (not counted as a failure): " + "; ".join(peer_errors))
    if unavailable:
        note_lines.append("Not available here: " + "; ".join(f"{k} ({v})" for k, v in unavailable.items()))

    table = Table(title=title, title_justify="left", caption=machine_line(machine), caption_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    for i, h in enumerate(HEADERS):
        table.add_column(h, justify="left" if i in (0, 1, 7) else "right", no_wrap=i in (1, 7))
    for row, c in zip(cells(cmds), cmds):
        style = ("yellow" if c.known else "bold red") if c.error else "dim" if c.tool != "kmpsearch" else None
        table.add_row(*(escape(x) for x in row), style=style)
    console.print(table)
    console.print("targets (printed, never asserted):")
    for t in tgts:
        mark = "[green]met[/]" if t["met"] else "[dim]not measured[/]" if t["met"] is None else "[yellow]not met[/]"
        console.print(f"  {mark}: {escape(t['text'])}: {escape(t['detail'])}", highlight=False)
    console.print("checks:")
    for c in checks:
        mark = "[green]ok[/]" if c["ok"] else "[bold red]FAILED[/]"
        console.print(f"  {mark} {escape(c['what'])}" + (f": {escape(c['detail'])}" if c["detail"] else ""),
                      highlight=False)
    for n in note_lines:
        console.print(f"  • {n}", markup=False, highlight=False)

    args.out.mkdir(parents=True, exist_ok=True)
    payload = {
        "machine": machine,
        "config": {"scenario": "tree", "tree": top, "given": bool(args.tree), "tree_info": tree_info,
                   "tiny": str(tiny_root), "tiny_info": tiny_info, "size": args.size_bytes, "seed": args.seed,
                   "word": word.decode(errors="replace"), "words": N_WORDS,
                   "first_words": [w.decode() for w in words[:10]], "repeats": repeats, "threads_all": threads_all,
                   "default_backend": default_backend, "backends": native, "unavailable": unavailable,
                   "versions": versions, "load_before": load_before, "load_after": load_after,
                   "reference_seconds": ref.seconds},
        "consistent": not failed,
        "errors": errors + failed,
        "targets": tgts,
        "checks": checks,
        "rows": [{
            "group": c.group, "tool": c.tool, "label": c.label, "argv": c.argv, "backend": c.backend,
            "default": c.default, "threads": c.threads, "counts": c.counts, "files": c.files,
            "wall": None if math.isnan(c.wall) else c.wall, "cpu": None if math.isnan(c.cpu) else c.cpu,
            "files_per_second": None if c.error else c.files / c.wall, "peak_rss": max(c.rss) if c.rss else None,
            "walls": c.walls, "cpus": c.cpus, "rss": c.rss, "total": None if c.error else c.total,
            "files_matched": None if c.error or c.per_file is None else len(c.per_file),
            "binary_files": len(c.binary), "output_bytes": c.out_bytes, "error": c.error, "known": c.known,
        } for c in cmds],
    }
    return save_and_report(args.out, payload, markdown(title, machine, cmds, checks, tgts, note_lines),
                           lambda png: chart(png, title, machine, cmds), console, failed, errors,
                           "with the reference or with each other")
