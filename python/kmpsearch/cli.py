"""The ``kmpsearch`` command: grep-like search of files for one or more words.

    kmpsearch [OPTIONS] PATTERN [FILE ...]
    kmpsearch [OPTIONS] -e WORD [-e WORD ...] [-f WORDS_FILE] [FILE ...]

Every occurrence (overlaps included) is printed as ``PATH:OFFSET:MATCH``: the byte
offset in the file and the text that matched, in file order then offset order (for
several words, ties at one offset follow the order the words were given). Patterns
are literal byte strings (no regular expressions): a PATTERN from the command line
is its bytes as the OS passed them (UTF-8 text, odd bytes kept as is); a words file
is read as raw bytes, one word per line, empty lines skipped. All the words are
searched in one pass (a ``WordSet``: Aho-Corasick), compiled once per run; ``-i``
folds ASCII letters only (as ``grep -i`` in the C locale).

``--redact[=MASK]`` writes the one input to standard output with every byte that a match
covers replaced by MASK (one byte, default ``*``; overlapping matches cover their union),
exit status 0 if something was masked, 1 if not; the input is never modified (an output
redirected onto the input file is refused, as grep refuses it).

No FILE, or ``-``, reads standard input, labelled ``(standard input)``; with ``-r`` and
no FILE the working directory is searched, as grep does. Exit status as grep's: 0 if
something matched, 1 if nothing did, 2 if an error occurred (even when something
matched, except with ``-q``).

Memory stays bounded whatever the size of the input: inputs are read by the reader behind
``WordSet.finditer`` (``kmpsearch._windows``), in windows (16 MiB, 256 KiB when every match
is listed or with ``--redact``) that overlap by the longest word's length minus one, and a
match is reported by the one window that owns its start offset. ``-c`` on a regular file
hands the open descriptor to the backend's file search, which reads with ``pread``.

Hidden knobs for tests (environment): ``KMPSEARCH_CLI_CHUNK`` (window size in bytes)
and ``KMPSEARCH_CLI_PROGRESS_MIN`` (input size from which a progress bar is shown).
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import stat
import sys
from types import ModuleType

import kmpsearch

from ._args import search_options
from ._files import open_file
from ._masking import mask_windows
from ._streams import search_fd, windows
from ._windows import write_all
from .backends import info

__all__ = ["main"]

PROG = "kmpsearch"
STDIN_LABEL = "(standard input)"
DEFAULT_CHUNK = 16 << 20  # window size: bounds memory (-c, -l, -q: only counts per window)
# window size when every match is listed: the window's matches are held until printed (as
# compact arrays, 12 bytes a match), so a window dense with matches (two at every byte:
# `-e a -e aa` over `aaaa...`) must stay small (see docs/tuning.md)
LINES_CHUNK = 256 << 10
DEFAULT_PROGRESS_MIN = 64 << 20  # show a bar for inputs larger than this
_LINES_PER_WRITE = 1 << 15

EXIT_MATCH, EXIT_NO_MATCH, EXIT_ERROR = 0, 1, 2


class _Quit(Exception):
    """-q found a match: stop searching at once."""


class _WriteError(Exception):
    """Writing to standard output failed (not EPIPE): fatal, as in grep; ``args[0]`` is the OSError."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        return default
    return value if value >= 1 else default


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        usage="%(prog)s [OPTIONS] PATTERN [FILE ...]\n"
              "       %(prog)s [OPTIONS] -e PATTERN ... [-f WORDS_FILE] [FILE ...]",
        description="Find every occurrence of one or more words (literal byte strings, not "
                    "regular expressions) in files or standard input. Prints PATH:OFFSET:MATCH "
                    "per occurrence, OFFSET in bytes, overlapping occurrences included.",
        epilog="Exit status: 0 if something matched, 1 if nothing did, 2 on an error. "
               "The environment variable KMPSEARCH_BACKEND picks the default backend.",
    )
    p.add_argument("args", nargs="*", metavar="PATTERN [FILE ...]",
                   help="the word to find (unless -e or -f is given), then the files to search; "
                        "none or '-' reads standard input")
    g = p.add_argument_group("patterns")
    g.add_argument("-e", "--pattern", dest="patterns", action="append", default=[], metavar="PATTERN",
                   help="a word to find (repeatable); write -e-WORD or --pattern=-WORD for a word "
                        "starting with '-'")
    g.add_argument("-f", "--file", dest="word_files", action="append", default=[], metavar="WORDS_FILE",
                   help="read words from WORDS_FILE, one per line, empty lines skipped ('-': standard input)")
    g.add_argument("-i", "--ignore-case", action="store_true",
                   help="ASCII letters match either case (A-Z = a-z); other bytes exactly")
    g = p.add_argument_group("input")
    g.add_argument("-r", "--recursive", action="store_true",
                   help="search directories recursively (symbolic links are followed only on the "
                        "command line)")
    g = p.add_argument_group("output")
    g.add_argument("-c", "--count", action="store_true", help="print PATH:COUNT for each file")
    g.add_argument("-l", "--files-with-matches", dest="list_files", action="store_true",
                   help="print only the names of files with a match")
    g.add_argument("-q", "--quiet", "--silent", dest="quiet", action="store_true",
                   help="print nothing; exit 0 at the first match")
    g.add_argument("-s", "--no-messages", dest="no_messages", action="store_true",
                   help="do not report missing or unreadable files (the exit status still does)")
    g.add_argument("--redact", metavar="=MASK", nargs="?", const="*",
                   help="write the input (one FILE or standard input) to standard output with every byte "
                        "of every match replaced by MASK (one byte, given as --redact=MASK; default '*'); "
                        "the input is never modified")
    g.add_argument("--json", action="store_true",
                   help="print one JSON object per line: {path, offset, match}, with -c {path, count}, "
                        "with -l {path}")
    g.add_argument("--no-progress", action="store_true",
                   help="never show a progress bar (shown on a terminal for big inputs when the "
                        "optional 'rich' package is installed)")
    g = p.add_argument_group("backend")
    g.add_argument("--backend", metavar="NAME",
                   help=f"search with this backend ({', '.join(kmpsearch.KNOWN_BACKENDS)}); "
                        "default: $KMPSEARCH_BACKEND or the fastest available")
    g.add_argument("-j", "--threads", type=_positive_int, metavar="N",
                   help="threads (or processes) per search; default: every CPU")
    g.add_argument("--dask", metavar="ADDRESS",
                   help="search the files on a Dask cluster: a scheduler address, or 'local' to start one "
                        "on this machine (needs kmpsearch[dask]; files only, -c/-l/-q or the listing)")
    g.add_argument("--list-backends", action="store_true",
                   help="list the backends and why an unavailable one is unavailable, then exit")
    p.add_argument("-V", "--version", action="version", version=f"%(prog)s {kmpsearch.__version__}")
    return p


