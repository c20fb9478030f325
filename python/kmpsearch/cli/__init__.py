"""The ``kmpsearch`` command: grep -F for large text, every occurrence of every word.

    kmpsearch [OPTION]... PATTERNS [FILE]...
    kmpsearch [OPTION]... -e PATTERNS ... [-f FILE] [FILE]...

It follows GNU grep's manual (``docs/cli.md``): the lines that hold a match, with ``-n``,
``-b``, ``-H``/``-h``, ``-o`` (each match, overlapping ones included), ``-c`` (matching
lines), ``--count-matches`` (every occurrence, as ripgrep's), ``-l``/``-L``, ``-q``, ``-v``,
``-w``, ``-x``, ``-m``, ``-A``/``-B``/``-C``, ``--color``, ``-r``/``-R`` with
``--include``/``--exclude``/``--exclude-dir`` and ripgrep's ``-g``, binary files as grep
(``binary file matches``, ``-a``, ``-I``), ``--json`` in ripgrep's format, exit status 0 / 1
/ 2. Patterns are fixed strings (``-F`` is accepted; ``-E``, ``-G``, ``-P`` are refused),
one per line, searched in one pass by a ``WordSet``; ``-i`` folds ASCII letters.
kmpsearch's own: ``--redact[=MASK]``, ``--backend``, ``-j``, ``--dask``,
``--list-backends``.

The parts, by job: ``options`` (the command line), ``search`` (files in parallel, printed in
order), ``lines`` (matches to lines), ``printers`` (grep's lines, ripgrep's JSON), and the
walk of ``kmpsearch._tree``.

Hidden knobs for tests (environment): ``KMPSEARCH_CLI_CHUNK`` (bytes per read of a big
file's or a stream's lines, and per window of ``--redact``), ``KMPSEARCH_CLI_PROGRESS_MIN`` (input size from which a progress bar is shown),
``KMPSEARCH_DASK_BLOCKSIZE`` (``--dask``'s block size).
"""

from __future__ import annotations

import errno
import os
import stat
import sys

import kmpsearch

from .._args import search_options
from .._files import open_file
from .._masking import mask_windows
from .._search import match_lengths
from .._streams import windows
from .._tree import Filters, expand
from .._windows import write_all
from ..backends import info
from . import options as _options
from .options import PROG, UsageError
from .printers import JsonPrinter, StandardPrinter
from .progress import Progress
from .search import BLOCK, Searcher, stdin_file

__all__ = ["main"]

STDIN_LABEL = "(standard input)"
#: bytes per window of --redact (the window's matches are held until it is written)
REDACT_CHUNK = 256 << 10
DEFAULT_PROGRESS_MIN = 64 << 20  # show a bar for inputs larger than this
#: the longest word a words file may hold (-f /dev/zero must fail fast, not eat the memory)
MAX_WORD = 16 << 20

EXIT_MATCH, EXIT_NO_MATCH, EXIT_ERROR = 0, 1, 2


class _Quit(Exception):
    """-q found a match: stop searching at once."""


class _WriteError(Exception):
    """Writing to standard output failed (not EPIPE): fatal, as in grep; ``args[0]`` is the OSError."""


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        return default
    return value if value >= 1 else default


def _stderr_line(text: str) -> None:
    try:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


class _Reporter:
    def __init__(self, quiet_errors: bool) -> None:
        self.quiet_errors = quiet_errors
        self.errors = 0

    def error(self, label: str, exc: BaseException | str) -> None:
        self.errors += 1
        if self.quiet_errors:
            return
        if isinstance(exc, OSError) and exc.strerror:
            msg = exc.strerror
        elif isinstance(exc, MemoryError):
            msg = "memory exhausted"  # grep's words
        elif isinstance(exc, BaseException) and not isinstance(exc, OSError):
            msg = f"{type(exc).__name__}: {exc}"
        else:
            msg = str(exc)
        _stderr_line(f"{PROG}: {label}: {msg}")


class _Output:
    """Standard output, buffered; a failed write is a write error (not the input's), a
    broken pipe goes on as BrokenPipeError."""

    def __init__(self, raw) -> None:
        self.raw = raw
        self.parts: list = []
        self.size = 0

    def write(self, data) -> int:
        self.parts.append(data)
        self.size += len(data)
        if self.size >= 1 << 16:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self.parts:
            data = b"".join(self.parts)
            self.parts.clear()
            self.size = 0
            try:
                write_all(self.raw, data)
            except BrokenPipeError:
                raise
            except OSError as exc:  # e.g. ENOSPC on > /dev/full
                raise _WriteError(exc) from exc
        try:
            self.raw.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _WriteError(exc) from exc


