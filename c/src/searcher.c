/*
 * The single-pattern searcher: a copy of the pattern and its failure function, and the KMP
 * scans the engine runs over each chunk (searcher.h).
 */
#include <stdlib.h>
#include <string.h>

#include "searcher.h"

struct kmp_searcher {
    size_t m;
    size_t d;            /* see pair_offset */
    size_t run;          /* see kmp__kmp_ctx.run */
    const size_t *fail;  /* fail[i]: longest proper border of pat[0..i] */
    const uint8_t *pat;
    /* followed in the same allocation by fail[m] and pat[m] */
};

/*
 * The fast scan's pair is (pat[0], pat[d]): a match can only start at a position j with
 * text[j] == pat[0] and text[j + d] == pat[d]. d is the last offset whose byte differs from
 * pat[0] (m - 1 when every byte is pat[0]; 0 for m == 1). The pair then never passes on a
 * run of pat[0] (`a`x999 `b` over `a`xn), nor on any text whose period divides d, where
 * text[j + d] == text[j] (`a`x999 `b` over (`a`x998 `b`) repeated, period 999). The Cython
 * core chooses its pair the same way (`pair_offset` in _pattern.pxi).
 */
static size_t pair_offset(const uint8_t *pat, size_t m)
{
    size_t d = m - 1;
    while (d > 0 && pat[d] == pat[0])
        d--;
    return d > 0 ? d : m - 1;
}

kmp_status kmp_searcher_new(const void *pattern, size_t len, kmp_searcher **out)
{
    if (out == NULL)
        return KMP_ERR_INVALID;
    *out = NULL;
    if (pattern == NULL || len == 0)
        return KMP_ERR_INVALID;
    if (len > (SIZE_MAX - sizeof(kmp_searcher)) / (sizeof(size_t) + 1))
        return KMP_ERR_NOMEM;
    kmp_searcher *s = malloc(sizeof(kmp_searcher) + len * sizeof(size_t) + len);
    if (s == NULL)
        return KMP_ERR_NOMEM;
    size_t *fail = (size_t *)(s + 1);
    uint8_t *pat = (uint8_t *)(fail + len);
    memcpy(pat, pattern, len);
    fail[0] = 0;
    size_t k = 0;
    for (size_t i = 1; i < len; i++) {
        while (k != 0 && pat[k] != pat[i])
            k = fail[k - 1];
        if (pat[k] == pat[i])
            k++;
        fail[i] = k;
    }
    /* A pattern that starts with a run pat[0..r) of one byte c followed by another byte:
     * in state r (that run read), reading c again leaves the automaton in state r (the
     * longest border of c^r c is c^r) and reports nothing (pat[r] != c). So the fast scan
     * skips a run of c in state r at SIMD speed: `a`*999 `b` in `a`*n reads each byte once
     * in the kernel instead of twice through the failure link. */
    size_t r = 1;
    while (r < len && pat[r] == pat[0])
        r++;
    s->run = r < len ? r : SIZE_MAX;
    s->m = len;
    s->d = pair_offset(pat, len);
    s->fail = fail;
    s->pat = pat;
    *out = s;
    return KMP_OK;
}

void kmp_searcher_free(kmp_searcher *s) { free(s); }

size_t kmp_searcher_len(const kmp_searcher *s) { return s ? s->m : 0; }

size_t kmp_searcher_failure(const kmp_searcher *s, size_t i)
{
    return (s != NULL && i < s->m) ? s->fail[i] : 0;
}

/* --- the scans -------------------------------------------------------------------------- */

/*
 * Run the automaton from state q over buf[0..len), whose first byte is at offset `base`;
 * return the new state. Matches go to out (count, and offsets when collecting). One forward
 * pass, worst case O(len) (amortised over the failure links, as in textbook KMP).
 *
 * The fast scan: in state 0 no partial match is pending, so a match can only start where
 * the pattern's pair occurs, pat[0] at j and pat[d] at j + d (pair_offset): find_pair jumps
 * to the first such j. Skipping the positions before j is exact: none of them starts a match,
 * no start before the state fell to 0 is pending, and from state 0 at j the automaton finds
 * every match that starts at j or later. Near the end of a block, where the byte at offset
 * d is not in the block yet, find_pair tests pat[0] and pat[1] instead, and stops on a last
 * byte equal to pat[0], which the automaton then reads, so no start is lost across blocks.
 * find_pair tests each position once and the automaton reads each byte once (plus its
 * failure links), so the scan stays linear. In the run state (c->run) a run of pat[0] is
 * skipped by skip_run. One-byte patterns need no automaton: a SIMD byte scan collects
 * (collect_byte) or counts (count_byte) them.
 */
