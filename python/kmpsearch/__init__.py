"""kmpsearch: every location of every word in large text, from Python, fast.

>>> import kmpsearch
>>> kmpsearch.find_all(b"abracadabra", b"abra")
[0, 7]
>>> kmpsearch.count("ünïcödé ünïcödé", "cö")
2
>>> kmpsearch.WordSet([b"he", b"she", b"hers"]).find_all(b"ushers")
[(1, 1), (2, 0), (2, 2)]

One API over interchangeable backends (``kmpsearch.available_backends()``): pure Python
(``python``, ``multiprocessing``, ``threads``), C through cffi (``cffi``), Cython
(``cython``) and Rust through PyO3 (``rust``). ``compile(needle)`` gives a reusable
``Pattern`` (like ``re.compile``); ``WordSet(words)`` searches many words in one pass
(Aho-Corasick). The top-level names use the backend named by the environment variable
``KMPSEARCH_BACKEND`` when it is set (an unavailable one is an ImportError at first use,
never a silent fallback), otherwise the fastest one available; ``kmpsearch.backend`` names it.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Callable, Iterator

from . import _api
from . import backends as _backends
from ._api import Pattern, WordSet
from ._args import default_threads
from ._plan import DEFAULT_MIN_CHUNK, plan_chunks, plan_word_chunks
from .backends import KNOWN_BACKENDS, PREFERENCE

__all__ = [
    "DEFAULT_MIN_CHUNK", "KNOWN_BACKENDS", "PREFERENCE", "Pattern", "WordSet", "available_backends", "backend",
    "compile", "count", "count_in_file", "default_threads", "find_all", "find_all_in_file", "finditer", "get_backend",
    "plan_chunks", "plan_word_chunks", "replace",
]
__version__ = "0.1.0"


def get_backend(name: str) -> ModuleType:
    """Return the backend module ``kmpsearch.backends.<name>``.

    It has the same API as the package: ``compile``, ``Pattern``, ``WordSet``, ``find_all``,
    ``count``, ``find_all_in_file``, ``count_in_file``, ``finditer`` (and ``SCANS``, ``DEFAULT_SCAN``).
    Raises ImportError saying why when the backend is unknown or cannot load here (for a
    native one: not built, or built for another Python).
    """
    return _backends.load(name)


def available_backends() -> list[str]:
    """Names of the backends that import here, fastest first."""
    names = []
    for name in PREFERENCE:
        try:
            _backends.load(name)
        except ImportError:
            continue
        names.append(name)
    return names


def _default_backend() -> ModuleType:
    """The backend module the top-level names use (chosen once, on first use)."""
    module = globals().get("_selected")
    if module is None:
        module = _backends.select()
        globals()["_selected"] = module
    return module


_api.set_default(lambda: _default_backend()._api)

_LAZY = ("backend", "compile", "find_all", "count", "find_all_in_file", "count_in_file", "finditer", "replace")


def __dir__() -> list[str]:
    """The public names, those chosen on first use (``_LAZY``) included: tab completion
    and ``dir(kmpsearch)`` list ``find_all``, ``compile``, ``finditer``..."""
    return sorted(set(globals()) | set(__all__))


def __getattr__(name: str):
    """Pick the backend on first use of a top-level name (PEP 562).

    ``import kmpsearch`` itself always succeeds, so that ``kmpsearch.get_backend`` and the
    ``kmpsearch`` command still work when ``KMPSEARCH_BACKEND`` names an unavailable backend;
    ``kmpsearch.backend``, ``kmpsearch.count``, ``kmpsearch.WordSet(...)`` etc. (and ``from
    kmpsearch import count``) then raise the ImportError.
    """
    if name not in _LAZY:
        raise AttributeError(f"module 'kmpsearch' has no attribute {name!r}")
    selected = _default_backend()
    values = {"backend": selected.__name__.rsplit(".", 1)[1]}
    values.update((fn, getattr(selected, fn)) for fn in _LAZY[1:])
    globals().update(values)  # later lookups never come back here
    return values[name]


#: name of the backend the top-level functions use (chosen on first use, see ``__getattr__``)
backend: str
compile: Callable[..., Pattern]
find_all: Callable[..., list[int]]
count: Callable[..., int]
find_all_in_file: Callable[..., list[int]]
count_in_file: Callable[..., int]
finditer: Callable[..., Iterator[int]]
replace: Callable[..., Any]
