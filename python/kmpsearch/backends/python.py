"""The first rung: textbook KMP in plain Python, one thread.

``threads`` is accepted (and validated) like everywhere else, but this backend always
runs on the calling thread. ``scan="fast"`` adds a state-0 skip with ``bytes.find``.
"""

from __future__ import annotations

from .._frontend import make_api
from .._pykmp import kernels

SCANS = ("textbook", "fast")
DEFAULT_SCAN = "textbook"

find_all, count, find_all_in_file, count_in_file = make_api(
    "python", **kernels(), scans=SCANS, default_scan=DEFAULT_SCAN)