# --------------------------------------------------------------------------- reporting

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


def _stderr_line(text: str) -> None:
    try:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


# --------------------------------------------------------------------------- progress

class _Progress:
    """Makes transient rich progress bars on stderr, or nothing."""

    def __init__(self, enabled: bool, threshold: int) -> None:
        self.threshold = threshold
        self._rich = None
        if enabled:
            try:
                from rich import progress as rich_progress
                from rich.console import Console
            except ImportError:  # optional dependency
                pass
            else:
                self._rich = (rich_progress, Console)

    @property
    def enabled(self) -> bool:
        return self._rich is not None

    def meter(self, label: str, total: int | None) -> "_Meter":
        return _Meter(self, label, total)

    def _start(self, label: str, total: int | None):
        rp, Console = self._rich
        columns = [rp.TextColumn("{task.description}"), rp.BarColumn(), rp.DownloadColumn(),
                   rp.TransferSpeedColumn()]
        if total is not None:
            columns.append(rp.TimeRemainingColumn())
        bar = rp.Progress(*columns, console=Console(file=sys.stderr), transient=True)
        task = bar.add_task(label, total=total)
        bar.start()
        return bar, task


class _Meter:
    """Progress of one input: a bar appears once the input is known to be big."""

    def __init__(self, progress: _Progress, label: str, total: int | None) -> None:
        self.progress, self.label, self.total = progress, label, total
        self.done = 0
        self.bar = self.task = None
        if total is not None and total > progress.threshold:
            self._open()

    def _open(self) -> None:
        if self.progress.enabled:
            self.bar, self.task = self.progress._start(self.label, self.total)
            if self.done:
                self.bar.update(self.task, completed=self.done)

    def advance(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done)
        elif self.total is None and self.done > self.progress.threshold and self.progress.enabled:
            self._open()

    def close(self) -> None:
        if self.bar is not None:
            try:
                self.bar.stop()
            except (OSError, ValueError):
                pass
            self.bar = None


