/*
 * Unit tests of libkmpsearch's word sets, run by ctest: `test_wordset GROUP` runs one group
 * (`all`: every one). Differential against a naive reference (every start, every word,
 * memcmp or an ASCII-folding compare) over random word lists on small alphabets: prefix and
 * suffix chains, words inside words, duplicates, NUL and high bytes, ignore case with the
 * non-letter pairs '['/'{' and '@'/'`'; both scans, every SIMD level, both automaton forms,
 * threads 1..9 with tiny min_chunk, words longer than a chunk; files with read blocks of
 * 1..80 bytes and ranges past the end; adversarial inputs for the fast scan's fallback;
 * 100,000 words; errors; one set shared by several threads.
 */
#define _POSIX_C_SOURCE 200809L
#define _FILE_OFFSET_BITS 64

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "kmp.h"
#include "testutil.h"

/* --- word lists and the reference ------------------------------------------------------------ */

typedef struct wordlist {
    uint8_t **w;
    size_t *len;
    size_t n, cap;
} wordlist;

static void wl_add(wordlist *l, const uint8_t *p, size_t len)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->w = realloc(l->w, l->cap * sizeof *l->w);
        l->len = realloc(l->len, l->cap * sizeof *l->len);
        if (l->w == NULL || l->len == NULL)
            abort();
    }
    l->w[l->n] = malloc(len ? len : 1);
    if (l->w[l->n] == NULL)
        abort();
    memcpy(l->w[l->n], p, len);
    l->len[l->n++] = len;
}

static void wl_free(wordlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->w[i]);
    free(l->w);
    free(l->len);
    memset(l, 0, sizeof *l);
}

static uint8_t fold(uint8_t c) { return (uint8_t)(c >= 'A' && c <= 'Z' ? c + 32 : c); }

static int same_word(const uint8_t *a, const uint8_t *b, size_t len, int icase)
{
    if (!icase)
        return memcmp(a, b, len) == 0;
    for (size_t i = 0; i < len; i++)
        if (fold(a[i]) != fold(b[i]))
            return 0;
    return 1;
}

typedef struct pairs {
    int64_t *off;
    uint32_t *word;
    size_t len, cap;
} pairs;

static void pairs_add(pairs *p, int64_t off, uint32_t word)
{
    if (p->len == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 64;
        p->off = realloc(p->off, p->cap * sizeof *p->off);
        p->word = realloc(p->word, p->cap * sizeof *p->word);
        if (p->off == NULL || p->word == NULL)
            abort();
    }
    p->off[p->len] = off;
    p->word[p->len++] = word;
}

static void pairs_free(pairs *p)
{
    free(p->off);
    free(p->word);
    memset(p, 0, sizeof *p);
}

/* every start, every word: (start, word) in (start, word) order */
static pairs naive_ws(const uint8_t *h, size_t n, const wordlist *l, int icase)
{
    pairs p = {0};
    for (size_t i = 0; i < n; i++)
        for (size_t w = 0; w < l->n; w++)
            if (l->len[w] <= n - i && same_word(h + i, l->w[w], l->len[w], icase))
                pairs_add(&p, (int64_t)i, (uint32_t)w);
    return p;
}

static int same_pairs(const pairs *want, const kmp_word_matches *got, int64_t shift)
{
    if (want->len != got->len)
        return 0;
    for (size_t i = 0; i < want->len; i++)
        if (want->off[i] + shift != got->offsets[i] || want->word[i] != got->words[i])
            return 0;
    return 1;
}

static uint64_t *per_word(const pairs *p, size_t nwords)
{
    uint64_t *c = calloc(nwords, sizeof *c);
    if (c == NULL)
        abort();
    for (size_t i = 0; i < p->len; i++)
        c[p->word[i]]++;
    return c;
}

static kmp_wordset *make_set(const wordlist *l, unsigned flags)
{
    kmp_wordset *ws = NULL;
    kmp_status st = kmp_wordset_new((const void *const *)l->w, l->len, l->n, flags, &ws);
    if (st != KMP_OK || ws == NULL) {
        fprintf(stderr, "kmp_wordset_new failed: %s\n", kmp_strerror(st));
        exit(1);
    }
    return ws;
}

static const unsigned THREADS[] = {1, 2, 3, 4, 5, 7, 9};
static const uint64_t MIN_CHUNKS[] = {1, 2, 3, 4};
/* the plans of for_all_ways: a random plan's min_chunk is 1 + below(1 + n / 3) */
static const plans PLANS = {THREADS, COUNT_OF(THREADS), MIN_CHUNKS, COUNT_OF(MIN_CHUNKS), 3};
static const unsigned FORMS[] = {0, KMP_WORDSET_DENSE, KMP_WORDSET_COMPACT};

static void describe(char *buf, size_t cap, const kmp_options *o, unsigned flags)
{
    snprintf(buf, cap, "threads=%u min_chunk=%" PRIu64 " scan=%d simd=%d block=%zu flags=%u", o->threads,
             o->min_chunk, o->scan, o->simd, o->block_size, flags);
}

