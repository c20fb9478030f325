/*
 * The word set's scans (the engine's matcher, engine.h): the Aho-Corasick automaton
 * (textbook), and the prefilter on word starts with exact verification that falls back to
 * the automaton when verification costs too much (fast). See wordset.h for the layout.
 *
 * Both report (start, word) for the starts [0, own) of a buffer, in (start, word) order:
 * the prefilter finds them in that order; the automaton finds them by END, so a run of its
 * matches is sorted (matches.c) one segment at a time.
 */
#include <string.h>

#include "simd.h"
#include "tuning.h"
#include "wordset.h"

#if KMP_X86_SIMD
#  include <immintrin.h>
#endif

enum { MODE_COUNT = 0, MODE_EACH = 1, MODE_PAIRS = 2 };

/* Starts per segment (KMP__SEGMENT, tuning.h): the unit of the fast scan's budget and of the
 * sorts. Segments are at least as long as the longest word (at most KMP__SEGMENT_MAX), so
 * restarting the automaton at each one (re-reading at most longest - 1 bytes) never more
 * than doubles the work. */
#define KMP__SEGMENT_MAX ((size_t)1 << 31)

static inline uint64_t load64le(const uint8_t *p)
{
    uint64_t x;
    memcpy(&x, p, sizeof x);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    x = __builtin_bswap64(x);
#endif
    return x;
}

static inline uint32_t load32le(const uint8_t *p)
{
    uint32_t x;
    memcpy(&x, p, sizeof x);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    x = __builtin_bswap32(x);
#endif
    return x;
}

/* one match; 0, or -1 when the results array could not grow */
KMP_INLINE int emit(kmp__results *res, const int mode, int64_t offset, uint32_t word)
{
    res->count++;
    if (mode == MODE_EACH) {
        res->each[word]++;
    } else if (mode == MODE_PAIRS) {
        kmp_word_matches *pm = res->pairs;
        if (KMP_UNLIKELY(pm->len == pm->cap) && kmp__word_matches_grow(pm) != 0) {
            res->nomem = 1;
            return -1;
        }
        pm->offsets[pm->len] = offset;
        pm->words[pm->len++] = word;
    }
    return 0;
}

/* --- the automaton --------------------------------------------------------------------------- */

/* The matches of record r's suffix chain that end at buf index i and start below hi. The
 * chain goes from the longest word to the shortest, so starts ascend: stop at hi. */
static int report_chain(const kmp_wordset *ws, uint32_t r, size_t i, size_t hi, int64_t base, const int mode,
                        kmp__results *res)
{
    const kmp__outrec *out = ws->out;
    if (out[r].lo == out[r].hi)
        r = out[r].next;
    while (r != KMP__NONE) {
        const kmp__outrec *o = &out[r];
        size_t start = i + 1 - o->depth;
        if (start >= hi)
            break;
        for (uint32_t j = o->lo; j < o->hi; j++)
            if (emit(res, mode, base + (int64_t)start, ws->term_words[j]) != 0)
                return -1;
        r = o->next;
    }
    return 0;
}

/*
 * Run the automaton from the root at buf[lo]: it finds exactly the matches that start at lo
 * or later. Report those that start in [lo, hi): every match ending before hi does; past hi
 * (the lookahead, up to len) only the chain's starts below hi count, and the run stops as
 * soon as the state's depth says no match in progress started below hi.
 */
KMP_INLINE void dense_run(const kmp_wordset *ws, const uint8_t *buf, size_t len, size_t lo, size_t hi, int64_t base,
                          const int mode, kmp__results *res)
{
    const uint32_t *trans = ws->trans;
    const uint8_t *cls = ws->cls;
    const uint32_t first_match = ws->first_match;
    const uint32_t nc = ws->nclasses;
    uint32_t s = 0;
    uint64_t cnt = 0;
    size_t i = lo;
    const size_t main_end = hi < len ? hi : len;
    for (; i < main_end; i++) {
        s = trans[s + cls[buf[i]]];
        if (KMP_UNLIKELY(s >= first_match)) {
            uint32_t r = (s - first_match) / nc;
            if (mode == MODE_COUNT)
                cnt += ws->out[r].count;
            else if (report_chain(ws, r, i, hi, base, mode, res) != 0)
                break;
        }
    }
    res->count += cnt;
    if (res->nomem)
        return;
    for (; i < len; i++) {
        s = trans[s + cls[buf[i]]];
        if (i + 1 - ws->depth[s / nc] >= hi)
            break;
        if (s >= first_match && report_chain(ws, (s - first_match) / nc, i, hi, base, mode, res) != 0)
            break;
    }
}

