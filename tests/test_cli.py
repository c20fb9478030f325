"""The ``kmpsearch`` command, run in a subprocess: output, stderr and exit status.

Each test runs ``python -m kmpsearch`` with the interpreter running the tests, with
PYTHONPATH pointing at the kmpsearch package the tests imported (the source tree or an
installed copy).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

import kmpsearch
from conftest import require_extra
from kmpsearch.backends import TABLE

PKG_ROOT = str(Path(kmpsearch.__file__).resolve().parent.parent)
STDIN = "(standard input)"
PY_BACKENDS = tuple(row.name for row in TABLE if not row.native)  # need no build


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([PKG_ROOT, *filter(None, [env.get("PYTHONPATH")])])
    for k in ("KMPSEARCH_CLI_CHUNK", "KMPSEARCH_CLI_PROGRESS_MIN"):
        env.pop(k, None)
    env.update(extra)
    return env


def run(*args, input: bytes | None = b"", env: dict[str, str] | None = None, cwd=None,
        timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python -m kmpsearch ARGS``; stdout and stderr as bytes."""
    return subprocess.run([sys.executable, "-m", "kmpsearch", *map(os.fsdecode, args)], input=input,
                          capture_output=True, env=env or _env(), cwd=cwd, timeout=timeout)


def lines(cp: subprocess.CompletedProcess) -> list[bytes]:
    return cp.stdout.splitlines()


def ref_offsets(data: bytes, word: bytes) -> list[int]:
    out, i = [], data.find(word)
    while i != -1:
        out.append(i)
        i = data.find(word, i + 1)
    return out


def ref_lines(label: bytes, data: bytes, words: list[bytes]) -> list[bytes]:
    """``-o -b``: every match (overlapping ones too) as LABEL:OFFSET:MATCH, by offset, then
    word order."""
    pairs = sorted((o, j) for j, w in enumerate(words) for o in ref_offsets(data, w))
    return [b"%s:%d:%s" % (label, o, words[j]) for o, j in pairs]


def ref_grep(label: bytes | None, data: bytes, words: list[bytes]) -> list[bytes]:
    """grep -F's default output: each line holding a match, once, with ``LABEL:``."""
    out = []
    for line in data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n"):
        if any(w in line for w in words):
            out.append((label + b":" if label is not None else b"") + line)
    return out


@pytest.fixture
def files(tmp_path):
    a = tmp_path / "a.txt"
    a.write_bytes(b"abracadabra\nno match here\nabra")
    b = tmp_path / "b.txt"
    b.write_bytes(b"nothing")
    c = tmp_path / "c.txt"
    c.write_bytes(b"cadabra abracadabra")
    return a, b, c


# --------------------------------------------------------------------------- one word

def test_single_word_lines(files):
    a, b, c = files
    cp = run("abra", a, b, c)
    assert cp.returncode == 0, cp.stderr
    assert cp.stderr == b""
    assert lines(cp) == [bytes(a) + b":abracadabra", bytes(a) + b":abra", bytes(c) + b":cadabra abracadabra"]
    cp = run("-o", "-b", "abra", a, b, c)  # every match, with its byte offset
    assert lines(cp) == [b"%s:%d:abra" % (bytes(a), o) for o in (0, 7, 26)] + \
                        [b"%s:%d:abra" % (bytes(c), o) for o in (3, 8, 15)]
    cp = run("-n", "abra", a)  # one file: no file name, as grep
    assert lines(cp) == [b"1:abracadabra", b"3:abra"]


def test_overlapping_matches(tmp_path):
    p = tmp_path / "x"
    p.write_bytes(b"aaaaa")
    cp = run("-o", "-b", "aa", p)
    assert cp.returncode == 0
    assert lines(cp) == [b"%d:aa" % o for o in range(4)]  # -o: overlapping matches included
    cp = run("--count-matches", "aa", p)
    assert lines(cp) == [b"4"]


def test_no_match_exit_1(files):
    a, b, c = files
    cp = run("zebra", a, b)
    assert (cp.returncode, cp.stdout, cp.stderr) == (1, b"", b"")


def test_utf8_pattern_and_byte_offsets(tmp_path):
    p = tmp_path / "u"
    data = "ünïcödé cö".encode()
    p.write_bytes(data)
    cp = run("-o", "-b", "cö", p)
    assert cp.returncode == 0
    assert lines(cp) == [b"%d:%s" % (o, "cö".encode()) for o in ref_offsets(data, "cö".encode())]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX argv bytes")
def test_non_utf8_pattern_bytes_from_argv(tmp_path):
    p = tmp_path / "bin"
    p.write_bytes(b"x\xff\xfey\xff\xfe")
    cp = subprocess.run([os.fsencode(sys.executable), b"-m", b"kmpsearch", b"\xff\xfe", bytes(p)],
                        capture_output=True, env=_env())
    assert cp.returncode == 0, cp.stderr
    assert lines(cp) == [b"x\xff\xfey\xff\xfe"]  # raw bytes out


