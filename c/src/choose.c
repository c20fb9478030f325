/*
 * kmp_choose: the matches kept of a search's candidates (every occurrence, ordered by offset
 * then word) -- whole words (the characters around a match, read as strict UTF-8, are not
 * word characters), then the match kind -- in one pass that moves the kept ones to the
 * front of the arrays.
 */
#include <string.h>

#include "common.h"

/* candidates between two looks at the cancel flag */
#define LOOK_EVERY ((size_t)1 << 20)

/* the code point of p[0..len) when it is exactly one strict UTF-8 character, else -1 */
static int32_t one_char(const uint8_t *p, size_t len)
{
    uint32_t b = p[0], lo = 0x80, hi = 0xBF, cp;
    size_t size;
    if (b < 0x80)
        return len == 1 ? (int32_t)b : -1;
    if (b >= 0xC2 && b <= 0xDF) {
        size = 2;
        cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        size = 3;
        cp = b & 0x0F;
        lo = b == 0xE0 ? 0xA0 : 0x80; /* no overlong form */
        hi = b == 0xED ? 0x9F : 0xBF; /* no surrogate */
    } else if (b >= 0xF0 && b <= 0xF4) {
        size = 4;
        cp = b & 0x07;
        lo = b == 0xF0 ? 0x90 : 0x80; /* no overlong form */
        hi = b == 0xF4 ? 0x8F : 0xBF; /* nothing above U+10FFFF */
    } else {
        return -1;
    }
    if (len != size)
        return -1;
    for (size_t i = 1; i < size; i++) {
        uint32_t c = p[i];
        if (c < lo || c > hi)
            return -1;
        cp = cp << 6 | (c & 0x3F);
        lo = 0x80;
        hi = 0xBF;
    }
    return (int32_t)cp;
}

/* whether the character that ends at pos of h is a word character */
static int word_before(const uint8_t *h, size_t pos, const unsigned char *word_chars)
{
    if (pos == 0)
        return 0;
    if (h[pos - 1] < 0x80)
        return word_chars[h[pos - 1]] != 0;
    size_t start = pos - 1; /* back over continuation bytes, at most to pos - 4 */
    while (start > 0 && pos - start < 4 && (h[start] & 0xC0) == 0x80)
        start--;
    int32_t cp = one_char(h + start, pos - start);
    return cp >= 0 && word_chars[cp] != 0;
}

/* whether the character that starts at pos of h[0..n) is a word character */
static int word_after(const uint8_t *h, size_t n, size_t pos, const unsigned char *word_chars)
{
    if (pos >= n)
        return 0;
    uint8_t b = h[pos];
    if (b < 0x80)
        return word_chars[b] != 0;
    size_t size = b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
    if (size == 0 || size > n - pos)
        return 0;
    int32_t cp = one_char(h + pos, size);
    return cp >= 0 && word_chars[cp] != 0;
}

/* Keep match `at` (start `off`, word `w`): written at `at` of the kept ones, counted per word */
static void keep(int64_t *offsets, uint32_t *words, uint64_t *counts, size_t at, int64_t off, size_t w)
{
    offsets[at] = off;
    if (words != NULL)
        words[at] = (uint32_t)w;
    if (counts != NULL)
        counts[w]++;
}

kmp_status kmp_choose(const void *haystack, size_t n, const size_t *lengths, size_t nwords, int whole, int kind,
                      const unsigned char *word_chars, const kmp_options *opt, int64_t *offsets, uint32_t *words,
                      size_t *len, uint64_t *counts)
{
    if (len == NULL || lengths == NULL || nwords == 0 || (haystack == NULL && n != 0) ||
        (offsets == NULL && *len != 0) || (whole && word_chars == NULL) ||
        (kind != KMP_KIND_OVERLAPPING && kind != KMP_KIND_LEFTMOST_LONGEST && kind != KMP_KIND_LEFTMOST_FIRST))
        return KMP_ERR_INVALID;
    if (counts != NULL)
        memset(counts, 0, nwords * sizeof(uint64_t));
    const uint8_t *h = haystack;
    const volatile unsigned char *cancel = opt != NULL ? opt->cancel : NULL;
    size_t total = *len, kept = 0, i = 0, look = 0;
    size_t end = 0; /* the end of the last match kept (leftmost kinds) */
    kmp_status st = KMP_OK;
    while (i < total) {
        if (i >= look) {
            if (kmp__cancelled(cancel)) {
                st = KMP_ERR_CANCELLED;
                break;
            }
            look = i + LOOK_EVERY;
        }
        int64_t off = offsets[i];
        if (off < 0 || (uint64_t)off > n) {
            st = KMP_ERR_INVALID;
            break;
        }
        size_t s = (size_t)off, best = nwords; /* best: none yet */
        /* whether candidates here can be kept: not inside the last match kept (leftmost
         * kinds), not after a word character (whole words) */
        int left = (kind == KMP_KIND_OVERLAPPING || s >= end) && (!whole || !word_before(h, s, word_chars));
        for (; i < total && offsets[i] == off; i++) { /* the candidates that start at s */
            size_t w = words != NULL ? words[i] : 0;
            if (w >= nwords || lengths[w] > n - s) {
                st = KMP_ERR_INVALID;
                break;
            }
            if (!left || (whole && word_after(h, n, s + lengths[w], word_chars)))
                continue;
            if (kind == KMP_KIND_OVERLAPPING)
                keep(offsets, words, counts, kept++, off, w);
            else if (best == nwords || (kind == KMP_KIND_LEFTMOST_LONGEST && lengths[w] > lengths[best]))
                best = w; /* leftmost-first: the first one left (the lowest index) */
        }
        if (st != KMP_OK)
            break;
        if (best < nwords) { /* (left: at or after the end of the last match kept) */
            keep(offsets, words, counts, kept++, off, best);
            end = s + lengths[best];
        }
    }
    *len = kept;
    return st;
}
