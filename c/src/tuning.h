/*
 * The tuning constants the three cores share, under the same names and with the same values
 * (C: this file; Cython: cython/_tuning.pxi; Rust: rust/kmpsearch-core/src/tuning.rs). A test
 * reads the three files and compares them: keep one `#define KMP__NAME value` a line, the
 * value an integer or float expression. What each one controls and the measurements that
 * chose it: see c/README.md, Tuning.
 */
#ifndef KMP_TUNING_H
#define KMP_TUNING_H

/* starts per segment of the word sets' fast scan: the unit of its budget, fallback and sorts */
#define KMP__SEGMENT ((size_t)1 << 16)
/* Teddy takes sets of at most this many words (8 buckets) ... */
#define KMP__TEDDY_MAX_WORDS 64
/* ... whose masks' estimated pass rate on text is at most this (else the hashed bitmap) */
#define KMP__TEDDY_MAX_PASS 0.003
/* the dense DFA while its table takes at most this many bytes, else the compact form */
#define KMP__DENSE_MAX_BYTES ((size_t)4 << 20)
/* 4-byte shortest words: stride-2 3-byte windows only for exact sets of at most this many prefixes */
#define KMP__STRIDE3_MAX_GROUPS 1024
/* result arrays from this many bytes on are blocks advised for transparent huge pages */
#define KMP__HUGE_FROM ((size_t)16 << 20)
/* the most threads a search uses (kmp.h's KMP_MAX_THREADS, the Python layer's MAX_THREADS) */
#define KMP__MAX_THREADS 256

#endif /* KMP_TUNING_H */