/* the compact form's transition: resolved rows where there are, else the children (sorted
 * by class, few), else the failure link (the root has a row, so this ends) */
KMP_INLINE uint32_t compact_step(const kmp_wordset *ws, uint32_t s, uint8_t c)
{
    for (;;) {
        const kmp__cstate *st = &ws->cstates[s];
        if (st->rowi != KMP__NONE)
            return ws->rows[(size_t)st->rowi * ws->nclasses + c];
        uint32_t j = st->child_lo, e = st[1].child_lo;
        while (j < e && ws->label[j] < c)
            j++;
        if (j < e && ws->label[j] == c)
            return j;
        s = st->fail;
    }
}

KMP_INLINE void compact_run(const kmp_wordset *ws, const uint8_t *buf, size_t len, size_t lo, size_t hi, int64_t base,
                            const int mode, kmp__results *res)
{
    const uint8_t *cls = ws->cls;
    const kmp__cstate *cs = ws->cstates;
    uint32_t s = 0;
    uint64_t cnt = 0;
    size_t i = lo;
    const size_t main_end = hi < len ? hi : len;
    for (; i < main_end; i++) {
        s = compact_step(ws, s, cls[buf[i]]);
        uint32_t r = cs[s].outi;
        if (KMP_UNLIKELY(r != KMP__NONE)) {
            if (mode == MODE_COUNT)
                cnt += ws->out[r].count;
            else if (report_chain(ws, r, i, hi, base, mode, res) != 0)
                break;
        }
    }
    res->count += cnt;
    if (res->nomem)
        return;
    for (; i < len; i++) {
        s = compact_step(ws, s, cls[buf[i]]);
        if (i + 1 - ws->depth[s] >= hi)
            break;
        if (cs[s].outi != KMP__NONE && report_chain(ws, cs[s].outi, i, hi, base, mode, res) != 0)
            break;
    }
}

static KMP_NOINLINE void dense_count(const kmp_wordset *ws, const uint8_t *buf, size_t len, size_t lo, size_t hi,
                                     int64_t base, kmp__results *res)
{
    dense_run(ws, buf, len, lo, hi, base, MODE_COUNT, res);
}
static KMP_NOINLINE void dense_each(const kmp_wordset *ws, const uint8_t *buf, size_t len, size_t lo, size_t hi,
                                    int64_t base, kmp__results *res)
{
    dense_run(ws, buf, len, lo, hi, base, MODE_EACH, res);
}
static KMP_NOINLINE void dense_pairs(const kmp_wordset *ws, const uint8_t *buf, size_t len, size_t lo, size_t hi,
                                     int64_t base, kmp__results *res)
{
    dense_run(ws, buf, len, lo, hi, base, MODE_PAIRS, res);
}
static KMP_NOINLINE void compact_count(const kmp_wordset *ws, const uint8_t *buf, size_t len, size_t lo, size_t hi,
                                       int64_t base, kmp__results *res)
{
    compact_run(ws, buf, len, lo, hi, base, MODE_COUNT, res);
}
static KMP_NOINLINE void compact_each(const kmp_wordset *ws, const uint8_t *buf, size_t len, size_t lo, size_t hi,
                                      int64_t base, kmp__results *res)
{
    compact_run(ws, buf, len, lo, hi, base, MODE_EACH, res);
}
static KMP_NOINLINE void compact_pairs(const kmp_wordset *ws, const uint8_t *buf, size_t len, size_t lo, size_t hi,
                                       int64_t base, kmp__results *res)
{
    compact_run(ws, buf, len, lo, hi, base, MODE_PAIRS, res);
}

/* The automaton over the starts [lo, hi) (hi - lo < 2^32 when collecting pairs), the
 * pairs it appended sorted by (start, word). */
static void automaton(const kmp_wordset *ws, const uint8_t *buf, size_t len, size_t lo, size_t hi, int64_t base,
                      const int mode, kmp__results *res)
{
    if (mode == MODE_COUNT) {
        (ws->dense ? dense_count : compact_count)(ws, buf, len, lo, hi, base, res);
    } else if (mode == MODE_EACH) {
        (ws->dense ? dense_each : compact_each)(ws, buf, len, lo, hi, base, res);
    } else {
        size_t mark = res->pairs->len;
        (ws->dense ? dense_pairs : compact_pairs)(ws, buf, len, lo, hi, base, res);
        if (kmp__word_matches_sort(res->pairs, mark, base + (int64_t)lo) != 0)
            res->nomem = 1;
    }
}

