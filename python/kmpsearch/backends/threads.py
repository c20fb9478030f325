"""Pure-Python KMP split along the chunk plan across a thread pool.

On GIL builds the threads take turns, so this shows the GIL's cost; on free-threaded
builds (3.14t) the chunks run in parallel and it scales with cores.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from .._frontend import make_api
from .._pykmp import kernels

SCANS = ("textbook", "fast")
DEFAULT_SCAN = "textbook"


def _pool(k: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=k, thread_name_prefix="kmpsearch")


find_all, count, find_all_in_file, count_in_file = make_api(
    "threads", **kernels(_pool), scans=SCANS, default_scan=DEFAULT_SCAN)