# --------------------------------------------------------------------------- searching

class _Searcher:
    def __init__(self, args: argparse.Namespace, words: list[bytes], api: ModuleType,
                 out, reporter: _Reporter, progress: _Progress) -> None:
        # every word in one pass, compiled once per run (no words: an empty words file)
        self.wordset = api.WordSet(words, ignore_case=args.ignore_case) if words else None
        self.words = list(self.wordset.words) if words else []
        self.ignore_case = args.ignore_case
        self.opts = search_options(info(api.__name__.rsplit(".", 1)[1]), args.threads)
        self.out = out
        self.reporter = reporter
        self.progress = progress
        self.json = args.json
        self.mode = "quiet" if args.quiet else "list" if args.list_files else "count" if args.count \
            else "redact" if args.redact is not None else "lines"
        self.mask = os.fsencode(args.redact) if args.redact is not None else b"*"
        self.recursive = args.recursive
        self.implicit_dot = False
        self.chunk = _env_int("KMPSEARCH_CLI_CHUNK",
                              LINES_CHUNK if self.mode in ("lines", "redact") else DEFAULT_CHUNK)
        self.matched = False

    # ---- inputs

    def run(self, operands: list[str]) -> None:
        for op in operands:
            if op == "-":
                self.search_stdin()
            else:
                self.search_operand(op)

    def search_operand(self, path: str) -> None:
        try:
            f, st = open_file(path, regular=False)
        except IsADirectoryError as exc:
            if self.recursive:
                self.walk(path, path)
            else:
                self.reporter.error(path, exc)
            return
        except OSError as exc:
            self.reporter.error(path, exc)
            return
        self.search_file(f, st, path)

    def walk(self, top: str, label: str) -> None:
        """Recurse like ``grep -r``: sorted, symbolic links and devices met inside skipped."""
        try:
            with os.scandir(top) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            self.reporter.error(label, exc)
            return
        for entry in entries:
            # `kmpsearch -r word` (no FILE) labels ./a/b as a/b, as grep does
            child = entry.name if (label == "." and self.implicit_dot) else os.path.join(label, entry.name)
            try:
                if entry.is_symlink():
                    continue
                if entry.is_dir(follow_symlinks=False):
                    self.walk(entry.path, child)
                elif entry.is_file(follow_symlinks=False):
                    self.search_path(entry.path, child)
            except (BrokenPipeError, _Quit, _WriteError):
                raise  # the output is gone (or -q/-l is done): not this file's error
            except OSError as exc:
                self.reporter.error(child, exc)

    def search_path(self, path: str, label: str) -> None:
        try:
            f, st = open_file(path, regular=False)  # a directory now: replaced since the walk saw it
        except OSError as exc:
            self.reporter.error(label, exc)
            return
        self.search_file(f, st, label)

    def search_file(self, f, st: os.stat_result, label: str) -> None:
        """Search the file ``f`` (opened by ``open_file``, whose fstat is ``st``), then close it."""
        with f:
            try:
                regular = stat.S_ISREG(st.st_mode)
                self.check_not_output(st)
                meter = self.progress.meter(label, st.st_size if regular else None)
                try:
                    if self.mode == "count" and regular and meter.bar is None:
                        self.count_regular(f.fileno(), st.st_size, label)
                    else:  # windows: bounded memory, early stop for -l/-q, a bar that moves
                        self.search_stream(f, label, meter)
                finally:
                    meter.close()
            except (BrokenPipeError, _Quit, _WriteError):
                raise
            except (OSError, MemoryError, ValueError, RuntimeError) as exc:  # e.g. EIO mid-file
                self.reporter.error(label, exc)

    def search_stdin(self) -> None:
        try:
            fd = sys.stdin.fileno()
            f = open(fd, "rb", buffering=0, closefd=False)
        except (OSError, ValueError, AttributeError) as exc:
            if not isinstance(exc, OSError):  # standard input is closed
                exc = OSError(errno.EBADF, os.strerror(errno.EBADF))
            self.reporter.error(STDIN_LABEL, exc)
            return
        with f:
            try:
                st = os.fstat(fd)
                if stat.S_ISDIR(st.st_mode):
                    raise OSError(errno.EISDIR, os.strerror(errno.EISDIR))
                regular = stat.S_ISREG(st.st_mode)
                self.check_not_output(st)
                total = None
                if regular:  # e.g. `kmpsearch word < big`: from the current position on
                    try:
                        total = max(0, st.st_size - f.tell())
                    except OSError:
                        total = None
                meter = self.progress.meter(STDIN_LABEL, total)
                try:
                    self.search_stream(f, STDIN_LABEL, meter)
                finally:
                    meter.close()
            except (BrokenPipeError, _Quit, _WriteError):
                raise
            except (OSError, MemoryError, ValueError, RuntimeError) as exc:
                self.reporter.error(STDIN_LABEL, exc)

    # ---- the searches

    def count_regular(self, fd: int, size: int, label: str) -> None:
        """-c on a regular file: the open descriptor to the backend's file search (pread)."""
        n = search_fd(self.wordset, fd, size, "count", self.opts, label) if self.wordset else 0
        self.emit_count(label, n)

    def check_not_output(self, st: os.stat_result) -> None:
        """--redact into the file it reads would destroy it: refused, as grep refuses it."""
        if self.mode != "redact" or not stat.S_ISREG(st.st_mode):
            return
        try:
            out = os.fstat(self.out.fileno())
        except (AttributeError, OSError, ValueError):
            return
        if (out.st_dev, out.st_ino) == (st.st_dev, st.st_ino):
            raise OSError(errno.EINVAL, "input file is also the output")

    def search_stream(self, f, label: str, meter: _Meter) -> None:
        mode = self.mode
        prefix = os.fsencode(label) + b":"
        n_found = 0
        if mode == "redact":
            if self.wordset is None:  # no words: the input as it is
                n_found = self.copy(f, meter)
            else:
                # the windowed reader (finditer's), masking into standard output
                _, found = windows(self.wordset, f, "pairs", self.opts, self.chunk, meter.advance, text=False)
                n_found = mask_windows(self.wordset, found, _Output(self.out), self.mask)
            _flush(self.out)
            self.matched = self.matched or n_found > 0
            return
        if self.wordset is not None:
            want = "pairs" if mode == "lines" else "count"
            # the windowed reader (finditer's), one window at a time
            _, found = windows(self.wordset, f, want, self.opts, self.chunk, meter.advance)
            for base, view, _own, got in found:
                if mode == "lines":
                    if len(got[0]):
                        self.emit_lines(prefix, label, got, base, view)
                        n_found += 1
                    continue
                n_found += got
                if got and mode in ("list", "quiet"):
                    break  # the answer is known: stop reading
        if mode == "count":
            self.emit_count(label, n_found)
        elif n_found:
            self.matched = True
            if mode == "list":
                self.emit(label, {"path": _json_text(label)}, os.fsencode(label) + b"\n")
            elif mode == "quiet":
                raise _Quit

    def copy(self, f, meter: _Meter) -> int:
        """--redact without any word (an empty words file): the input unchanged."""
        while True:
            data = f.read(self.chunk)
            if not data:
                return 0
            meter.advance(len(data))
            _write_all(self.out, data)

    # ---- output

    def emit(self, label: str, obj: dict, line: bytes) -> None:
        if self.json:
            line = json.dumps(obj, ensure_ascii=False).encode("utf-8") + b"\n"
        _write_all(self.out, line)
        _flush(self.out)

    def emit_count(self, label: str, n: int) -> None:
        if n:
            self.matched = True
        self.emit(label, {"path": _json_text(label), "count": n}, os.fsencode(label) + b":%d\n" % n)

    def emit_lines(self, prefix: bytes, label: str, found: tuple, base: int, view: memoryview) -> None:
        """Print one window's matches, ``found``: the arrays (absolute offsets, in order;
        word indices), 12 bytes a match however dense the window. The MATCH column is the
        word; with -i the input's own bytes there (as grep -o prints them)."""
        self.matched = True
        words = self.words
        if self.ignore_case:
            def matched(off: int, j: int) -> bytes:
                return bytes(view[off - base:off - base + len(words[j])])
        else:
            def matched(off: int, j: int) -> bytes:
                return words[j]
        if self.json:
            path = _json_text(label)
            texts = [_json_text(w) for w in words]
            dumps = json.dumps

            def render(batch):
                return "".join(dumps({"path": path, "offset": off,
                                      "match": _json_text(matched(off, j)) if self.ignore_case else texts[j]},
                                     ensure_ascii=False) + "\n" for off, j in batch).encode("utf-8")
        else:
            def render(batch):
                return b"".join(b"%s%d:%s\n" % (prefix, off, matched(off, j)) for off, j in batch)
        offsets, index = memoryview(found[0]), memoryview(found[1])
        for start in range(0, len(offsets), _LINES_PER_WRITE):
            # in batches: the text of a window's matches can be far larger than the window
            stop = start + _LINES_PER_WRITE
            _write_all(self.out, render(zip(offsets[start:stop].tolist(), index[start:stop].tolist())))
        _flush(self.out)


