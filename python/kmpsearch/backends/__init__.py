"""kmpsearch's backends: one module each, all exposing the same four functions.

``python``, ``multiprocessing`` and ``threads`` are pure Python (the talk's first rungs);
``cffi`` (the C library in ``c/``), ``cython`` (its own Cython core) and ``rust`` (a
Rust crate through PyO3) are native and import only where they were built. Use
``kmpsearch.get_backend(name)`` or ``kmpsearch.available_backends()`` rather than
importing these modules directly: they say why a backend cannot load.
"""