# --------------------------------------------------------------------------- patterns

def _read_patterns(path: str) -> list[bytes]:
    """The patterns of ``-f FILE``, one per line (CR LF too), empty lines skipped; read line
    by line, each at most MAX_WORD bytes."""
    words = []
    if path == "-":
        if sys.stdin is None:
            raise OSError(errno.EBADF, os.strerror(errno.EBADF))
        fh, close = sys.stdin.buffer, False
    else:
        fh, close = open(path, "rb"), True  # noqa: SIM115
    try:
        while True:
            line = fh.readline(MAX_WORD + 2)
            if not line:
                break
            if line.endswith(b"\n"):
                line = line[:-1]
            elif len(line) > MAX_WORD:
                raise ValueError(f"a line longer than {MAX_WORD} bytes: not a patterns file")
            if line.endswith(b"\r"):  # lists written on Windows
                line = line[:-1]
            if line:
                words.append(line)
    finally:
        if close:
            fh.close()
    return words


def _patterns(cfg, reporter: _Reporter) -> list[bytes] | None:
    """Every pattern, in order (``-e`` and ``-f`` as given, else the first operand), each
    PATTERNS split at newlines; None when a patterns file cannot be read (fatal, as grep)."""
    words: list[bytes] = []
    if not cfg.patterns and not cfg.pattern_files:
        if not cfg.operands:
            raise UsageError("no PATTERNS given")
        cfg.patterns = [cfg.operands.pop(0)]
    for p in cfg.patterns:
        words.extend(w for w in os.fsencode(p).split(b"\n") if w)
        if not p:
            raise UsageError("empty PATTERNS: every pattern must be at least one byte long")
    for path in cfg.pattern_files:
        try:
            words.extend(_read_patterns(path))
        except (OSError, ValueError) as exc:
            reporter.error(path, exc if isinstance(exc, OSError) else str(exc))
            return None
    return words


# --------------------------------------------------------------------------- backends

def _list_backends(out) -> int:
    try:
        default = kmpsearch.backend
    except ImportError as exc:  # KMPSEARCH_BACKEND names one that cannot load: say so, list the rest
        default = None
        _stderr_line(f"{PROG}: {exc}")
    width = max(map(len, kmpsearch.KNOWN_BACKENDS))
    for name in kmpsearch.KNOWN_BACKENDS:
        try:
            kmpsearch.get_backend(name)
        except ImportError as exc:
            status = f"unavailable: {exc}"
        else:
            status = "available (default)" if name == default else "available"
        out.write(f"{name.ljust(width)}  {status}\n".encode("utf-8", "replace"))
    out.flush()
    return EXIT_MATCH


# --------------------------------------------------------------------------- main

def _stdout_buffer():
    return getattr(sys.stdout, "buffer", sys.stdout)


