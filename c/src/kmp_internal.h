/* Internal interfaces of libkmpsearch: the skip kernels (kmp_skip.c) used by the fast scan. */
#ifndef KMP_INTERNAL_H
#define KMP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "kmp.h"

/*
 * find_pair(p, i, len, a, b), with i < len: the first position j >= i where a match can
 * start, as far as the bytes p[0..len) tell:
 *   - the smallest j in [i, len - 1) with p[j] == a && p[j + 1] == b, otherwise
 *   - len - 1 when p[len - 1] == a (the pair may continue in the next block), otherwise
 *   - len (nothing here).
 * Every call costs O(1 + j - i): the scan never looks back, so the fast scan stays linear.
 */
typedef size_t (*kmp_find_pair_fn)(const uint8_t *p, size_t i, size_t len, uint8_t a, uint8_t b);
/* count_byte(p, len, a): how many of p[0..len) equal a */
typedef uint64_t (*kmp_count_byte_fn)(const uint8_t *p, size_t len, uint8_t a);

/* collect_byte(p, len, a, base, out): append base + j for every p[j] == a (j < len) to out;
 * 0, or -1 when the array could not grow (out then holds the offsets appended so far) */
typedef int (*kmp_collect_byte_fn)(const uint8_t *p, size_t len, uint8_t a, int64_t base, kmp_matches *out);

/* make room for `extra` more offsets in m (0, or -1 when allocation failed; m unchanged) */
int kmp__matches_reserve_more(kmp_matches *m, size_t extra);

typedef struct kmp_kernels {
    kmp_find_pair_fn find_pair;
    kmp_count_byte_fn count_byte;
    kmp_collect_byte_fn collect_byte;
    int level; /* the kmp_simd actually used */
} kmp_kernels;

/* The kernels for the requested kmp_simd level, lowered to what this CPU supports. Pure
 * function of (level, CPU): nothing is cached in global state. */
kmp_kernels kmp__kernels(int level);

#endif /* KMP_INTERNAL_H */