def test_pattern_after_double_dash(tmp_path):
    p = tmp_path / "d"
    p.write_bytes(b"a -x b -x")
    cp = run("-ob", "--", "-x", p)
    assert cp.returncode == 0, cp.stderr
    assert lines(cp) == [b"2:-x", b"7:-x"]
    cp = run("-e-x", p, "--count-matches")  # options may follow operands
    assert lines(cp) == [b"2"]
    # as in grep, an option's value may start with "-" or be "--", or hold "="
    for args in (["-e", "-x"], ["--regexp", "-x"], ["--regexp=-x"], ["--count-matche", "-e", "-x"]):
        cp = run(*args, p, "--count-matches")
        assert cp.returncode == 0 and lines(cp) == [b"2"], (args, cp.stderr)
    p.write_bytes(b"a -- b --- c == =x")
    cp = run("-ob", "-e", "--", p)
    assert cp.returncode == 0 and lines(cp) == [b"2:--", b"7:--", b"8:--"]
    cp = run("-ob", "-e", "==", p)  # was: "=" searched (the value's "=" taken for a separator)
    assert lines(cp) == [b"13:=="]
    cp = run("-ob", "-e=x", p)
    assert lines(cp) == [b"16:=x"]
    cp = run("-e", "a", "--", "--", p)  # after the first "--": operands only
    assert cp.returncode == 2 and b"--: No such file" in cp.stderr  # a match, and an error


# --------------------------------------------------------------------------- several words

def test_several_words_merged_by_offset_then_word_order(files):
    a, _, _ = files
    data = a.read_bytes()
    words = [b"abra", b"a", b"bra", b"cad"]
    cp = run("-Hob", "-e", "abra", "-e", "a", "-e", "bra", "-e", "cad", a)
    assert cp.returncode == 0, cp.stderr
    assert lines(cp) == ref_lines(bytes(a), data, words)
    # ties: at offset 0 both "abra" and "a" match; "abra" was given first
    assert lines(cp)[:2] == [bytes(a) + b":0:abra", bytes(a) + b":0:a"]
    cp = run("-Hob", "-e", "a", "-e", "abra", a)
    assert lines(cp)[:2] == [bytes(a) + b":0:a", bytes(a) + b":0:abra"]
    cp = run("-e", "abra", "-e", "cad", a)  # a line once, however many matches it holds
    assert lines(cp) == ref_grep(None, data, [b"abra", b"cad"])


def test_patterns_are_split_at_newlines(files):
    a, _, _ = files
    cp = run("-c", "-e", "zzz\nmatch", a)  # grep: PATTERNS separated by newlines
    assert lines(cp) == [b"1"]


def test_duplicate_words_reported_once(files):
    a, _, _ = files
    cp = run("-ob", "-e", "abra", "-e", "abra", a)
    assert lines(cp) == [b"%d:abra" % o for o in (0, 7, 26)]


def test_words_file(tmp_path, files):
    a, _, c = files
    wf = tmp_path / "words"
    wf.write_bytes(b"abra\n\n\ncad\r\n\n")  # empty lines skipped, CRLF tolerated
    cp = run("-ob", "-f", wf, a, c)
    assert cp.returncode == 0, cp.stderr
    assert lines(cp) == ref_lines(bytes(a), a.read_bytes(), [b"abra", b"cad"]) + \
        ref_lines(bytes(c), c.read_bytes(), [b"abra", b"cad"])
    # -f and -e together: in the order given
    cp = run("-ob", "-e", "no", "-f", wf, a)
    assert lines(cp) == [x.split(b":", 1)[1] for x in ref_lines(bytes(a), a.read_bytes(), [b"no", b"abra", b"cad"])]


def test_words_file_missing_is_fatal(tmp_path, files):
    a, _, _ = files
    cp = run("-f", tmp_path / "nope", a)
    assert cp.returncode == 2
    assert cp.stdout == b""
    assert b"nope" in cp.stderr and b"No such file" in cp.stderr


def test_empty_words_file_matches_nothing(tmp_path, files):
    a, _, _ = files
    wf = tmp_path / "empty"
    wf.write_bytes(b"\n\n")
    cp = run("-f", wf, a)
    assert (cp.returncode, cp.stdout, cp.stderr) == (1, b"", b"")
    cp = run("-v", "-c", "-f", wf, a)  # every line is without a match
    assert (cp.returncode, cp.stdout) == (0, b"3\n")


def test_words_from_stdin(files):
    a, _, _ = files
    cp = run("-ob", "-f", "-", a, input=b"cad\nbra\n")
    assert lines(cp) == [x.split(b":", 1)[1] for x in ref_lines(bytes(a), a.read_bytes(), [b"cad", b"bra"])]


# --------------------------------------------------------------------------- standard input

