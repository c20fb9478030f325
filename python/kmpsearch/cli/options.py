"""The command's options: GNU grep's (its manual's names, groups and parsing), ripgrep's
where grep has none, and kmpsearch's own.

Parsing is getopt_long's, as grep's: options and operands may be mixed (``--`` ends the
options), short options cluster (``-inr``), a short option's value is the rest of its word or
the next word (``-e=x`` searches ``=x``, ``-e==`` searches ``==``), a long option's value
follows ``=`` or is the next word (``--regexp=PAT``, ``--regexp PAT``; ``--color[=WHEN]``
only with ``=``), a long option may be abbreviated to a unique prefix, and ``-NUM`` is
``--context=NUM``. Errors are grep's: one line, a usage line, exit status 2.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

__all__ = ["OPTIONS", "Config", "UsageError", "help_text", "parse"]

PROG = "kmpsearch"


class UsageError(Exception):
    """A bad command line: the message, then the usage line, exit status 2."""


@dataclass(frozen=True)
class Opt:
    short: str        # one letter, or "" (long only)
    long: str         # without "--", or ""
    dest: str
    kind: str         # "flag", "value", "int", "append", "optional" (=VALUE only), "const"
    group: str
    help: str
    metavar: str = ""
    const: Any = None  # kind "const": the value stored; kind "optional": the value without =
    aliases: tuple = ()


G_PATTERN = "Pattern selection and interpretation"
G_MISC = "Miscellaneous"
G_OUTPUT = "Output control"
G_CONTEXT = "Context control"
G_FILES = "File and directory selection"
G_KMP = "kmpsearch"

OPTIONS: tuple[Opt, ...] = (
    Opt("F", "fixed-strings", "fixed", "flag", G_PATTERN, "PATTERNS are strings (always: kmpsearch finds strings)"),
    Opt("E", "extended-regexp", "regex", "const", G_PATTERN, "refused: kmpsearch finds fixed strings only",
        const="-E"),
    Opt("G", "basic-regexp", "regex", "const", G_PATTERN, "refused: kmpsearch finds fixed strings only",
        const="-G"),
    Opt("P", "perl-regexp", "regex", "const", G_PATTERN, "refused: kmpsearch finds fixed strings only",
        const="-P"),
    Opt("e", "regexp", "patterns", "append", G_PATTERN, "use PATTERNS for matching (one per line)", "PATTERNS"),
    Opt("f", "file", "pattern_files", "append", G_PATTERN, "take PATTERNS from FILE, one per line ('-': stdin)",
        "FILE"),
    Opt("i", "ignore-case", "ignore_case", "flag", G_PATTERN,
        "ignore case distinctions in patterns and data (Unicode case folding; UTF-8)", aliases=("y",)),
    Opt("", "no-ignore-case", "ignore_case", "const", G_PATTERN,
        "do not ignore case distinctions (default)", const=False),
    Opt("w", "word-regexp", "word", "flag", G_PATTERN, "match only whole words"),
    Opt("x", "line-regexp", "line", "flag", G_PATTERN, "match only whole lines"),
    Opt("", "leftmost", "leftmost", "flag", G_PATTERN,
        "non-overlapping matches, the leftmost first (the first pattern listed among those starting "
        "there): counts and -o as ripgrep's"),
    Opt("s", "no-messages", "no_messages", "flag", G_MISC, "suppress error messages"),
    Opt("v", "invert-match", "invert", "flag", G_MISC, "select non-matching lines"),
    Opt("V", "version", "version", "flag", G_MISC, "display version information and exit"),
    Opt("", "help", "help", "flag", G_MISC, "display this help text and exit"),
    Opt("m", "max-count", "max_count", "int", G_OUTPUT, "stop after NUM selected lines", "NUM"),
    Opt("b", "byte-offset", "byte_offset", "flag", G_OUTPUT, "print the byte offset with output lines"),
    Opt("n", "line-number", "line_number", "flag", G_OUTPUT, "print line number with output lines"),
    Opt("", "line-buffered", "line_buffered", "flag", G_OUTPUT, "flush output on every line"),
    Opt("H", "with-filename", "with_filename", "const", G_OUTPUT, "print file name with output lines",
        const=True),
    Opt("h", "no-filename", "with_filename", "const", G_OUTPUT, "suppress the file name prefix on output",
        const=False),
    Opt("", "label", "label", "value", G_OUTPUT, "use LABEL as the standard input file name prefix", "LABEL"),
    Opt("o", "only-matching", "only_matching", "flag", G_OUTPUT,
        "show only the matches, each on its own line (overlapping ones included)"),
    Opt("q", "quiet", "quiet", "flag", G_OUTPUT, "suppress all normal output", aliases=("silent",)),
    Opt("", "binary-files", "binary_files", "value", G_OUTPUT,
        "assume that binary files are TYPE; TYPE is 'binary', 'text', or 'without-match'", "TYPE"),
    Opt("a", "text", "binary_files", "const", G_OUTPUT, "equivalent to --binary-files=text", const="text"),
    Opt("I", "", "binary_files", "const", G_OUTPUT, "equivalent to --binary-files=without-match",
        const="without-match"),
    Opt("L", "files-without-match", "files", "const", G_OUTPUT,
        "print only names of FILEs with no selected lines", const="without"),
    Opt("l", "files-with-matches", "files", "const", G_OUTPUT, "print only names of FILEs with selected lines",
        const="with"),
    Opt("c", "count", "count", "const", G_OUTPUT, "print only a count of selected lines per FILE",
        const="lines"),
    Opt("", "count-matches", "count", "const", G_OUTPUT,
        "print only a count of matches per FILE with a match (overlapping ones included; ripgrep's)",
        const="matches"),
    Opt("Z", "null", "null", "flag", G_OUTPUT, "print 0 byte after FILE name"),
    Opt("", "color", "color", "optional", G_OUTPUT,
        "use markers to highlight the matching strings; WHEN is 'always', 'never', or 'auto'", "WHEN",
        const="auto", aliases=("colour",)),
    Opt("", "json", "json", "flag", G_OUTPUT, "print results as JSON Lines, in ripgrep's --json format"),
    Opt("", "replace", "replace", "value", G_OUTPUT,
        "print each match replaced by TEXT (non-overlapping, leftmost-longest; ripgrep's -r)", "TEXT"),
    Opt("", "redact", "redact", "optional", G_OUTPUT,
        "write the input with every byte of every match replaced by MASK (one byte; default '*')", "MASK",
        const="*"),
    Opt("B", "before-context", "before", "int", G_CONTEXT, "print NUM lines of leading context", "NUM"),
    Opt("A", "after-context", "after", "int", G_CONTEXT, "print NUM lines of trailing context", "NUM"),
    Opt("C", "context", "context", "int", G_CONTEXT, "print NUM lines of output context", "NUM"),
    Opt("", "group-separator", "group_separator", "value", G_CONTEXT,
        "print SEP on line between matches with context", "SEP"),
    Opt("", "no-group-separator", "group_separator", "const", G_CONTEXT,
        "do not print separator for matches with context", const=None),
    Opt("r", "recursive", "recursive", "flag", G_FILES, "search directories recursively"),
    Opt("R", "dereference-recursive", "dereference", "flag", G_FILES, "likewise, but follow all symlinks"),
    Opt("", "include", "include", "append", G_FILES, "search only files that match GLOB (a file pattern)",
        "GLOB"),
    Opt("", "exclude", "exclude", "append", G_FILES, "skip files that match GLOB", "GLOB"),
    Opt("", "exclude-dir", "exclude_dir", "append", G_FILES, "skip directories that match GLOB", "GLOB"),
    Opt("g", "glob", "globs", "append", G_FILES,
        "include or (with a leading '!') exclude files and directories matching GLOB (ripgrep's)", "GLOB"),
    Opt("", "backend", "backend", "value", G_KMP, "search with this backend (--list-backends)", "NAME"),
    Opt("j", "threads", "threads", "int", G_KMP, "threads (or processes) to search with; default: every CPU",
        "NUM"),
    Opt("", "dask", "dask", "value", G_KMP,
        "search the files on a Dask cluster: a scheduler ADDRESS, or 'local'", "ADDRESS"),
    Opt("", "list-backends", "list_backends", "flag", G_KMP, "list the backends, then exit"),
    Opt("", "no-progress", "no_progress", "flag", G_KMP, "never show a progress bar"),
)

_BY_SHORT = {o.short: o for o in OPTIONS if o.short}
_BY_SHORT.update({a: o for o in OPTIONS for a in o.aliases if len(a) == 1})
_BY_LONG = {o.long: o for o in OPTIONS if o.long}
_BY_LONG.update({a: o for o in OPTIONS for a in o.aliases if len(a) > 1})


@dataclass
class Config:
    """The parsed command line (defaults: grep's)."""

    fixed: bool = False
    regex: str | None = None
    patterns: list = field(default_factory=list)
    pattern_files: list = field(default_factory=list)
    ignore_case: bool = False
    word: bool = False
    line: bool = False
    no_messages: bool = False
    invert: bool = False
    version: bool = False
    help: bool = False
    max_count: int | None = None
    byte_offset: bool = False
    line_number: bool = False
    line_buffered: bool = False
    with_filename: bool | None = None
    label: str | None = None
    only_matching: bool = False
    quiet: bool = False
    binary_files: str = "binary"
    files: str | None = None
    count: str | None = None
    null: bool = False
    color: str = "never"
    json: bool = False
    replace: str | None = None
    leftmost: bool = False
    redact: str | None = None
    before: int | None = None
    after: int | None = None
    context: int | None = None
    group_separator: str | None = "--"
    recursive: bool = False
    dereference: bool = False
    include: list = field(default_factory=list)
    exclude: list = field(default_factory=list)
    exclude_dir: list = field(default_factory=list)
    globs: list = field(default_factory=list)
    backend: str | None = None
    threads: int | None = None
    dask: str | None = None
    list_backends: bool = False
    no_progress: bool = False
    operands: list = field(default_factory=list)

    @property
    def before_lines(self) -> int:
        return self.before if self.before is not None else (self.context or 0)

    @property
    def after_lines(self) -> int:
        return self.after if self.after is not None else (self.context or 0)


def _int(opt: Opt, text: str, name: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"invalid {opt.metavar.lower() or 'number'} argument for {name}: '{text}'") from None
    if value < 0 or (opt.dest == "threads" and value < 1):
        raise UsageError(f"invalid {opt.metavar.lower() or 'number'} argument for {name}: '{text}'")
    return value


def _store(cfg: Config, opt: Opt, value: Any, name: str) -> None:
    if opt.kind == "flag":
        setattr(cfg, opt.dest, True)
    elif opt.kind == "const":
        setattr(cfg, opt.dest, opt.const)
    elif opt.kind == "append":
        getattr(cfg, opt.dest).append(value)
    elif opt.kind == "int":
        setattr(cfg, opt.dest, _int(opt, value, name))
    else:
        setattr(cfg, opt.dest, value)


def _long(name: str) -> Opt:
    if name in _BY_LONG:
        return _BY_LONG[name]
    hits = {o for key, o in _BY_LONG.items() if key.startswith(name)}
    if len(hits) == 1:
        return hits.pop()
    if not hits:
        raise UsageError(f"unrecognized option '--{name}'")
    names = sorted(f"'--{o.long}'" for o in hits)
    raise UsageError(f"option '--{name}' is ambiguous; possibilities: {' '.join(names)}")


def parse(argv: list[str]) -> Config:
    """The Config of ``argv`` (without the program name); UsageError for a bad one."""
    cfg = Config()
    operands: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--":
            operands.extend(argv[i:])
            break
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            opt = _long(name)
            shown = f"--{opt.long or name}"
            if opt.kind in ("value", "int", "append"):
                if not eq:
                    if i >= len(argv):
                        raise UsageError(f"option '{shown}' requires an argument")
                    value = argv[i]
                    i += 1
                _store(cfg, opt, value, shown)
            elif opt.kind == "optional":
                setattr(cfg, opt.dest, value if eq else opt.const)
            elif eq:
                raise UsageError(f"option '{shown}' doesn't allow an argument")
            else:
                _store(cfg, opt, None, shown)
            continue
        if arg.startswith("-") and len(arg) > 1:
            if arg[1:].isdigit():  # -NUM: --context=NUM
                cfg.context = int(arg[1:])
                continue
            k = 1
            while k < len(arg):
                ch = arg[k]
                k += 1
                opt = _BY_SHORT.get(ch)
                if opt is None:
                    raise UsageError(f"invalid option -- '{ch}'")
                if opt.kind in ("value", "int", "append"):
                    value = arg[k:]
                    if not value:
                        if i >= len(argv):
                            raise UsageError(f"option requires an argument -- '{ch}'")
                        value = argv[i]
                        i += 1
                    _store(cfg, opt, value, f"-{ch}")
                    break
                _store(cfg, opt, None, f"-{ch}")
            continue
        operands.append(arg)
    cfg.operands = operands
    return _check(cfg)


def _check(cfg: Config) -> Config:
    if cfg.regex is not None:
        raise UsageError(f"{cfg.regex}: kmpsearch finds fixed strings only (as grep -F); "
                         "regular expressions are not supported")
    if cfg.color not in _COLOR_ALIASES:
        raise UsageError(f"invalid argument '{cfg.color}' for '--color'\n"
                         "Valid arguments are:\n  - 'always', 'yes', 'force'\n  - 'never', 'no', 'none'\n"
                         "  - 'auto', 'tty', 'if-tty'")
    cfg.color = _COLOR_ALIASES[cfg.color]
    if cfg.binary_files not in ("binary", "text", "without-match"):
        raise UsageError(f"invalid argument '{cfg.binary_files}' for '--binary-files'")
    if cfg.redact is not None and len(os.fsencode(cfg.redact)) != 1:
        raise UsageError(f"--redact: MASK must be one byte, got '{cfg.redact}'")
    if cfg.dereference:
        cfg.recursive = True
    return cfg


_COLOR_ALIASES = {"always": "always", "yes": "always", "force": "always", "never": "never", "no": "never",
                  "none": "never", "auto": "auto", "tty": "auto", "if-tty": "auto"}


def usage_line() -> str:
    return f"Usage: {PROG} [OPTION]... PATTERNS [FILE]...\nTry '{PROG} --help' for more information."


def help_text() -> str:
    """``--help``: the options grouped as grep's manual groups them."""
    lines = [f"Usage: {PROG} [OPTION]... PATTERNS [FILE]...",
             "Search for PATTERNS in each FILE: fixed strings (as grep -F), every occurrence.",
             f"Example: {PROG} -n -e password -e secret -r /var/log",
             "PATTERNS can contain multiple patterns separated by newlines."]
    groups: dict[str, list[Opt]] = {}
    for o in OPTIONS:
        groups.setdefault(o.group, []).append(o)
    for group, opts in groups.items():
        lines += ["", f"{group}:"]
        for o in opts:
            names = []
            if o.short:
                names.append(f"-{o.short}")
            if o.long:
                suffix = f"[={o.metavar}]" if o.kind == "optional" else f"={o.metavar}" if o.metavar else ""
                names.append(f"--{o.long}{suffix}")
            left = "  " + ", ".join(names) if o.short else "      " + ", ".join(names)
            if o.short == "C":
                lines.append(f"{left:<28}{o.help}")
                lines.append(f"  {'-NUM':<26}same as --context=NUM")
                continue
            lines.append(f"{left:<28}{o.help}" if len(left) < 28 else f"{left}\n{'':<28}{o.help}")
    lines += ["",
              "When FILE is '-', read standard input.  With no FILE, read '.' if",
              "recursive, '-' otherwise.  With fewer than two FILEs, assume -h.",
              "Exit status is 0 if any line is selected, 1 otherwise;",
              "if any error occurs and -q is not given, the exit status is 2.",
              "The environment variable KMPSEARCH_BACKEND picks the default backend."]
    return "\n".join(lines) + "\n"