/* --- the prefilter ----------------------------------------------------------------------------- */

/* the exact table's key at p: the k bytes there, folded (the caller checked len - p >= k) */
static inline uint32_t key_at(const kmp_wordset *ws, const uint8_t *text, size_t room)
{
    if (!(ws->flags & KMP_IGNORE_CASE) && room >= 4)
        return load32le(text) & ws->kmask;
    uint32_t key = 0;
    for (unsigned j = 0; j < ws->k; j++)
        key |= (uint32_t)ws->fold[text[j]] << (8 * j);
    return key;
}

static inline uint32_t key_slot(const kmp_wordset *ws, uint32_t key)
{
    return (key * KMP__VERIFY_MULT) >> (32 - ws->vbits);
}

/* the record of the words with this key, or KMP__NONE (a false positive of the bitmap) */
static inline uint32_t find_record(const kmp_wordset *ws, uint32_t key, uint32_t slot)
{
    const uint32_t vmask = (uint32_t)(((uint64_t)1 << ws->vbits) - 1);
    for (;;) {
        uint32_t rec = ws->vslot[2 * slot + 1];
        if (rec == KMP__NONE || ws->vslot[2 * slot] == key)
            return rec;
        slot = (slot + 1) & vmask;
    }
}

/* Compare the words of record rec with the text at p, in ascending word order; return the
 * work done (words compared, long compares weigh more). */
static uint64_t verify_record(const kmp_wordset *ws, uint32_t rec, const uint8_t *buf, size_t len, size_t p,
                              int64_t base, const int mode, kmp__results *res)
{
    const unsigned k = ws->k;
    const size_t room = len - p;
    const uint8_t *text = buf + p;
    const int icase = (ws->flags & KMP_IGNORE_CASE) != 0;
    const uint8_t *fold = ws->fold;
    const uint32_t *r = ws->vrec + rec;
    uint32_t count = *r++;
    uint64_t cost = 1 + count;
    for (uint32_t j = 0; j < count; j++) {
        uint32_t id = r[0];
        size_t wl = r[1];
        const uint8_t *rest = (const uint8_t *)(r + 2); /* the word's bytes [k, wl) */
        r += 2 + (wl - k + 3) / 4;
        if (wl > room)
            continue;
        int eq = 1;
        if (!icase) {
            eq = memcmp(text + k, rest, wl - k) == 0;
        } else {
            for (size_t q = k; q < wl; q++)
                if (fold[text[q]] != rest[q - k]) {
                    eq = 0;
                    break;
                }
        }
        cost += (wl - k) >> 4;
        if (eq && emit(res, mode, base + (int64_t)p, id) != 0)
            break;
    }
    return cost;
}

/* Verify the words whose k-byte prefix is the one at p; return the work done. */
static KMP_NOINLINE uint64_t verify_at(const kmp_wordset *ws, const uint8_t *buf, size_t len, size_t p,
                                       int64_t base, const int mode, kmp__results *res)
{
    if (len - p < ws->k)
        return 1; /* no word fits */
    uint32_t key = key_at(ws, buf + p, len - p);
    uint32_t rec = find_record(ws, key, key_slot(ws, key));
    return rec == KMP__NONE ? 1 : verify_record(ws, rec, buf, len, p, base, mode, res);
}

/*
 * Candidate starts verified in batches: for a large set the exact table and the records
 * are out of cache, so a batch first prefetches every candidate's slot, then every record,
 * then compares (in start order): the misses overlap instead of following one another.
 */
#define KMP__BATCH 64

typedef struct batch {
    size_t n;
    size_t pos[KMP__BATCH];
    uint32_t key[KMP__BATCH];
    uint32_t rec[KMP__BATCH];
} batch;