def test_stdin_without_file_and_dash(files):
    a, _, _ = files
    data = b"xx abra yy abra\nno\nabra"
    cp = run("abra", input=data)
    assert cp.returncode == 0
    assert lines(cp) == [b"xx abra yy abra", b"abra"]
    cp = run("-Hn", "abra", a, "-", input=data)
    assert lines(cp) == [bytes(a) + b":1:abracadabra", bytes(a) + b":3:abra",
                         b"(standard input):1:xx abra yy abra", b"(standard input):3:abra"]
    cp = run("-H", "--label=IN", "abra", input=data)
    assert lines(cp) == [b"IN:xx abra yy abra", b"IN:abra"]


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 64])
def test_stdin_chunk_boundaries(chunk):
    """Lines and matches straddling the read boundaries are found once, several words included."""
    data = (b"abracadabra" * 7 + b"xabrx\n" + b"cadabra\n") * 3
    words = [b"abracadabra", b"a", b"cad", b"dabra", b"rac"]
    args = [a for w in words for a in ("-e", w)]
    env = _env(KMPSEARCH_CLI_CHUNK=str(chunk))
    cp = run("-Hob", *args, input=data, env=env)
    assert cp.returncode == 0, cp.stderr
    assert lines(cp) == ref_lines(STDIN.encode(), data, words)
    cp = run("--count-matches", *args, input=data, env=env)
    assert lines(cp) == [b"%d" % sum(len(ref_offsets(data, w)) for w in words)]
    cp = run("-n", *args, input=data, env=env)
    assert lines(cp) == [b"%d:%s" % (k + 1, x) for k, x in enumerate(data.split(b"\n")[:-1])]


def test_stdin_straddling_a_read():
    """A match across a real read boundary (1 MiB), streamed through a pipe."""
    size = (1 << 20) + 10
    data = bytearray(size)
    at = (1 << 20) - 3
    data[at:at + 6] = b"needle"
    cp = run("-ob", "-a", "needle", input=bytes(data), env=_env(KMPSEARCH_BACKEND="threads"))
    assert cp.returncode == 0, cp.stderr
    assert lines(cp) == [b"%d:needle" % at]


def test_file_chunk_boundaries(tmp_path):
    p = tmp_path / "f"
    data = (b"abab" * 50 + b"aba\n") * 3
    p.write_bytes(data)
    for chunk in (1, 3, 4, 17):
        cp = run("-Hob", "-e", "aba", "-e", "b", "-e", "babab", p, env=_env(KMPSEARCH_CLI_CHUNK=str(chunk)))
        assert lines(cp) == ref_lines(bytes(p), data, [b"aba", b"b", b"babab"])


