/*
 * What every source file of libkmpsearch shares: compiler helpers, the result arrays'
 * growth functions (matches.c) and the per-chunk results a scan writes into.
 *
 * The library is layered so that no file calls back into a file above it (and no two files
 * depend on each other):
 *   matches.c, simd.c, reader.c          results arrays, SIMD kernels, the pread block reader
 *   engine.c                             chunk plan, threads, merge (any matcher, memory or fd;
 *                                          files through the reader's pieces)
 *   batch.c                              batches of files: open, fstat, one engine run per file
 *                                          on the engine's threads, results in path order
 *   searcher.c, wordset_build.c,         the single-pattern KMP matcher; the word set
 *   wordset_scan.c                         (Aho-Corasick + prefilter) and its matcher
 *   api.c                                public search entry points (memory, fd, path)
 *   choose.c                             kmp_choose: whole words and match kinds over a
 *                                          search's results (uses nothing but this file)
 */
#ifndef KMP_COMMON_H
#define KMP_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "kmp.h"

#if defined(__GNUC__) || defined(__clang__)
#  define KMP_INLINE static inline __attribute__((always_inline))
#  define KMP_NOINLINE __attribute__((noinline))
#  define KMP_LIKELY(x) __builtin_expect(!!(x), 1)
#  define KMP_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#  define KMP_INLINE static inline
#  define KMP_NOINLINE
#  define KMP_LIKELY(x) (x)
#  define KMP_UNLIKELY(x) (x)
#endif

#if defined(__GNUC__) || defined(__clang__)
#  define KMP_CTZ64(x) ((unsigned)__builtin_ctzll(x))
#  define KMP_PREFETCH(p) __builtin_prefetch(p)
#else
/* the index of the lowest set bit of x != 0 */
static inline unsigned kmp__ctz64(uint64_t x)
{
    unsigned n = 0;
    while (!(x & 1)) {
        x >>= 1;
        n++;
    }
    return n;
}
#  define KMP_CTZ64(x) kmp__ctz64(x)
#  define KMP_PREFETCH(p) ((void)(p))
#endif

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#  define KMP_X86_SIMD 1
#else
#  define KMP_X86_SIMD 0
#endif

/* whether the caller asked the search to stop (kmp_options.cancel; a relaxed atomic load:
 * the flag carries no data, the search only has to see it soon) */
static inline int kmp__cancelled(const volatile unsigned char *cancel)
{
#if defined(__GNUC__) || defined(__clang__)
    return cancel != NULL && __atomic_load_n((const unsigned char *)cancel, __ATOMIC_RELAXED) != 0;
#else
    return cancel != NULL && *cancel != 0;
#endif
}

/* --- results arrays (matches.c) ---------------------------------------------------------- */

/* room for `extra` more offsets in m: 0, or -1 when allocation failed (m unchanged) */
int kmp__matches_reserve_more(kmp_matches *m, size_t extra);
/* room for one more (the slow path of a hot loop's append) */
int kmp__matches_grow(kmp_matches *m);
/* the same for (offset, word) pairs */
int kmp__word_matches_reserve_more(kmp_word_matches *m, size_t extra);
int kmp__word_matches_grow(kmp_word_matches *m);
/* Sort m's entries [from, m->len) by (offset, word). Every offset there lies in
 * [lo, lo + 2^32). 0, or -1 when the scratch memory could not be had (the entries are
 * then left as they were). */
int kmp__word_matches_sort(kmp_word_matches *m, size_t from, int64_t lo);

/* --- what a scan writes into ----------------------------------------------------------------
 * One per chunk (the engine merges them in chunk order). count is always kept; the other
 * outputs are optional: each (per-word counts, word sets), offsets (single pattern
 * find_all), pairs (word set find_all). A scan that cannot grow an array sets nomem and
 * stops; what it appended before stays valid. */
typedef struct kmp__results {
    uint64_t count;
    uint64_t *each;
    kmp_matches *offsets;
    kmp_word_matches *pairs;
    int nomem;
} kmp__results;

#endif /* KMP_COMMON_H */