static KMP_NOINLINE uint64_t verify_batch(const kmp_wordset *ws, batch *b, const uint8_t *buf, size_t len,
                                          int64_t base, const int mode, kmp__results *res)
{
    uint64_t cost = 0;
    size_t n = 0;
    for (size_t i = 0; i < b->n; i++) { /* the starts where a word fits */
        if (len - b->pos[i] < ws->k) {
            cost++;
            continue;
        }
        b->pos[n] = b->pos[i];
        b->key[n] = key_at(ws, buf + b->pos[i], len - b->pos[i]);
        b->rec[n] = key_slot(ws, b->key[n]);
        KMP_PREFETCH(&ws->vslot[2 * b->rec[n]]);
        n++;
    }
    for (size_t i = 0; i < n; i++) {
        b->rec[i] = find_record(ws, b->key[i], b->rec[i]);
        if (b->rec[i] != KMP__NONE)
            KMP_PREFETCH(&ws->vrec[b->rec[i]]);
    }
    for (size_t i = 0; i < n && !res->nomem; i++)
        cost += b->rec[i] == KMP__NONE ? 1 : verify_record(ws, b->rec[i], buf, len, b->pos[i], base, mode, res);
    b->n = 0;
    return cost;
}

/* a window's hash, and the test of its two bits in its bitmap word: bit 0 of the result */
#define KMP__HASH(x) kmp__filter_hash((uint32_t)(x) & fmask)
#define KMP__PROBE(h) ((bm[KMP__FWORD(h, fb)] >> KMP__FBIT1(h, fb)) & (bm[KMP__FWORD(h, fb)] >> KMP__FBIT2(h, fb)))

/*
 * The starts [*pp, hi) through the bitmap of hashed windows, verifying the candidates of
 * each hit, until the verification work passes `budget`. *pp receives the first start not
 * yet examined (hi when all were). Stride 1: eight windows (starts) per step from two
 * 8-byte loads. Stride 2: the windows at p + 1, p + 3, ... each stand for the starts just
 * before and at them; eight windows (sixteen starts) per step. A step first ORs its probes
 * (hits are rare) and sorts out which windows hit only then; hits are verified in start
 * order, so matches come out in (start, word) order.
 */
