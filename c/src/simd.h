/* The SIMD kernels (simd.c) of the single-pattern fast scan, chosen per call. */
#ifndef KMP_SIMD_H
#define KMP_SIMD_H

#include "common.h"

/* The fast scan's pair of a pattern of m >= 2 bytes (searcher.c): a match can only start at
 * j with text[j] == a (pat[0]) and text[j + d] == b (pat[d]), 1 <= d < m; c is pat[1]. */
typedef struct kmp_pair {
    size_t d;
    uint8_t a, b, c;
} kmp_pair;

/*
 * find_pair(p, i, len, pr), with i < len: the first position j >= i where a match can
 * start, as far as the bytes p[0..len) tell:
 *   - the smallest j in [i, len - d) with p[j] == a && p[j + d] == b, otherwise
 *   - the smallest j in [max(i, len - d), len - 1) with p[j] == a && p[j + 1] == c (the
 *     byte at offset d lies past the block, the one at offset 1 does not), otherwise
 *   - len - 1 when p[len - 1] == a (the pattern may go on in the next block), otherwise
 *   - len (nothing here).
 * Every call costs O(1 + j - i) (each position is tested once): the scan never looks back,
 * so the fast scan stays linear.
 */
typedef size_t (*kmp_find_pair_fn)(const uint8_t *p, size_t i, size_t len, kmp_pair pr);
/* count_byte(p, len, a): how many of p[0..len) equal a */
typedef uint64_t (*kmp_count_byte_fn)(const uint8_t *p, size_t len, uint8_t a);
/* collect_byte(p, len, a, base, out): append base + j for every p[j] == a (j < len) to out;
 * 0, or -1 when the array could not grow (out then holds the offsets appended so far) */
typedef int (*kmp_collect_byte_fn)(const uint8_t *p, size_t len, uint8_t a, int64_t base, kmp_matches *out);
/* skip_run(p, i, len, a), i <= len: the first j >= i with p[j] != a, or len */
typedef size_t (*kmp_skip_run_fn)(const uint8_t *p, size_t i, size_t len, uint8_t a);

typedef struct kmp_kernels {
    kmp_find_pair_fn find_pair;
    kmp_count_byte_fn count_byte;
    kmp_collect_byte_fn collect_byte;
    kmp_skip_run_fn skip_run;
    int level; /* the kmp_simd actually used */
} kmp_kernels;

/* The SIMD level a request (kmp_simd) gets on this CPU: a level the CPU lacks is lowered.
 * Pure function of (level, CPU): __builtin_cpu_supports reads what the runtime detected at
 * load time; nothing is cached in state of ours. */
int kmp__simd_level(int level);

/* The kernels for the requested kmp_simd level (lowered as kmp__simd_level does). */
kmp_kernels kmp__kernels(int level);

#endif /* KMP_SIMD_H */
