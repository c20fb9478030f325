"""Which files a search of paths reads: the one expansion of operands into files.

The command (``kmpsearch -r``), the many-files search of the library
(``WordSet.count_in_files``...) and ``kmpsearch.dask`` all expand their paths here, so that
they search the same files in the same order:

* a regular file is itself;
* a directory, with ``recursive``, is every file below it, depth first, the entries of each
  directory in name order (byte order of the names: ``rg --sort path``'s order), so output
  never depends on the file system's order or on threads; symbolic links met inside are
  skipped unless ``follow_links`` (``grep -r`` / ``grep -R``), devices, FIFOs and sockets met
  inside are skipped;
* with ``globs`` (the library, not the command: its shell expands them), a path with ``*``,
  ``?`` or ``[`` that names no file is a glob (``**`` spans directories).

``Filters`` select files by name as ``grep --include/--exclude/--exclude-dir`` (base names)
and ``rg -g`` (gitignore-like globs, ``!`` to exclude, matched against the path below the
operand). Paths that cannot be read are reported to ``on_error(label, exc)``, and the walk
goes on.
"""

from __future__ import annotations

import errno
import fnmatch
import glob as _glob
import operator
import os
import re
import stat
from typing import Callable, Iterator, NamedTuple

__all__ = ["File", "Filters", "expand", "has_magic"]

OnError = Callable[[str, OSError], None]


class File(NamedTuple):
    """A file to search: ``label`` as results show it (the operand, or joined below it),
    ``path`` to open, ``size`` when the walk knows it (-1: not looked at)."""

    label: str
    path: str
    size: int = -1


def has_magic(path: str) -> bool:
    return any(c in path for c in "*?[")


def _glob_regex(pattern: str) -> re.Pattern:
    """A gitignore-like glob as a regular expression over ``/``-separated paths: ``*`` and
    ``?`` stay within a name, ``**`` spans directories, ``[...]`` a class."""
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = pattern.find("]", i + 2)
            if j < 0:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1:j].replace("\\", "\\\\")
                out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z", re.S)


class Filters:
    """Which files and directories a walk keeps.

    ``include``/``exclude``: grep's ``--include``/``--exclude`` (globs on the base name; a
    file must match an include if there is one, and no exclude); ``exclude_dir``: grep's
    ``--exclude-dir``; ``globs``: rg's ``-g`` (``!GLOB`` excludes; a glob without ``/``
    matches the base name, one with ``/`` the path below the operand; a file must match a
    positive glob if there is one; a directory is skipped when a negative glob matches it).
    """

    def __init__(self, include=(), exclude=(), exclude_dir=(), globs=()) -> None:
        self.include = list(include)
        self.exclude = list(exclude)
        self.exclude_dir = list(exclude_dir)
        self.positive: list[tuple[bool, re.Pattern]] = []
        self.negative: list[tuple[bool, re.Pattern]] = []
        for g in globs:
            negated = g.startswith("!")
            body = g[1:] if negated else g
            dir_only = body.endswith("/")
            body = body.rstrip("/")
            anchored = "/" in body
            entry = (anchored, _glob_regex(body.lstrip("/")), dir_only)
            (self.negative if negated else self.positive).append(entry)
        self.any = bool(self.include or self.exclude or self.exclude_dir or self.positive or self.negative)

    @staticmethod
    def _hits(rules, name: str, rel: str, is_dir: bool) -> bool:
        return any(rx.match(rel if anchored else name) and (is_dir or not dir_only)
                   for anchored, rx, dir_only in rules)

    def file_ok(self, name: str, rel: str) -> bool:
        if self.include and not any(fnmatch.fnmatchcase(name, g) for g in self.include):
            return False
        if any(fnmatch.fnmatchcase(name, g) for g in self.exclude):
            return False
        if self._hits(self.negative, name, rel, False):
            return False
        return not self.positive or self._hits(self.positive, name, rel, False)

    def dir_ok(self, name: str, rel: str) -> bool:
        if any(fnmatch.fnmatchcase(name, g) for g in self.exclude_dir):
            return False
        return not self._hits(self.negative, name, rel, True)


NO_FILTERS = Filters()


