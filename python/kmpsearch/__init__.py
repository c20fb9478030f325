"""kmpsearch: every occurrence of a word in large text, from Python, fast.

>>> import kmpsearch
>>> kmpsearch.find_all(b"abracadabra", b"abra")
[0, 7]
>>> kmpsearch.count("ünïcödé ünïcödé", "cö")
2

One API over interchangeable backends (``kmpsearch.available_backends()``): pure Python
(``python``, ``multiprocessing``, ``threads``), C through cffi (``cffi``), Cython
(``cython``) and Rust through PyO3 (``rust``). The top-level functions use the backend
named by the environment variable ``KMPSEARCH_BACKEND`` when it is set (an unavailable
one is an ImportError at first use, never a silent fallback), otherwise the fastest one available;
``kmpsearch.backend`` names it.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Callable

from ._frontend import default_threads
from ._plan import DEFAULT_MIN_CHUNK, plan_chunks

__all__ = [
    "KNOWN_BACKENDS", "PREFERENCE", "available_backends", "backend", "count", "count_in_file",
    "default_threads", "find_all", "find_all_in_file", "get_backend", "plan_chunks", "DEFAULT_MIN_CHUNK",
]
__version__ = "0.1.0"

#: every backend kmpsearch knows, native or not
KNOWN_BACKENDS = ("python", "multiprocessing", "threads", "cffi", "cython", "rust")
#: fastest first, the order `make bench` measures on a 1 GiB corpus (see README)
PREFERENCE = ("rust", "cffi", "cython", "multiprocessing", "threads", "python")


def get_backend(name: str) -> ModuleType:
    """Return the backend module ``kmpsearch.backends.<name>``.

    Raises ImportError saying why when the backend is unknown or cannot load here
    (for a native one: not built, or built for another Python).
    """
    if not isinstance(name, str):
        raise TypeError(f"backend name must be a str, not {type(name).__name__}")
    if name not in KNOWN_BACKENDS:
        raise ImportError(f"unknown kmpsearch backend {name!r}; known: {', '.join(KNOWN_BACKENDS)}")
    try:
        return importlib.import_module(f"kmpsearch.backends.{name}")
    except ImportError as exc:
        raise ImportError(f"kmpsearch backend {name!r} is not available: {exc}", name=name) from exc


def available_backends() -> list[str]:
    """Names of the backends that import here, fastest first."""
    names = []
    for name in PREFERENCE:
        try:
            get_backend(name)
        except ImportError:
            continue
        names.append(name)
    return names


def _select() -> ModuleType:
    wanted = os.environ.get("KMPSEARCH_BACKEND", "").strip()
    if wanted:
        try:
            return get_backend(wanted)  # never a silent fallback
        except ImportError as exc:
            raise ImportError(f"KMPSEARCH_BACKEND={wanted!r}: {exc}", name=wanted) from exc
    for name in PREFERENCE:
        try:
            return get_backend(name)
        except ImportError:
            continue
    raise ImportError("no kmpsearch backend could be imported")  # pragma: no cover - python always loads


_LAZY = ("backend", "find_all", "count", "find_all_in_file", "count_in_file")


def __getattr__(name: str):
    """Pick the backend on first use of a top-level name (PEP 562).

    ``import kmpsearch`` itself always succeeds, so that ``kmpsearch.get_backend`` and the
    ``kmpsearch`` command still work when ``KMPSEARCH_BACKEND`` names an unavailable backend;
    ``kmpsearch.backend``, ``kmpsearch.count`` etc. (and ``from kmpsearch import count``) then
    raise the ImportError.
    """
    if name not in _LAZY:
        raise AttributeError(f"module 'kmpsearch' has no attribute {name!r}")
    selected = _select()
    values = {"backend": selected.__name__.rsplit(".", 1)[1]}
    values.update((fn, getattr(selected, fn)) for fn in _LAZY[1:])
    globals().update(values)  # later lookups never come back here
    return values[name]


#: name of the backend the top-level functions use (chosen on first use, see ``__getattr__``)
backend: str
find_all: Callable[..., list[int]]
count: Callable[..., int]
find_all_in_file: Callable[..., list[int]]
count_in_file: Callable[..., int]
