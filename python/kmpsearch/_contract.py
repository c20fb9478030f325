"""The core contract: the one seam between kmpsearch's Python layer and a backend's core.

A backend is ``make_api(row, core)`` (``kmpsearch._api``): the public classes and functions
over a *core* that only compiles and scans. Argument checks, ``str`` handling, files,
streams, Ctrl-C, result lists and masking are the Python layer's; a core supplies:

``core.compile_pattern(needle: bytes) -> P``
    ``needle`` non-empty.
``core.compile_words(words: list[bytes], ignore_case: bool) -> W``
    at least one word, none empty, all distinct (after ASCII case folding when
    ``ignore_case``); a match's word index is its position in ``words``.

P and W are immutable, may be used by any number of threads at once, and have one search
entry and one attribute::

    X.search(source, want, options) -> result
    X.memory_bytes -> int            bytes the compiled object holds (0: not measured)

``source`` -- what to search:

* a 1-D C-contiguous ``memoryview`` of format ``'B'`` (maybe read-only or empty), searched
  in place, never copied or written;
* a ``FileRange(fd, start, size)``: bytes ``[start, start + size)`` of the regular file
  open on ``fd``, read with ``pread`` only (never closed, its position unused), with the
  chunk plan over that range; offsets are file offsets. A file that turns out shorter
  (it shrank during the search) gives the matches in what could be read, no error;
* a ``FileBatch(paths, max_size)``: many files in one call (a tree's). Each file of
  ``paths`` (bytes, as ``os.fsencode`` gives them) is opened read-only (``O_NONBLOCK``: a
  FIFO's writer is not waited for), fstat'ed, and when it is a regular file of 1 to
  ``max_size - 1`` bytes, read (``pread``, into a buffer the thread reuses) and searched by
  one thread, then closed; ``options.threads`` files at once. The result is ``(status,
  found)``: ``status`` an ``array('q')`` with one entry per file -- 0 searched, an errno
  (> 0) when opening, fstat or a read failed (EISDIR for a directory), ``STREAM`` (-1) for a
  file that is not regular or whose size reads as 0 (the caller reads it as a stream),
  ``BIG`` (-2) for one of ``max_size`` bytes or more (the caller searches it as a
  ``FileRange``, with every thread) -- and ``found`` the searched files' results, in the
  order of ``paths`` (a file not searched has none): for ``"count"`` an ``array('q')`` of
  counts; for ``"each"`` an ``array('q')`` of ``len(paths) * words`` counts, file by file;
  for ``"offsets"`` ``(bounds, offsets)`` and for ``"pairs"`` ``(bounds, offsets, word
  indices)``, where ``bounds`` is an ``array('q')`` of ``len(paths) + 1`` entries and file
  ``i``'s matches are ``offsets[bounds[i]:bounds[i + 1]]`` (offsets in their file). A file
  that turns out shorter than its size gives what could be read.

``want`` -- what to return (``WANTS``):

* ``"count"``: an ``int``, the number of matches;
* ``"each"``: ``array('q')``, the number of matches of each word (P: one entry);
* ``"offsets"``: ``array('q')``, the start offset of every match, ascending (W: the offsets
  of ``"pairs"``, a repeated offset where several words start);
* ``"pairs"``: ``(array('q') offsets, array('i') word indices)``, every match sorted by
  offset, then word index (P: every index 0).

``options`` -- an ``Options`` (below; a core reads its attributes by name):

* ``threads`` 1..``MAX_THREADS`` and ``min_chunk`` 1..2**63-1: the chunk plan
  (``kmpsearch._plan``); ``scan`` one of the backend's scans; ``simd`` "auto" or a level
  of the backend's table row;
* ``block``: bytes each thread reads or scans between two looks at ``cancel`` (0: the
  core's default, 1 MiB); memory too is scanned in such pieces, the scan's state carried
  across, so results never depend on it (tests lower it to put piece boundaries
  everywhere);
* ``cancel``: ``None`` or a ``bytearray(1)`` made for the call by ``kmpsearch._calls.run``
  (the only place that makes one). Another thread sets ``cancel[0] = 1`` to stop the
  search: every thread of the core looks at it before each block, and the search raises
  KeyboardInterrupt.
* ``whole``, ``kind`` and ``word_chars``: the match semantics. With the defaults (``False``,
  ``"overlapping"``) every occurrence is a match. Otherwise the source is memory (a
  ``FileRange`` or ``FileBatch`` is a ValueError) and the result is that of the matches
  chosen from the *candidates* -- every occurrence, sorted by offset then word index -- in
  two steps, exactly as ``kmpsearch._semantics.Chooser(lengths, whole, kind).keep(data, 0,
  offsets, words)`` does (the reference the tests compare every core with):

  1. ``whole``: a candidate ``[s, e)`` is dropped when the character that ends at ``s`` or
     the one that starts at ``e`` is a word character, ``word_chars[cp] == 1`` for its code
     point (``word_chars`` is ``kmpsearch._wordchars.TABLE``, ``bytes`` of 0x110000: the
     same object every call; a core that reads it may raise ValueError when it is None). A character is read as strict UTF-8 (RFC 3629: no overlong
     form, no surrogate, nothing above U+10FFFF). The one ending at ``s``: from ``s - 1``
     step back over continuation bytes (0x80-0xBF) while the position is above 0 and above
     ``s - 4``; the bytes from there to ``s`` must be exactly one character. The one
     starting at ``e``: its length from the lead byte (0xC2-0xDF: 2, 0xE0-0xEF: 3,
     0xF0-0xF4: 4, other non-ASCII bytes: none). A sequence that is not valid, is cut by
     the end of the data, or is missing (``s == 0``, ``e == len``) is not a word character.
  2. ``kind``: ``"overlapping"`` keeps every candidate left. ``"leftmost-longest"`` and
     ``"leftmost-first"``: offset by offset, in order, of the candidates left at an offset
     the one with the longest word (the lowest word index among equal lengths) or the one
     with the lowest word index is kept when its offset is at or after the end of the last
     match kept (none yet: always), whose end it then becomes.

  A ``kind`` not in ``kmpsearch._semantics.KINDS`` is a ValueError. The candidates are
  found as usual (chunks in parallel); the choice is one pass over them
  in order, so the result never depends on ``threads`` or chunk edges.

Every occurrence counts, overlapping ones included (unless ``whole`` or ``kind`` choose);
results never depend on the options.
Errors: MemoryError when memory runs out; OSError(errno, strerror) for a failed read --
without a file name: the Python layer adds the path; ValueError for an option the core
does not know. A chunk whose thread cannot start runs on the caller. The pure-Python cores
say ``interruptible = True`` (their scans run Python code, which Ctrl-C reaches; ``run``
then calls them directly); native cores run without the GIL.

Results are arrays, never lists: lists are made in one place, ``kmpsearch._results``, a
slice at a time so that Ctrl-C stops even a list of a hundred million offsets promptly.
"""

