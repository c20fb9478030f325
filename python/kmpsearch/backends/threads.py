"""The pure-Python scan split along the chunk plan across a thread pool.

On GIL builds the threads take turns, so this shows the GIL's cost; on free-threaded
builds (3.14t) the chunks run in parallel and it scales with cores.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from .._api import make_api
from .._pycore import PyCore
from . import info


def _pool(k: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=k, thread_name_prefix="kmpsearch")


core = PyCore(_pool)
globals().update(make_api(info("threads"), core))
