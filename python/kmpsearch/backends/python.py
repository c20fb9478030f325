"""Textbook KMP (one word) and Aho-Corasick (many words) in plain Python.

``threads`` is accepted (and validated) like everywhere else, but this backend always runs
on the calling thread. ``scan="fast"`` adds a start-state skip that runs in C (``bytes.find``
for KMP, a byte-class ``re`` search for Aho-Corasick).
"""

from __future__ import annotations

from .._api import make_api
from .._pycore import PyCore
from . import info

core = PyCore()
globals().update(make_api(info("python"), core))