from __future__ import annotations

from typing import NamedTuple

from ._plan import DEFAULT_MIN_CHUNK

__all__ = ["BIG", "DEFAULT_MIN_CHUNK", "MAX_THREADS", "STREAM", "WANTS", "FileBatch", "FileRange", "Options"]

#: ``threads`` above this are treated as this many (results never depend on threads); the
#: same cap in every core (c/include/kmp.h KMP_MAX_THREADS, the Cython and Rust cores)
MAX_THREADS = 256

#: the results a search can be asked for
WANTS = ("count", "each", "offsets", "pairs")


class Options(NamedTuple):
    """Every knob of one search (see the module docstring); immutable."""

    threads: int = 1
    min_chunk: int = DEFAULT_MIN_CHUNK
    scan: str = "fast"
    simd: str = "auto"
    block: int = 0
    cancel: bytearray | None = None
    whole: bool = False
    kind: str = "overlapping"
    word_chars: bytes | None = None


class FileRange(NamedTuple):
    """Bytes ``[start, start + size)`` of the regular file open on ``fd``."""

    fd: int
    start: int
    size: int


class FileBatch(NamedTuple):
    """Many files, each searched whole by one thread (see the module docstring)."""

    paths: tuple
    max_size: int


#: ``FileBatch`` status: not a regular file, or its size reads as 0 (read it as a stream)
STREAM = -1
#: ``FileBatch`` status: ``max_size`` bytes or more (search it as a FileRange)
BIG = -2