KMP_INLINE void filter_core(const kmp_wordset *ws, const uint8_t *buf, size_t len, size_t *pp, size_t hi,
                            int64_t base, const int mode, kmp__results *res, uint64_t budget, const int stride)
{
    const uint32_t fmask = ws->fmask;
    const unsigned fb = ws->fbits;
    const uint32_t *bm = ws->bitmap;
    uint64_t cost = 0;
    size_t p = *pp; /* the next start to examine */
    if (stride == 1) {
        /* a step reads buf[p .. p + 12) and examines the starts p .. p + 7 */
        if (hi - p >= 8 && len - p >= 12) {
            const size_t lim = hi - 8 < len - 12 ? hi - 8 : len - 12;
            for (; p <= lim; p += 8) {
                const uint64_t x = load64le(buf + p), y = load64le(buf + p + 4);
                const uint32_t h0 = KMP__HASH(x), h1 = KMP__HASH(x >> 8), h2 = KMP__HASH(x >> 16);
                const uint32_t h3 = KMP__HASH(x >> 24), h4 = KMP__HASH(y), h5 = KMP__HASH(y >> 8);
                const uint32_t h6 = KMP__HASH(y >> 16), h7 = KMP__HASH(y >> 24);
                const uint32_t a0 = KMP__PROBE(h0), a1 = KMP__PROBE(h1), a2 = KMP__PROBE(h2), a3 = KMP__PROBE(h3);
                const uint32_t a4 = KMP__PROBE(h4), a5 = KMP__PROBE(h5), a6 = KMP__PROBE(h6), a7 = KMP__PROBE(h7);
                if (KMP_LIKELY(((a0 | a1 | a2 | a3 | a4 | a5 | a6 | a7) & 1) == 0))
                    continue;
                uint64_t t = (a0 & 1) | (a1 & 1) << 1 | (a2 & 1) << 2 | (a3 & 1) << 3 | (a4 & 1) << 4 |
                             (a5 & 1) << 5 | (a6 & 1) << 6 | (a7 & 1) << 7;
                do {
                    cost += verify_at(ws, buf, len, p + (size_t)KMP_CTZ64(t), base, mode, res);
                    t &= t - 1;
                } while (t != 0);
                if (res->nomem || cost > budget) {
                    *pp = p + 8;
                    return;
                }
            }
        }
        for (; p < hi; p++) {
            size_t room = len - p;
            if (room < ws->k)
                break; /* no word fits here, nor further on */
            uint32_t x = room >= 4 ? load32le(buf + p) : kmp__load_prefix(buf + p, (unsigned)room);
            uint32_t h = KMP__HASH(x);
            if (KMP__PROBE(h) & 1) {
                cost += verify_at(ws, buf, len, p, base, mode, res);
                if (res->nomem || cost > budget) {
                    *pp = p + 1;
                    return;
                }
            }
        }
    } else {
        /* a step reads buf[p + 1 .. p + 21) and examines the starts p .. p + 15 */
        if (hi - p >= 16 && len - p >= 21) {
            const size_t lim = hi - 16 < len - 21 ? hi - 16 : len - 21;
            for (; p <= lim; p += 16) {
                const uint64_t x = load64le(buf + p + 1), y = load64le(buf + p + 5);
                const uint64_t z = load64le(buf + p + 9), u = load64le(buf + p + 13);
                const uint32_t h0 = KMP__HASH(x), h1 = KMP__HASH(x >> 16), h2 = KMP__HASH(y);
                const uint32_t h3 = KMP__HASH(y >> 16), h4 = KMP__HASH(z), h5 = KMP__HASH(z >> 16);
                const uint32_t h6 = KMP__HASH(u), h7 = KMP__HASH(u >> 16);
                const uint32_t a0 = KMP__PROBE(h0), a1 = KMP__PROBE(h1), a2 = KMP__PROBE(h2), a3 = KMP__PROBE(h3);
                const uint32_t a4 = KMP__PROBE(h4), a5 = KMP__PROBE(h5), a6 = KMP__PROBE(h6), a7 = KMP__PROBE(h7);
                if (KMP_LIKELY(((a0 | a1 | a2 | a3 | a4 | a5 | a6 | a7) & 1) == 0))
                    continue;
                uint64_t t = (a0 & 1) | (a1 & 1) << 2 | (a2 & 1) << 4 | (a3 & 1) << 6 | (a4 & 1) << 8 |
                             (a5 & 1) << 10 | (a6 & 1) << 12 | (a7 & 1) << 14;
                t |= t << 1; /* both starts of each window */
                do {
                    cost += verify_at(ws, buf, len, p + (size_t)KMP_CTZ64(t), base, mode, res);
                    t &= t - 1;
                } while (t != 0);
                if (res->nomem || cost > budget) {
                    *pp = p + 16;
                    return;
                }
            }
        }
        for (; p < hi; p += 2) {
            size_t room = len - p; /* the window at p + 1 has room - 1 bytes */
            if (room < ws->k)
                break;
            uint32_t x = room >= 5 ? load32le(buf + p + 1) : kmp__load_prefix(buf + p + 1, (unsigned)room - 1);
            uint32_t h = KMP__HASH(x);
            if (KMP__PROBE(h) & 1) {
                cost += verify_at(ws, buf, len, p, base, mode, res);
                if (p + 1 < hi)
                    cost += verify_at(ws, buf, len, p + 1, base, mode, res);
                if (res->nomem || cost > budget) {
                    *pp = p + 2 < hi ? p + 2 : hi;
                    return;
                }
            }
        }
    }
    *pp = hi;
}

static KMP_NOINLINE void filter_s1(const kmp_wordset *ws, const uint8_t *buf, size_t len, size_t *pp, size_t hi,
                                   int64_t base, const int mode, kmp__results *res, uint64_t budget)
{
    filter_core(ws, buf, len, pp, hi, base, mode, res, budget, 1);
}
static KMP_NOINLINE void filter_s2(const kmp_wordset *ws, const uint8_t *buf, size_t len, size_t *pp, size_t hi,
                                   int64_t base, const int mode, kmp__results *res, uint64_t budget)
{
    filter_core(ws, buf, len, pp, hi, base, mode, res, budget, 2);
}
/* --- Teddy ---------------------------------------------------------------------------------- */

/* the candidates of a Teddy step: every start in bits; verify them in order */
KMP_INLINE int teddy_verify(const kmp_wordset *ws, const uint8_t *buf, size_t len, size_t p, uint64_t bits,
                            int64_t base, const int mode, kmp__results *res, uint64_t *cost, uint64_t budget)
{
    while (bits != 0) {
        *cost += verify_at(ws, buf, len, p + (size_t)KMP_CTZ64(bits), base, mode, res);
        bits &= bits - 1;
    }
    return res->nomem || *cost > budget;
}

