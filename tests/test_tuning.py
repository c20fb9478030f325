"""The tuning constants the three native cores share have one value: each core keeps them in
one file (c/src/tuning.h, cython/_tuning.pxi, rust/kmpsearch-core/src/tuning.rs), and the
Python layer's thread cap is the cores' (kmpsearch._contract.MAX_THREADS)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from kmpsearch._contract import MAX_THREADS

ROOT = Path(__file__).resolve().parent.parent
FILES = {
    "c": (ROOT / "c" / "src" / "tuning.h", re.compile(r"^#define\s+KMP__([A-Z0-9_]+)\s+(.+?)\s*(?:/[*/].*)?$")),
    "cython": (ROOT / "cython" / "_tuning.pxi",
               re.compile(r"^\s*(?:cdef\s+(?:const\s+)?\w+\s+)?([A-Z][A-Z0-9_]*)\s*=\s*([^#]+?)\s*(?:#.*)?$")),
    "rust": (ROOT / "rust" / "kmpsearch-core" / "src" / "tuning.rs",
             re.compile(r"^pub const ([A-Z0-9_]+):\s*[a-z0-9]+\s*=\s*(.+?);")),
}
#: what every core must have
SHARED = {"MAX_THREADS", "SEGMENT", "TEDDY_MAX_WORDS", "TEDDY_MAX_PASS", "HUGE_FROM"}


def value(expr: str) -> float:
    """A constant's value: C casts and integer suffixes dropped, Rust's ``_`` digit
    separators too, then the arithmetic evaluated (ints, floats, +, *, <<)."""
    expr = re.sub(r"\((?:size_t|uint64_t|unsigned|int|double)\)", "", expr)
    expr = re.sub(r"(?<=\d)[uU][lL]*\b|(?<=\d)_(?=\d)", "", expr)
    tree = ast.parse(expr, mode="eval")
    allowed = (ast.Expression, ast.BinOp, ast.Constant, ast.LShift, ast.Mult, ast.Add, ast.Sub)
    assert all(isinstance(node, allowed + (ast.operator,)) for node in ast.walk(tree)), expr
    return eval(compile(tree, "<constant>", "eval"), {"__builtins__": {}})  # noqa: S307 - checked above


def constants(core: str) -> dict[str, float]:
    path, line = FILES[core]
    out = {}
    for text in path.read_text(encoding="utf-8").splitlines():
        m = line.match(text)
        if m:
            out[m.group(1)] = value(m.group(2))
    return out


def test_each_core_has_the_shared_constants_with_one_value():
    found = {core: constants(core) for core in FILES}
    for core, values in found.items():
        assert SHARED <= set(values), (core, SHARED - set(values))
    names = set().union(*found.values())
    for name in sorted(names):
        have = {core: values[name] for core, values in found.items() if name in values}
        if len(have) > 1:
            assert len(set(have.values())) == 1, (name, have)
    assert {values["MAX_THREADS"] for values in found.values()} == {MAX_THREADS}


def test_the_parser_reads_what_the_files_write():
    assert value("((size_t)1 << 16)") == 65536 and value("64u") == 64 and value("16 << 20") == 16 << 20
    assert value("0.003") == 0.003 and value("1_024") == 1024
