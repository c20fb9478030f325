"""The command beside GNU grep -F and ripgrep: the same output, flag by flag, on generated
trees and texts (grep's order of a directory's entries is the file system's, kmpsearch's is
by name: recursive outputs are compared as sets of lines, single files byte for byte).

Needs GNU grep and ripgrep (``ci/setup.sh`` installs ripgrep from Debian's packages); every
command runs with ``LC_ALL=C``, where grep's word characters are ASCII letters, digits and
``_`` (as kmpsearch's on ASCII text).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import kmpsearch

PKG_ROOT = str(Path(kmpsearch.__file__).resolve().parent.parent)
GREP = shutil.which("grep")
RG = shutil.which("rg")

pytestmark = pytest.mark.skipif(GREP is None, reason="GNU grep is not installed")


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, LC_ALL="C")
    env["PYTHONPATH"] = os.pathsep.join([PKG_ROOT, *filter(None, [env.get("PYTHONPATH")])])
    for k in ("KMPSEARCH_CLI_CHUNK", "KMPSEARCH_CLI_PROGRESS_MIN"):
        env.pop(k, None)
    env.update(extra)
    return env


def kmp(*args, cwd=None, env=None, input=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kmpsearch", *map(os.fsdecode, args)], capture_output=True,
                          cwd=cwd, env=env or _env(), input=input, timeout=300)


def tool(exe: str, *args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([exe, *map(os.fsdecode, args)], capture_output=True, cwd=cwd, env=_env(), timeout=300)


WORDS = [b"key", b"token", b"api_key", b"pass", b"secret", b"x.y"]  # no word inside another
FILLER = [b" ", b"_", b".", b"-", b"=", b"a", b"Key", b"keys", b"zz", b"\t", b"KEY", b"to"]


def _text(rng: random.Random, lines: int) -> bytes:
    out = []
    for _ in range(lines):
        out.append(b"".join(rng.choice(WORDS + FILLER * 2) for _ in range(rng.randrange(0, 10))))
    data = b"\n".join(out)
    return data + b"\n" if rng.random() < 0.8 else data


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """A generated tree: nested directories, text files of many lines, an empty file, one
    without a final newline, a binary file (a NUL first), a name that is not UTF-8."""
    root = tmp_path_factory.mktemp("tree")
    rng = random.Random(2026)
    for d in ("src", "src/deep", "logs", "logs/old", "docs"):
        (root / d).mkdir(parents=True, exist_ok=True)
    names = ["src/a.py", "src/b.txt", "src/deep/c.py", "logs/app.log", "logs/old/app.1.log", "docs/readme.md",
             "top.txt"]
    for name in names:
        (root / name).write_bytes(_text(rng, rng.randrange(1, 60)))
    (root / "empty.txt").write_bytes(b"")
    (root / "docs" / "nonl.txt").write_bytes(b"key at the end without newline")
    (root / "logs" / "blob.bin").write_bytes(b"\0\1key token\nmore key\n")
    (root / os.fsdecode(b"src/\xff\xfename.txt")).write_bytes(b"a secret here\n")
    return root


FLAGS = ["", "-n", "-b", "-c", "-l", "-L", "-v", "-w", "-x", "-i", "-m2", "-m1 -n", "-h", "-H", "-o", "-o -b",
         "-o -n", "-n -b", "-c -v", "-l -v", "-w -c", "-i -w -n", "-v -n", "-Z -c", "-I -n", "-a -n", "-c -m1",
         "--include=*.py", "--exclude=*.log", "--exclude-dir=deep", "--include=*.txt --exclude-dir=src",
         "--color=always -n", "--color=always -o", "--color=always -w", "-o -w -b"]
PATTERNS = [["-e", "key"], ["-e", "token", "-e", "pass"], ["-e", "api_key", "-e", "secret"], ["-e", "x.y"]]


def _sorted(out: bytes) -> list[bytes]:
    return sorted(out.replace(b"\0", b"<NUL>").splitlines())


@pytest.mark.parametrize("flags", FLAGS)
def test_recursive_output_is_greps(tree, flags):
    # (-v in a binary file: grep also ends lines at NUL bytes there, kmpsearch at newlines only)
    skip = ["--exclude=*.bin"] if "-v" in flags.split() else []
    for pats in PATTERNS:
        args = [*flags.split(), *skip, *pats]
        want = tool(GREP, "-F", "-r", *args, ".", cwd=tree)
        got = kmp("-F", "-r", *args, ".", cwd=tree)
        assert got.returncode == want.returncode, (args, got.stderr)
        assert _sorted(got.stdout) == _sorted(want.stdout), args
        assert got.stderr.replace(b"kmpsearch:", b"grep:") == want.stderr.replace(os.fsencode(GREP), b"grep"), args


@pytest.mark.parametrize("flags", ["-l", "-L", "-c", "-q"])
def test_exit_status_is_greps_when_every_file_or_no_file_matches(tmp_path, flags):
    (tmp_path / "a").write_bytes(b"key\n")
    (tmp_path / "b").write_bytes(b"a key\n")
    for pattern in ("key", "absent"):
        want = tool(GREP, "-F", *flags.split(), pattern, "a", "b", cwd=tmp_path)
        got = kmp("-F", *flags.split(), pattern, "a", "b", cwd=tmp_path)
        assert (got.returncode, got.stdout) == (want.returncode, want.stdout), (flags, pattern)


def test_a_line_far_longer_than_a_read(tmp_path):
    """A 64 MiB line (with shorter ones around it) read 4 KiB at a time: held until it ends
    and joined once (holding it by concatenating each read was quadratic: hours for a 1 GiB
    line), in a big file and on standard input; grep's output."""
    rng = random.Random(5)
    line = bytearray(rng.choice(b"abcxyz ") for _ in range(1 << 16)) * 1024  # 64 MiB
    for at in (0, 4093, 4096 * 7 - 1, 1 << 25, len(line) - 3):  # at and across read boundaries
        line[at:at + 3] = b"key"
    data = b"a key\n" + bytes(line) + b"\nno\nkey\n"
    f = tmp_path / "long.txt"
    f.write_bytes(data)
    small = _env(KMPSEARCH_CLI_CHUNK="4096")
    for flags in ("-c", "-n", "-o -b", "--count-matches"):
        want = tool(GREP, "-F", *flags.split(), "key", f) if flags != "--count-matches" else None
        got = kmp("-F", *flags.split(), "key", f, env=small)
        piped = kmp("-F", *flags.split(), "key", input=data, env=small)
        if want is None:  # every occurrence: rg's --count-matches
            assert got.stdout == piped.stdout == b"%d\n" % data.count(b"key"), flags
            continue
        assert (got.returncode, got.stdout) == (want.returncode, want.stdout), flags
        assert piped.stdout == want.stdout, flags