/* the last starts, where a vector would read past len: each one verified (fewer than 36) */
static void teddy_tail(const kmp_wordset *ws, const uint8_t *buf, size_t len, size_t *pp, size_t hi,
                       int64_t base, const int mode, kmp__results *res, uint64_t cost, uint64_t budget)
{
    size_t p = *pp;
    for (; p < hi && len - p >= ws->k; p++) {
        cost += verify_at(ws, buf, len, p, base, mode, res);
        if (res->nomem || cost > budget) {
            *pp = p + 1;
            return;
        }
    }
    *pp = hi;
}

#if KMP_X86_SIMD
/*
 * Teddy (as in Hyperscan and Rust's aho-corasick): for each of the first m bytes of a
 * start, two pshufb lookups (low and high nibble) give the buckets whose words may have
 * that byte there; the starts whose m byte sets still share a bucket are verified exactly.
 * 16 (SSSE3) or 32 (AVX2) starts per step.
 */
__attribute__((target("ssse3"))) static KMP_NOINLINE void
teddy_ssse3(const kmp_wordset *ws, const uint8_t *buf, size_t len, size_t *pp, size_t hi, int64_t base,
            const int mode, kmp__results *res, uint64_t budget)
{
    const unsigned m = ws->teddy_m;
    const __m128i low4 = _mm_set1_epi8(0x0f), zero = _mm_setzero_si128();
    __m128i lo[4], hm[4];
    for (unsigned j = 0; j < 4; j++) {
        lo[j] = _mm_loadu_si128((const __m128i *)ws->teddy_lo[j]);
        hm[j] = _mm_loadu_si128((const __m128i *)ws->teddy_hi[j]);
    }
    uint64_t cost = 0;
    size_t p = *pp;
    while (p < hi && len - p >= 16 + 3) {
        __m128i acc = _mm_set1_epi8(-1);
        for (unsigned j = 0; j < m; j++) {
            __m128i v = _mm_loadu_si128((const __m128i *)(buf + p + j));
            __m128i l = _mm_shuffle_epi8(lo[j], _mm_and_si128(v, low4));
            __m128i h = _mm_shuffle_epi8(hm[j], _mm_and_si128(_mm_srli_epi16(v, 4), low4));
            acc = _mm_and_si128(acc, _mm_and_si128(l, h));
        }
        uint64_t bits = (uint64_t)(~(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(acc, zero)) & 0xffffu);
        if (KMP_UNLIKELY(bits != 0)) {
            if (hi - p < 16)
                bits &= ((uint64_t)1 << (hi - p)) - 1;
            if (teddy_verify(ws, buf, len, p, bits, base, mode, res, &cost, budget)) {
                *pp = p + 16 < hi ? p + 16 : hi;
                return;
            }
        }
        p += 16;
    }
    if (p >= hi) {
        *pp = hi;
        return;
    }
    *pp = p;
    teddy_tail(ws, buf, len, pp, hi, base, mode, res, cost, budget);
}

__attribute__((target("avx2"))) static KMP_NOINLINE void
teddy_avx2(const kmp_wordset *ws, const uint8_t *buf, size_t len, size_t *pp, size_t hi, int64_t base,
           const int mode, kmp__results *res, uint64_t budget)
{
    const unsigned m = ws->teddy_m;
    const __m256i low4 = _mm256_set1_epi8(0x0f), zero = _mm256_setzero_si256();
    __m256i lo[4], hm[4];
    for (unsigned j = 0; j < 4; j++) { /* the 16-byte tables in both lanes (pshufb works per lane) */
        lo[j] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)ws->teddy_lo[j]));
        hm[j] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)ws->teddy_hi[j]));
    }
    uint64_t cost = 0;
    size_t p = *pp;
    while (p < hi && len - p >= 32 + 3) {
        __m256i acc = _mm256_set1_epi8(-1);
        for (unsigned j = 0; j < m; j++) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(buf + p + j));
            __m256i l = _mm256_shuffle_epi8(lo[j], _mm256_and_si256(v, low4));
            __m256i h = _mm256_shuffle_epi8(hm[j], _mm256_and_si256(_mm256_srli_epi16(v, 4), low4));
            acc = _mm256_and_si256(acc, _mm256_and_si256(l, h));
        }
        uint64_t bits = (uint64_t)~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(acc, zero));
        if (KMP_UNLIKELY(bits != 0)) {
            if (hi - p < 32)
                bits &= ((uint64_t)1 << (hi - p)) - 1;
            if (teddy_verify(ws, buf, len, p, bits, base, mode, res, &cost, budget)) {
                *pp = p + 32 < hi ? p + 32 : hi;
                return;
            }
        }
        p += 32;
    }
    if (p >= hi) {
        *pp = hi;
        return;
    }
    *pp = p;
    teddy_tail(ws, buf, len, pp, hi, base, mode, res, cost, budget);
}
#endif