/* find_all, count and count_each in memory against the reference */
static void check_mem(const kmp_wordset *ws, const uint8_t *h, size_t n, const pairs *want, const uint64_t *each,
                      const kmp_options *opt, unsigned flags)
{
    char what[200];
    describe(what, sizeof what, opt, flags);
    /* the haystack in a buffer of exactly n bytes: a read past its end is an ASan report */
    uint8_t *exact = malloc(n ? n : 1);
    if (exact == NULL)
        abort();
    memcpy(exact, h, n);
    h = exact;
    kmp_word_matches got = KMP_WORD_MATCHES_INIT;
    kmp_status st = kmp_wordset_find_all(ws, h, n, opt, &got);
    CHECK(st == KMP_OK && same_pairs(want, &got, 0), "find_all n=%zu %s: %s, %zu vs %zu matches", n, what,
          kmp_strerror(st), got.len, want->len);
    kmp_word_matches_free(&got);
    uint64_t cnt = 12345;
    st = kmp_wordset_count(ws, h, n, opt, &cnt);
    CHECK(st == KMP_OK && cnt == want->len, "count n=%zu %s: %" PRIu64 " vs %zu", n, what, cnt, want->len);
    size_t nw = kmp_wordset_len(ws);
    uint64_t *c = malloc(nw * sizeof *c);
    if (c == NULL)
        abort();
    memset(c, 0xab, nw * sizeof *c);
    st = kmp_wordset_count_each(ws, h, n, opt, c);
    CHECK(st == KMP_OK && memcmp(c, each, nw * sizeof *c) == 0, "count_each n=%zu %s: %s", n, what, kmp_strerror(st));
    free(c);
    free(exact);
}

/* a search in memory and its reference, for for_all_ways */
typedef struct mem_case {
    const kmp_wordset *ws;
    const uint8_t *h;
    size_t n;
    const pairs *want;
    const uint64_t *each;
    unsigned flags;
} mem_case;

static void check_mem_case(const kmp_options *opt, void *ctx)
{
    const mem_case *c = ctx;
    check_mem(c->ws, c->h, c->n, c->want, c->each, opt, c->flags);
}

/* every form, scan and SIMD level on one thread, on a random plan and in memory pieces (of
 * block_size starts plus the lookahead); exhaustive: also threads 1..9 x min_chunk 1..4 */
static void check_all_ways(const wordlist *l, int icase, const uint8_t *h, size_t n, rng *r, int exhaustive)
{
    pairs want = naive_ws(h, n, l, icase);
    uint64_t *each = per_word(&want, l->n);
    for (size_t f = 0; f < COUNT_OF(FORMS); f++) {
        unsigned flags = FORMS[f] | (icase ? KMP_IGNORE_CASE : 0);
        kmp_wordset *ws = make_set(l, flags);
        mem_case c = {ws, h, n, &want, each, flags};
        for_all_ways(&PLANS, n, r, exhaustive, check_mem_case, &c);
        kmp_wordset_free(ws);
    }
    free(each);
    pairs_free(&want);
}

static const uint8_t ALPHA_PLAIN[] = {'a', 'b', 'c', 0x00, 0xff, 'd', '3', 'J'};
/* letters in both cases and the non-letters that differ from letters by 0x20 */
static const uint8_t ALPHA_CASE[] = {'a', 'A', 'b', 'B', '[', '{', '@', '`', 'z', 'Z'};

static uint8_t pick(rng *r, const uint8_t *alpha, size_t sigma) { return alpha[below(r, sigma)]; }

/* A random word list: random words, prefix and suffix chains of some, words cut from
 * others (words inside words), sometimes a duplicate. */
static void random_words(rng *r, wordlist *l, const uint8_t *alpha, size_t sigma, size_t maxlen, size_t count)
{
    uint8_t buf[256];
    while (l->n < count) {
        size_t kind = below(r, 6);
        size_t len = 1 + below(r, maxlen);
        if (kind <= 2 || l->n == 0) {
            for (size_t i = 0; i < len; i++)
                buf[i] = pick(r, alpha, sigma);
            wl_add(l, buf, len);
        } else if (kind == 3) { /* a chain of prefixes of a word */
            size_t src = below(r, l->n);
            for (size_t p = 1; p < l->len[src] && l->n < count; p += 1 + below(r, 2))
                wl_add(l, l->w[src], p);
        } else if (kind == 4) { /* suffixes, and a word inside a word */
            size_t src = below(r, l->n), sl = l->len[src];
            if (sl > 1) {
                size_t a = below(r, sl), b = a + 1 + below(r, sl - a);
                wl_add(l, l->w[src] + a, b - a);
                if (l->n < count)
                    wl_add(l, l->w[src] + sl - 1 - below(r, sl - 1), 1 + below(r, 1));
            }
        } else { /* a word extended (the other one inside it) */
            size_t src = below(r, l->n), sl = l->len[src];
            if (sl + 2 < sizeof buf) {
                buf[0] = pick(r, alpha, sigma);
                memcpy(buf + 1, l->w[src], sl);
                buf[sl + 1] = pick(r, alpha, sigma);
                wl_add(l, buf, sl + 2);
            }
        }
    }
}

/* a text of random bytes with words of the list planted */
static void random_text(rng *r, uint8_t *h, size_t n, const uint8_t *alpha, size_t sigma, const wordlist *l)
{
    for (size_t i = 0; i < n; i++)
        h[i] = pick(r, alpha, sigma);
    for (size_t k = 0; l != NULL && k < n / 8; k++) {
        size_t w = below(r, l->n);
        if (l->len[w] <= n) {
            size_t at = below(r, n - l->len[w] + 1);
            memcpy(h + at, l->w[w], l->len[w]);
        }
    }
}

/* --- groups ------------------------------------------------------------------------------- */

