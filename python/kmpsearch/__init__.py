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
one is an ImportError, never a silent fallback), otherwise the fastest one available;
``kmpsearch.backend`` names it.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

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
        return get_backend(wanted)  # ImportError if unavailable: never a silent fallback
    for name in PREFERENCE:
        try:
            return get_backend(name)
        except ImportError:
            continue
    raise ImportError("no kmpsearch backend could be imported")  # pragma: no cover - python always loads


_selected = _select()
#: name of the backend the top-level functions use
backend: str = _selected.__name__.rsplit(".", 1)[1]
find_all = _selected.find_all
count = _selected.count
find_all_in_file = _selected.find_all_in_file
count_in_file = _selected.count_in_file
