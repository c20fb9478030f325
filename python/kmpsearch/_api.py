"""The public classes ``Pattern`` and ``WordSet``, and ``make_api``: a backend's public names.

Every backend module is ``make_api(row, core)`` over its *core* (the core contract,
``kmpsearch._contract``) and its row of the backend table: the public classes bound to that
core, ``compile`` and the top-level functions. So every backend accepts and rejects the
same inputs (``kmpsearch._args``), reads files the same way (``kmpsearch._files``,
``kmpsearch._streams``), handles ``str`` the same way and gives the same result shapes
(``kmpsearch._results``); a core only compiles and scans.

``str`` is searched as UTF-8 (lone surrogates included, through ``surrogatepass``). UTF-8
is self-synchronising: an encoded word can only match at a character boundary, so counts
are exact, and byte offsets are turned back into code point offsets, which is exactly what
``str.find`` would give. Pure-ASCII text needs no conversion at all.

Keyword arguments that start with ``_`` are private knobs for tests and benchmarks
(``_min_chunk``, ``_simd``, ``_block``, ``_window``): they are left out of the signatures
``help()`` shows.
"""

from __future__ import annotations

import copyreg
import sys
from array import array
from typing import Any, Iterable, Iterator

from ._args import check_bool, check_choice, encode_text, word_bytes
from ._contract import Options
from ._files import StrPath
from ._results import empty
from ._search import _Api, _Search, api_of, public, set_default
from ._semantics import KINDS

__all__ = ["Pattern", "WordSet", "make_api", "set_default"]


class Pattern(_Search):
    """A compiled needle, like ``re.compile``'s result: compile once, search many times.

    Made by ``kmpsearch.compile(needle)`` (the default backend) or
    ``kmpsearch.get_backend(name).compile(needle)``. Immutable and thread-safe: one Pattern
    may be used by any number of threads at once. It pickles (to the same backend), so it
    can be sent to worker processes. A ``str`` needle searches ``str`` haystacks (offsets in
    code points) and files (as UTF-8); a bytes-like one searches bytes-like haystacks.
    ``ignore_case`` (``False``, ``True``: ASCII letters, ``"unicode"``: simple case
    folding), ``whole_words`` and ``matches`` (``"overlapping"``, ``"leftmost-longest"``,
    ``"leftmost-first"``) mean what they mean for a ``WordSet``; with ``"unicode"`` a match
    is the text's own characters, whose UTF-8 may be longer or shorter than the needle's.
    """

    __slots__ = ("_needle", "_pat", "_ignore_case")
    _what = "needle"

    def __new__(cls, needle: object, *, ignore_case: bool | str = False, whole_words: bool = False,
                matches: str = "overlapping") -> "Pattern":
        return cls._make(needle, None, ignore_case, whole_words, matches)

    @classmethod
    def _make(cls, needle: object, haystack: object, ignore_case: object = False, whole_words: object = False,
              matches: object = "overlapping") -> "Pattern":
        """The Pattern of ``needle``; given the ``haystack`` of a one-shot search (the
        top-level functions), its table is built only if the needle can fit in it: the
        cheap check first (a 64 MiB needle against 3 bytes builds no 64 MiB table).

        Without case, or with a needle that has no cased letter, the core searches the
        needle's bytes (its single-pattern scan). ``ignore_case=True``: the needle as a
        word set of one word, folded by the core. ``"unicode"``: the core searches every
        spelling of the needle (``kmpsearch._casefold``) as a word set, ``_group`` maps
        each spelling to word 0, and a match's length in bytes is its spelling's (see
        ``_Search._varied``); the public results are offsets all the same."""
        api = api_of(cls)
        self = object.__new__(api.Pattern)
        case = _check_case(ignore_case)
        whole, kind = check_bool(whole_words, "whole_words"), check_choice(matches, "matches", KINDS)
        if isinstance(needle, str):
            if not needle:
                raise ValueError("needle must not be empty")
            text, pat = True, encode_text(needle)
        else:
            text, pat = False, word_bytes(needle, "needle")
            needle = pat
        object.__setattr__(self, "_needle", needle)
        object.__setattr__(self, "_pat", pat)
        object.__setattr__(self, "_ignore_case", case)
        if haystack is not None:
            # the shortest match in the haystack's units: a spelling has the needle's number
            # of characters, but may be shorter in UTF-8 (the Kelvin sign is 3 bytes, k one)
            least = len(needle) if text else len(_as_text(pat)) if case == "unicode" else len(pat)
            if _length(haystack, text) < least:
                self._init(text, [len(pat)], _NO_MATCH, whole, kind)
                return self
        spellings, group = [pat], None
        if case == "unicode":
            spellings, group = _spellings([needle], text)
            if len(spellings) == 1:
                group = None
        if len(spellings) == 1 and (not case or pat.lower() == pat.upper()):
            core = api.core.compile_pattern(pat)  # nothing to fold: the single-pattern scan
        else:
            core = api.core.compile_words(spellings, True)
        self._init(text, [len(s) for s in spellings], core, whole, kind, group)
        return self

    @property
    def needle(self) -> str | bytes:
        """The needle: a ``str``, or ``bytes`` for a bytes-like one."""
        return self._needle

    @property
    def ignore_case(self) -> bool | str:
        """``False``, ``True`` (ASCII letters) or ``"unicode"`` (simple case folding)."""
        return self._ignore_case

    @property
    def whole_words(self) -> bool:
        return self._whole

    @property
    def matches(self) -> str:
        return self._kind

    @property
    def _words(self) -> tuple:
        """The one word, as a word set's ``words`` (a replacement sequence, ``_group``)."""
        return (self._needle,)

    def __repr__(self) -> str:
        return (f"<kmpsearch.Pattern {self._needle!r}{_case_repr(self._ignore_case)}{_semantics_repr(self)} "
                f"backend={self._api.name!r}>")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Pattern):
            return NotImplemented
        return (self._api.name, self._text, self._pat, self._ignore_case, self._whole, self._kind) == \
            (other._api.name, other._text, other._pat, other._ignore_case, other._whole, other._kind)

    def __hash__(self) -> int:
        return hash((Pattern, self._api.name, self._text, self._pat, self._ignore_case, self._whole, self._kind))

    def __reduce__(self):
        # unpickled by the same backend's class (its module is imported by name)
        kwargs = {"ignore_case": self._ignore_case} if self._ignore_case else {}
        return copyreg.__newobj_ex__, (type(self), (self._needle,), {**kwargs, **self._semantics()})


