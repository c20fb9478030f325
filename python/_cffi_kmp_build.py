"""cffi builder of ``kmpsearch._kmp_cffi`` (out-of-line API mode) over the C library in c/.

CMake runs this at build time to generate the module's C source (cffi's "gen_src" way:
``ffibuilder.emit_c_code``), then compiles it and links it to the static libkmpsearch::

    python python/_cffi_kmp_build.py <build-dir>/_kmp_cffi.c c/include/kmp.h

The declarations given to cffi are made here from the real public header (as
python-zstandard makes its cdef from zstd.h), so a change to the header never needs a
second edit here: comments and preprocessor lines go, the ``#ifdef __cplusplus`` blocks
(``extern "C"``) go, ``KMP_API`` goes, an integer ``#define`` becomes ``#define NAME ...``
(its value comes from the compiler) and the other macros (struct initializers, the
include guard, KMP_API itself) are dropped. In API mode the C compiler then checks every
declaration against the header: a mismatch is a compile error, not a crash. cffi releases
the GIL around every ``lib`` call.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

DEFAULT_HEADER = Path(__file__).resolve().parent.parent / "c" / "include" / "kmp.h"

_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_DEFINE = re.compile(r"#\s*define\s+([A-Za-z_]\w*)(\([^)]*\))?\s*(.*)$")
# an integer constant expression: numbers, casts to integer types, operators, parentheses
_CAST = re.compile(r"\(\s*(?:u?int(?:8|16|32|64)_t|size_t|unsigned(?:\s+(?:int|long(?:\s+long)?))?|int|long(?:\s+long)?)\s*\)")
_INT_EXPR = re.compile(r"(?:\s|0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*|<<|>>|[()|&^~+\-*/%])+")


def _is_integer_expression(value: str) -> bool:
    value = _CAST.sub(" ", value).strip()
    return bool(value) and _INT_EXPR.fullmatch(value) is not None and re.search(r"\d", value) is not None


def cdef_from_header(text: str, api_macro: str = "KMP_API") -> str:
    """The cdef for cffi made from a C header's text (see the module docstring)."""
    text = _COMMENT.sub(" ", text.replace("\\\n", " "))
    out: list[str] = []
    skipping: list[bool] = []  # per open #if: is its current branch dropped (C++ only)?
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#"):
            directive = line[1:].strip()
            word = directive.split(None, 1)[0] if directive else ""
            if word in ("if", "ifdef", "ifndef"):
                skipping.append(word == "ifdef" and directive.split()[1:2] == ["__cplusplus"])
            elif word in ("else", "elif") and skipping:
                skipping[-1] = False if skipping[-1] else skipping[-1]
            elif word == "endif" and skipping:
                skipping.pop()
            elif word == "define" and not any(skipping):
                m = _DEFINE.match(line)
                if m and m.group(2) is None and m.group(1) != api_macro and _is_integer_expression(m.group(3)):
                    out.append(f"#define {m.group(1)} ...")
            continue
        if any(skipping) or not line:
            continue
        out.append(re.sub(rf"\b{api_macro}\b\s*", "", raw.rstrip()))
    return "\n".join(out) + "\n"


def make_builder(header: Path):
    from cffi import FFI

    ffibuilder = FFI()
    ffibuilder.cdef(cdef_from_header(header.read_text(encoding="utf-8")))
    # the include path and the library come from CMake (target_link_libraries kmpsearch_static)
    ffibuilder.set_source("kmpsearch._kmp_cffi", '#include "kmp.h"\n')
    return ffibuilder


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(f"usage: {argv[0]} OUTPUT.c [HEADER (default {DEFAULT_HEADER})]", file=sys.stderr)
        return 2
    header = Path(argv[2]) if len(argv) == 3 else DEFAULT_HEADER
    make_builder(header).emit_c_code(argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
