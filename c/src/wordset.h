/*
 * The word set's layout, shared by its builder (wordset_build.c) and its scans
 * (wordset_scan.c). Immutable once built.
 *
 * Aho-Corasick automaton over byte classes (every byte that occurs in a word has its own
 * class, the others share one; with KMP_IGNORE_CASE an upper-case letter is in its lower
 * case's class), in one of two forms:
 *   dense:   a DFA (failure transitions resolved), 4-byte premultiplied state ids
 *            (state index << shift, 1 << shift >= classes), the states that report matches
 *            numbered last so one compare spots them. Used while the table is small enough to
 *            stay in cache (KMP__DENSE_MAX_BYTES).
 *   compact: the trie in BFS order (a state's children are consecutive states, so an edge is
 *            only its class byte), failure links, and resolved dense rows for the root and
 *            the states with many children; about 13-20 bytes per state. Large sets.
 * Matches are reported at their end through output records (one per state that reports
 * anything): how many words end there or at a suffix, the words ending exactly there, and
 * the next record along the suffix chain that has words (dictionary suffix link).
 *
 * The fast scan's prefilter looks at word STARTS: k = min(shortest word, 4) bytes at each
 * position, hashed into a bitmap; a set bit is verified in an exact hash table of the words'
 * k-byte prefixes (groups of word ids, ascending), word by word.
 */
#ifndef KMP_WORDSET_H
#define KMP_WORDSET_H

#include "engine.h"

#define KMP__NONE UINT32_MAX

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
    const uint8_t *bytes;   /* the words (folded to lower case with KMP_IGNORE_CASE) */
    const size_t *off;      /* word i is bytes[off[i] .. off[i + 1]) */

    uint8_t cls[256];       /* byte -> class */
    uint8_t fold[256];      /* byte -> byte as the words were stored (A-Z -> a-z with ignore case) */
    unsigned nclasses;

    uint32_t nstates;
    const uint32_t *depth;  /* [nstates]: the length of the prefix a state stands for (dense: by s >> shift) */
    const kmp__outrec *out; /* output records */
    const uint32_t *term_words;

    int dense;
    /* dense */
    const uint32_t *trans;  /* [nstates << shift] */
    unsigned shift;
    uint32_t first_match;   /* premultiplied id of the first state with a record */
    /* compact */
    const uint32_t *child_lo; /* [nstates + 1]: the children of s are states child_lo[s] .. child_lo[s + 1] */
    const uint8_t *label;     /* [nstates]: the class of the edge into s */
    const uint32_t *fail;     /* [nstates] */
    const uint32_t *outi;     /* [nstates]: record index or KMP__NONE */
    const uint32_t *rowi;     /* [nstates]: resolved row index or KMP__NONE (the root has row 0) */
    const uint32_t *rows;     /* [rows * nclasses] */

    /* prefilter */
    unsigned k;             /* bytes hashed at each start */
    uint32_t kmask;         /* the k low bytes */
    uint32_t fmask;         /* kmask, bit 5 of each byte cleared with ignore case */
    unsigned fbits;         /* the bitmap has 1 << fbits bits */
    const uint64_t *bitmap;
    /* verification: open addressing over the exact (folded) k-byte prefixes */
    unsigned vbits;
    const uint32_t *vkey;   /* [1 << vbits] */
    const uint32_t *vgroup; /* [1 << vbits]: group index or KMP__NONE (empty slot) */
    const uint32_t *group_lo; /* [groups + 1]: group g is group_ids[group_lo[g] .. group_lo[g + 1]) */
    const uint32_t *group_ids;
    size_t groups;

    size_t memory;          /* bytes held */
    void *blocks[24];       /* every allocation, freed by kmp_wordset_free */
    size_t nblocks;
};

#define KMP__FILTER_MULT 0x9E3779B1u
#define KMP__VERIFY_MULT 0x85EBCA77u

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