class WordSet(_Search):
    """Many words, searched in one pass (Aho-Corasick: KMP's failure function over a trie).

    ``WordSet(words, *, ignore_case=False, whole_words=False, matches="overlapping")``:
    ``words`` is an iterable of ``str``, or of bytes-like objects (not mixed). Duplicates are
    kept once, at their first position (with ``ignore_case``, words equal ignoring case are
    duplicates); ``.words`` is the tuple of distinct words, and a match's word index refers
    to it. ``ignore_case=True`` folds the ASCII letters only (A-Z == a-z, as ``grep -i`` in
    the C locale); every other byte compares exactly. ``ignore_case="unicode"`` compares
    characters by their simple case folding (``K``, ``k`` and the Kelvin sign ``K``; ``ß``
    and ``ẞ``; ``σ``, ``ς`` and ``Σ``), text read as UTF-8; a match is the text's own
    characters, at its own offsets (``kmpsearch._casefold``).
    ``whole_words`` keeps the matches that are whole words (``grep -w``); ``matches``
    ``"leftmost-longest"`` or ``"leftmost-first"`` keeps non-overlapping ones, chosen as the
    aho-corasick crate's ``MatchKind`` does.

    ``kmpsearch.WordSet`` uses the default backend; ``kmpsearch.get_backend(name).WordSet``
    a given one. Immutable, thread-safe, picklable (to the same backend).
    """

    __slots__ = ("_words", "_ignore_case")
    _what = "words"
    _pairs = True

    def __new__(cls, words: Iterable[Any], *, ignore_case: bool = False, whole_words: bool = False,
                matches: str = "overlapping") -> "WordSet":
        api = api_of(cls)
        self = object.__new__(api.WordSet)
        if isinstance(words, (str, bytes, bytearray, memoryview)):
            raise TypeError("words must be an iterable of words, not a single "
                            f"{type(words).__name__} (write [word])")
        case = _check_case(ignore_case)
        whole, kind = check_bool(whole_words, "whole_words"), check_choice(matches, "matches", KINDS)
        try:
            items = list(words)
        except TypeError:
            raise TypeError(f"words must be an iterable of str or bytes-like objects, "
                            f"not {type(words).__name__}") from None
        if not items:
            raise ValueError("words must hold at least one word")
        text = isinstance(items[0], str)
        kept: list[Any] = []
        encoded: list[bytes] = []
        seen: set = set()
        for word in items:
            if isinstance(word, str) != text:
                raise TypeError("words must be all str or all bytes-like, not a mix")
            if text:
                if not word:
                    raise ValueError("words must not be empty")
                data = encode_text(word)
            else:
                data = word = word_bytes(word, "each word")
            # duplicates: equal bytes, or equal once folded (bytes.lower: ASCII letters only)
            key = data.lower() if case is True else _fold(_as_text(word)) if case else data
            if key in seen:
                continue
            seen.add(key)
            kept.append(word)
            encoded.append(data)
        object.__setattr__(self, "_words", tuple(kept))
        object.__setattr__(self, "_ignore_case", case)
        group = None
        if case == "unicode":  # the core searches every spelling; ``group`` maps one to its word
            encoded, group = _spellings(kept, text)
        # one word: the core's single-pattern scan (the SIMD skip of KMP is faster than any
        # many-words filter); the core contract gives its matches the word-set shapes
        if len(encoded) == 1 and not case:
            core = api.core.compile_pattern(encoded[0])
        else:
            core = api.core.compile_words(encoded, bool(case))
        self._init(text, [len(e) for e in encoded], core, whole, kind, group)
        return self

    @property
    def words(self) -> tuple:
        """The distinct words, in the order given (a match's word index refers to this)."""
        return self._words

    @property
    def ignore_case(self) -> bool | str:
        """``False``, ``True`` (ASCII letters) or ``"unicode"`` (simple case folding)."""
        return self._ignore_case

    @property
    def whole_words(self) -> bool:
        """Whether only whole words match (neither the character before a match nor the one
        after it is a word character: ``grep -w``'s rule)."""
        return self._whole

    @property
    def matches(self) -> str:
        """The match kind: ``"overlapping"`` (every occurrence), ``"leftmost-longest"`` or
        ``"leftmost-first"`` (non-overlapping, the longest word / the first listed among
        those that start leftmost)."""
        return self._kind

    @property
    def memory_bytes(self) -> int:
        """Bytes the compiled set holds in the backend (0 where it is not measured)."""
        return self._core.memory_bytes

    def __len__(self) -> int:
        return len(self._words)

    def __repr__(self) -> str:
        shown = ", ".join(map(repr, self._words[:3])) + (", ..." if len(self._words) > 3 else "")
        return (f"<kmpsearch.WordSet of {len(self._words)} word{'s' if len(self._words) != 1 else ''} "
                f"[{shown}]{_case_repr(self._ignore_case)}{_semantics_repr(self)} "
                f"backend={self._api.name!r}>")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WordSet):
            return NotImplemented
        return (self._api.name, self._text, self._words, self._ignore_case, self._whole, self._kind) == \
            (other._api.name, other._text, other._words, other._ignore_case, other._whole, other._kind)

    def __hash__(self) -> int:
        return hash((WordSet, self._api.name, self._words, self._ignore_case, self._whole, self._kind))

    def __reduce__(self):
        return copyreg.__newobj_ex__, (type(self), (self._words,),
                                       {"ignore_case": self._ignore_case, **self._semantics()})

    @public
    def count_each(self, haystack: Any, *, threads: int | None = None, scan: str | None = None,
                   _min_chunk: int | None = None, _simd: str | None = None,
                   _block: int | None = None) -> list[int]:
        """Number of occurrences of each word, in the order of ``words``."""
        opts = self._api.options(threads, scan, _min_chunk, _simd, _block)
        return self._shaped(self._memory(haystack, "each", opts), "each", False)

    @public
    def count_each_in_file(self, path: StrPath, *, threads: int | None = None, scan: str | None = None,
                           _min_chunk: int | None = None, _simd: str | None = None,
                           _block: int | None = None) -> list[int]:
        """``count_each`` over the file at ``path``."""
        opts = self._api.options(threads, scan, _min_chunk, _simd, _block)
        return self._shaped(self._file(path, "each", opts), "each", False)