def _write_all(out, data) -> None:
    """Write all of ``data``. BufferedWriter.write can return a short count instead of
    raising when the reader goes away mid-write (EPIPE): writing the rest raises."""
    try:
        write_all(out, data)
    except BrokenPipeError:
        raise
    except OSError as exc:  # e.g. ENOSPC on > /dev/full: not the input file's fault
        raise _WriteError(exc) from exc


class _Output:
    """Standard output for ``--redact``: a failed write is a write error, not the input's."""

    def __init__(self, out) -> None:
        self.out = out

    def write(self, data) -> int:
        _write_all(self.out, data)
        return len(data)


def _flush(out) -> None:
    try:
        out.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise _WriteError(exc) from exc


def _json_text(value: str | bytes) -> str | dict[str, str]:
    """A path or word for JSON, lossless: its text when it is UTF-8, else (as ripgrep's
    --json does) ``{"bytes": <base64>}``, so that ``\\xff`` and ``\\xfe`` stay distinct."""
    raw = os.fsencode(value) if isinstance(value, str) else value
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        import base64

        return {"bytes": base64.b64encode(raw).decode("ascii")}


# --------------------------------------------------------------------------- patterns

#: the longest word a words file may hold (-f /dev/zero must fail fast, not eat the memory)
MAX_WORD = 16 << 20


