"""What ``Pattern`` and ``WordSet`` share: ``_Search``, the search machinery of one compiled
object over its core (the core contract, ``kmpsearch._contract``), and ``_Api``, what a
backend's classes and functions share.

Arguments are checked in ``kmpsearch._args``, the core is called through
``kmpsearch._calls.run``, results are shaped by ``kmpsearch._results``, streams and files go
through ``kmpsearch._streams`` and masking through ``kmpsearch._masking``.
"""

from __future__ import annotations

import inspect
import io
import os
from typing import Any, Callable, Iterator

from . import _results
from ._args import byte_view, check_bool, check_mask, check_positive, encode_text, is_buffer, search_options
from ._calls import run
from ._contract import Options
from ._files import StrPath, open_file, with_path
from ._masking import mask_found, mask_windows, replace_found, replace_windows, replacer
from ._many import results, search_file
from ._semantics import Chooser
from ._streams import ITER_WINDOW, STREAM_WINDOW, iterate, search_fd, windows, windows_of
from ._tree import expand

__all__ = ["api_of", "match_lengths", "public", "set_default"]

#: how the base classes find the default backend's API when called directly
#: (``kmpsearch.WordSet(words)``): set once by the package (``set_default``)
_default_api: Callable[[], "_Api"] | None = None


def set_default(resolve: Callable[[], "_Api"]) -> None:
    """Tell the base classes how to find the default backend (the package does, at import)."""
    global _default_api
    _default_api = resolve


def public(fn):
    """``fn`` with a signature that leaves out its private (``_``) keyword arguments."""
    sig = inspect.signature(fn)
    fn.__signature__ = sig.replace(parameters=[p for p in sig.parameters.values() if not p.name.startswith("_")
                                               or p.kind is not p.KEYWORD_ONLY])
    return fn


class _Api:
    """What a backend's classes and functions share: its name, table row and core."""

    __slots__ = ("name", "module", "row", "core", "Pattern", "WordSet")

    def __init__(self, row: Any, core: Any) -> None:
        self.name = row.name
        self.module = f"kmpsearch.backends.{row.name}"
        self.row = row
        self.core = core

    def options(self, threads: object = None, scan: object = None, min_chunk: object = None,
                simd: object = None, block: object = None) -> Options:
        return search_options(self.row, threads, scan, min_chunk, simd, block)


def api_of(cls) -> _Api:
    if cls._api is not None:
        return cls._api
    if _default_api is None:  # pragma: no cover - the package sets it at import
        raise ImportError("kmpsearch has no default backend")
    return _default_api()