def _check_case(value: object) -> bool | str:
    if value == "unicode" and isinstance(value, str):
        return "unicode"
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        raise ValueError(f"ignore_case must be False, True or 'unicode', got {value!r}")
    raise TypeError(f"ignore_case must be a bool or 'unicode', not {type(value).__name__}")


def _case_repr(case: bool | str) -> str:
    return " ignore_case='unicode'" if case == "unicode" else " ignore_case" if case else ""


def _as_text(word: str | bytes) -> str:
    """A word as characters: bytes read as UTF-8, a byte that is not part of valid UTF-8 kept
    as itself (``surrogateescape``: it has no case)."""
    return word if isinstance(word, str) else word.decode("utf-8", "surrogateescape")


def _fold(text: str) -> str:
    from ._casefold import fold  # its table is built on first use

    return fold(text)


def _spellings(words: list, text: bool) -> tuple[list[bytes], array]:
    """The case variants of ``words`` (``kmpsearch._casefold``), encoded as the core searches
    them, and the word index of each, in order (every variant of word 0 first)."""
    from ._casefold import variants  # its table is built on first use

    encoded: list[bytes] = []
    group = array("i")
    for index, word in enumerate(words):
        for spelling in variants(_as_text(word)):
            encoded.append(encode_text(spelling) if text else spelling.encode("utf-8", "surrogateescape"))
            group.append(index)
    return encoded, group


