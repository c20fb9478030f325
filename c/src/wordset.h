/*
 * The word set's layout, shared by its builder (wordset_build.c) and its scans
 * (wordset_scan.c). Immutable once built.
 *
 * Aho-Corasick automaton over byte classes (every byte that occurs in a word has its own
 * class, the others share one; with KMP_IGNORE_CASE an upper-case letter is in its lower
 * case's class), in one of two forms:
 *   dense:   a DFA (failure transitions resolved), 4-byte premultiplied state ids
 *            (state index * classes), the states that report matches
 *            numbered last so one compare spots them. Used while the table is small enough to
 *            stay in cache (KMP__DENSE_MAX_BYTES).
 *   compact: the trie in BFS order (a state's children are consecutive states, so an edge is
 *            only its class byte), failure links, and resolved dense rows for the root and
 *            the states with many children; about 13-20 bytes per state. Large sets.
 * Matches are reported at their end through output records (one per state that reports
 * anything): how many words end there or at a suffix, the words ending exactly there, and
 * the next record along the suffix chain that has words (dictionary suffix link).
 *
 * The fast scan's prefilter looks at word STARTS (on x86, sets of at most 64 words whose masks
 * are selective: Teddy's SIMD nibble masks over 8 buckets of words, see wordset_scan.c and
 * choose_filter in wordset_build.c; otherwise): a window of w <= 4 bytes at every
 * position (stride 1: the window of a start is its first bytes) or at every other one
 * (stride 2: a window covers the starts just before it and at it), hashed into a bitmap; a
 * set bit is verified in an exact hash table of the words' k-byte prefixes
 * (k = min(shortest word, 4); groups of word ids, ascending), word by word.
 */
#ifndef KMP_WORDSET_H
#define KMP_WORDSET_H

#include "engine.h"

#define KMP__NONE UINT32_MAX

/* a state of the compact form */
typedef struct kmp__cstate {
    uint32_t child_lo; /* its children are the states child_lo .. the next state's child_lo */
    uint32_t fail;
    uint32_t rowi;     /* its resolved row, or KMP__NONE (the root has row 0) */
    uint32_t outi;     /* its output record, or KMP__NONE */
} kmp__cstate;

typedef struct kmp__outrec {
    uint32_t count; /* words ending here or at any suffix of this state (the whole chain) */
    uint32_t lo, hi; /* the words ending exactly here: term_words[lo..hi) (ascending ids) */
    uint32_t depth;  /* their length (0 when lo == hi) */
    uint32_t next;   /* the next record along the suffix chain with words, or KMP__NONE */
} kmp__outrec;

struct kmp_wordset {
    size_t n;
    unsigned flags;
    size_t minlen, maxlen;

    uint8_t cls[256];       /* byte -> class */
    uint8_t fold[256];      /* byte -> byte as the words were stored (A-Z -> a-z with ignore case) */
    unsigned nclasses;

    uint32_t nstates;
    const uint32_t *depth;  /* [nstates]: the length of the prefix a state stands for (dense: by s / classes) */
    const kmp__outrec *out; /* output records */
    const uint32_t *term_words;

    int dense;
    /* dense */
    const uint32_t *trans;  /* [nstates * nclasses] */
    uint32_t first_match;   /* premultiplied id of the first state with a record */
    /* compact */
    const kmp__cstate *cstates; /* [nstates + 1] (the last one only ends the children list) */
    const uint8_t *label;     /* [nstates]: the class of the edge into s */
    const uint32_t *rows;     /* [rows * nclasses] */

    /* prefilter */
    unsigned k;             /* the exact table's key: the first k bytes of a word */
    uint32_t kmask;         /* the k low bytes */
    unsigned stride;        /* the scan hashes a window at every stride-th position */
    uint32_t wmask;         /* the window's bytes (w <= k + 1 - stride... see wordset_build.c) */
    uint32_t fmask;         /* wmask, bit 5 of each byte cleared with ignore case */
    unsigned fbits;         /* the bitmap has 1 << fbits bits: a blocked Bloom filter, two bits
                               per window in one 32-bit word (one load per window) */
    const uint32_t *bitmap;
    /* verification: open addressing over the exact (folded) k-byte prefixes; slot i is
     * vslot[2i] (the key) and vslot[2i + 1] (its record in vrec, KMP__NONE: empty). A
     * record: the number of words, then per word (ascending ids) its id, its length and
     * its bytes past the k-byte prefix, padded to 4 bytes: one or two cache lines per hit. */
    unsigned vbits;
    const uint32_t *vslot;
    const uint32_t *vrec;

    /* Teddy (x86 SSSE3/AVX2, when choose_filter takes it): the words in 8 buckets; a start passes when,
     * for each of its first teddy_m bytes c, teddy_lo[j][c & 15] & teddy_hi[j][c >> 4]
     * has a bucket in common with the other bytes' */
    unsigned teddy_m;       /* 0: no Teddy for this set */
    uint8_t teddy_lo[4][16];
    uint8_t teddy_hi[4][16];

    size_t memory;          /* bytes held */
    void *blocks[24];       /* every allocation, freed by kmp_wordset_free */
    size_t nblocks;
};

#define KMP__FILTER_MULT 0x9E3779B1u
#define KMP__VERIFY_MULT 0x85EBCA77u

/* The filter's hash of a (masked) window is its 32-bit product h: the top fbits - 5 bits of
 * h pick the bitmap's 32-bit word, the next 5 and the 5 after them the two bits in it
 * (12 <= fbits <= 22). The same in the scalar and the SIMD (gather) filters. */
static inline uint32_t kmp__filter_hash(uint32_t window) { return window * KMP__FILTER_MULT; }
#define KMP__FWORD(h, fbits) ((h) >> (37 - (fbits)))
#define KMP__FBIT1(h, fbits) (((h) >> (32 - (fbits))) & 31)
#define KMP__FBIT2(h, fbits) (((h) >> (27 - (fbits))) & 31)

/* the k bytes at p as a little-endian integer (k <= 4; p[0..k) readable) */
static inline uint32_t kmp__load_prefix(const uint8_t *p, unsigned k)
{
    uint32_t x = 0;
    for (unsigned j = 0; j < k; j++)
        x |= (uint32_t)p[j] << (8 * j);
    return x;
}

/* The word set's matcher for one search (scan: kmp_scan, simd: kmp_simd, checked). */
typedef struct kmp__ws_ctx {
    const struct kmp_wordset *ws;
    int fast;
    int simd;
} kmp__ws_ctx;

void kmp__wordset_matcher(const kmp_wordset *ws, int scan, int simd, kmp__ws_ctx *ctx, kmp__matcher *mt);

#endif /* KMP_WORDSET_H */