def _read_words(path: str, reporter: _Reporter) -> list[bytes] | None:
    """The words of a words file, one per line (CR LF too), empty lines skipped; read line
    by line, each line at most MAX_WORD bytes."""
    words = []
    try:
        if path == "-":
            if sys.stdin is None:  # standard input is closed
                raise OSError(errno.EBADF, os.strerror(errno.EBADF))
            fh, close = sys.stdin.buffer, False
        else:
            fh, close = open(path, "rb"), True
        try:
            while True:
                line = fh.readline(MAX_WORD + 2)
                if not line:
                    break
                if line.endswith(b"\n"):
                    line = line[:-1]
                elif len(line) > MAX_WORD:
                    raise ValueError(f"a line longer than {MAX_WORD} bytes: not a words file")
                if line.endswith(b"\r"):  # word lists written on Windows
                    line = line[:-1]
                if line:
                    words.append(line)
        finally:
            if close:
                fh.close()
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
    lines = []
    width = max(map(len, kmpsearch.KNOWN_BACKENDS))
    for name in kmpsearch.KNOWN_BACKENDS:
        try:
            kmpsearch.get_backend(name)
        except ImportError as exc:
            status = f"unavailable: {exc}"
        else:
            status = "available (default)" if name == default else "available"
        lines.append(f"{name.ljust(width)}  {status}\n")
    _write_all(out, "".join(lines).encode("utf-8", "replace"))
    _flush(out)
    return 0


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
    """Run the command; return its exit status (0 match, 1 no match, 2 error)."""
    parser = _build_parser()
    try:
        if sys.stdout is None:  # started with standard output closed (`kmpsearch ... >&-`)
            raise _WriteError(OSError(errno.EBADF, os.strerror(errno.EBADF)))
        return _main(parser, argv)
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