static void test_basic(void)
{
    wordlist l = {0};
    wl_add(&l, (const uint8_t *)"he", 2);
    wl_add(&l, (const uint8_t *)"she", 3);
    wl_add(&l, (const uint8_t *)"hers", 4);
    for (size_t f = 0; f < COUNT_OF(FORMS); f++) {
        kmp_wordset *ws = make_set(&l, FORMS[f]);
        CHECK(kmp_wordset_len(ws) == 3 && kmp_wordset_longest(ws) == 4 && kmp_wordset_memory(ws) > 0, "len");
        for (size_t a = 0; a < COUNT_OF(SCANS); a++) {
            kmp_options opt = KMP_OPTIONS_INIT;
            opt.scan = SCANS[a];
            kmp_word_matches m = KMP_WORD_MATCHES_INIT;
            kmp_status st = kmp_wordset_find_all(ws, "ushers", 6, &opt, &m);
            CHECK(st == KMP_OK && m.len == 3 && m.offsets[0] == 1 && m.words[0] == 1 && m.offsets[1] == 2 &&
                      m.words[1] == 0 && m.offsets[2] == 2 && m.words[2] == 2,
                  "ushers form %u scan %d", FORMS[f], SCANS[a]);
            /* a haystack shorter than the longest word: one chunk, the short words found */
            opt.threads = 4;
            opt.min_chunk = 1;
            st = kmp_wordset_find_all(ws, "she", 3, &opt, &m);
            CHECK(st == KMP_OK && m.len == 2 && m.offsets[0] == 0 && m.words[0] == 1 && m.offsets[1] == 1,
                  "short haystack");
            st = kmp_wordset_find_all(ws, "", 0, &opt, &m);
            CHECK(st == KMP_OK && m.len == 0, "empty haystack");
            st = kmp_wordset_find_all(ws, NULL, 0, &opt, &m);
            CHECK(st == KMP_OK && m.len == 0, "NULL empty haystack");
            kmp_word_matches_free(&m);
        }
        kmp_wordset_free(ws);
    }
    wl_free(&l);
    /* duplicates are distinct words: each one reported; with ignore case too */
    wl_add(&l, (const uint8_t *)"ab", 2);
    wl_add(&l, (const uint8_t *)"x", 1);
    wl_add(&l, (const uint8_t *)"AB", 2);
    wl_add(&l, (const uint8_t *)"ab", 2);
    for (unsigned icase = 0; icase < 2; icase++) {
        kmp_wordset *ws = make_set(&l, icase ? KMP_IGNORE_CASE : 0);
        kmp_word_matches m = KMP_WORD_MATCHES_INIT;
        uint64_t each[4];
        kmp_status st = kmp_wordset_find_all(ws, "xab", 3, NULL, &m);
        if (icase)
            CHECK(st == KMP_OK && m.len == 4 && m.words[0] == 1 && m.offsets[1] == 1 && m.words[1] == 0 &&
                      m.words[2] == 2 && m.words[3] == 3, "duplicates, ignore case: %zu", m.len);
        else
            CHECK(st == KMP_OK && m.len == 3 && m.words[1] == 0 && m.words[2] == 3, "duplicates: %zu", m.len);
        st = kmp_wordset_count_each(ws, "xabAB", 5, NULL, each);
        CHECK(st == KMP_OK && each[0] == 1 + icase && each[1] == 1 && each[2] == 1 + icase && each[3] == 1 + icase,
              "count_each duplicates");
        kmp_word_matches_free(&m);
        kmp_wordset_free(ws);
    }
    wl_free(&l);
}

static void test_differential(void)
{
    rng r = {4242};
    uint8_t h[600];
    for (int iter = 0; iter < 160; iter++) {
        int icase = iter % 3 == 2;
        const uint8_t *alpha = icase ? ALPHA_CASE : ALPHA_PLAIN;
        size_t sigma = 1 + below(&r, icase ? sizeof ALPHA_CASE : (iter % 2 ? 3 : sizeof ALPHA_PLAIN));
        wordlist l = {0};
        random_words(&r, &l, alpha, sigma, iter % 7 == 0 ? 30 : 6, 1 + below(&r, iter % 5 == 0 ? 60 : 12));
        size_t n = below(&r, sizeof h);
        random_text(&r, h, n, alpha, sigma, &l);
        check_all_ways(&l, icase, h, n, &r, iter < 6);
        wl_free(&l);
    }
}

/* More than 64 words (KMP__TEDDY_MAX_WORDS) of 4 bytes or more: the hashed-window prefilter
 * with stride 2 (3- or 4-byte windows at every other position), scalar and gathered, never
 * Teddy. */
static void test_long_words(void)
{
    rng r = {4444};
    uint8_t h[2000];
    static const uint8_t ALPHA_LONG[] = {'a', 'b', 'c', 'd', 0x00, 0xff, 'A', 'B'};
    for (int iter = 0; iter < 40; iter++) {
        int icase = iter % 4 == 3;
        size_t sigma = 2 + below(&r, sizeof ALPHA_LONG - 1);
        size_t minlen = 4 + (size_t)(iter % 3), count = 65 + below(&r, 150);
        wordlist l = {0};
        uint8_t w[16];
        while (l.n < count) {
            size_t len = minlen + below(&r, 9);
            for (size_t j = 0; j < len; j++)
                w[j] = pick(&r, ALPHA_LONG, sigma);
            wl_add(&l, w, len);
        }
        size_t n = below(&r, sizeof h);
        random_text(&r, h, n, ALPHA_LONG, sigma, &l);
        check_all_ways(&l, icase, h, n, &r, iter < 2);
        wl_free(&l);
    }
}