def test_stdin_is_streamed_not_read_whole():
    """A line is printed while standard input is still open (not read to its end)."""
    proc = subprocess.Popen([sys.executable, "-m", "kmpsearch", "ping"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    try:
        proc.stdin.write(b"xxpingxx\n")
        proc.stdin.flush()
        line = proc.stdout.readline()  # would hang if stdin were read whole
        assert line == b"xxpingxx\n"
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
        proc.stdout.close()
        proc.stderr.close()


# --------------------------------------------------------------------------- directories

def test_directory_without_r_is_an_error(tmp_path, files):
    a, _, _ = files
    d = tmp_path / "dir"
    d.mkdir()
    cp = run("abra", d, a)
    assert cp.returncode == 2
    assert cp.stderr == b"kmpsearch: %s: Is a directory\n" % bytes(d)
    assert lines(cp) == [bytes(a) + b":abracadabra", bytes(a) + b":abra"]  # a still searched


def test_recursive(tmp_path):
    root = tmp_path / "root"
    (root / "sub" / "deep").mkdir(parents=True)
    (root / "b.txt").write_bytes(b"key")
    (root / "a.txt").write_bytes(b"xkey key\nno\nkey")
    (root / "sub" / "deep" / "c.txt").write_bytes(b"no")
    (root / "sub" / "d.txt").write_bytes(b"keykey")
    (root / "link").symlink_to(root / "a.txt")  # links met while recursing are skipped, like grep -r
    cp = run("-r", "key", root)
    assert cp.returncode == 0, cp.stderr
    r = bytes(root)
    assert lines(cp) == [r + b"/a.txt:xkey key", r + b"/a.txt:key", r + b"/b.txt:key", r + b"/sub/d.txt:keykey"]
    cp = run("-r", "-l", "key", cwd=root)  # no FILE with -r: the working directory, like grep
    assert lines(cp) == [b"a.txt", b"b.txt", b"sub/d.txt"]
    cp = run("-r", "-c", "key", root / "sub")
    assert lines(cp) == [r + b"/sub/d.txt:1", r + b"/sub/deep/c.txt:0"]  # sorted by name
    cp = run("-R", "-l", "key", root)  # -R follows the link
    assert lines(cp) == [r + b"/a.txt", r + b"/b.txt", r + b"/link", r + b"/sub/d.txt"]
    cp = run("-r", "-l", "--include=*.txt", "--exclude=b*", "--exclude-dir=sub", "key", root)
    assert lines(cp) == [r + b"/a.txt"]
    cp = run("-r", "-l", "-g", "!a.txt", "-g", "*.txt", "key", root)
    assert lines(cp) == [r + b"/b.txt", r + b"/sub/d.txt"]
    cp = run("-r", "-l", "-g", "sub/*.txt", "key", root)
    assert lines(cp) == [r + b"/sub/d.txt"]


# --------------------------------------------------------------------------- output modes

def test_count(files):
    a, b, c = files
    cp = run("-c", "abra", a, b, c)  # matching lines, as grep
    assert cp.returncode == 0
    assert lines(cp) == [bytes(a) + b":2", bytes(b) + b":0", bytes(c) + b":1"]
    cp = run("--count-matches", "abra", a, b, c)  # every occurrence, files with one (ripgrep's)
    assert lines(cp) == [bytes(a) + b":3", bytes(c) + b":3"]
    cp = run("--count-matches", "-e", "abra", "-e", "a", a)
    assert lines(cp) == [b"%d" % (3 + a.read_bytes().count(b"a"))]
    cp = run("-c", "zzz", b)
    assert (cp.returncode, lines(cp)) == (1, [b"0"])
    cp = run("-c", "-v", "abra", a)
    assert lines(cp) == [b"1"]


def test_json(files):
    a, b, c = files
    cp = run("--json", "-e", "abra", "-e", "cad", a, b)
    assert cp.returncode == 0
    objs = [json.loads(x) for x in lines(cp)]
    assert [o["type"] for o in objs] == ["begin", "match", "match", "end", "summary"]
    assert objs[0]["data"] == {"path": {"text": str(a)}}
    assert objs[1]["data"]["lines"] == {"text": "abracadabra\n"} and objs[1]["data"]["line_number"] == 1
    assert objs[1]["data"]["absolute_offset"] == 0
    assert [(m["match"]["text"], m["start"], m["end"]) for m in objs[1]["data"]["submatches"]] == \
        [("abra", 0, 4), ("cad", 4, 7), ("abra", 7, 11)]
    assert objs[2]["data"]["line_number"] == 3 and objs[2]["data"]["absolute_offset"] == 26
    assert objs[3]["data"]["stats"]["matches"] == 4 and objs[3]["data"]["stats"]["matched_lines"] == 2
    assert objs[4]["data"]["stats"]["searches_with_match"] == 1
    cp = run("--json", "cö", input="xcö\n".encode())
    got = [json.loads(x) for x in lines(cp)]
    assert got[0]["data"]["path"] == {"text": STDIN}
    assert got[1]["data"]["submatches"] == [{"match": {"text": "cö"}, "start": 1, "end": 4}]
    cp = run("--json", "-c", "abra", a)
    assert cp.returncode == 2 and b"--json cannot be used with -c" in cp.stderr


def test_files_with_and_without_matches(files):
    a, b, c = files
    cp = run("-l", "abra", a, b, c)
    assert (cp.returncode, lines(cp), cp.stderr) == (0, [bytes(a), bytes(c)], b"")
    cp = run("-l", "abra", input=b"abra")
    assert lines(cp) == [STDIN.encode()]
    cp = run("-l", "zzz", a)
    assert (cp.returncode, cp.stdout) == (1, b"")
    # -L's exit status is grep's (3.5 and later): success when some line is selected,
    # whether or not a file is listed
    cp = run("-L", "abra", a, b, c)
    assert (cp.returncode, lines(cp)) == (0, [bytes(b)])
    cp = run("-L", "abra", a)
    assert (cp.returncode, cp.stdout) == (0, b"")
    cp = run("-L", "zzz", a, b)
    assert (cp.returncode, lines(cp)) == (1, [bytes(a), bytes(b)])
    cp = run("-lZ", "abra", a, c)
    assert cp.stdout == bytes(a) + b"\0" + bytes(c) + b"\0"


def test_quiet(files, tmp_path):
    a, b, c = files
    cp = run("-q", "abra", a, b)
    assert (cp.returncode, cp.stdout, cp.stderr) == (0, b"", b"")
    cp = run("-q", "zzz", a, b)
    assert (cp.returncode, cp.stdout, cp.stderr) == (1, b"", b"")
    # an error, then a match: exit 0 as grep -q (the error is still reported)
    cp = run("-q", "abra", tmp_path / "missing", a)
    assert (cp.returncode, cp.stdout) == (0, b"")
    assert b"missing" in cp.stderr
    cp = run("-q", "zzz", a, tmp_path / "missing")
    assert cp.returncode == 2


def test_quiet_stops_early_on_endless_input():
    """-q exits at the first match without reading the rest (here: an endless stream)."""
    proc = subprocess.Popen([sys.executable, "-m", "kmpsearch", "-q", "needle"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    try:
        proc.stdin.write(b"hay needle hay\n")
        proc.stdin.flush()
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
        for s in (proc.stdin, proc.stdout, proc.stderr):
            try:
                s.close()
            except BrokenPipeError:
                pass


def test_regular_expressions_are_refused_with_a_reason(files):
    a, _, _ = files
    for flag in ("-E", "-G", "-P", "--perl-regexp"):
        cp = run(flag, "abra", a)
        assert cp.returncode == 2 and b"fixed strings only" in cp.stderr, flag
    cp = run("-F", "-c", "abra", a)  # -F is what kmpsearch always does
    assert (cp.returncode, cp.stdout) == (0, b"2\n")


# --------------------------------------------------------------------------- errors

def test_missing_file_among_good_ones(files, tmp_path):
    a, b, c = files
    missing = tmp_path / "missing.txt"
    cp = run("abra", a, missing, c)
    assert cp.returncode == 2  # matches were found, but an error wins, as in grep
    assert cp.stderr == b"kmpsearch: %s: No such file or directory\n" % bytes(missing)
    assert lines(cp) == [bytes(a) + b":abracadabra", bytes(a) + b":abra", bytes(c) + b":cadabra abracadabra"]
    cp = run("-c", "abra", missing, a)
    assert (cp.returncode, lines(cp)) == (2, [bytes(a) + b":2"])
    cp = run("-s", "abra", missing, a)  # -s: no message, same status
    assert (cp.returncode, cp.stderr) == (2, b"")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root can read a chmod 000 file")
def test_unreadable_file(files, tmp_path):
    a, _, _ = files
    p = tmp_path / "secret"
    p.write_bytes(b"abra")
    p.chmod(0)
    try:
        cp = run("abra", p, a)
    finally:
        p.chmod(0o600)
    assert cp.returncode == 2
    assert cp.stderr == b"kmpsearch: %s: Permission denied\n" % bytes(p)
    assert len(lines(cp)) == 2


@pytest.mark.parametrize("args, message", [
    ((), b"no PATTERNS given"),
    (("-j", "0", "x"), b"invalid num argument for -j: '0'"),
    (("-j", "many", "x"), b"invalid num argument for -j: 'many'"),
    (("--no-such-option", "x"), b"unrecognized option '--no-such-option'"),
    (("-k", "x"), b"invalid option -- 'k'"),
    (("--co", "x"), b"option '--co' is ambiguous"),
    (("-e",), b"option requires an argument -- 'e'"),
    (("--regexp",), b"option '--regexp' requires an argument"),
    (("--count=3", "x"), b"option '--count' doesn't allow an argument"),
    (("--color=sometimes", "x"), b"invalid argument 'sometimes' for '--color'"),
    (("--binary-files=maybe", "x"), b"invalid argument 'maybe' for '--binary-files'"),
    (("",), b"empty PATTERNS"),
    (("-e", "a", "-e", ""), b"empty PATTERNS"),
])
def test_bad_options(args, message):
    cp = run(*args)
    assert cp.returncode == 2
    assert cp.stdout == b""
    assert cp.stderr.startswith(b"kmpsearch: " + message), cp.stderr
    assert b"Usage: kmpsearch [OPTION]... PATTERNS [FILE]..." in cp.stderr


def test_help_and_version():
    cp = run("--help")
    assert cp.returncode == 0 and b"--list-backends" in cp.stdout and b"--json" in cp.stdout
    # grouped as grep's manual groups them
    for group in (b"Pattern selection and interpretation:", b"Output control:", b"Context control:",
                  b"File and directory selection:"):
        assert group in cp.stdout
    assert b"-h, --no-filename" in cp.stdout
    cp = run("--version")
    assert (cp.returncode, cp.stdout.strip()) == (0, b"kmpsearch " + kmpsearch.__version__.encode())


@pytest.mark.parametrize("recursive", [False, True])
def test_broken_pipe_is_quiet(tmp_path, recursive):
    # -r: the broken pipe ends the walk too (was: one "Broken pipe" error per remaining file, exit 2)
    p = tmp_path / "big"
    p.write_bytes(b"abab\n" * 800_000)
    if recursive:
        for name in ("more1", "more2"):
            (tmp_path / name).write_bytes(b"ab\n" * 200_000)
    r, w = os.pipe()
    args = ["-r", "ab", tmp_path] if recursive else ["-H", "ab", p]
    proc = subprocess.Popen([sys.executable, "-m", "kmpsearch", *args], stdout=w,
                            stderr=subprocess.PIPE, env=_env(KMPSEARCH_BACKEND="python"))
    os.close(w)
    with os.fdopen(r, "rb") as reader:
        first = reader.readline()  # like `| head -1`: read one line, then leave
    err = proc.stderr.read()
    proc.stderr.close()
    status = proc.wait(timeout=120)
    assert first == bytes(p) + b":abab\n"
    assert err == b""  # no traceback, no "Exception ignored" message
    assert status == -signal.SIGPIPE  # as grep: killed by SIGPIPE (the shell shows 141)


# --------------------------------------------------------------------------- backends

def test_list_backends():
    cp = run("--list-backends")
    assert cp.returncode == 0 and cp.stderr == b""
    out = cp.stdout.decode()
    rows = out.splitlines()
    assert [r.split()[0] for r in rows] == list(kmpsearch.KNOWN_BACKENDS)
    available = set(kmpsearch.available_backends())
    for row in rows:
        name, status = row.split(None, 1)
        if name in available:
            assert status.startswith("available"), row
        else:
            assert status.startswith("unavailable: "), row
            assert name in status  # the ImportError says which and why
    assert sum("(default)" in r for r in rows) == 1
    assert rows[[r.split()[0] for r in rows].index(kmpsearch.backend)].endswith("(default)")


def test_list_backends_default_follows_environment():
    cp = run("--list-backends", env=_env(KMPSEARCH_BACKEND="threads"))
    assert any(r.split()[0] == b"threads" and r.endswith(b"(default)") for r in lines(cp))


def _run_shell(cmd: str, *args) -> subprocess.CompletedProcess:
    """Run ``python -m kmpsearch`` through sh, for redirections (>&-, <&-, > /dev/full)."""
    argv = " ".join(f'"{os.fsdecode(a)}"' for a in args)
    return subprocess.run(["sh", "-c", f'"{sys.executable}" -m kmpsearch {argv} {cmd}'],
                          capture_output=True, env=_env(), timeout=120)


@pytest.mark.parametrize("opts", [[], ["-c"], ["--json"], ["-o"]])
def test_closed_or_full_stdout_is_a_write_error(files, opts):
    a, _, _ = files
    cp = _run_shell(">&-", *opts, "abra", a)
    assert cp.returncode == 2 and b"write error" in cp.stderr and b"Traceback" not in cp.stderr, cp.stderr
    if os.path.exists("/dev/full"):
        cp = _run_shell("> /dev/full", *opts, "abra", a, a)
        assert cp.returncode == 2, cp.stderr
        # said once, not blamed on the input files, nothing more printed at exit
        assert cp.stderr.count(b"\n") == 1 and b"write error" in cp.stderr, cp.stderr
        assert os.fsencode(a) not in cp.stderr


def test_words_from_closed_stdin(files):
    a, _, _ = files
    cp = _run_shell("<&-", "-f", "-", a)
    assert cp.returncode == 2 and b"Traceback" not in cp.stderr
    assert b"-: Bad file descriptor" in cp.stderr


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="no /proc here")
def test_count_of_a_file_that_reports_size_zero():
    # -c uses the file functions, which must not trust st_size == 0
    lines_out = lines(run("Name", "/proc/self/status"))
    cp = run("-c", "Name", "/proc/self/status")
    assert cp.returncode == 0 and len(lines_out) == 1
    assert cp.stdout == b"1\n"
    cp = run("--count-matches", "Name", "/proc/self/status")
    assert cp.stdout == b"1\n"


def test_unavailable_backend_in_environment_is_exit_2(files):
    a, _, _ = files
    env = _env(KMPSEARCH_BACKEND="bogus")
    cp = run("abra", a, env=env)
    assert cp.returncode == 2 and cp.stdout == b""
    assert b"KMPSEARCH_BACKEND='bogus'" in cp.stderr and b"Traceback" not in cp.stderr
    # --backend overrides the environment; --list-backends still lists, with the complaint on stderr
    cp = run("--backend", "python", "abra", a, env=env)
    assert cp.returncode == 0 and cp.stdout.count(b"abra") >= 1, cp.stderr
    cp = run("--list-backends", env=env)
    assert cp.returncode == 0 and b"bogus" in cp.stderr
    assert not any(r.endswith(b"(default)") for r in lines(cp))
    assert {r.split()[0] for r in lines(cp)} == {n.encode() for n in kmpsearch.KNOWN_BACKENDS}


@pytest.mark.parametrize("name", kmpsearch.KNOWN_BACKENDS)
def test_backend_option(name, files):
    a, b, c = files
    try:
        kmpsearch.get_backend(name)
    except ImportError as exc:
        cp = run("--backend", name, "abra", a)
        assert cp.returncode == 2 and cp.stdout == b""
        assert cp.stderr == b"kmpsearch: %s\n" % str(exc).encode()
        return
    cp = run("--backend", name, "-ob", "-e", "abra", "-e", "a", a, c)
    assert cp.returncode == 0, cp.stderr
    assert lines(cp) == ref_lines(bytes(a), a.read_bytes(), [b"abra", b"a"]) + \
        ref_lines(bytes(c), c.read_bytes(), [b"abra", b"a"])
    cp = run("--backend", name, "-c", "abra", a, b)
    assert lines(cp) == [bytes(a) + b":2", bytes(b) + b":0"]
    cp = run("--backend", name, "-n", "abra", a, c)
    assert lines(cp) == [bytes(a) + b":1:abracadabra", bytes(a) + b":3:abra", bytes(c) + b":1:cadabra abracadabra"]


def test_unknown_backend(files):
    a, _, _ = files
    cp = run("--backend", "nosuch", "abra", a)
    assert cp.returncode == 2 and cp.stdout == b""
    assert b"unknown kmpsearch backend 'nosuch'" in cp.stderr
    assert b"Traceback" not in cp.stderr


@pytest.mark.parametrize("threads", ["1", "2", "3"])
@pytest.mark.parametrize("name", [row.name for row in TABLE if not row.native and row.parallel != "none"])
def test_threads_option(threads, name, tmp_path):
    p = tmp_path / "t"
    data = (b"needle in a haystack " * 500 + b"n") * 10
    p.write_bytes(data)
    env = _env(KMPSEARCH_BACKEND=name, KMPSEARCH_CLI_CHUNK="40000")
    cp = run("-Hob", "-j", threads, "-e", "needle", "-e", "hay", p, env=env)
    assert cp.returncode == 0, cp.stderr
    assert lines(cp) == ref_lines(bytes(p), data, [b"needle", b"hay"])
    cp = run("--threads", threads, "--count-matches", "needle", p, env=env)
    assert lines(cp) == [b"%d" % data.count(b"needle")]


# --------------------------------------------------------------------------- progress

def _run_with_tty_stderr(*args, env):
    """Run with stderr on a pseudo-terminal; return (status, stdout, what the terminal got)."""
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "kmpsearch", *map(os.fsdecode, args)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    out = proc.stdout.read()
    proc.stdout.close()
    status = proc.wait(timeout=120)
    tty = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other side is closed
            break
        if not chunk:
            break
        tty += chunk
    os.close(master)
    return status, out, tty


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
def test_progress_bar_on_a_terminal(tmp_path):
    require_extra("rich")
    p = tmp_path / "p"
    data = b"xy" * 50_000
    p.write_bytes(data)
    env = _env(KMPSEARCH_CLI_PROGRESS_MIN="1000", KMPSEARCH_CLI_CHUNK="4096", KMPSEARCH_BACKEND="python",
               COLUMNS="100", TERM="xterm")
    status, out, tty = _run_with_tty_stderr("--count-matches", "yx", p, env=env)
    assert (status, out) == (0, b"%d\n" % data.count(b"yx"))
    assert bytes(p.name, "ascii") in tty and "━".encode() in tty  # the bar with the file's name
    # --no-progress, and small inputs, show nothing
    status, out, tty = _run_with_tty_stderr("--no-progress", "--count-matches", "yx", p, env=env)
    assert (status, out, tty) == (0, b"%d\n" % data.count(b"yx"), b"")
    status, out, tty = _run_with_tty_stderr("-c", "yx", p, env=_env(COLUMNS="100"))
    assert (status, tty) == (0, b"")


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path):
    p = tmp_path / "p"
    p.write_bytes(b"xy" * 50_000)
    cp = run("-c", "yx", p, env=_env(KMPSEARCH_CLI_PROGRESS_MIN="1000", KMPSEARCH_CLI_CHUNK="4096"))
    assert cp.returncode == 0 and cp.stderr == b""


# --------------------------------------------------------------------------- entry points

def test_console_script(files):
    """The installed ``kmpsearch`` script, when the package is installed (skipped otherwise)."""
    a, _, _ = files
    scripts = sysconfig.get_path("scripts")
    exe = shutil.which("kmpsearch", path=scripts) or shutil.which("kmpsearch")
    if exe is None:
        pytest.skip("the kmpsearch console script is not installed")
    cp = subprocess.run([exe, "-c", "abra", str(a)], capture_output=True, env=_env())
    assert (cp.returncode, cp.stdout, cp.stderr) == (0, b"2\n", b"")


def test_console_script_entry_point(files):
    """What pip's generated ``kmpsearch`` script does, whether or not the package is installed."""
    a, _, _ = files
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    if pyproject.is_file():
        import tomllib
        scripts = tomllib.loads(pyproject.read_text())["project"]["scripts"]
        assert scripts["kmpsearch"] == "kmpsearch.cli:main"
    code = "import sys; from kmpsearch.cli import main; sys.argv[0] = 'kmpsearch'; sys.exit(main())"
    cp = subprocess.run([sys.executable, "-c", code, "-c", "abra", str(a)], capture_output=True, env=_env())
    assert (cp.returncode, cp.stdout, cp.stderr) == (0, b"2\n", b"")
    cp = subprocess.run([sys.executable, "-c", code, "-j", "x", "abra"], capture_output=True, env=_env())
    assert cp.returncode == 2 and b"Usage: kmpsearch" in cp.stderr


def test_main_in_process(files, capsysbinary):
    from kmpsearch.cli import main
    a, _, _ = files
    assert main(["-c", "abra", str(a)]) == 0
    assert capsysbinary.readouterr().out == b"2\n"
    assert main(["-l", "zzz", str(a)]) == 1


class _Panic(BaseException):  # what a pyo3_runtime.PanicException is: not an Exception
    pass


@pytest.mark.parametrize(("raised", "status", "message"), [
    (MemoryError(), 2, b"kmpsearch: x.txt: memory exhausted\n"),
    (_Panic("the core panicked"), 2, b"kmpsearch: _Panic: the core panicked\n"),
    (RuntimeError("odd"), 2, b"kmpsearch: x.txt: RuntimeError: odd\n"),
    (KeyboardInterrupt(), 130, b""),
])
def test_unexpected_errors_are_one_line_and_status_2(tmp_path, capsysbinary, monkeypatch, raised, status, message):
    # was: a traceback and status 1 ("no match") for MemoryError and a PanicException
    from kmpsearch import cli
    import kmpsearch.cli.search  # noqa: F401

    def fail(*args, **kwargs):
        raise raised

    (tmp_path / "x.txt").write_bytes(b"abc")
    monkeypatch.chdir(tmp_path)
    for method in ("known", "regular", "_plain", "_answer"):  # whichever way a file's answer goes
        monkeypatch.setattr(cli.search.Searcher, method, fail)
    for args in (["abc", "x.txt"], ["-c", "abc", "x.txt"]):
        assert cli.main(["--no-progress", *args]) == status
        out = capsysbinary.readouterr()
        assert out.err == message and out.out == b""


def test_ctrl_c_exits_130_without_a_traceback(tmp_path):
    big = tmp_path / "sparse"
    with open(big, "wb") as f:
        f.truncate(32 << 30)  # reads fast, but long enough to be interrupted
    proc = subprocess.Popen([sys.executable, "-m", "kmpsearch", "--count-matches", "needle", str(big)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert (proc.returncode, out, err) == (130, b"", b"")


# --- many words in one pass, -i, unexpected errors ----------------------------------------

def test_ignore_case_folds_ascii_letters_only(tmp_path):
    f = tmp_path / "h.txt"
    f.write_bytes(b"Hello hello HELLO [x] {x} @a `a \xc9t \xe9t")
    cp = run("-iob", "-e", "hello", "-e", "[X]", "-e", "@A", "-e", "\u00e9t", str(f))
    assert cp.returncode == 0, cp.stderr
    # -o prints the text found; '{' and '`' are not '[' and '@'; non-ASCII compares exactly
    assert lines(cp) == [b"0:Hello", b"6:hello", b"12:HELLO", b"18:[x]", b"26:@a"]
    cp = run("--count-matches", "--ignore-case", "-e", "HeLLo", str(f))
    assert lines(cp) == [b"3"]


def test_many_words_in_one_pass_match_the_per_word_reference(tmp_path):
    import random
    rnd = random.Random(3)
    words = sorted({bytes(rnd.choice(b"abc") for _ in range(rnd.randrange(1, 5))) for _ in range(40)})
    data = bytes(rnd.choice(b"abc\n") for _ in range(5000))
    f = tmp_path / "d.txt"
    f.write_bytes(data)
    wf = tmp_path / "w.txt"
    wf.write_bytes(b"\n".join(words) + b"\n")
    cp = run("-Hob", "-f", str(wf), str(f), env=_env(KMPSEARCH_CLI_CHUNK="7"))
    assert cp.returncode == 0, cp.stderr
    assert lines(cp) == ref_lines(str(f).encode(), data, words)
    cp = run("--count-matches", "-f", str(wf), str(f))
    assert lines(cp) == [b"%d" % sum(len(ref_offsets(data, w)) for w in words)]
    cp = run("-f", str(wf), str(f))
    assert lines(cp) == ref_grep(None, data, words)


def test_endless_words_file_is_an_error_not_all_the_memory(tmp_path):
    f = tmp_path / "h.txt"
    f.write_bytes(b"hello")
    cp = run("-f", "/dev/zero", str(f))
    assert cp.returncode == 2
    assert cp.stderr.count(b"\n") == 1 and b"/dev/zero" in cp.stderr and b"Traceback" not in cp.stderr


def test_json_keeps_undecodable_words_and_paths_apart(tmp_path):
    import base64

    f = tmp_path / "bin.dat"
    f = tmp_path / os.fsdecode(b"bin\xff.dat")
    f.write_bytes(b"\xff\xfe ok\n")
    cp = run("--json", "-e", os.fsdecode(b"\xff"), "-e", os.fsdecode(b"\xfe"), "-e", "ok", str(f))
    assert cp.returncode == 0, cp.stderr
    got = [json.loads(line) for line in lines(cp)]
    match = got[1]["data"]
    assert [m["match"] for m in match["submatches"]] == [{"bytes": base64.b64encode(b"\xff").decode()},
                                                        {"bytes": base64.b64encode(b"\xfe").decode()},
                                                        {"text": "ok"}]
    assert [m["start"] for m in match["submatches"]] == [0, 1, 3]
    assert match["lines"] == {"bytes": base64.b64encode(b"\xff\xfe ok\n").decode()}
    assert got[0]["data"]["path"] == {"bytes": base64.b64encode(os.fsencode(f)).decode()}


def test_dense_matches_do_not_pile_up_in_memory(tmp_path):
    # every byte a match: a big file's lines are made a block at a time, so that only one
    # block's matches are held (was: 5 GB for `-e a` over 64 MiB of `a`)
    f = tmp_path / "a.txt"
    f.write_bytes((b"a" * 99 + b"\n") * (40 << 10))
    code = ("import resource, subprocess, sys; "
            "subprocess.run([sys.executable, '-m', 'kmpsearch', '-e', 'a', '-e', 'aa', sys.argv[1]], "
            "stdout=subprocess.DEVNULL, check=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    cp = subprocess.run([sys.executable, "-c", code, str(f)], capture_output=True, env=_env(), timeout=300)
    assert cp.returncode == 0, cp.stderr
    peak_kib = int(cp.stdout)
    # ~56 MB measured (the window's matches as compact arrays; was ~198 MB as lists of tuples)
    assert peak_kib < 120 << 10, f"peak RSS {peak_kib} KiB for 8 M matches"