class _Search:
    """What Pattern and WordSet share; subclasses set the slots below.

    ``_core`` the compiled object of the core, ``_text`` whether it searches ``str``,
    ``_longest`` its longest word in bytes, ``_nwords`` how many words the core has and
    ``_lengths`` the length in bytes of each; ``_pairs``: its public matches are ``(offset,
    word index)`` pairs (a word set) rather than offsets. ``_group``: None, or for a word set
    or a Pattern whose core searches several spellings of a word (``ignore_case="unicode"``)
    the public word index of each of the core's (0 for a Pattern); results are in the
    core's indices until ``_public`` (or ``_shaped``) gives them out. ``_varied``: the
    core's words differ, so where a match's length matters its word index is needed."""

    __slots__ = ("_core", "_text", "_longest", "_nwords", "_whole", "_kind", "_lengths", "_group")
    _api: _Api | None = None
    _what = "haystack"
    _pairs = False

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} objects are immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} objects are immutable")

    def _init(self, text: bool, lengths: list[int], core: Any, whole: bool = False, kind: str = "overlapping",
              group: Any = None) -> None:
        put = object.__setattr__
        put(self, "_group", group)
        put(self, "_text", text)
        put(self, "_lengths", lengths)
        put(self, "_longest", max(lengths))
        put(self, "_nwords", len(lengths))
        put(self, "_core", core)
        put(self, "_whole", whole)
        put(self, "_kind", kind)

    @property
    def _plain(self) -> bool:
        """Every occurrence the core finds is a match (no whole-word test, no match kind)."""
        return not self._whole and self._kind == "overlapping"

    @property
    def _reach(self) -> int:
        """Bytes a window must hold past a start it owns: the longest word, and the character
        after it when whole words are asked for."""
        return self._longest + 4 if self._whole else self._longest

    def _chooser(self) -> Chooser:
        return Chooser(self._lengths, self._whole, self._kind)

    def _semantics(self) -> dict:
        """The keyword arguments that made this object's match semantics (for pickling)."""
        out: dict = {}
        if self._whole:
            out["whole_words"] = True
        if self._kind != "overlapping":
            out["matches"] = self._kind
        return out

    @property
    def backend(self) -> str:
        """The name of the backend that compiled this object."""
        return self._api.name

    @property
    def _want(self) -> str:
        """The core contract's result of the public matches: offsets (a Pattern) or pairs."""
        return "pairs" if self._pairs else "offsets"

    @property
    def _varied(self) -> bool:
        """Whether the core has several words, so that a match's length in bytes is its
        word's: a word set, or a Pattern searched as the spellings of its needle (``_group``;
        the Kelvin sign is 3 bytes where ``k`` is one). A window's own matches are then cut
        at its own range (``kmpsearch._streams.owned``), and masking takes the core's pairs
        (``_mask_want``); a Pattern's public results stay offsets."""
        return self._pairs or self._group is not None

    @property
    def _mask_want(self) -> str:
        """The core contract's result masking takes (``kmpsearch._masking``): pairs when a
        match's length is its word's (``_varied``), else offsets."""
        return "pairs" if self._varied else "offsets"

    # ---- in memory

    def _view(self, haystack: object) -> tuple[memoryview, bytes | None]:
        """``(view, utf8)``: the bytes to search; ``utf8`` is set when offsets need converting."""
        if self._text:
            if not isinstance(haystack, str):
                raise TypeError(f"{self._what} is str, so the haystack must be str, not {type(haystack).__name__}")
            if haystack.isascii():
                return memoryview(haystack.encode("ascii")), None
            data = encode_text(haystack)
            return memoryview(data), data
        if isinstance(haystack, str):
            raise TypeError(f"haystack is str but the {self._what} is bytes-like: use the same kind for both")
        return byte_view(haystack, "haystack"), None

    def _memory(self, haystack: object, want: str, opts: Options):
        """The core's result (arrays) for ``haystack``; code point offsets for a str."""
        view, utf8 = self._view(haystack)
        with view:
            found = self._search_view(view, want, opts)
        return _results.to_chars(found, want, utf8)

    def _search_view(self, view: memoryview, want: str, opts: Options, kind: str | None = None):
        """The matches in ``view`` (byte offsets): every occurrence, or those whole words and
        the match kind (``kind``: another than the object's) keep, chosen by the core."""
        kind = self._kind if kind is None else kind
        if not self._whole and kind == "overlapping":
            return run(self._core, view, want, opts)
        from ._wordchars import TABLE  # built on first use

        return run(self._core, view, want, opts._replace(whole=self._whole, kind=kind, word_chars=TABLE))

    def _file(self, path: StrPath, want: str, opts: Options):
        f, st = open_file(path, regular=True)
        with f:
            if self._plain:
                return search_fd(self, f.fileno(), st.st_size, want, opts, f.name)
            try:  # whole words, a match kind: in windows, each chosen in order
                parts = [w.found for w in windows_of(self, f, want, opts, STREAM_WINDOW, True)]
            except OSError as exc:
                raise with_path(exc, f.name) from None
            return _results.merge(parts, want, self._nwords)

    def _public(self, found, want: str):
        """A result in the public word indices (see ``_group``)."""
        if self._group is None:
            return found
        return _results.regroup(found, want, self._group, len(self._words))

    def _shaped(self, found, want: str, as_array: object):
        """A result as the public functions give it: lists, or the arrays (``as_array``)."""
        if want == "count":
            return found
        found = self._public(found, want)
        if want == "each":
            return _results.as_list(found)
        if check_bool(as_array, "as_array"):
            return found
        return _results.pairs_list(*found) if want == "pairs" else _results.as_list(found)

    def _in_files(self, paths, want: str, opts: Options, on_error, as_array: object = False) -> Iterator[Any]:
        """``(label, result)`` per file of ``paths`` (expanded by ``kmpsearch._tree``: a path,
        a glob, a directory searched recursively, or a list of them), in order; arguments
        checked now, files searched as the iteration goes (``kmpsearch._many``)."""
        if isinstance(paths, (str, bytes, os.PathLike)):
            paths = [paths]
        try:
            paths = list(paths)
        except TypeError:
            raise TypeError(f"paths must be a path, a glob, a directory or a list of them, "
                            f"not {type(paths).__name__}") from None
        for p in paths:
            os.fspath(p)  # TypeError now
        if on_error is not None and not callable(on_error):
            raise TypeError(f"on_error must be None or a callable (label, exc), not {type(on_error).__name__}")
        check_bool(as_array, "as_array")

        def generate():
            files = expand(paths, recursive=True, globs=True, on_error=on_error)
            # the core's candidates are the matches: small files in batches; otherwise (whole
            # words, a match kind) each file on its own, its matches chosen in order
            found_by = results(self, files, want, opts) if self._plain else ((f, None, None) for f in files)
            for file, st, found in found_by:
                if st != 0:
                    try:
                        found = search_file(self, file, st, want, opts) if st is not None else \
                            self._file(file.path, want, opts)
                    except OSError as exc:
                        if on_error is None:
                            raise
                        on_error(file.label, exc)
                        continue
                yield file.label, self._shaped(found, want, as_array)

        return generate()

    def _finditer(self, source, threads, scan, min_chunk, simd, window) -> Iterator[Any]:
        opts = self._api.options(threads, scan, min_chunk, simd)
        found = iterate(self, source, opts, check_positive(window, "_window", 0))
        if self._group is None or not self._pairs:  # a Pattern's matches are offsets
            return found
        group = self._group
        return ((off, group[i]) for off, i in found)

    # ---- redaction

    def _redact(self, haystack: object, mask: object, opts: Options):
        text = isinstance(haystack, str)
        fill = check_mask(mask, text)
        if text:
            return mask_found(self, haystack, self._memory(haystack, self._mask_want, opts), True, fill)
        view, _ = self._view(haystack)
        with view:
            return mask_found(self, view, self._search_view(view, self._mask_want, opts), False, fill)

    # ---- replacement

    @property
    def _replace_kind(self) -> str:
        """What ``replace`` replaces: non-overlapping matches, by the match kind (leftmost-
        longest for an overlapping set)."""
        return "leftmost-longest" if self._kind == "overlapping" else self._kind

    def _replacer(self, replacement: object, text: bool):
        """``replace(core's word index, matched) -> bytes`` for ``replacement`` (see
        ``kmpsearch._masking.replacer``, which is given the public word index)."""
        replace = replacer(replacement, self._words, text)
        group = self._group
        if group is None:
            return replace
        return lambda i, matched: replace(group[i], matched)

    def _replace(self, haystack: object, replacement: object, opts: Options):
        text = isinstance(haystack, str)
        replace = self._replacer(replacement, text)
        view, _ = self._view(haystack)
        with view:
            found = self._search_view(view, "pairs", opts, self._replace_kind)
            out = replace_found(view, found, self._lengths, replace)
        return out.decode("utf-8", "surrogatepass") if text else out

    def _replace_stream(self, source: object, destination: object, replacement: object, opts: Options,
                        window) -> int:
        replace = self._replacer(replacement, False)
        _check_destination(destination)
        window = check_positive(window, "_window", ITER_WINDOW)
        if isinstance(source, str) or is_buffer(source):
            view, _ = self._view(source)
            source = [view]
        _, gen = windows(self, source, "pairs", opts, window, text=False, chooser=Chooser(self._lengths, self._whole, self._replace_kind))
        return replace_windows(self, gen, destination, replace)

    def _redact_stream(self, source: object, destination: object, mask: object, opts: Options, window) -> int:
        fill = check_mask(mask, False)
        _check_destination(destination)
        window = check_positive(window, "_window", ITER_WINDOW)
        if isinstance(source, str) or is_buffer(source):
            view, _ = self._view(source)
            source = [view]
        _, gen = windows(self, source, self._mask_want, opts, window, text=False)
        return mask_windows(self, gen, destination, fill)

    # ---- the public searches: one definition for Pattern and WordSet. A match is a start
    # offset for a Pattern and an (offset, word index) pair for a WordSet (``_want``).

    @public
    def find_all(self, haystack: Any, *, threads: int | None = None, scan: str | None = None,
                 as_array: bool = False, _min_chunk: int | None = None, _simd: str | None = None,
                 _block: int | None = None) -> list:
        """Every occurrence in ``haystack``, overlapping ones included: a ``Pattern`` gives
        start offsets, ascending; a ``WordSet`` gives ``(offset, word index)`` sorted by
        offset then word index (``he``, ``she``, ``hers`` in ``ushers``: ``[(1, 1), (2, 0),
        (2, 2)]``). With ``whole_words`` or a ``matches`` kind, the matches those keep.

        ``as_array=True``: an ``array.array('q')`` of offsets (a ``WordSet``: the pair
        ``(array('q') offsets, array('i') word indices)``) instead of a list: 8 bytes an
        offset, no Python ints; ``numpy.frombuffer(a, dtype=numpy.int64)`` views it without
        a copy."""
        opts = self._api.options(threads, scan, _min_chunk, _simd, _block)
        return self._shaped(self._memory(haystack, self._want, opts), self._want, as_array)

    @public
    def count(self, haystack: Any, *, threads: int | None = None, scan: str | None = None,
              _min_chunk: int | None = None, _simd: str | None = None, _block: int | None = None) -> int:
        """Number of occurrences in ``haystack`` (of all the words; overlaps included): the
        length of ``find_all``."""
        return self._memory(haystack, "count", self._api.options(threads, scan, _min_chunk, _simd, _block))

    @public
    def finditer(self, source: Any, *, threads: int | None = None, scan: str | None = None,
                 _min_chunk: int | None = None, _simd: str | None = None,
                 _window: int | None = None) -> Iterator[Any]:
        """Yield every occurrence in ``source`` in ``find_all``'s order (offsets, or
        ``(offset, word index)``), as it is read.

        ``source``: data in memory, as ``find_all`` takes it (``str`` or bytes-like: the
        matches of ``find_all``, in windows); a path (``os.PathLike`` such as
        ``pathlib.Path``; any readable file but a directory: a FIFO is read as a stream); a
        binary file object (``open(p, "rb")``, ``gzip.open``, ``bz2``, ``lzma``,
        ``sys.stdin.buffer``, ``socket.makefile("rb")``, ``io.BytesIO``); an iterable of
        bytes-like chunks; or -- for ``str`` words -- a text stream (``open(p, "r")``,
        ``io.StringIO``) or an iterable of str chunks, whose offsets are code points.
        Otherwise offsets are bytes (``str`` words search the UTF-8).

        Read in overlapping windows of 1 MiB: memory stays bounded whatever the size of the
        input; a match split across reads is found once; the matches of a window are yielded
        as soon as it is searched (a pipe or socket: as soon as a read would wait). A regular
        file with a native backend is searched by the core in ranges of 4 MiB, ``threads``
        of them at once, to the size it had when opened. Closing the generator (or leaving a
        ``for`` loop over it and dropping it) stops reading; a file it opened is closed, a
        file object given is left open. Arguments and the kind of source are checked at the
        call (TypeError, ValueError); a path is opened when the iteration starts, so
        FileNotFoundError and other OSErrors (naming the path) come from the first ``next``."""
        return self._finditer(source, threads, scan, _min_chunk, _simd, _window)

    @public
    def redact(self, haystack: Any, mask: str | bytes = "*", *, threads: int | None = None,
               scan: str | None = None, _min_chunk: int | None = None, _simd: str | None = None):
        """A copy of ``haystack`` with every byte (str: every character) that an occurrence
        covers replaced by ``mask``, the same length: ``bytes`` for a bytes-like haystack
        (``mask`` one byte: ``b"#"``, or one ASCII character), ``str`` for a str (``mask``
        one character). Overlapping occurrences cover their union."""
        return self._redact(haystack, mask, self._api.options(threads, scan, _min_chunk, _simd))

    @public
    def redact_stream(self, source: Any, destination: Any, mask: str | bytes = "*", *,
                      threads: int | None = None, scan: str | None = None, _min_chunk: int | None = None,
                      _simd: str | None = None, _window: int | None = None) -> int:
        """``redact`` from ``source`` (data in memory, a path, a binary file object or an
        iterable of bytes-like chunks, as ``finditer``) to ``destination`` (a writable binary
        file object), window by window in bounded memory; returns the number of occurrences.
        Never writes to ``source``."""
        return self._redact_stream(source, destination, mask, self._api.options(threads, scan, _min_chunk, _simd),
                                   _window)

    @public
    def replace(self, haystack: Any, replacement: Any, *, threads: int | None = None, scan: str | None = None,
                _min_chunk: int | None = None, _simd: str | None = None):
        """A copy of ``haystack`` with each match replaced: non-overlapping matches, chosen by
        ``matches`` (leftmost-longest when it is ``"overlapping"``), whole words only with
        ``whole_words``. ``replacement``: one ``str`` (a ``str`` haystack) or bytes-like (a
        bytes-like one) for every word, a sequence with one per word, or a callable
        ``(word index, matched) -> str / bytes``. A ``str`` for ``str``, else ``bytes``."""
        return self._replace(haystack, replacement, self._api.options(threads, scan, _min_chunk, _simd))

    @public
    def replace_stream(self, source: Any, destination: Any, replacement: Any, *, threads: int | None = None,
                       scan: str | None = None, _min_chunk: int | None = None, _simd: str | None = None,
                       _window: int | None = None) -> int:
        """``replace`` from ``source`` (as ``redact_stream``'s) to ``destination`` (a
        writable binary file object) window by window, in bounded memory; ``replacement``
        bytes-like (or a sequence, or a callable given bytes). Returns the number replaced."""
        return self._replace_stream(source, destination, replacement,
                                    self._api.options(threads, scan, _min_chunk, _simd), _window)

    @public
    def find_all_in_file(self, path: StrPath, *, threads: int | None = None, scan: str | None = None,
                         as_array: bool = False, _min_chunk: int | None = None,
                         _simd: str | None = None, _block: int | None = None) -> list:
        """``find_all`` over the file at ``path``: byte offsets (``str`` words search the
        UTF-8)."""
        opts = self._api.options(threads, scan, _min_chunk, _simd, _block)
        return self._shaped(self._file(path, self._want, opts), self._want, as_array)

    @public
    def count_in_file(self, path: StrPath, *, threads: int | None = None, scan: str | None = None,
                      _min_chunk: int | None = None, _simd: str | None = None, _block: int | None = None) -> int:
        """``count`` over the file at ``path``."""
        return self._file(path, "count", self._api.options(threads, scan, _min_chunk, _simd, _block))

    @public
    def count_in_files(self, paths: Any, *, threads: int | None = None, scan: str | None = None,
                       on_error: Any = None) -> Iterator[tuple[str, int]]:
        """``(path, count)`` for every file of ``paths``: a path, a glob (``*``, ``?``,
        ``[``, ``**``), a directory (every file below it, recursively, in name order; symbolic
        links met inside skipped, as ``grep -r``), or a list of them -- the expansion of
        ``kmpsearch.dask`` -- in that order, as they are searched: small files many at a
        time, each by one of ``threads`` native threads, a big one with all of them.
        ``on_error``: None raises the OSError of a file that cannot be read (ending the
        iteration); a callable ``on_error(path, exc)`` is told, and the search goes on."""
        return self._in_files(paths, "count", self._api.options(threads, scan), on_error)

    @public
    def find_all_in_files(self, paths: Any, *, threads: int | None = None, scan: str | None = None,
                          as_array: bool = False, on_error: Any = None) -> Iterator[tuple[str, Any]]:
        """``(path, matches)`` for every file of ``paths``, the matches as
        ``find_all_in_file`` gives them (``as_array``: arrays); ``paths`` and the rest as
        ``count_in_files``."""
        return self._in_files(paths, self._want, self._api.options(threads, scan), on_error, as_array)


def match_lengths(searcher: _Search) -> list[int]:
    """The length in bytes of what each word index of the core's matches matches (the
    indices ``windows`` and the core give: a word set's spellings, see ``_Search._group``)."""
    return list(searcher._lengths)


def _check_destination(destination: object) -> None:
    if not callable(getattr(destination, "write", None)):
        raise TypeError(f"destination must be a writable binary file object, not {type(destination).__name__}")
    if isinstance(destination, io.TextIOBase):
        raise TypeError("destination must be a binary file object (open it with 'wb'), not a text stream")