/* ignore case: only ASCII letters fold */
static void test_ignore_case(void)
{
    wordlist l = {0};
    wl_add(&l, (const uint8_t *)"[a@", 3);
    wl_add(&l, (const uint8_t *)"Z`", 2);
    wl_add(&l, (const uint8_t *)"{", 1);
    wl_add(&l, (const uint8_t *)"q", 1);
    const char *text = "{A@ [a` [A@ z` Z@ { [ Q q \xff\xdf";
    rng r = {8};
    check_all_ways(&l, 1, (const uint8_t *)text, strlen(text), &r, 1);
    check_all_ways(&l, 0, (const uint8_t *)text, strlen(text), &r, 0);
    kmp_wordset *ws = make_set(&l, KMP_IGNORE_CASE);
    uint64_t each[4];
    CHECK(kmp_wordset_count_each(ws, text, strlen(text), NULL, each) == KMP_OK && each[0] == 1 && each[1] == 1 &&
              each[2] == 2 && each[3] == 2,
          "folding letters only: %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64, each[0], each[1], each[2], each[3]);
    kmp_wordset_free(ws);
    wl_free(&l);
    /* every byte value against every byte value, one-byte words */
    for (unsigned icase = 0; icase < 2; icase++) {
        wordlist all = {0};
        uint8_t text256[256];
        for (unsigned c = 0; c < 256; c++) {
            uint8_t b = (uint8_t)c;
            wl_add(&all, &b, 1);
            text256[c] = (uint8_t)(255 - c);
        }
        check_all_ways(&all, (int)icase, text256, sizeof text256, &r, 0);
        wl_free(&all);
    }
}

/* chunk boundaries: words as long as or longer than chunks, many threads */
static void test_chunks(void)
{
    rng r = {77};
    uint8_t h[300];
    for (int iter = 0; iter < 25; iter++) {
        wordlist l = {0};
        random_words(&r, &l, ALPHA_PLAIN, 2, 60, 1 + below(&r, 6));
        size_t n = below(&r, sizeof h);
        random_text(&r, h, n, ALPHA_PLAIN, 2, &l);
        check_all_ways(&l, 0, h, n, &r, 1);
        wl_free(&l);
    }
}

/* --- files -------------------------------------------------------------------------------- */

static void check_fd(const kmp_wordset *ws, int fd, int64_t off, int64_t len, const pairs *want, const uint64_t *each,
                     const kmp_options *opt, unsigned flags, int whole)
{
    char what[200];
    describe(what, sizeof what, opt, flags);
    kmp_word_matches got = KMP_WORD_MATCHES_INIT;
    int err = -1;
    kmp_status st = whole ? kmp_wordset_find_all_fd(ws, fd, opt, &got, &err)
                          : kmp_wordset_find_all_fd_range(ws, fd, off, len, opt, &got, &err);
    CHECK(st == KMP_OK && err == 0 && same_pairs(want, &got, off), "find_all_fd %s: %s, %zu vs %zu", what,
          kmp_strerror(st), got.len, want->len);
    kmp_word_matches_free(&got);
    uint64_t cnt = 999;
    st = whole ? kmp_wordset_count_fd(ws, fd, opt, &cnt, &err)
               : kmp_wordset_count_fd_range(ws, fd, off, len, opt, &cnt, &err);
    CHECK(st == KMP_OK && cnt == want->len, "count_fd %s: %" PRIu64 " vs %zu", what, cnt, want->len);
    size_t nw = kmp_wordset_len(ws);
    uint64_t *c = calloc(nw, sizeof *c);
    st = whole ? kmp_wordset_count_each_fd(ws, fd, opt, c, &err)
               : kmp_wordset_count_each_fd_range(ws, fd, off, len, opt, c, &err);
    CHECK(st == KMP_OK && memcmp(c, each, nw * sizeof *c) == 0, "count_each_fd %s", what);
    free(c);
}

static void test_files(void)
{
    rng r = {55};
    char path[4200];
    for (int iter = 0; iter < 30; iter++) {
        int icase = iter % 4 == 3;
        const uint8_t *alpha = icase ? ALPHA_CASE : ALPHA_PLAIN;
        size_t sigma = 2 + below(&r, 3);
        wordlist l = {0};
        random_words(&r, &l, alpha, sigma, iter % 3 == 0 ? 40 : 7, 1 + below(&r, 20));
        size_t n = iter == 0 ? 0 : below(&r, 3000);
        uint8_t *h = malloc(n + 1);
        random_text(&r, h, n, alpha, sigma, &l);
        int fd = temp_file(h, n, path, sizeof path);
        pairs want = naive_ws(h, n, &l, icase);
        uint64_t *each = per_word(&want, l.n);
        for (size_t f = 0; f < COUNT_OF(FORMS); f++) {
            unsigned flags = FORMS[f] | (icase ? KMP_IGNORE_CASE : 0);
            kmp_wordset *ws = make_set(&l, flags);
            kmp_options opt = KMP_OPTIONS_INIT;
            for (size_t block = 1; block <= 80; block += 1 + (f == 0 ? 0 : 6)) {
                opt.block_size = block;
                random_way(&r, &PLANS, &opt);
                opt.min_chunk = 1 + below(&r, 1 + n / 2);
                check_fd(ws, fd, 0, (int64_t)n, &want, each, &opt, flags, (block & 1) != 0);
            }
            /* a range inside the file: offsets stay file offsets */
            if (n > 10) {
                int64_t off = (int64_t)below(&r, n / 2), len = (int64_t)below(&r, n - (size_t)off);
                pairs part = naive_ws(h + off, (size_t)len, &l, icase);
                uint64_t *peach = per_word(&part, l.n);
                opt.block_size = 1 + below(&r, 9);
                check_fd(ws, fd, off, len, &part, peach, &opt, flags, 0);
                free(peach);
                pairs_free(&part);
            }
            /* a range past the end of the file: KMP_ERR_TRUNCATED, the matches in what exists */
            for (size_t a = 0; a < COUNT_OF(SCANS); a++) {
                kmp_word_matches got = KMP_WORD_MATCHES_INIT;
                int err = -1;
                opt.scan = SCANS[a];
                opt.block_size = 1 + below(&r, 80);
                opt.threads = THREADS[below(&r, COUNT_OF(THREADS))];
                opt.min_chunk = 1 + below(&r, 50);
                kmp_status st = kmp_wordset_find_all_fd_range(ws, fd, 0, (int64_t)n + 500, &opt, &got, &err);
                CHECK((n == 0 ? st == KMP_ERR_TRUNCATED || st == KMP_OK : st == KMP_ERR_TRUNCATED) &&
                          same_pairs(&want, &got, 0) && err == 0,
                      "past the end: %s, %zu vs %zu", kmp_strerror(st), got.len, want.len);
                uint64_t cnt = 0;
                st = kmp_wordset_count_fd_range(ws, fd, 0, (int64_t)n + 500, &opt, &cnt, &err);
                CHECK(st == KMP_ERR_TRUNCATED && cnt == want.len, "count past the end: %s", kmp_strerror(st));
                kmp_word_matches_free(&got);
            }
            kmp_wordset_free(ws);
        }
        free(each);
        pairs_free(&want);
        close(fd);
        unlink(path);
        free(h);
        wl_free(&l);
    }
}

/* --- adversarial inputs for the fast scan's fallback -------------------------------------------- */

/* `a` x 100,000 against the 40 words a^first .. a^(first + 39): 40 matches at almost every
 * start (first 1: the bitmap filter; first 4: Teddy, whose masks then pass only `aaaa`) */
static void runs_of_a(size_t first)
{
    size_t n = 100000;
    uint8_t *h = malloc(n);
    memset(h, 'a', n);
    wordlist l = {0};
    uint8_t as[64];
    memset(as, 'a', sizeof as);
    for (size_t w = 0; w < 40; w++)
        wl_add(&l, as, first + w);
    uint64_t total = 0;
    for (size_t w = 0; w < 40; w++)
        total += n - (first + w) + 1;
    for (size_t f = 0; f < COUNT_OF(FORMS); f++) {
        kmp_wordset *ws = make_set(&l, FORMS[f]);
        for (size_t a = 0; a < COUNT_OF(SCANS); a++) {
            for (unsigned threads = 1; threads <= 3; threads++) {
                kmp_options opt = KMP_OPTIONS_INIT;
                opt.scan = SCANS[a];
                opt.threads = threads;
                opt.min_chunk = 1000;
                double t0 = now();
                uint64_t cnt = 0;
                kmp_status st = kmp_wordset_count(ws, h, n, &opt, &cnt);
                CHECK(st == KMP_OK && cnt == total, "a^n count: %" PRIu64 " vs %" PRIu64, cnt, total);
                uint64_t each[40];
                st = kmp_wordset_count_each(ws, h, n, &opt, each);
                int ok = st == KMP_OK;
                for (size_t w = 0; w < 40; w++)
                    ok &= each[w] == n - (first + w) + 1;
                CHECK(ok, "a^n count_each");
                kmp_word_matches m = KMP_WORD_MATCHES_INIT;
                st = kmp_wordset_find_all(ws, h, n, &opt, &m);
                ok = st == KMP_OK && m.len == total;
                /* (start, word) order: at start p the words that fit, shortest first */
                size_t i = 0;
                for (size_t p = 0; ok && p < n; p++)
                    for (size_t w = 0; ok && w < 40 && p + first + w <= n; w++, i++)
                        ok = m.offsets[i] == (int64_t)p && m.words[i] == w;
                CHECK(ok, "a^n find_all a^%zu.. form %u scan %d threads %u", first, FORMS[f], SCANS[a], threads);
                kmp_word_matches_free(&m);
                if (threads == 1)
                    printf("  a^100000 vs a^%zu..a^%zu, form %u scan %d: count + count_each + find_all %.3f s\n", first,
                           first + 39, FORMS[f], SCANS[a], now() - t0);
            }
        }
        kmp_wordset_free(ws);
    }
    wl_free(&l);
    free(h);
}

static void test_adversarial(void)
{
    runs_of_a(1);
    runs_of_a(4);

    /* 500 words sharing a 12-byte prefix, in a text made of them */
    wordlist l = {0};
    rng r = {500};
    uint8_t w[16];
    memcpy(w, "commonprefix", 12);
    for (size_t i = 0; i < 500; i++) {
        w[12] = (uint8_t)('a' + i % 26);
        w[13] = (uint8_t)('a' + (i / 26) % 26);
        w[14] = (uint8_t)('a' + below(&r, 3));
        wl_add(&l, w, 12 + 1 + (i % 3));
    }
    size_t n = 200000;
    uint8_t *h = malloc(n);
    for (size_t i = 0; i < n;) {
        size_t k = below(&r, l.n);
        size_t len = l.len[k] < n - i ? l.len[k] : n - i;
        memcpy(h + i, l.w[k], len);
        i += len;
    }
    pairs want = naive_ws(h, n, &l, 0);
    uint64_t *each = per_word(&want, l.n);
    for (size_t f = 0; f < COUNT_OF(FORMS); f++) {
        kmp_wordset *ws = make_set(&l, FORMS[f]);
        for (size_t a = 0; a < COUNT_OF(SCANS); a++) {
            kmp_options opt = KMP_OPTIONS_INIT;
            opt.scan = SCANS[a];
            opt.threads = 2;
            opt.min_chunk = 5000;
            double t0 = now();
            check_mem(ws, h, n, &want, each, &opt, FORMS[f]);
            printf("  500 words sharing a prefix, form %u scan %d: %.3f s\n", FORMS[f], SCANS[a], now() - t0);
        }
        kmp_wordset_free(ws);
    }
    free(each);
    pairs_free(&want);
    wl_free(&l);
    free(h);
}

/* --- 100,000 words ---------------------------------------------------------------------------------- */

typedef struct ref_entry {
    const uint8_t *p;
    size_t len;
    uint32_t id;
} ref_entry;

static int cmp_ref(const void *va, const void *vb)
{
    const ref_entry *a = va, *b = vb;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->p, b->p, n);
    if (c)
        return c;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* a reference for many words: at each start, each length, a binary search in the sorted words */
static pairs sorted_reference(const uint8_t *h, size_t n, const wordlist *l, size_t maxlen)
{
    ref_entry *e = malloc(l->n * sizeof *e);
    for (size_t i = 0; i < l->n; i++)
        e[i] = (ref_entry){l->w[i], l->len[i], (uint32_t)i};
    qsort(e, l->n, sizeof *e, cmp_ref);
    pairs p = {0};
    uint32_t found[64];
    for (size_t i = 0; i < n; i++) {
        size_t nf = 0;
        for (size_t len = 1; len <= maxlen && len <= n - i; len++) {
            ref_entry key = {h + i, len, 0};
            size_t lo = 0, hi = l->n;
            while (lo < hi) { /* the first entry >= (text, len, id 0) */
                size_t mid = (lo + hi) / 2;
                if (cmp_ref(&e[mid], &key) < 0)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            for (; lo < l->n && e[lo].len == len && memcmp(e[lo].p, h + i, len) == 0; lo++)
                if (nf < COUNT_OF(found))
                    found[nf++] = e[lo].id;
        }
        for (size_t a = 1; a < nf; a++) /* ascending word index */
            for (size_t b = a; b > 0 && found[b - 1] > found[b]; b--) {
                uint32_t x = found[b];
                found[b] = found[b - 1];
                found[b - 1] = x;
            }
        for (size_t a = 0; a < nf; a++)
            pairs_add(&p, (int64_t)i, found[a]);
    }
    free(e);
    return p;
}

static void test_many_words(void)
{
    static const char ALNUM[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \n";
    rng r = {100000};
    size_t n = 1 << 20;
    uint8_t *h = malloc(n);
    for (size_t i = 0; i < n; i++)
        h[i] = (uint8_t)ALNUM[below(&r, sizeof ALNUM - 1)];
    wordlist l = {0};
    uint8_t w[12];
    for (size_t i = 0; i < 100000; i++) {
        size_t len = 4 + below(&r, 9);
        if (i % 2) { /* cut from the text: it occurs */
            wl_add(&l, h + below(&r, n - len), len);
        } else {
            for (size_t j = 0; j < len; j++)
                w[j] = (uint8_t)ALNUM[below(&r, 62)];
            wl_add(&l, w, len);
        }
    }
    double t0 = now();
    kmp_wordset *ws = make_set(&l, 0);
    double built = now() - t0;
    printf("  100,000 words: built in %.3f s, %zu bytes (%.1f per word)\n", built, kmp_wordset_memory(ws),
           (double)kmp_wordset_memory(ws) / 100000);
    pairs want = sorted_reference(h, n, &l, 12);
    uint64_t *each = per_word(&want, l.n);
    CHECK(want.len > 50000, "the reference finds the words cut from the text: %zu", want.len);
    for (size_t a = 0; a < COUNT_OF(SCANS); a++) {
        kmp_options opt = KMP_OPTIONS_INIT;
        opt.scan = SCANS[a];
        opt.threads = 3;
        opt.min_chunk = 100000;
        t0 = now();
        check_mem(ws, h, n, &want, each, &opt, 0);
        printf("  100,000 words, 1 MiB, scan %d: %.3f s\n", SCANS[a], now() - t0);
    }
    kmp_wordset_free(ws);
    free(each);
    pairs_free(&want);
    /* the same words ignoring case, the compact form forced */
    ws = make_set(&l, KMP_IGNORE_CASE | KMP_WORDSET_COMPACT);
    for (size_t i = 0; i < n; i++) /* upper-case every other letter of the text */
        if (i % 2 && h[i] >= 'a' && h[i] <= 'z')
            h[i] = (uint8_t)(h[i] - 32);
    for (size_t i = 0; i < l.n; i++)
        for (size_t j = 0; j < l.len[i]; j++)
            l.w[i][j] = fold(l.w[i][j]);
    uint8_t *folded = malloc(n);
    for (size_t i = 0; i < n; i++)
        folded[i] = fold(h[i]);
    want = sorted_reference(folded, n, &l, 12);
    each = per_word(&want, l.n);
    kmp_options opt = KMP_OPTIONS_INIT;
    opt.threads = 2;
    opt.min_chunk = 1 << 18;
    check_mem(ws, h, n, &want, each, &opt, KMP_IGNORE_CASE | KMP_WORDSET_COMPACT);
    opt.scan = KMP_SCAN_TEXTBOOK;
    check_mem(ws, h, n, &want, each, &opt, KMP_IGNORE_CASE | KMP_WORDSET_COMPACT);
    kmp_wordset_free(ws);
    free(each);
    free(folded);
    pairs_free(&want);
    wl_free(&l);
    free(h);
}

/* --- cancel -------------------------------------------------------------------------------------- */

/* a flag set before the call: KMP_ERR_CANCELLED, in memory and from a file, every mode */
static void test_cancel(void)
{
    const void *words[] = {"ab", "c", "abc"};
    size_t lens[] = {2, 1, 3};
    kmp_wordset *ws = NULL;
    CHECK(kmp_wordset_new(words, lens, 3, 0, &ws) == KMP_OK, "new");
    const size_t n = 1 << 20;
    uint8_t *h = malloc(n);
    if (h == NULL)
        abort();
    for (size_t i = 0; i < n; i++)
        h[i] = "abcx"[i % 4];
    char path[4200];
    int fd = temp_file(h, n, path, sizeof path);
    volatile unsigned char flag = 1;
    kmp_options opt = KMP_OPTIONS_INIT;
    opt.cancel = &flag;
    uint64_t cnt = 0, each[3];
    kmp_word_matches m = KMP_WORD_MATCHES_INIT;
    int err = 0;
    for (unsigned threads = 1; threads <= 2; threads++) {
        opt.threads = threads;
        opt.min_chunk = 1;
        for (size_t a = 0; a < COUNT_OF(SCANS); a++) {
            opt.scan = SCANS[a];
            CHECK(kmp_wordset_count(ws, h, n, &opt, &cnt) == KMP_ERR_CANCELLED, "count");
            CHECK(kmp_wordset_count_each(ws, h, n, &opt, each) == KMP_ERR_CANCELLED, "count_each");
            CHECK(kmp_wordset_find_all(ws, h, n, &opt, &m) == KMP_ERR_CANCELLED, "find_all");
            CHECK(kmp_wordset_find_all_fd(ws, fd, &opt, &m, &err) == KMP_ERR_CANCELLED && err == 0, "find_all_fd");
        }
    }
    flag = 0;
    CHECK(kmp_wordset_count(ws, h, n, &opt, &cnt) == KMP_OK && cnt == 3 * (n / 4), "not set: %" PRIu64, cnt);
    kmp_word_matches_free(&m);
    kmp_wordset_free(ws);
    close(fd);
    unlink(path);
    free(h);
}

/* --- errors -------------------------------------------------------------------------------------- */

static void test_errors(void)
{
    const void *words[] = {"ab", "c", ""};
    size_t lens[] = {2, 1, 0};
    kmp_wordset *ws = (kmp_wordset *)&ws;
    CHECK(kmp_wordset_new(words, lens, 2, 0, NULL) == KMP_ERR_INVALID, "NULL out");
    CHECK(kmp_wordset_new(NULL, lens, 2, 0, &ws) == KMP_ERR_INVALID && ws == NULL, "NULL words");
    CHECK(kmp_wordset_new(words, NULL, 2, 0, &ws) == KMP_ERR_INVALID, "NULL lens");
    CHECK(kmp_wordset_new(words, lens, 0, 0, &ws) == KMP_ERR_INVALID, "no words");
    CHECK(kmp_wordset_new(words, lens, 3, 0, &ws) == KMP_ERR_INVALID && ws == NULL, "empty word");
    CHECK(kmp_wordset_new(words, lens, 2, 64, &ws) == KMP_ERR_INVALID, "unknown flag");
    CHECK(kmp_wordset_new(words, lens, 2, KMP_WORDSET_DENSE | KMP_WORDSET_COMPACT, &ws) == KMP_ERR_INVALID,
          "both forms");
    const void *nullword[] = {"ab", NULL};
    CHECK(kmp_wordset_new(nullword, lens, 2, 0, &ws) == KMP_ERR_INVALID, "NULL word");
    size_t huge[] = {SIZE_MAX / 2, SIZE_MAX / 2 + 10};
    CHECK(kmp_wordset_new(words, huge, 2, 0, &ws) == KMP_ERR_NOMEM, "words too long");
    kmp_wordset_free(NULL);
    kmp_word_matches_free(NULL);
    CHECK(kmp_wordset_len(NULL) == 0 && kmp_wordset_memory(NULL) == 0 && kmp_wordset_longest(NULL) == 0, "NULL set");

    CHECK(kmp_wordset_new(words, lens, 2, 0, &ws) == KMP_OK, "new");
    uint64_t cnt = 7, each[2] = {7, 7};
    kmp_word_matches m = KMP_WORD_MATCHES_INIT;
    int err = 5;
    CHECK(kmp_wordset_count(NULL, "ab", 2, NULL, &cnt) == KMP_ERR_INVALID && cnt == 0, "NULL set");
    CHECK(kmp_wordset_count(ws, NULL, 2, NULL, &cnt) == KMP_ERR_INVALID, "NULL haystack");
    CHECK(kmp_wordset_count(ws, "ab", 2, NULL, NULL) == KMP_ERR_INVALID, "NULL count");
    CHECK(kmp_wordset_count_each(ws, "ab", 2, NULL, NULL) == KMP_ERR_INVALID, "NULL counts");
    CHECK(kmp_wordset_find_all(ws, "ab", 2, NULL, NULL) == KMP_ERR_INVALID, "NULL out");
    CHECK(kmp_wordset_count_each(ws, "abcab", 5, NULL, each) == KMP_OK && each[0] == 2 && each[1] == 1, "each");
    CHECK(kmp_wordset_find_all(ws, "abc", 3, NULL, &m) == KMP_OK && m.len == 2, "find_all");
    CHECK(kmp_wordset_find_all(ws, "c", 1, NULL, &m) == KMP_OK && m.len == 1 && m.words[0] == 1, "replaced");
    kmp_options opt = KMP_OPTIONS_INIT;
    opt.scan = 2;
    CHECK(kmp_wordset_count(ws, "ab", 2, &opt, &cnt) == KMP_ERR_INVALID, "bad scan");
    opt.scan = KMP_SCAN_FAST;
    opt.simd = -1;
    CHECK(kmp_wordset_find_all(ws, "ab", 2, &opt, &m) == KMP_ERR_INVALID && m.len == 0, "bad simd");
    CHECK(kmp_wordset_count_fd(ws, -1, NULL, &cnt, &err) == KMP_ERR_INVALID, "fd -1");
    CHECK(kmp_wordset_count_fd(ws, 987, NULL, &cnt, &err) == KMP_ERR_IO && err == EBADF, "closed fd: %d", err);
    CHECK(kmp_wordset_count_each_fd_range(ws, 3, 5, -1, NULL, each, &err) == KMP_ERR_INVALID, "negative length");
    CHECK(kmp_wordset_find_all_fd_range(ws, 3, INT64_MAX, 1, NULL, &m, &err) == KMP_ERR_INVALID, "overflow");
    int pipefd[2];
    if (pipe(pipefd) == 0) {
        CHECK(kmp_wordset_find_all_fd(ws, pipefd[0], NULL, &m, &err) == KMP_ERR_IO && err == EINVAL, "pipe %d", err);
        CHECK(kmp_wordset_count_fd_range(ws, pipefd[0], 0, 10, NULL, &cnt, &err) == KMP_ERR_IO && err == ESPIPE,
              "pipe range %d", err);
        close(pipefd[0]);
        close(pipefd[1]);
    }
    int dfd = open(tmpdir, O_RDONLY);
    if (dfd >= 0) {
        CHECK(kmp_wordset_count_each_fd(ws, dfd, NULL, each, &err) == KMP_ERR_IO && err == EISDIR, "dir %d", err);
        close(dfd);
    }
    /* a block size too large to allocate */
    char path[4200];
    int fd = temp_file((const uint8_t *)"abab", 4, path, sizeof path);
    opt.simd = KMP_SIMD_AUTO;
    opt.block_size = SIZE_MAX / 2;
    CHECK(kmp_wordset_count_fd_range(ws, fd, 0, INT64_MAX / 2, &opt, &cnt, &err) == KMP_ERR_NOMEM, "huge block");
    close(fd);
    unlink(path);
    kmp_word_matches_free(&m);
    kmp_wordset_free(ws);
}

/* --- one set, several threads ---------------------------------------------------------------------- */

typedef struct shared_arg {
    shared_head head; /* run_shared's */
    const kmp_wordset *ws;
    const uint8_t *h;
    size_t n;
    const pairs *want;
    const char *path;
} shared_arg;

static void *shared_worker(void *p)
{
    shared_arg *a = p;
    for (int k = 0; k < 6; k++) {
        kmp_options opt = shared_options(a->head.id, k);
        kmp_word_matches got = KMP_WORD_MATCHES_INIT;
        uint64_t cnt = 0;
        int err;
        if (kmp_wordset_find_all(a->ws, a->h, a->n, &opt, &got) != KMP_OK || !same_pairs(a->want, &got, 0))
            a->head.bad++;
        if (kmp_wordset_count(a->ws, a->h, a->n, &opt, &cnt) != KMP_OK || cnt != a->want->len)
            a->head.bad++;
        int fd = open(a->path, O_RDONLY);
        if (fd < 0 || kmp_wordset_find_all_fd(a->ws, fd, &opt, &got, &err) != KMP_OK || !same_pairs(a->want, &got, 0))
            a->head.bad++;
        if (fd >= 0)
            close(fd);
        kmp_word_matches_free(&got);
    }
    return NULL;
}

static void test_shared(void)
{
    rng r = {12};
    size_t n = 20000;
    uint8_t *h = malloc(n);
    wordlist l = {0};
    random_words(&r, &l, ALPHA_PLAIN, 3, 6, 30);
    random_text(&r, h, n, ALPHA_PLAIN, 3, &l);
    char path[4200];
    int fd = temp_file(h, n, path, sizeof path);
    pairs want = naive_ws(h, n, &l, 0);
    for (size_t f = 0; f < COUNT_OF(FORMS); f++) {
        kmp_wordset *ws = make_set(&l, FORMS[f]);
        shared_arg args[5];
        for (int i = 0; i < 5; i++)
            args[i] = (shared_arg){{0, 0}, ws, h, n, &want, path};
        run_shared(shared_worker, args, sizeof args[0], 5);
        kmp_wordset_free(ws);
    }
    pairs_free(&want);
    wl_free(&l);
    close(fd);
    unlink(path);
    free(h);
}

/* --- main ------------------------------------------------------------------------------------------ */

static const test_group GROUPS[] = {
    {"basic", test_basic},         {"differential", test_differential}, {"ignore_case", test_ignore_case},
    {"chunks", test_chunks},       {"files", test_files},               {"adversarial", test_adversarial},
    {"many_words", test_many_words}, {"errors", test_errors},           {"shared", test_shared},
    {"long_words", test_long_words}, {"cancel", test_cancel},
};

int main(int argc, char **argv) { return run_groups(GROUPS, COUNT_OF(GROUPS), argc, argv); }