#: the command's --dask block size (hidden knob for the tests)
DASK_BLOCKSIZE_ENV = "KMPSEARCH_DASK_BLOCKSIZE"


def _dask_main(args, operands: list[str], words: list[bytes], api, out, reporter: _Reporter) -> int:
    """``kmpsearch --dask ADDRESS|local ...``: -c, -l, -q and the listing (text or --json)
    over regular files on a cluster (``kmpsearch.dask.command_results``), the output byte for
    byte the command's without --dask."""
    from . import dask as kdask

    if not operands and not args.recursive:
        reporter.error(STDIN_LABEL, "--dask searches files, not standard input")
    if "-" in operands:
        reporter.error(STDIN_LABEL, "--dask searches files, not standard input")
    mode = "quiet" if args.quiet else "list" if args.list_files else "count" if args.count else "lines"
    results = kdask.command_results(
        [op for op in operands if op != "-"], words, scheduler=args.dask, recursive=args.recursive,
        ignore_case=args.ignore_case, lines=mode == "lines", threads=args.threads or 1,
        blocksize=os.environ.get(DASK_BLOCKSIZE_ENV) or kdask.DEFAULT_BLOCKSIZE,
        window=_env_int("KMPSEARCH_CLI_CHUNK", kdask.WINDOW), backend=api.__name__.rsplit(".", 1)[1],
        on_error=reporter.error)
    matched = False

    def emit(obj: dict, line: bytes) -> None:
        if args.json:
            line = json.dumps(obj, ensure_ascii=False).encode("utf-8") + b"\n"
        _write_all(out, line)
        _flush(out)

    word_bytes = list(dict.fromkeys(words))  # the WordSet's words: distinct, first kept
    try:
        for label, got in results:
            if isinstance(got, BaseException):
                reporter.error(label, got)
                continue
            if mode != "lines":
                n_found = got
            else:
                offsets, idx, texts = got
                n_found = len(offsets)
                if n_found:
                    matches = texts if texts is not None else [word_bytes[j] for j in idx.tolist()]
                    if args.json:
                        path = _json_text(label)
                        data = "".join(json.dumps({"path": path, "offset": off, "match": _json_text(m)},
                                                  ensure_ascii=False) + "\n"
                                       for off, m in zip(offsets.tolist(), matches)).encode("utf-8")
                    else:
                        prefix = os.fsencode(label) + b":"
                        data = b"".join(b"%s%d:%s\n" % (prefix, off, m) for off, m in zip(offsets.tolist(), matches))
                    _write_all(out, data)
                    _flush(out)
            if mode == "count":
                matched = matched or n_found > 0
                emit({"path": _json_text(label), "count": n_found}, os.fsencode(label) + b":%d\n" % n_found)
            elif n_found:
                matched = True
                if mode == "list":
                    emit({"path": _json_text(label)}, os.fsencode(label) + b"\n")
                elif mode == "quiet":
                    return EXIT_MATCH
    except (TypeError, ValueError) as exc:  # the block size knob
        _stderr_line(f"{PROG}: {DASK_BLOCKSIZE_ENV}: {exc}")
        return EXIT_ERROR
    except ConnectionError as exc:
        _stderr_line(f"{PROG}: {exc}")
        return EXIT_ERROR
    finally:
        results.close()
    if reporter.errors:
        return EXIT_ERROR
    return EXIT_MATCH if matched else EXIT_NO_MATCH


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


_SHORT_WITH_VALUE = "efj"
_LONG_WITH_VALUE = ("--pattern", "--file", "--backend", "--threads", "--dask")