#if KMP_X86_SIMD
/*
 * The hashed-window filter with AVX2: eight windows per step hashed in one vector multiply,
 * their bitmap words fetched by one gather, both bits tested at once; the same bitmap and
 * hash as the scalar loops (wordset.h), which finish the last starts.
 */
__attribute__((target("avx2,bmi,bmi2"))) static KMP_NOINLINE void
filter_gather(const kmp_wordset *ws, const uint8_t *buf, size_t len, size_t *pp, size_t hi, int64_t base,
              const int mode, kmp__results *res, uint64_t budget)
{
    const int stride = (int)ws->stride;
    const unsigned fb = ws->fbits;
    const int *bm = (const int *)ws->bitmap;
    const __m256i fmask = _mm256_set1_epi32((int)ws->fmask), mult = _mm256_set1_epi32((int)KMP__FILTER_MULT);
    const __m256i v31 = _mm256_set1_epi32(31);
    const __m128i sh_word = _mm_cvtsi32_si128((int)(37 - fb)), sh_b1 = _mm_cvtsi32_si128((int)(32 - fb));
    const __m128i sh_b2 = _mm_cvtsi32_si128((int)(27 - fb));
    /* per 128-bit lane, four windows: at offsets 0, 2, 4, 6 (stride 2) or 0, 1, 2, 3 */
    const __m256i ctl = stride == 2
        ? _mm256_setr_epi8(0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7, 8, 9, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7, 8, 9)
        : _mm256_setr_epi8(0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6, 0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6);
    const size_t step = (size_t)(8 * stride);     /* starts per step */
    const size_t first = stride == 2 ? 1 : 0;     /* the first window's offset from the step's start */
    const size_t lane = (size_t)(4 * stride);     /* the second lane's windows begin here */
    uint64_t cost = 0;
    size_t p = *pp;
    batch b;
    b.n = 0;
    /* a step reads buf[p + first .. p + first + lane + 16) */
    if (hi - p >= step && len - p >= first + lane + 16) {
        const size_t lim = hi - step < len - (first + lane + 16) ? hi - step : len - (first + lane + 16);
        for (; p <= lim; p += step) {
            __m256i v = _mm256_loadu2_m128i((const __m128i *)(buf + p + first + lane), (const __m128i *)(buf + p + first));
            __m256i h = _mm256_mullo_epi32(_mm256_and_si256(_mm256_shuffle_epi8(v, ctl), fmask), mult);
            __m256i words = _mm256_i32gather_epi32(bm, _mm256_srl_epi32(h, sh_word), 4);
            __m256i b1 = _mm256_and_si256(_mm256_srl_epi32(h, sh_b1), v31);
            __m256i b2 = _mm256_and_si256(_mm256_srl_epi32(h, sh_b2), v31);
            __m256i hit = _mm256_and_si256(_mm256_srlv_epi32(words, b1), _mm256_srlv_epi32(words, b2));
            uint32_t m = (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_slli_epi32(hit, 31)));
            if (KMP_LIKELY(m == 0))
                continue;
            uint64_t t = m;
            if (stride == 2) { /* window j stands for the starts 2j and 2j + 1 */
                t = _pdep_u64(t, 0x5555u);
                t |= t << 1;
            }
            do {
                b.pos[b.n++] = p + (size_t)KMP_CTZ64(t);
                t &= t - 1;
            } while (t != 0);
            if (b.n > KMP__BATCH - 16) {
                cost += verify_batch(ws, &b, buf, len, base, mode, res);
                if (res->nomem || cost > budget) {
                    *pp = p + step;
                    return;
                }
            }
        }
    }
    if (b.n != 0) {
        cost += verify_batch(ws, &b, buf, len, base, mode, res);
        if (res->nomem || cost > budget) {
            *pp = p;
            return;
        }
    }
    *pp = p;
    if (p < hi)
        filter_core(ws, buf, len, pp, hi, base, mode, res, budget > cost ? budget - cost : 0, stride);
}
#endif

typedef void (*filter_fn)(const kmp_wordset *, const uint8_t *, size_t, size_t *, size_t, int64_t, int,
                          kmp__results *, uint64_t);

