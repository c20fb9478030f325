"""The backends of kmpsearch, and the one table that describes them.

``python``, ``multiprocessing`` and ``threads`` are pure Python;
``cffi`` (the C library in ``c/``), ``cython`` (its own Cython core) and ``rust`` (a Rust
crate through PyO3) are native and import only where they were built. Use
``kmpsearch.get_backend(name)`` or ``kmpsearch.available_backends()`` rather than importing
these modules directly: they say why a backend cannot load.

``TABLE`` below is the only list of backends: ``kmpsearch.KNOWN_BACKENDS`` and
``PREFERENCE``, the benchmark, ``make test``'s and tox's required backends
(``KMPSEARCH_REQUIRE=native``) and the test suite all read it. Adding a backend is one row
here plus one module ``kmpsearch/backends/<name>.py`` that ends with::

    from .._api import make_api
    from . import info
    globals().update(make_api(info("<name>"), core))

where ``core`` compiles patterns and word sets and scans them (the core contract,
``kmpsearch._contract``).
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import NamedTuple

__all__ = ["TABLE", "Backend", "KNOWN_BACKENDS", "PREFERENCE", "NATIVE", "info", "load", "select", "required"]


class Backend(NamedTuple):
    """One row of the backend table."""

    name: str
    #: compiled code (C, Cython, Rust) that needs a build; False for the pure-Python backends
    native: bool
    #: the scans offered (``scan=`` values), the default first
    scans: tuple[str, ...]
    #: how a search uses more than one CPU: "threads" (native threads, GIL released),
    #: "processes", "python-threads" (a thread pool: parallel only on free-threaded Python)
    #: or "none" (always the calling thread)
    parallel: str
    #: place in the default order (0 = tried first): the order `make bench` measured (docs/tuning.md)
    rank: int
    #: SIMD levels a test may force through the private ``_simd=`` option ("auto" always)
    simd: tuple[str, ...] = ("auto",)
    #: one line for --list-backends and the README
    summary: str = ""

    @property
    def default_scan(self) -> str:
        return self.scans[0]


#: every backend, the slowest first
TABLE: tuple[Backend, ...] = (
    Backend("python", False, ("textbook", "fast"), "none", 5,
            summary="textbook KMP / Aho-Corasick in plain Python, one thread"),
    Backend("multiprocessing", False, ("textbook", "fast"), "processes", 3,
            summary="the pure-Python scan split into chunks across worker processes"),
    Backend("threads", False, ("textbook", "fast"), "python-threads", 4,
            summary="the pure-Python scan in a thread pool (parallel on free-threaded Python)"),
    Backend("cffi", True, ("fast", "textbook"), "threads", 1, ("auto", "scalar", "sse2", "avx2"),
            summary="the C library (c/, pthreads, SIMD skip) through cffi"),
    Backend("cython", True, ("fast", "textbook"), "threads", 2, ("auto", "scalar", "sse2", "avx2"),
            summary="a Cython module with its own core (pthreads)"),
    Backend("rust", True, ("fast", "textbook"), "threads", 0, ("auto", "scalar", "sse2", "avx2"),
            summary="a Rust crate (rust/, rayon, memchr, aho-corasick) through PyO3"),
)

_BY_NAME = {b.name: b for b in TABLE}
#: every backend kmpsearch knows, the slowest first
KNOWN_BACKENDS: tuple[str, ...] = tuple(b.name for b in TABLE)
#: the order the default backend is chosen in, fastest first
PREFERENCE: tuple[str, ...] = tuple(b.name for b in sorted(TABLE, key=lambda b: b.rank))
#: the native backends (``KMPSEARCH_REQUIRE=native`` means these)
NATIVE: tuple[str, ...] = tuple(b.name for b in TABLE if b.native)


def info(name: str) -> Backend:
    """The table row of backend ``name`` (KeyError for an unknown one)."""
    return _BY_NAME[name]


def required(spec: str) -> set[str]:
    """Backend names from a ``KMPSEARCH_REQUIRE`` value: a comma list of names, where
    ``native`` stands for every native backend and ``all`` for every backend."""
    out: set[str] = set()
    for item in (s.strip() for s in spec.split(",")):
        if item == "native":
            out.update(NATIVE)
        elif item == "all":
            out.update(KNOWN_BACKENDS)
        elif item:
            out.add(item)
    return out


def load(name: str) -> ModuleType:
    """The module ``kmpsearch.backends.<name>``; ImportError saying why it cannot load."""
    if not isinstance(name, str):
        raise TypeError(f"backend name must be a str, not {type(name).__name__}")
    if name not in _BY_NAME:
        raise ImportError(f"unknown kmpsearch backend {name!r}; known: {', '.join(KNOWN_BACKENDS)}")
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ImportError as exc:
        raise ImportError(f"kmpsearch backend {name!r} is not available: {exc}", name=name) from exc


def select() -> ModuleType:
    """The backend the top-level API uses: ``$KMPSEARCH_BACKEND`` (an unavailable one is an
    ImportError, never a silent fallback), else the first of PREFERENCE that loads."""
    wanted = os.environ.get("KMPSEARCH_BACKEND", "").strip()
    if wanted:
        try:
            return load(wanted)
        except ImportError as exc:
            raise ImportError(f"KMPSEARCH_BACKEND={wanted!r}: {exc}", name=wanted) from exc
    for name in PREFERENCE:
        try:
            return load(name)
        except ImportError:
            continue
    raise ImportError("no kmpsearch backend could be imported")  # pragma: no cover - python always loads