def _split_double_dash(argv: list[str]) -> tuple[list[str], list[str]]:
    """Split ``argv`` at the ``--`` that ends the options (not one that is an option's value).

    ``parse_intermixed_args`` mishandles ``--`` (it reports the operands after it as
    unrecognized), so the operands after it are added by hand. An option's value in the
    next token is glued to it (``-e --`` becomes ``-e--``, ``--pattern -x`` becomes
    ``--pattern=-x``): argparse refuses a separate value that starts with ``-``; grep takes it.
    """
    out: list[str] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok == "--":
            return out, argv[i + 1:]
        takes_next = False
        if tok.startswith("--"):
            takes_next = "=" not in tok and len(tok) > 2 and any(o.startswith(tok) for o in _LONG_WITH_VALUE)
        elif tok.startswith("-") and len(tok) > 1:
            for k, ch in enumerate(tok[1:], 1):
                if ch in _SHORT_WITH_VALUE:
                    takes_next = k == len(tok) - 1  # else its value is the rest of the token
                    break
        if takes_next and i + 1 < len(argv) and argv[i + 1]:
            tok += ("=" if tok.startswith("--") else "") + argv[i + 1]
            i += 1
        out.append(tok)
        i += 1
    return out, []


def _main(parser: argparse.ArgumentParser, argv: list[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    before, after = _split_double_dash(argv)
    # --redact alone means --redact='*' (only --redact=MASK gives a mask, as grep's --color=WHEN)
    before = ["--redact=*" if tok == "--redact" else tok for tok in before]
    args = parser.parse_intermixed_args(before)
    args.args.extend(after)
    out = _stdout_buffer()
    if args.list_backends:
        return _list_backends(out)
    if args.redact is not None:
        if len(os.fsencode(args.redact)) != 1:
            parser.error(f"argument --redact: MASK must be one byte, got {args.redact!r}")
        clash = [name for name, on in (("-c", args.count), ("-l", args.list_files), ("-q", args.quiet),
                                       ("--json", args.json), ("-r", args.recursive),
                                       ("--dask", args.dask is not None)) if on]
        if clash:
            parser.error(f"argument --redact: not allowed with {', '.join(clash)}")

    reporter = _Reporter(args.no_messages)
    operands = list(args.args)
    # argparse turns the value "--" (as in -e-- or --pattern=--) into an empty list
    words: list[bytes] = [os.fsencode(p if isinstance(p, str) else "--") for p in args.patterns]
    if not args.patterns and not args.word_files:
        if not operands:
            parser.error("the following arguments are required: PATTERN")
        words.append(os.fsencode(operands.pop(0)))
    if any(not w for w in words):
        parser.error("empty PATTERN: every pattern must be at least one byte long")
    for wf in args.word_files:
        got = _read_words(wf, reporter)
        if got is None:
            return EXIT_ERROR  # like grep: a missing words file is fatal
        words.extend(got)

    try:  # --backend, else $KMPSEARCH_BACKEND, else the fastest; one that cannot load is exit 2
        api = kmpsearch.get_backend(args.backend if args.backend is not None else kmpsearch.backend)
    except ImportError as exc:
        _stderr_line(f"{PROG}: {exc}")
        return EXIT_ERROR

    if args.dask is not None:  # the same search on a cluster
        return _dask_main(args, operands, words, api, out, reporter)

    implicit_dot = False
    if not operands:
        if args.recursive:
            operands, implicit_dot = ["."], True
        else:
            operands = ["-"]
    if args.redact is not None and len(operands) > 1:
        parser.error("argument --redact: one input only (a FILE or standard input)")

    mode_lines = not (args.quiet or args.list_files or args.count)  # --redact too: it writes to stdout
    show_bar = (not args.no_progress and not args.quiet and _isatty(sys.stderr)
                and not (mode_lines and _isatty(sys.stdout)))  # lines on the same terminal: no bar
    progress = _Progress(show_bar, _env_int("KMPSEARCH_CLI_PROGRESS_MIN", DEFAULT_PROGRESS_MIN))

    searcher = _Searcher(args, words, api, out, reporter, progress)
    searcher.implicit_dot = implicit_dot
    try:  # no words at all (an empty words file): inputs are opened but nothing matches, as grep -f /dev/null
        searcher.run(operands)
    except _Quit:
        return EXIT_MATCH  # -q: a match wins over earlier errors, as in grep
    _flush(out)
    if reporter.errors:
        return EXIT_ERROR
    return EXIT_MATCH if searcher.matched else EXIT_NO_MATCH


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