/* the prefilter for a set at a SIMD level: Teddy where the build chose it and the CPU has
 * pshufb, else the hashed windows (eight at a time with an AVX2 gather at the AVX2 level,
 * where the gather is the faster: see c/README.md, Tuning) */
static filter_fn pick_filter(const kmp_wordset *ws, int level)
{
#if KMP_X86_SIMD
    if (ws->teddy_m != 0 && level == KMP_SIMD_AVX2)
        return teddy_avx2;
    if (ws->teddy_m != 0 && level >= KMP_SIMD_SSE2 && __builtin_cpu_supports("ssse3"))
        return teddy_ssse3;
    if (level == KMP_SIMD_AVX2 && __builtin_cpu_supports("bmi2"))
        return filter_gather;
#else
    (void)level;
#endif
    return ws->stride == 2 ? filter_s2 : filter_s1;
}

/*
 * The fast scan, one segment of starts at a time: the prefilter while verification stays
 * under 4 units of work per start (+ a constant); past that, the automaton finishes the
 * segment from the first start not yet examined, and keeps the next 1, 2, 4 ... 64
 * segments (doubling while the prefilter keeps failing) before the prefilter is tried
 * again. So the scan is linear whatever the words and the text.
 */
static void fast_scan(const kmp_wordset *ws, const uint8_t *buf, size_t len, size_t own, int64_t base,
                      const int mode, kmp__results *res, int level)
{
    const filter_fn filter = pick_filter(ws, level);
    size_t seg = ws->maxlen > KMP__SEGMENT ? (ws->maxlen < KMP__SEGMENT_MAX ? ws->maxlen : KMP__SEGMENT_MAX)
                                           : KMP__SEGMENT;
    unsigned penalty = 0, next_penalty = 1;
    size_t p = 0;
    while (p < own && !res->nomem) {
        size_t hi = own - p > seg ? p + seg : own;
        size_t from = p;
        if (penalty == 0) {
            filter(ws, buf, len, &from, hi, base, mode, res, 4 * (uint64_t)(hi - p) + 256);
            if (from < hi) {
                penalty = next_penalty;
                next_penalty = next_penalty < 64 ? next_penalty * 2 : 64;
            } else {
                next_penalty = 1;
            }
        } else {
            penalty--;
        }
        if (from < hi && !res->nomem)
            automaton(ws, buf, len, from, hi, base, mode, res);
        p = hi;
    }
}

static void textbook_scan(const kmp_wordset *ws, const uint8_t *buf, size_t len, size_t own, int64_t base,
                          const int mode, kmp__results *res)
{
    if (mode != MODE_PAIRS) { /* nothing to sort: one run */
        automaton(ws, buf, len, 0, own, base, mode, res);
        return;
    }
    size_t seg = ws->maxlen > KMP__SEGMENT ? (ws->maxlen < KMP__SEGMENT_MAX ? ws->maxlen : KMP__SEGMENT_MAX)
                                           : KMP__SEGMENT;
    for (size_t p = 0; p < own && !res->nomem;) {
        size_t hi = own - p > seg ? p + seg : own;
        automaton(ws, buf, len, p, hi, base, mode, res);
        p = hi;
    }
}

/* the engine's scan (engine.h): stateless, starts [0, own) */
static void ws_scan(const void *vctx, const uint8_t *buf, size_t len, size_t own, int64_t base, uint64_t *state,
                    kmp__results *out)
{
    const kmp__ws_ctx *c = vctx;
    (void)state;
    const int mode = out->pairs != NULL ? MODE_PAIRS : out->each != NULL ? MODE_EACH : MODE_COUNT;
    if (c->fast)
        fast_scan(c->ws, buf, len, own, base, mode, out, c->simd);
    else
        textbook_scan(c->ws, buf, len, own, base, mode, out);
}

void kmp__wordset_matcher(const kmp_wordset *ws, int scan, int simd, kmp__ws_ctx *ctx, kmp__matcher *mt)
{
    ctx->ws = ws;
    ctx->fast = scan == KMP_SCAN_FAST;
    ctx->simd = kmp__simd_level(simd);
    mt->scan = ws_scan;
    mt->ctx = ctx;
    mt->longest = ws->maxlen;
    mt->carries_state = 0;
    mt->owns_to_end = 1;
    mt->nwords = ws->n;
    mt->pairs = 1;
}