def _semantics_repr(obj) -> str:
    return (" whole_words" if obj._whole else "") + (f" matches={obj._kind!r}" if obj._kind != "overlapping" else "")


def _length(haystack: object, text: bool) -> int:
    """The length of a haystack in the needle's units (code points for a str needle, else
    bytes); ``sys.maxsize`` when it is not of the needle's kind (the search says so)."""
    if text:
        return len(haystack) if isinstance(haystack, str) else sys.maxsize
    if isinstance(haystack, str):
        return sys.maxsize
    try:
        with memoryview(haystack) as mv:  # type: ignore[arg-type]
            return mv.nbytes
    except TypeError:
        return sys.maxsize


class _NoMatch:
    """The core of a one-shot search whose needle is longer than its haystack."""

    interruptible = True  # nothing to interrupt
    memory_bytes = 0

    def search(self, source, want: str, opts: Options):
        return empty(want, 1)


_NO_MATCH = _NoMatch()


# --------------------------------------------------------------------------- make_api

def make_api(row: Any, core: Any) -> dict[str, Any]:
    """A backend module's public names, over its ``core`` (the core contract) and its
    ``row`` of the backend table (``kmpsearch.backends.TABLE``).

    ``compile``, ``Pattern`` and ``WordSet`` (subclasses of ``kmpsearch.Pattern`` and
    ``kmpsearch.WordSet`` bound to this backend), the top-level functions ``find_all``,
    ``count``, ``find_all_in_file``, ``count_in_file`` and ``finditer`` (compile, then
    search), and ``SCANS``, ``DEFAULT_SCAN`` and ``SIMD`` from the table row.
    """
    api = _Api(row, core)
    module = api.module
    ns = {"__module__": module, "__slots__": (), "_api": api}
    api.Pattern = type("Pattern", (Pattern,), dict(ns, __doc__=Pattern.__doc__, __qualname__="Pattern"))
    api.WordSet = type("WordSet", (WordSet,), dict(ns, __doc__=WordSet.__doc__, __qualname__="WordSet"))
    cls = api.Pattern

    def compile(needle: Any, *, ignore_case: bool | str = False, whole_words: bool = False,
                matches: str = "overlapping") -> Pattern:
        return cls(needle, ignore_case=ignore_case, whole_words=whole_words, matches=matches)

    def find_all(haystack: Any, needle: Any, *, threads: int | None = None, scan: str | None = None,
                 as_array: bool = False, ignore_case: bool | str = False, whole_words: bool = False,
                 matches: str = "overlapping", _min_chunk: int | None = None, _simd: str | None = None,
                 _block: int | None = None) -> list[int]:
        return cls._make(needle, haystack, ignore_case, whole_words, matches).find_all(
            haystack, threads=threads, scan=scan, as_array=as_array, _min_chunk=_min_chunk, _simd=_simd,
            _block=_block)

    def count(haystack: Any, needle: Any, *, threads: int | None = None, scan: str | None = None,
              ignore_case: bool | str = False, whole_words: bool = False, matches: str = "overlapping",
              _min_chunk: int | None = None, _simd: str | None = None, _block: int | None = None) -> int:
        return cls._make(needle, haystack, ignore_case, whole_words, matches).count(
            haystack, threads=threads, scan=scan, _min_chunk=_min_chunk, _simd=_simd, _block=_block)

    def find_all_in_file(path: StrPath, needle: Any, *, threads: int | None = None, scan: str | None = None,
                         as_array: bool = False, ignore_case: bool | str = False, whole_words: bool = False,
                         matches: str = "overlapping", _min_chunk: int | None = None,
                         _simd: str | None = None, _block: int | None = None) -> list[int]:
        return cls(needle, ignore_case=ignore_case, whole_words=whole_words, matches=matches).find_all_in_file(
            path, threads=threads, scan=scan, as_array=as_array, _min_chunk=_min_chunk, _simd=_simd, _block=_block)

    def count_in_file(path: StrPath, needle: Any, *, threads: int | None = None, scan: str | None = None,
                      ignore_case: bool | str = False, whole_words: bool = False, matches: str = "overlapping",
                      _min_chunk: int | None = None, _simd: str | None = None, _block: int | None = None) -> int:
        return cls(needle, ignore_case=ignore_case, whole_words=whole_words, matches=matches).count_in_file(
            path, threads=threads, scan=scan, _min_chunk=_min_chunk, _simd=_simd, _block=_block)

    def finditer(source: Any, needle: Any, *, threads: int | None = None, scan: str | None = None,
                 ignore_case: bool | str = False, whole_words: bool = False, matches: str = "overlapping",
                 _min_chunk: int | None = None, _simd: str | None = None,
                 _window: int | None = None) -> Iterator[int]:
        return cls(needle, ignore_case=ignore_case, whole_words=whole_words, matches=matches).finditer(
            source, threads=threads, scan=scan, _min_chunk=_min_chunk, _simd=_simd, _window=_window)

    def replace(haystack: Any, needle: Any, replacement: Any, *, threads: int | None = None,
                scan: str | None = None, ignore_case: bool | str = False, whole_words: bool = False,
                matches: str = "leftmost-longest", _min_chunk: int | None = None, _simd: str | None = None) -> Any:
        return cls._make(needle, haystack, ignore_case, whole_words, matches).replace(
            haystack, replacement, threads=threads, scan=scan, _min_chunk=_min_chunk, _simd=_simd)

    funcs = {"compile": compile, "find_all": find_all, "count": count, "find_all_in_file": find_all_in_file,
             "count_in_file": count_in_file, "finditer": finditer, "replace": replace}
    for public_name, fn in funcs.items():
        fn.__name__ = fn.__qualname__ = public_name
        fn.__module__ = module
        fn.__doc__ = _DOCS[public_name].format(backend=row.name)
        public(fn)
    return dict(funcs, Pattern=api.Pattern, WordSet=api.WordSet, SCANS=row.scans,
                DEFAULT_SCAN=row.default_scan, SIMD=row.simd, core=core, _api=api)