CONTEXT = ["-A1", "-B2", "-C1 -n", "-A2 -m1", "-m2 -C1", "-v -C1", "-B1 -n -b", "--no-group-separator -A1",
           "--group-separator=XX -B1", "-2", "-A1 -c", "--color=always -C1", "-v -A1 -m2"]


@pytest.mark.parametrize("flags", CONTEXT + FLAGS[:12])
def test_each_file_byte_for_byte(tree, flags):
    """One file at a time (grep's order then is kmpsearch's): the exact output, context and
    separators included, and with tiny reads (every line boundary a read boundary)."""
    files = sorted(p for p in tree.rglob("*") if p.is_file() and ("-v" not in flags.split() or p.suffix != ".bin"))
    for pats in PATTERNS[:3]:
        args = [*flags.split(), *pats]
        want = tool(GREP, "-F", *args, *files)
        got = kmp("-F", *args, *files)
        assert (got.returncode, got.stdout) == (want.returncode, want.stdout), args
        small = kmp("-F", *args, *files, env=_env(KMPSEARCH_CLI_CHUNK="7"))
        assert small.stdout == want.stdout, (args, "tiny reads")


def test_standard_input_is_greps(tree):
    data = b"".join(p.read_bytes() for p in sorted(tree.rglob("*.py")))
    for flags in ("-n", "-c", "-o -b", "-v -n", "-C1 -n", "-w -n", "-H --label=IN -n"):
        args = [*flags.split(), "-e", "key", "-e", "token"]
        want = subprocess.run([GREP, "-F", *args], input=data, capture_output=True, env=_env())
        got = kmp("-F", *args, input=data)
        assert (got.returncode, got.stdout) == (want.returncode, want.stdout), flags
        for chunk in ("1", "5", "64"):
            got = kmp("-F", *args, input=data, env=_env(KMPSEARCH_CLI_CHUNK=chunk))
            assert got.stdout == want.stdout, (flags, chunk)


def test_threads_never_change_the_output(tree):
    for flags in ("-n", "-c", "-l", "--count-matches", "-o -b", "--json"):
        outs = {kmp("-r", "-j", j, *flags.split(), "-e", "key", "-e", "secret", ".", cwd=tree).stdout
                for j in ("1", "2", "8")}
        if flags == "--json":  # elapsed times differ
            outs = {b"\n".join(x for x in o.splitlines() if b'"type":"match"' in x) for o in outs}
        assert len(outs) == 1, flags


