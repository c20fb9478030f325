"""Argument checks: the one place where the public functions' arguments are validated.

Every backend accepts and rejects exactly the same inputs and raises the same exceptions,
because every public class and function checks its arguments here before a core sees them.
``search_options`` turns the keyword arguments of a search into the core contract's
``Options`` (``kmpsearch._contract``).
"""

from __future__ import annotations

import operator
import os
from pickle import PickleBuffer

from ._contract import MAX_THREADS, Options
from ._plan import DEFAULT_MIN_CHUNK

__all__ = ["byte_view", "check_bool", "check_choice", "check_mask", "check_positive", "default_threads",
           "encode_text", "is_buffer", "resolve_threads", "search_options", "word_bytes"]


def default_threads() -> int:
    """Every CPU this process may use."""
    if hasattr(os, "process_cpu_count"):  # Python 3.13+
        n = os.process_cpu_count()
    elif hasattr(os, "sched_getaffinity"):
        n = len(os.sched_getaffinity(0))
    else:  # pragma: no cover - platforms without affinity
        n = os.cpu_count()
    return max(1, n or 1)


def resolve_threads(threads: object) -> int:
    """``None`` -> every usable CPU; an int >= 1 as is (capped at MAX_THREADS)."""
    if threads is None:
        return min(default_threads(), MAX_THREADS)
    if isinstance(threads, bool):
        raise TypeError("threads must be an int or None, not bool")
    try:
        n = operator.index(threads)
    except TypeError:
        raise TypeError(f"threads must be an int or None, not {type(threads).__name__}") from None
    if n < 1:
        raise ValueError(f"threads must be >= 1, got {n}")
    return min(n, MAX_THREADS)


def check_positive(value: object, what: str, default: int) -> int:
    """An int >= 1, or ``default`` for None."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int")
    if value < 1:
        raise ValueError(f"{what} must be >= 1")
    return value


def check_choice(value: object, what: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    value = str.__str__(value)  # a str subclass (enum.StrEnum) as the plain str the cores expect
    if value not in choices:
        raise ValueError(f"{what} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_bool(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{what} must be a bool, not {type(value).__name__}")
    return value


def search_options(row, threads: object = None, scan: object = None, min_chunk: object = None,
                   simd: object = None, block: object = None) -> Options:
    """The ``Options`` of a search with backend ``row`` (its table row: scans, SIMD levels).

    ``threads`` and ``scan`` are public; ``min_chunk`` (the chunk plan's least start
    positions per chunk), ``simd`` (a forced SIMD level) and ``block`` (bytes between two
    looks at the cancel flag) are the private knobs tests and benchmarks set."""
    return Options(
        threads=resolve_threads(threads),
        # larger means "one chunk" all the same; fits every core's u64/i64
        min_chunk=min(check_positive(min_chunk, "_min_chunk", DEFAULT_MIN_CHUNK), 2**63 - 1),
        scan=row.default_scan if scan is None else check_choice(scan, "scan", row.scans),
        simd="auto" if simd is None else check_choice(simd, "_simd", row.simd),
        block=0 if block is None else check_positive(block, "_block", 0),
    )


def byte_view(obj: object, what: str) -> memoryview:
    """A zero-copy, 1-D, format 'B' view of a C-contiguous buffer."""
    try:
        mv = memoryview(obj)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{what} must be str or a bytes-like object, not {type(obj).__name__}") from None
    if not mv.c_contiguous:
        mv.release()
        raise TypeError(f"{what} must be a C-contiguous buffer")
    if mv.ndim == 1 and mv.format == "B":
        return mv
    if any(code in mv.format for code in "OP&"):  # e.g. numpy dtype=object: the bytes are pointers
        fmt = mv.format
        mv.release()
        raise TypeError(f"{what} must hold bytes, characters or numbers, not objects or pointers (format {fmt!r})")
    return PickleBuffer(mv).raw()  # any C-contiguous buffer as unsigned bytes, no copy


def is_buffer(obj: object) -> bool:
    """Whether ``obj`` exports a buffer (bytes-like data)."""
    try:
        with memoryview(obj):  # type: ignore[arg-type]
            return True
    except TypeError:
        return False


def word_bytes(word: object, what: str) -> bytes:
    """A bytes-like word or needle as bytes (a copy: compiled objects own their words)."""
    with byte_view(word, what) as mv:
        data = mv.tobytes()
    if not data:
        raise ValueError(f"{what} must not be empty")
    return data


def encode_text(text: str) -> bytes:
    """``str`` as kmpsearch searches it: UTF-8, lone surrogates included."""
    return text.encode("utf-8", "surrogatepass")


def check_mask(mask: object, text: bool) -> str | bytes:
    """The mask of ``redact``: one character for str, one byte for bytes (a bytes-like
    object of length 1, or a str of one ASCII character such as the default ``"*"``)."""
    if text:
        if not isinstance(mask, str):
            raise TypeError(f"mask must be a str of one character for a str haystack, not {type(mask).__name__}")
        if len(mask) != 1:
            raise ValueError(f"mask must be one character, got {len(mask)}: {mask!r}")
        return str.__str__(mask)
    if isinstance(mask, str):
        if len(mask) != 1 or not mask.isascii():
            raise ValueError(f"mask must be one byte: one ASCII character or a bytes object of length 1, got {mask!r}")
        return mask.encode("ascii")
    try:
        with memoryview(mask) as mv:  # type: ignore[arg-type]
            data = mv.tobytes()
    except TypeError:
        raise TypeError(f"mask must be a bytes object of length 1 or a str of one ASCII character, "
                        f"not {type(mask).__name__}") from None
    if len(data) != 1:
        raise ValueError(f"mask must be one byte, got {len(data)} bytes: {data!r}")
    return data
