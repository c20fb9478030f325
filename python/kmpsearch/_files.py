"""Opening files: the one open and the one ``fstat`` of every file kmpsearch reads.

The file searches, ``finditer`` and ``redact_stream`` of a path, the command and
``kmpsearch.dask``'s local files all open here, so the size the cores get and the checks
agree, and every OSError names the path.
"""

from __future__ import annotations

import errno
import io
import os
import stat
from typing import Union

__all__ = ["StrPath", "is_path", "is_regular", "open_file", "with_path"]

StrPath = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]


def open_file(path: object, regular: bool) -> tuple[io.FileIO, os.stat_result]:
    """Open ``path`` read-only: ``(unbuffered binary file, its fstat)``.

    A directory is IsADirectoryError. ``regular``: regular files only (anything else is
    OSError(EINVAL); opening does not wait for a FIFO's writer); otherwise any readable file
    (a FIFO, a device: read as a stream). The errors name the path.
    """
    p = os.fspath(path)  # TypeError for anything that is not a path
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    if regular:  # O_NONBLOCK: opening a FIFO must not wait for a writer; no effect on regular files
        flags |= getattr(os, "O_NONBLOCK", 0)
    f = open(p, "rb", buffering=0, opener=lambda name, _: os.open(name, flags))  # noqa: SIM115
    try:
        st = os.fstat(f.fileno())
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), p)
        if regular and not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file (read it yourself and search the bytes)", p)
        return f, st  # type: ignore[return-value]
    except BaseException:
        f.close()
        raise


def with_path(exc: OSError, shown: object) -> OSError:
    """``exc`` naming the file: the cores (and reads) report errno without a file name."""
    if exc.filename is None and exc.errno:
        return OSError(exc.errno, exc.strerror or os.strerror(exc.errno), shown)
    return exc


def is_path(source: object) -> bool:
    """Whether ``source`` names a file: an ``os.PathLike`` (``pathlib.Path``). ``str`` and
    ``bytes`` are data to search, as for ``find_all`` (``re.finditer`` reads them so too)."""
    return hasattr(source, "__fspath__")


def is_regular(f) -> bool:
    """Whether the file object ``f`` is a regular file (True when it cannot tell: a read
    never waits on a writer then)."""
    try:
        return stat.S_ISREG(os.fstat(f.fileno()).st_mode)
    except (AttributeError, OSError, ValueError, TypeError):  # io.BytesIO, a closed file, no fileno
        return True
