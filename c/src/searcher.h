/* The single-pattern KMP matcher (searcher.c) as the engine runs it. */
#ifndef KMP_SEARCHER_H
#define KMP_SEARCHER_H

#include "engine.h"
#include "simd.h"

typedef struct kmp__kmp_ctx {
    const uint8_t *pat;
    const size_t *fail;
    size_t m;
    kmp_pair pair; /* the fast scan's pair (see searcher.c); m >= 2 */
    size_t run;   /* the state that loops on pat[0] (see searcher.c), or SIZE_MAX */
    int fast;
    kmp_kernels kern;
} kmp__kmp_ctx;

/* The matcher of s for one search (scan: kmp_scan, simd: kmp_simd, both already checked);
 * ctx is its storage and must outlive the search. */
void kmp__searcher_matcher(const kmp_searcher *s, int scan, int simd, kmp__kmp_ctx *ctx, kmp__matcher *mt);

#endif /* KMP_SEARCHER_H */
