# The tuning constants the Cython core shares with the C core (c/src/tuning.h) and the Rust
# core (rust/kmpsearch-core/src/tuning.rs): the same names and values in all three (a test
# reads the three files and compares them). Included first by _kmp_cython.pyx. What chose
# each value: cython/README.md, "Tuning".

cdef enum:
    # the most threads (chunks) a search uses (kmpsearch._contract.MAX_THREADS)
    MAX_THREADS = 256
    # owned starts per segment of the fast word scan: the unit of its verification budget
    # and of the automaton's fallback
    SEGMENT = 64 << 10
    # the most words the Teddy filter takes (8 buckets)
    TEDDY_MAX_WORDS = 64
    # the dense DFA is used while states x (classes + 1) x 4 bytes stay at most this
    DENSE_MAX_BYTES = 4 << 20
    # result arrays of at least this many bytes grow into 2 MiB blocks advised for huge pages
    HUGE_FROM = 16 << 20
    # a chunk's first match buffer holds this many matches, then doubles (as the C core's)
    FIRST_MATCHES = 64

# Teddy is chosen while the estimated share of starts that pass its masks is at most this
cdef const double TEDDY_MAX_PASS = 0.003