_COMMON = """
    ``haystack`` is a ``str`` (offsets in code points, as ``str.find`` gives) or any
    C-contiguous bytes-like object: bytes, bytearray, memoryview (slices too), mmap, array
    (offsets in bytes). ``needle`` must be of the same kind and not empty.
    ``ignore_case``: ``False``, ``True`` (ASCII letters) or ``"unicode"`` (simple case
    folding; a match is the text's own characters), as for ``WordSet``; ``whole_words`` and
    ``matches`` choose the matches kept, as for ``WordSet``.
    ``threads``: ``None`` uses every CPU this process may use; otherwise an int >= 1.
    ``scan``: ``"fast"`` or ``"textbook"`` (see ``SCANS``). Results never depend on
    ``threads`` or ``scan``. Backend: ``{backend}``. Same as ``compile(needle)`` then the
    Pattern's method: compile once to search many times.

    Raises TypeError for a wrong type or a non-contiguous buffer, ValueError for an empty
    needle or ``threads < 1``.
"""
_FILE = """
    ``path`` is a str, bytes or os.PathLike naming a regular file; it is only read.
    ``needle`` is bytes-like, or a str searched as its UTF-8 encoding; offsets are bytes.
    ``ignore_case``, ``whole_words`` and ``matches`` as for ``find_all``.
    Files of any size (over 4 GiB included) are searched in bounded memory; a file that
    shrinks during the search gives the matches in what could still be read (as grep).
    ``threads`` and ``scan`` as for ``find_all``. Backend: ``{backend}``.

    Raises FileNotFoundError, IsADirectoryError, PermissionError or another OSError for a
    file that cannot be searched, TypeError/ValueError for bad arguments.
"""
_ARRAY = """
    ``as_array=True`` returns an ``array.array('q')`` instead of a list: 8 bytes an offset,
    no Python ints (``numpy.frombuffer(a, dtype=numpy.int64)`` views it without a copy).
"""
_DOCS = {
    "compile": "Compile ``needle`` (str or bytes-like, not empty) into a reusable ``Pattern``\n"
               "    (backend ``{backend}``). ``ignore_case``: ``False``, ``True`` (ASCII letters) or\n"
               "    ``\"unicode\"`` (simple case folding); ``whole_words``, ``matches``: as for ``WordSet``.",
    "find_all": "Start offsets of every occurrence of ``needle`` in ``haystack``, ascending.\n\n"
                "    Overlapping occurrences count: ``find_all(b'aaaa', b'aa') == [0, 1, 2]``.\n" + _COMMON + _ARRAY,
    "count": "Number of occurrences of ``needle`` in ``haystack`` (overlaps included), without\n"
             "    building the list of offsets.\n" + _COMMON,
    "find_all_in_file": "Byte offsets of every occurrence of ``needle`` in the file at ``path``, ascending.\n"
                        + _FILE + _ARRAY,
    "finditer": "Yield the offset of every occurrence of ``needle`` in ``source``, ascending, as it is read.\n\n"
                "    ``source``: data in memory (``str`` or bytes-like, as ``find_all`` takes it), a path\n"
                "    (``os.PathLike``, e.g. ``pathlib.Path``), a binary file object (``open(p, 'rb')``,\n"
                "    ``gzip.open``, a pipe, a socket's ``makefile('rb')``), an iterable of bytes-like chunks\n"
                "    (byte offsets), or for a str needle a text stream or str chunks (code point offsets).\n"
                "    Memory is bounded by the window (1 MiB); closing the generator stops reading. Same as\n"
                "    ``compile(needle, ...).finditer(source)``; ``ignore_case``, ``whole_words`` and ``matches``\n"
                "    as for ``compile``. Backend: ``{backend}``.\n",
    "count_in_file": "Number of occurrences of ``needle`` in the file at ``path`` (overlaps included).\n" + _FILE,
    "replace": "A copy of ``haystack`` with each non-overlapping occurrence of ``needle`` (leftmost first,\n"
               "    as ``str.replace``) replaced by ``replacement`` (bytes/str, or a callable\n"
               "    ``(word_index, matched) -> bytes/str``). Same as ``compile(needle, ...).replace(...)``;\n"
               "    ``ignore_case`` and ``whole_words`` as for ``compile``. Backend: ``{backend}``.\n",
}