def expand(operands, *, recursive: bool = True, follow_links: bool = False, globs: bool = False,
           filters: Filters = NO_FILTERS, on_error: OnError | None = None,
           implicit_dot: bool = False) -> Iterator[File]:
    """The files of ``operands`` (paths, in order), as the module docstring says.

    ``on_error(label, exc)`` gets what cannot be read (None: raise it). A directory without
    ``recursive`` is IsADirectoryError; a command-line device or FIFO is kept (it is read as
    a stream). ``implicit_dot``: the one operand is ``.`` given by no one (``kmpsearch -r
    WORD``): labels below it have no ``./`` prefix, as grep's.
    """
    def error(label: str, exc: OSError) -> None:
        if on_error is None:
            raise exc
        on_error(label, exc)

    for op in operands:
        p = os.fsdecode(os.fspath(op))
        if globs and has_magic(p) and not os.path.lexists(p):  # "a[1].txt" may be a name
            matches = [m for m in sorted(_glob.glob(p, recursive=True)) if not os.path.isdir(m)]
            if not matches:
                error(p, FileNotFoundError(errno.ENOENT, "no file matches the glob", p))
            for m in matches:
                yield from expand([m], recursive=False, filters=filters, on_error=on_error)
            continue
        try:
            st = os.stat(p)
        except OSError as exc:
            error(p, exc)
            continue
        if stat.S_ISDIR(st.st_mode):
            if not recursive:
                error(p, IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), p))
                continue
            yield from _walk(p, "" if implicit_dot and p == "." else p, "", follow_links, filters, error,
                             {(st.st_dev, st.st_ino)})
        elif filters.any and not filters.file_ok(os.path.basename(p), os.path.basename(p)):
            continue
        else:
            yield File(p, p, st.st_size if stat.S_ISREG(st.st_mode) else -1)


def _walk(top: str, label: str, rel: str, follow: bool, filters: Filters, error, seen: set) -> Iterator[File]:
    """Depth first below ``top`` (shown as ``label``, ``rel`` below the operand), names sorted
    (an explicit stack of directories still to visit and of runs of files between them: no
    nested generators)."""
    check = filters.any
    stack: list = [(top, label, rel, seen)]
    while stack:
        item = stack.pop()
        if type(item) is list:
            yield from item
            continue
        top, label, rel, seen = item
        try:
            with os.scandir(top) as it:
                entries = sorted(it, key=_NAME)
        except OSError as exc:
            error(label or ".", exc)
            continue
        prefix = label if not label or label.endswith("/") else label + "/"
        rel_prefix = rel + "/" if rel else ""
        children: list = []  # directories, and lists of the files between them
        files: list = []
        for entry in entries:
            name = entry.name
            try:
                if entry.is_file(follow_symlinks=False):
                    if not check or filters.file_ok(name, rel_prefix + name):
                        files.append(_new_file(File, (prefix + name, entry.path, -1)))
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if not check or filters.dir_ok(name, rel_prefix + name):
                        if files:
                            children.append(files)
                            files = []
                        children.append((entry.path, prefix + name, rel_prefix + name, seen))
                    continue
                if not follow or not entry.is_symlink():
                    continue
                child = prefix + name
                try:
                    st = os.stat(entry.path)
                except OSError as exc:  # a dangling link
                    error(child, exc)
                    continue
                if stat.S_ISDIR(st.st_mode):
                    if (st.st_dev, st.st_ino) in seen:  # a loop
                        error(child, OSError(errno.ELOOP, "recursive directory loop", child))
                    elif not check or filters.dir_ok(name, rel_prefix + name):
                        if files:
                            children.append(files)
                            files = []
                        children.append((entry.path, child, rel_prefix + name, seen | {(st.st_dev, st.st_ino)}))
                elif stat.S_ISREG(st.st_mode) and (not check or filters.file_ok(name, rel_prefix + name)):
                    files.append(_new_file(File, (child, entry.path, -1)))
            except OSError as exc:
                error(prefix + name, exc)
        if files:
            children.append(files)
        children.reverse()
        stack.extend(children)


_NAME = operator.attrgetter("name")
_new_file = tuple.__new__  # File(label, path, -1) without NamedTuple's Python-level __new__