KMP_INLINE size_t scan_impl(const kmp__kmp_ctx *c, const uint8_t *buf, size_t len, int64_t base,
                            size_t q, kmp__results *sk, const int fast, const int collect)
{
    const uint8_t *pat = c->pat;
    const size_t *fail = c->fail;
    const size_t last = c->m - 1;
    const uint8_t a = pat[0];
    kmp_matches res = {NULL, 0, 0};
    if (collect)
        res = *sk->offsets;  /* kept in locals: no stores to shared cache lines per match */
    uint64_t cnt = 0;
    size_t i = 0;

    if (fast && last == 0) {
        if (!collect) {
            sk->count += c->kern.count_byte(buf, len, a);
            return 0;
        }
        size_t before = res.len;
        if (c->kern.collect_byte(buf, len, a, base, &res) != 0)
            sk->nomem = 1;
        cnt = res.len - before;
        *sk->offsets = res;
        sk->count += cnt;
        return 0;
    }

    const kmp_find_pair_fn find_pair = c->kern.find_pair;
    const kmp_pair pair = c->pair;
    const size_t run = c->run;
    while (i < len) {
        if (fast && q == 0) {
            i = find_pair(buf, i, len, pair);
            if (i >= len)
                break;
        }
        const uint8_t ch = buf[i];
        if (fast && KMP_UNLIKELY(q == run) && ch == a) {
            i = c->kern.skip_run(buf, i, len, a); /* the state stays `run` */
            continue;
        }
        while (q != 0 && pat[q] != ch)
            q = fail[q - 1];
        if (pat[q] == ch) {
            if (q == last) {
                if (collect) {
                    if (KMP_UNLIKELY(res.len == res.cap) && kmp__matches_grow(&res)) {
                        sk->nomem = 1;
                        break;
                    }
                    res.offsets[res.len++] = base + (int64_t)i - (int64_t)last;
                }
                cnt++;
                q = fail[last];
            } else {
                q++;
            }
        }
        i++;
    }
    if (collect)
        *sk->offsets = res;
    sk->count += cnt;
    return q;
}

static size_t scan_fast_count(const kmp__kmp_ctx *c, const uint8_t *buf, size_t len, int64_t base, size_t q,
                              kmp__results *sk)
{
    return scan_impl(c, buf, len, base, q, sk, 1, 0);
}
static size_t scan_fast_collect(const kmp__kmp_ctx *c, const uint8_t *buf, size_t len, int64_t base, size_t q,
                                kmp__results *sk)
{
    return scan_impl(c, buf, len, base, q, sk, 1, 1);
}
static size_t scan_textbook_count(const kmp__kmp_ctx *c, const uint8_t *buf, size_t len, int64_t base, size_t q,
                                  kmp__results *sk)
{
    return scan_impl(c, buf, len, base, q, sk, 0, 0);
}
static size_t scan_textbook_collect(const kmp__kmp_ctx *c, const uint8_t *buf, size_t len, int64_t base, size_t q,
                                    kmp__results *sk)
{
    return scan_impl(c, buf, len, base, q, sk, 0, 1);
}

/* the engine's scan (engine.h): KMP carries its state, so `own` is not needed */
static void scan_block(const void *vctx, const uint8_t *buf, size_t len, size_t own, int64_t base, uint64_t *state,
                       kmp__results *out)
{
    const kmp__kmp_ctx *c = vctx;
    size_t q = (size_t)*state;
    (void)own;
    if (c->fast)
        q = out->offsets ? scan_fast_collect(c, buf, len, base, q, out) : scan_fast_count(c, buf, len, base, q, out);
    else
        q = out->offsets ? scan_textbook_collect(c, buf, len, base, q, out)
                         : scan_textbook_count(c, buf, len, base, q, out);
    *state = q;
}

void kmp__searcher_matcher(const kmp_searcher *s, int scan, int simd, kmp__kmp_ctx *ctx, kmp__matcher *mt)
{
    ctx->pat = s->pat;
    ctx->fail = s->fail;
    ctx->m = s->m;
    ctx->pair = (kmp_pair){s->d, s->pat[0], s->pat[s->d], s->m > 1 ? s->pat[1] : s->pat[0]};
    ctx->run = s->run;
    ctx->fast = scan == KMP_SCAN_FAST;
    ctx->kern = kmp__kernels(simd);
    mt->scan = scan_block;
    mt->ctx = ctx;
    mt->longest = s->m;
    mt->carries_state = 1;
    mt->owns_to_end = 0;
    mt->nwords = 0;
    mt->pairs = 0;
}
