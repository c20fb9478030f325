/*
 * The result arrays: kmp_matches (offsets) and kmp_word_matches (offsets + word indices),
 * their growth, and the sort of a run of word matches by (offset, word index).
 */
#if defined(__linux__)
#  define _DEFAULT_SOURCE 1 /* madvise */
#endif
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#  include <sys/mman.h>
#endif

#include "common.h"
#include "tuning.h"

/*
 * Where a result array lives. A big result array is written once from start to end, and
 * with 4 KiB pages the first touch of each page can cost more than the scan that fills it
 * (see c/README.md, Tuning). So from KMP__HUGE_FROM bytes (tuning.h) up an array is a block
 * aligned to and a multiple of HUGE_PAGE (2 MiB) that the kernel is asked to back with
 * transparent huge pages (THP in "madvise" mode, the usual default, uses them only when
 * asked). Growing such a block copies (no realloc: madvise splits the allocator's mapping,
 * so realloc could not move it in place); the copies of a doubling array add up to less
 * than its final size, but old and new are held at once while it moves. Below
 * KMP__HUGE_FROM realloc grows arrays in place: the memory of small and middling results
 * (a window of the command's, 16 MiB or less) stays what they use. The advice is only
 * advice; free() frees either kind.
 */
#define HUGE_PAGE ((size_t)2 << 20)

/* a new block of `bytes` (> 0) holding the first `keep` bytes of `old` (or NULL), old freed
 * on success; NULL on failure (old untouched) */
static void *regrow(void *old, size_t keep, size_t bytes)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (bytes >= KMP__HUGE_FROM) {
        if (bytes > SIZE_MAX - HUGE_PAGE)
            return NULL;
        bytes = (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
        void *p = aligned_alloc(HUGE_PAGE, bytes);
        if (p == NULL)
            return NULL;
        (void)madvise(p, bytes, MADV_HUGEPAGE);
        if (keep)
            memcpy(p, old, keep);
        free(old);
        return p;
    }
#endif
    (void)keep;
    return realloc(old, bytes);
}

/* the capacity to grow to for at least `need` entries of `size` bytes: doubling from 64;
 * 0 when that many cannot be addressed */
static size_t grown_cap(size_t cap, size_t need, size_t size)
{
    cap = cap < 64 ? 64 : cap;
    while (cap < need) {
        if (cap > SIZE_MAX / 2 / size)
            return 0;
        cap *= 2;
    }
    return cap > SIZE_MAX / size ? 0 : cap;
}

void kmp_matches_free(kmp_matches *m)
{
    if (m == NULL)
        return;
    free(m->offsets);
    m->offsets = NULL;
    m->len = m->cap = 0;
}

int kmp__matches_reserve_more(kmp_matches *m, size_t extra)
{
    if (extra > SIZE_MAX - m->len)
        return -1;
    size_t need = m->len + extra;
    if (need <= m->cap)
        return 0;
    size_t cap = grown_cap(m->cap, need, sizeof(int64_t));
    if (cap == 0)
        return -1;
    int64_t *p = regrow(m->offsets, m->len * sizeof(int64_t), cap * sizeof(int64_t));
    if (p == NULL)
        return -1;
    m->offsets = p;
    m->cap = cap;
    return 0;
}

KMP_NOINLINE int kmp__matches_grow(kmp_matches *m) { return kmp__matches_reserve_more(m, 1); }

void kmp_word_matches_free(kmp_word_matches *m)
{
    if (m == NULL)
        return;
    free(m->offsets);
    free(m->words);
    m->offsets = NULL;
    m->words = NULL;
    m->len = m->cap = 0;
}

int kmp__word_matches_reserve_more(kmp_word_matches *m, size_t extra)
{
    if (extra > SIZE_MAX - m->len)
        return -1;
    size_t need = m->len + extra;
    if (need <= m->cap)
        return 0;
    size_t cap = grown_cap(m->cap, need, sizeof(int64_t));
    if (cap == 0)
        return -1;
    /* two arrays: if the second realloc fails the first one is merely bigger than cap says */
    int64_t *o = regrow(m->offsets, m->len * sizeof(int64_t), cap * sizeof(int64_t));
    if (o == NULL)
        return -1;
    m->offsets = o;
    uint32_t *w = regrow(m->words, m->len * sizeof(uint32_t), cap * sizeof(uint32_t));
    if (w == NULL)
        return -1;
    m->words = w;
    m->cap = cap;
    return 0;
}

KMP_NOINLINE int kmp__word_matches_grow(kmp_word_matches *m) { return kmp__word_matches_reserve_more(m, 1); }

/*
 * The automaton reports a match at its END, so a run of matches comes out ordered by end,
 * not by start. Sort it by (offset, word) as 64-bit keys (offset - lo) << 32 | word with an
 * LSD radix sort (8-bit digits, passes whose digit is the same for every key skipped):
 * linear, and the runs can be long (every start of `a`*n matches 40 words a^1..a^40).
 * The caller guarantees offset - lo < 2^32 (a run covers one segment of starts).
 */
int kmp__word_matches_sort(kmp_word_matches *m, size_t from, int64_t lo)
{
    size_t n = m->len - from;
    int64_t *off = m->offsets + from;
    uint32_t *w = m->words + from;
    size_t i = 1;
    while (i < n && (off[i] > off[i - 1] || (off[i] == off[i - 1] && w[i] >= w[i - 1])))
        i++;
    if (i >= n)
        return 0; /* already in order: the usual case */
    if (n > SIZE_MAX / 2 / sizeof(uint64_t))
        return -1;
    uint64_t *keys = malloc(2 * n * sizeof(uint64_t));
    if (keys == NULL)
        return -1;
    uint64_t *tmp = keys + n;
    uint64_t all_or = 0, all_and = ~(uint64_t)0;
    for (i = 0; i < n; i++) {
        keys[i] = ((uint64_t)(off[i] - lo) << 32) | w[i];
        all_or |= keys[i];
        all_and &= keys[i];
    }
    for (unsigned shift = 0; shift < 64; shift += 8) {
        if ((((all_or ^ all_and) >> shift) & 0xff) == 0)
            continue; /* every key has the same digit here */
        size_t cnt[256] = {0};
        for (i = 0; i < n; i++)
            cnt[(keys[i] >> shift) & 0xff]++;
        size_t sum = 0;
        for (unsigned d = 0; d < 256; d++) {
            size_t c = cnt[d];
            cnt[d] = sum;
            sum += c;
        }
        for (i = 0; i < n; i++)
            tmp[cnt[(keys[i] >> shift) & 0xff]++] = keys[i];
        uint64_t *t = keys;
        keys = tmp;
        tmp = t;
    }
    for (i = 0; i < n; i++) {
        off[i] = lo + (int64_t)(keys[i] >> 32);
        w[i] = (uint32_t)keys[i];
    }
    free(keys < tmp ? keys : tmp);
    return 0;
}