def _silence_stdout() -> None:
    """After EPIPE: point stdout at /dev/null so the exit-time flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def main(argv: list[str] | None = None) -> int:
    """Run the command; return its exit status (0 selected, 1 none, 2 error)."""
    try:
        if sys.stdout is None:  # started with standard output closed (`kmpsearch ... >&-`)
            raise _WriteError(OSError(errno.EBADF, os.strerror(errno.EBADF)))
        return _main(sys.argv[1:] if argv is None else list(argv))
    except UsageError as exc:
        _stderr_line(f"{PROG}: {exc}\n{_options.usage_line()}")
        return EXIT_ERROR
    except _WriteError as exc:
        err = exc.args[0]
        _stderr_line(f"{PROG}: write error: {err.strerror or err}")
        _silence_stdout()  # what is still buffered must not fail again at exit
        return EXIT_ERROR
    except BrokenPipeError:
        _silence_stdout()  # `kmpsearch word big | head`: the reader left, stop quietly
        if argv is None:
            _die_of_sigpipe()  # as grep: killed by SIGPIPE (the shell sees 141)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except MemoryError:
        _stderr_line(f"{PROG}: memory exhausted")  # grep's words
        return EXIT_ERROR
    except (SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - any other failure (a PanicException is a
        # BaseException): one line and status 2, never 1 ("no match")
        _stderr_line(f"{PROG}: {type(exc).__name__}: {exc}")
        return EXIT_ERROR


def _die_of_sigpipe() -> None:
    """End the process as grep ends when its reader leaves: by the default SIGPIPE action
    (Python ignores SIGPIPE, so the write failed with EPIPE instead)."""
    import signal

    if not hasattr(signal, "SIGPIPE"):  # pragma: no cover - Windows
        return
    try:
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGPIPE)


def _main(argv: list[str]) -> int:
    cfg = _options.parse(argv)
    out = _Output(_stdout_buffer())
    if cfg.help:
        out.write(_options.help_text().encode())
        out.flush()
        return EXIT_MATCH
    if cfg.version:
        out.write(f"{PROG} {kmpsearch.__version__}\n".encode())
        out.flush()
        return EXIT_MATCH
    if cfg.list_backends:
        return _list_backends(out)
    exclusive = [name for name, on in (("-c", cfg.count == "lines"), ("--count-matches", cfg.count == "matches"),
                                       ("-l", cfg.files == "with"), ("-L", cfg.files == "without"),
                                       ("-q", cfg.quiet)) if on]
    if cfg.json and exclusive:
        raise UsageError(f"--json cannot be used with {', '.join(exclusive)}")
    if cfg.redact is not None:
        clash = exclusive + [name for name, on in (("--json", cfg.json), ("-r", cfg.recursive),
                                                   ("--dask", cfg.dask is not None), ("-v", cfg.invert),
                                                   ("-o", cfg.only_matching)) if on]
        if clash:
            raise UsageError(f"--redact: not allowed with {', '.join(clash)}")

    reporter = _Reporter(cfg.no_messages)
    words = _patterns(cfg, reporter)
    if words is None:
        return EXIT_ERROR  # like grep: a missing patterns file is fatal
    try:  # --backend, else $KMPSEARCH_BACKEND, else the fastest; one that cannot load is exit 2
        api = kmpsearch.get_backend(cfg.backend if cfg.backend is not None else kmpsearch.backend)
    except ImportError as exc:
        _stderr_line(f"{PROG}: {exc}")
        return EXIT_ERROR
    # every word in one pass, compiled once per run (no words: an empty patterns file)
    # -i: Unicode case, as grep in a UTF-8 locale and rg
    wordset = api.WordSet(words, ignore_case="unicode" if cfg.ignore_case else False) if words else None
    opts = search_options(info(api.__name__.rsplit(".", 1)[1]), cfg.threads)

    operands = list(cfg.operands)
    implicit_dot = False
    if not operands:
        if cfg.recursive:
            operands, implicit_dot = ["."], True
        else:
            operands = ["-"]
    if cfg.redact is not None:
        if len(operands) > 1:
            raise UsageError("--redact: one input only (a FILE or standard input)")
        return _redact(cfg, wordset, opts, operands[0], out, reporter)
    if cfg.with_filename is None:
        cfg.with_filename = len(operands) > 1 or cfg.recursive and not (
            len(operands) == 1 and operands[0] != "-" and not os.path.isdir(operands[0]))
    return _search(cfg, api, wordset, opts, operands, implicit_dot, out, reporter)


def _redact(cfg, wordset, opts, operand: str, out, reporter: _Reporter) -> int:
    """``--redact[=MASK]``: the one input to standard output, every matched byte masked."""
    mask = os.fsencode(cfg.redact)
    label = STDIN_LABEL if operand == "-" else operand
    try:
        f = stdin_file() if operand == "-" else open_file(operand, regular=False)[0]
    except OSError as exc:
        reporter.error(label, exc)
        return EXIT_ERROR
    found = 0
    with f:
        try:
            st = os.fstat(f.fileno())
            if stat.S_ISDIR(st.st_mode):
                raise OSError(errno.EISDIR, os.strerror(errno.EISDIR))
            _check_not_output(st, out)
            chunk = _env_int("KMPSEARCH_CLI_CHUNK", REDACT_CHUNK)
            if wordset is None:
                while data := f.read(chunk):
                    out.write(data)
            else:
                _, gen = windows(wordset, f, "pairs", opts, chunk, text=False)
                found = mask_windows(wordset, gen, out, mask)
            out.flush()
        except (BrokenPipeError, _WriteError):
            raise
        except (OSError, MemoryError, ValueError, RuntimeError) as exc:
            reporter.error(label, exc)
    if reporter.errors:
        return EXIT_ERROR
    return EXIT_MATCH if found else EXIT_NO_MATCH


def _check_not_output(st: os.stat_result, out) -> None:
    """Writing into the file that is read would destroy it: refused, as grep refuses it."""
    if not stat.S_ISREG(st.st_mode):
        return
    try:
        o = os.fstat(out.raw.fileno())
    except (AttributeError, OSError, ValueError):
        return
    if (o.st_dev, o.st_ino) == (st.st_dev, st.st_ino):
        raise OSError(errno.EINVAL, "input file is also the output")


def _search(cfg, api, wordset, opts, operands, implicit_dot: bool, out, reporter: _Reporter) -> int:
    counts_only = cfg.quiet or cfg.files is not None or cfg.count is not None
    color = cfg.color == "always" or (cfg.color == "auto" and _isatty(sys.stdout)
                                      and os.environ.get("TERM", "dumb") != "dumb")
    line_buffered = cfg.line_buffered
    if cfg.json:
        printer = JsonPrinter(out, line_buffered=line_buffered)
    else:
        printer = StandardPrinter(out, with_filename=cfg.with_filename, line_number=cfg.line_number,
                                  byte_offset=cfg.byte_offset, null=cfg.null, color=color,
                                  separator=None if cfg.group_separator is None else os.fsencode(cfg.group_separator),
                                  line_buffered=line_buffered,
                                  replace=None if cfg.replace is None else os.fsencode(cfg.replace))
        printer.leftmost_first = cfg.leftmost
    name_end = b"\0" if cfg.null else b"\n"
    name_sep = b"\0" if cfg.null else b":"

    def emit(label: str, selected: int, matches: int) -> None:
        name = os.fsencode(label)
        if cfg.quiet:
            if selected:
                raise _Quit
        elif cfg.files == "with":
            if selected:
                out.write(name + name_end)
        elif cfg.files == "without":
            if not selected:
                out.write(name + name_end)
        elif cfg.count == "lines":
            n = min(selected, cfg.max_count) if cfg.max_count is not None else selected
            out.write((name + name_sep if cfg.with_filename else b"") + b"%d\n" % n)
        elif cfg.count == "matches":
            if matches:
                out.write((name + name_sep if cfg.with_filename else b"") + b"%d\n" % matches)
        if line_buffered:
            out.flush()

    def binary_message(label: str) -> None:
        out.flush()
        _stderr_line(f"{PROG}: {label}: binary file matches")

    searcher = Searcher(cfg, wordset, match_lengths(wordset) if wordset is not None else [], opts,
                        printer, counts_only=counts_only, emit=emit, binary_message=binary_message,
                        error=reporter.error)
    searcher.block = _env_int("KMPSEARCH_CLI_CHUNK", BLOCK)
    try:
        if cfg.dask is not None:
            from .dask import run_dask

            run_dask(cfg, api, wordset, searcher, operands, reporter)
        else:
            progress = Progress(not cfg.no_progress and not cfg.quiet and _isatty(sys.stderr)
                                and not (not counts_only and _isatty(sys.stdout)),
                                _env_int("KMPSEARCH_CLI_PROGRESS_MIN", DEFAULT_PROGRESS_MIN))
            searcher.stream_from = progress.threshold if progress.enabled else None
            searcher.progress = progress
            filters = Filters(cfg.include, cfg.exclude, cfg.exclude_dir, cfg.globs)
            for op in operands:
                if op == "-":
                    _stdin(searcher, cfg, reporter, out, progress)
                    continue
                searcher.run(expand([op], recursive=cfg.recursive, follow_links=cfg.dereference, filters=filters,
                                    on_error=reporter.error, implicit_dot=implicit_dot))
    except _Quit:
        out.flush()
        return EXIT_MATCH  # -q: a selected line wins over earlier errors, as in grep
    printer.finish(dict(searcher.stats))
    out.flush()
    if reporter.errors and not (cfg.quiet and searcher.matched):
        return EXIT_ERROR
    return EXIT_MATCH if searcher.matched else EXIT_NO_MATCH  # -L too (grep 3.5+: a selected line)


def _stdin(searcher, cfg, reporter: _Reporter, out, progress) -> None:
    label = cfg.label if cfg.label is not None else STDIN_LABEL
    try:
        f = stdin_file()
    except OSError as exc:
        reporter.error(label, exc)
        return
    with f:
        try:
            st = os.fstat(f.fileno())
            if stat.S_ISDIR(st.st_mode):
                raise OSError(errno.EISDIR, os.strerror(errno.EISDIR))
            total = None
            if stat.S_ISREG(st.st_mode):  # `kmpsearch word < big`: from the current position on
                try:
                    total = max(0, st.st_size - f.tell())
                except OSError:
                    total = None
            meter = progress.meter(label, total)
            try:
                searcher.stream(f, label, meter.advance)
            finally:
                meter.close()
        except (BrokenPipeError, _Quit, _WriteError):
            raise
        except (OSError, MemoryError, ValueError, RuntimeError) as exc:
            reporter.error(label, exc)