@pytest.mark.skipif(RG is None, reason="ripgrep is not installed (ci/setup.sh installs it)")
def test_count_matches_is_ripgreps(tree):
    for pats in PATTERNS:  # words that cannot overlap: ripgrep's non-overlapping count is ours
        want = tool(RG, "-uuu", "-a", "--count-matches", "-F", *pats, ".", cwd=tree)
        got = kmp("-r", "-a", "--count-matches", *pats, ".", cwd=tree)
        assert _sorted(got.stdout) == _sorted(want.stdout), pats


def _json_events(out: bytes) -> list[dict]:
    """The begin/match/context events, and each end's counts (not its timings)."""
    events = []
    for line in out.splitlines():
        obj = json.loads(line)
        if obj["type"] == "end":
            stats = obj["data"]["stats"]
            obj = {"type": "end", "path": obj["data"]["path"], "matches": stats["matches"],
                   "matched_lines": stats["matched_lines"]}
        elif obj["type"] == "summary":
            stats = obj["data"]["stats"]
            obj = {"type": "summary", "matches": stats["matches"], "matched_lines": stats["matched_lines"]}
        events.append(obj)
    return events


@pytest.mark.skipif(RG is None, reason="ripgrep is not installed (ci/setup.sh installs it)")
def test_json_is_ripgreps(tree):
    files = [p for p in sorted(tree.rglob("*")) if p.is_file() and p.suffix != ".bin"]
    for flags in ("", "-C1", "-A2", "-B1"):
        for pats in PATTERNS:
            want = tool(RG, "--json", "--sort=path", "-F", "-uuu", *flags.split(), *pats, *files)
            got = kmp("--json", *flags.split(), *pats, *files)
            assert _json_events(got.stdout) == _json_events(want.stdout), (flags, pats)


def test_non_utf8_names_are_printed_as_they_are(tree):
    got = kmp("-r", "-l", "secret", ".", cwd=tree)
    assert b"./src/\xff\xfename.txt" in got.stdout.splitlines()
    got = kmp("-r", "--json", "secret", ".", cwd=tree)
    paths = [json.loads(line)["data"]["path"] for line in got.stdout.splitlines()[:-1]]
    assert {"bytes": "Li9zcmMv//5uYW1lLnR4dA=="} in paths  # ./src/\xff\xfename.txt, base64


def test_fifty_thousand_tiny_files(tmp_path):
    root = tmp_path / "tiny"
    rng = random.Random(5)
    want = {}
    for d in range(50):
        sub = root / f"d{d:02d}"
        sub.mkdir(parents=True)
        for k in range(1000):
            n = rng.randrange(0, 3)
            (sub / f"f{k:04d}").write_bytes(b"x key\n" * n + b"y\n")
            want[f"d{d:02d}/f{k:04d}"] = n
    got = kmp("-r", "-c", "key", cwd=root)
    assert got.returncode == 0, got.stderr
    counts = dict(line.rsplit(b":", 1) for line in got.stdout.splitlines())
    assert {k.decode(): int(v) for k, v in counts.items()} == want
    assert list(counts) == sorted(counts)  # by path


def test_ctrl_c_in_a_tree_exits_130_and_leaves_nothing(tmp_path):
    root = tmp_path / "many"
    for d in range(20):
        (root / f"d{d}").mkdir(parents=True)
        for k in range(50):
            with open(root / f"d{d}" / f"f{k}", "wb") as f:
                f.truncate(64 << 20)  # sparse: fast to make, slow to search
    proc = subprocess.Popen([sys.executable, "-m", "kmpsearch", "-r", "-c", "needle", str(root)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    time.sleep(2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and b"Traceback" not in err, err[-500:]


OVERLAPPING = [["-e", "key", "-e", "keys"], ["-e", "api_key", "-e", "key"], ["-e", "to", "-e", "token", "-e", "ok"]]


@pytest.mark.skipif(RG is None, reason="ripgrep is not installed (ci/setup.sh installs it)")
def test_leftmost_and_replace_are_ripgreps(tree):
    """Words inside words: --leftmost gives ripgrep's non-overlapping choice (leftmost-first,
    as its alternation), for counts, -o and --replace."""
    for pats in OVERLAPPING:
        for mine, theirs in ((["--count-matches"], ["--count-matches"]), (["-o"], ["-o"]),
                             (["-n", "--replace=<X>"], ["-n", "-r", "<X>"])):
            want = tool(RG, "-uuu", "-F", "-g", "!*.bin", *theirs, *pats, ".", cwd=tree)
            got = kmp("-r", "--leftmost", "--exclude=*.bin", *mine, *pats, ".", cwd=tree)
            assert _sorted(got.stdout) == _sorted(want.stdout), (pats, mine)
