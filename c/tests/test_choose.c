/*
 * Unit tests of kmp_choose (whole words, match kinds), run by ctest: `test_choose GROUP`
 * runs one group (`all`: every one). utf8: the character before and after a match, valid
 * and invalid UTF-8 (overlong forms, surrogates, above U+10FFFF, lone continuation bytes,
 * sequences cut by the edges of the haystack) against a table of word characters that
 * marks the code points a lax decoder would reach; kinds: worked examples; differential:
 * the candidates of kmp_wordset_find_all / kmp_find_all on random ASCII text, chosen, against
 * a naive greedy reference; errors and cancel.
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmp.h"
#include "testutil.h"

#define TABLE_SIZE 0x110000

/* word characters: ASCII letters, digits and '_'; é, 中, 𝔘; and, so that a decoder that let
 * them through would be caught, U+0000 and U+07FF and U+FFFF (what the overlong forms C0 80,
 * E0 80 80, E0 9F BF, F0 8F BF BF would decode to) and U+D800 (the surrogate ED A0 80); the
 * edges of the valid ranges: U+0080, U+0800, U+D7FF, U+10000, U+10FFFF. NBSP (U+00A0) and
 * U+2014 are not. Exactly TABLE_SIZE bytes, so a code point above U+10FFFF read from it is
 * an ASan error. */
static unsigned char *make_table(void)
{
    unsigned char *t = calloc(TABLE_SIZE, 1);
    if (t == NULL)
        abort();
    for (int c = 0; c < 128; c++)
        t[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    static const uint32_t words[] = {0xE9, 0x4E2D, 0x1D518, 0x0, 0x7FF, 0xFFFF, 0xD800,
                                     0x80, 0x800, 0xD7FF, 0x10000, 0x10FFFF};
    for (size_t i = 0; i < COUNT_OF(words); i++)
        t[words[i]] = 1;
    return t;
}

/* --- utf8 ------------------------------------------------------------------------------------- */

typedef struct seq {
    const char *bytes;
    int word; /* whether it reads as one word character, before or after a match */
} seq;

static const seq SEQS[] = {
    {"a", 1}, {"Z", 1}, {"7", 1}, {"_", 1}, {" ", 0}, {"-", 0},
    {"\xc3\xa9", 1},          /* é */
    {"\xe4\xb8\xad", 1},      /* 中 */
    {"\xf0\x9d\x94\x98", 1},  /* 𝔘 */
    {"\xc2\x80", 1}, {"\xe0\xa0\x80", 1}, {"\xed\x9f\xbf", 1}, {"\xf0\x90\x80\x80", 1},
    {"\xf4\x8f\xbf\xbf", 1},  /* U+10FFFF */
    {"\xc2\xa0", 0},          /* NBSP */
    {"\xe2\x80\x94", 0},      /* — */
    {"\xc0\x80", 0}, {"\xc1\xbf", 0}, {"\xe0\x80\x80", 0}, {"\xe0\x9f\xbf", 0}, {"\xf0\x8f\xbf\xbf", 0},
    {"\xf0\x80\x80\x80", 0},  /* overlong forms */
    {"\xed\xa0\x80", 0},      /* a surrogate */
    {"\xf4\x90\x80\x80", 0},  /* U+110000 */
    {"\xf5\x80\x80\x80", 0}, {"\xff", 0}, {"\xfe", 0},
};

/* h = pre + "x" + post; whether kmp_choose keeps the candidate (1, "x") with whole words */
static int kept(const unsigned char *table, const char *pre, const char *post)
{
    char h[64];
    size_t a = strlen(pre), b = strlen(post);
    memcpy(h, pre, a);
    h[a] = 'x';
    memcpy(h + a + 1, post, b);
    size_t lengths[] = {1};
    int64_t off[] = {(int64_t)a};
    size_t len = 1;
    uint64_t counts[1];
    kmp_status st = kmp_choose(h, a + 1 + b, lengths, 1, 1, KMP_KIND_OVERLAPPING, table, NULL, off, NULL, &len,
                               counts);
    CHECK(st == KMP_OK && counts[0] == len, "status %d", (int)st);
    return (int)len;
}

static void test_utf8(void)
{
    unsigned char *table = make_table();
    char pre[32], post[32];
    for (size_t i = 0; i < COUNT_OF(SEQS); i++) {
        const seq *q = &SEQS[i];
        /* before the match (at the start of the haystack, and after other bytes), after it
         * (at the end of the haystack, and before other bytes) */
        CHECK(kept(table, q->bytes, "") == !q->word, "before: seq %zu", i);
        snprintf(pre, sizeof pre, " %s", q->bytes);
        CHECK(kept(table, pre, " ") == !q->word, "before, not at 0: seq %zu", i);
        CHECK(kept(table, "", q->bytes) == !q->word, "after: seq %zu", i);
        snprintf(post, sizeof post, "%s ", q->bytes);
        CHECK(kept(table, " ", post) == !q->word, "after, not at the end: seq %zu", i);
    }
    /* continuation bytes: alone, after ASCII, one too many, four of them (the step back stops
     * at s - 4) */
    static const char *not_before[] = {"\x80", "\xbf", "a\x80", "a\xbf\xbf", "\xc3\xa9\xa9", "\x80\x80\x80\x80",
                                       "\xe4\x80\x80\x80\x80", "\xc3\xa9\x80", "\xf0\x9d\x94\x98\x98"};
    for (size_t i = 0; i < COUNT_OF(not_before); i++)
        CHECK(kept(table, not_before[i], " ") == 1, "before: %zu", i);
    /* only the character that ends at s counts: é followed by a stray byte is not one */
    CHECK(kept(table, "\xc3\xa9\x80", "") == 1, "é then a continuation byte");
    CHECK(kept(table, "\xe4\xb8\xad\xc3\xa9", "") == 0, "中é");
    CHECK(kept(table, "\x80\xc3\xa9", "") == 0, "a stray byte, then é");
    /* cut by the edge: a lead byte without all its continuation bytes, before and after */
    static const char *cut[] = {"\xc3", "\xe4\xb8", "\xf0\x9d\x94", "\xe4", "\xf0", "\xf0\x9d"};
    for (size_t i = 0; i < COUNT_OF(cut); i++) {
        CHECK(kept(table, "", cut[i]) == 1, "cut after: %zu", i);
        CHECK(kept(table, cut[i], "") == 1, "cut before: %zu", i);
        snprintf(pre, sizeof pre, "%s ", cut[i]);
        CHECK(kept(table, pre, "") == 1, "cut before, a space between: %zu", i);
    }
    /* a lead followed by a non-continuation byte */
    CHECK(kept(table, "", "\xc3(") == 1, "C3 28");
    CHECK(kept(table, "", "\xe4\xb8(") == 1, "E4 B8 28");
    CHECK(kept(table, "", "\xf0\x9d\x94(") == 1, "F0 9D 94 28");
    /* the word's length decides where the character after starts: " x" + "é" + " " with the
     * words x (é follows) and xé (a space follows) */
    size_t lengths[] = {1, 3};
    int64_t off[] = {1, 1};
    uint32_t words[] = {0, 1};
    size_t len = 2;
    CHECK(kmp_choose(" x\xc3\xa9 ", 5, lengths, 2, 1, KMP_KIND_OVERLAPPING, table, NULL, off, words, &len, NULL) ==
                  KMP_OK && len == 1 && off[0] == 1 && words[0] == 1,
          "x, xé: %zu", len);
    free(table);
}

/* --- kinds ------------------------------------------------------------------------------------ */

typedef struct example {
    int whole, kind;
    size_t len;
    int64_t off[8];
    uint32_t word[8];
    uint64_t counts[5];
} example;

static void test_kinds(void)
{
    unsigned char *table = make_table();
    /* "abcbc" with a, ab, abc, b, bc */
    const char *h = "abcbc";
    size_t lengths[] = {1, 2, 3, 1, 2};
    static const int64_t cand_off[] = {0, 0, 0, 1, 1, 3, 3};
    static const uint32_t cand_word[] = {0, 1, 2, 3, 4, 3, 4};
    static const example ex[] = {
        {0, KMP_KIND_OVERLAPPING, 7, {0, 0, 0, 1, 1, 3, 3}, {0, 1, 2, 3, 4, 3, 4}, {1, 1, 1, 2, 2}},
        {0, KMP_KIND_LEFTMOST_LONGEST, 2, {0, 3}, {2, 4}, {0, 0, 1, 0, 1}},
        {0, KMP_KIND_LEFTMOST_FIRST, 3, {0, 1, 3}, {0, 3, 3}, {1, 0, 0, 2, 0}},
        /* whole words: only "abc" + ... none: "abc" is followed by b; "bc" at 3 ends the text
         * but follows c */
        {1, KMP_KIND_OVERLAPPING, 0, {0}, {0}, {0}},
        {1, KMP_KIND_LEFTMOST_LONGEST, 0, {0}, {0}, {0}},
    };
    for (size_t e = 0; e < COUNT_OF(ex); e++) {
        int64_t off[7];
        uint32_t word[7];
        memcpy(off, cand_off, sizeof off);
        memcpy(word, cand_word, sizeof word);
        size_t len = 7;
        uint64_t counts[5];
        kmp_status st = kmp_choose(h, 5, lengths, 5, ex[e].whole, ex[e].kind, table, NULL, off, word, &len, counts);
        CHECK(st == KMP_OK && len == ex[e].len, "example %zu: status %d, %zu kept", e, (int)st, len);
        for (size_t i = 0; i < len && i < ex[e].len; i++)
            CHECK(off[i] == ex[e].off[i] && word[i] == ex[e].word[i], "example %zu, match %zu", e, i);
        CHECK(memcmp(counts, ex[e].counts, sizeof counts) == 0, "example %zu: counts", e);
    }
    /* "ab ab-abc": whole words ab (0), ab (3) kept, abc (6) kept, ab (6) not (c follows) */
    {
        const char *t = "ab ab-abc";
        size_t lens2[] = {2, 3};
        int64_t off[] = {0, 3, 6, 6};
        uint32_t word[] = {0, 0, 0, 1};
        size_t len = 4;
        CHECK(kmp_choose(t, 9, lens2, 2, 1, KMP_KIND_LEFTMOST_FIRST, table, NULL, off, word, &len, NULL) == KMP_OK &&
                  len == 3 && off[2] == 6 && word[2] == 1,
              "whole first: %zu", len);
    }
    /* equal lengths: the lowest index; a longer one that overlaps the kept one is skipped */
    {
        const char *t = "abcd";
        size_t lens3[] = {2, 2, 3};
        int64_t off[] = {0, 0, 1};
        uint32_t word[] = {0, 1, 2};
        size_t len = 3;
        CHECK(kmp_choose(t, 4, lens3, 3, 0, KMP_KIND_LEFTMOST_LONGEST, NULL, NULL, off, word, &len, NULL) == KMP_OK &&
                  len == 1 && off[0] == 0 && word[0] == 0,
              "ties: %zu", len);
    }
    /* a pattern (words NULL): "aaaa" with aa at 0, 1, 2: leftmost kinds keep 0 and 2 */
    {
        size_t one[] = {2};
        int64_t off[] = {0, 1, 2};
        size_t len = 3;
        uint64_t count = 9;
        CHECK(kmp_choose("aaaa", 4, one, 1, 0, KMP_KIND_LEFTMOST_FIRST, NULL, NULL, off, NULL, &len, &count) ==
                      KMP_OK && len == 2 && off[0] == 0 && off[1] == 2 && count == 2,
              "pattern: %zu", len);
        len = 0;
        CHECK(kmp_choose("", 0, one, 1, 1, KMP_KIND_LEFTMOST_FIRST, table, NULL, NULL, NULL, &len, &count) == KMP_OK &&
                  len == 0 && count == 0, "nothing");
    }
    free(table);
}

/* --- differential ----------------------------------------------------------------------------- */

static int is_word(unsigned char c) { return c == 'a' || c == 'b' || c == '_'; }

/* the chosen matches of words in h, naively: every (start, word) by memcmp, whole words by
 * the ASCII bytes around, then leftmost: from the end of the last kept match, the first
 * start with a match left, its longest word or its first. out: (offset, word) pairs */
static size_t naive(const uint8_t *h, size_t n, uint8_t *const *w, const size_t *wl, size_t nw, int whole,
                    int kind, int64_t *out_off, uint32_t *out_word)
{
    size_t k = 0, from = 0;
    for (size_t s = 0; s < n; s++) {
        size_t best = nw;
        for (size_t j = 0; j < nw; j++) {
            if (wl[j] > n - s || memcmp(h + s, w[j], wl[j]) != 0)
                continue;
            if (whole && ((s > 0 && is_word(h[s - 1])) || (s + wl[j] < n && is_word(h[s + wl[j]]))))
                continue;
            if (kind == KMP_KIND_OVERLAPPING) {
                out_off[k] = (int64_t)s;
                out_word[k++] = (uint32_t)j;
            } else if (best == nw || (kind == KMP_KIND_LEFTMOST_LONGEST && wl[j] > wl[best])) {
                best = j;
            }
        }
        if (best < nw && s >= from) {
            out_off[k] = (int64_t)s;
            out_word[k++] = (uint32_t)best;
            from = s + wl[best];
        }
    }
    return k;
}

static void test_differential(void)
{
    unsigned char *table = make_table();
    rng r = {42};
    static const uint8_t alpha[] = "ab_ -";
    enum { N = 300, MAXW = 6 };
    uint8_t h[N];
    uint8_t *words[MAXW];
    size_t wl[MAXW];
    int64_t ref_off[N * MAXW];
    uint32_t ref_word[N * MAXW];
    for (int round = 0; round < 400; round++) {
        int one = below(&r, 4) == 0; /* a pattern (kmp_find_all) or a word set */
        size_t n = below(&r, N + 1), nw = one ? 1 : 1 + below(&r, MAXW);
        for (size_t i = 0; i < n; i++)
            h[i] = alpha[below(&r, 5)];
        for (size_t j = 0; j < nw; j++) {
            wl[j] = 1 + below(&r, 4);
            words[j] = malloc(wl[j]);
            if (words[j] == NULL)
                abort();
            for (size_t i = 0; i < wl[j]; i++)
                words[j][i] = alpha[below(&r, 3)];
        }
        kmp_options opt = KMP_OPTIONS_INIT;
        opt.threads = 1 + (unsigned)below(&r, 5);
        opt.min_chunk = 1 + below(&r, 20);
        kmp_wordset *ws = NULL;
        kmp_searcher *s = NULL;
        CHECK((one ? kmp_searcher_new(words[0], wl[0], &s) : kmp_wordset_new((const void *const *)words, wl, nw, 0,
                                                                             &ws)) == KMP_OK,
              "new");
        for (int whole = 0; whole < 2; whole++) {
            for (int kind = KMP_KIND_OVERLAPPING; kind <= KMP_KIND_LEFTMOST_FIRST; kind++) {
                size_t want = naive(h, n, words, wl, nw, whole, kind, ref_off, ref_word);
                kmp_word_matches wm = KMP_WORD_MATCHES_INIT;
                kmp_matches m = KMP_MATCHES_INIT;
                uint64_t counts[MAXW], ref_counts[MAXW] = {0};
                for (size_t i = 0; i < want; i++)
                    ref_counts[ref_word[i]]++;
                kmp_status st;
                size_t len;
                const int64_t *off;
                const uint32_t *word;
                if (one) {
                    CHECK(kmp_find_all(s, h, n, &opt, &m) == KMP_OK, "find_all");
                    st = kmp_choose(h, n, wl, 1, whole, kind, table, &opt, m.offsets, NULL, &m.len, counts);
                    len = m.len;
                    off = m.offsets;
                    word = NULL;
                } else {
                    CHECK(kmp_wordset_find_all(ws, h, n, &opt, &wm) == KMP_OK, "find_all");
                    st = kmp_choose(h, n, wl, nw, whole, kind, table, &opt, wm.offsets, wm.words, &wm.len, counts);
                    len = wm.len;
                    off = wm.offsets;
                    word = wm.words;
                }
                CHECK(st == KMP_OK && len == want, "round %d whole %d kind %d: status %d, %zu kept, want %zu", round,
                      whole, kind, (int)st, len, want);
                for (size_t i = 0; i < len && i < want; i++)
                    CHECK(off[i] == ref_off[i] && (word == NULL ? 0 : word[i]) == ref_word[i],
                          "round %d whole %d kind %d match %zu", round, whole, kind, i);
                CHECK(memcmp(counts, ref_counts, nw * sizeof(uint64_t)) == 0, "round %d: counts", round);
                kmp_word_matches_free(&wm);
                kmp_matches_free(&m);
            }
        }
        kmp_wordset_free(ws);
        kmp_searcher_free(s);
        for (size_t j = 0; j < nw; j++)
            free(words[j]);
    }
    free(table);
}

/* --- errors and cancel ------------------------------------------------------------------------ */

static void test_errors(void)
{
    unsigned char *table = make_table();
    const char *h = "ab ab";
    size_t lengths[] = {2, 1};
    int64_t off[] = {0, 3};
    uint32_t word[] = {0, 0};
    size_t len = 2;
#define CHOOSE(h_, n_, lens_, nw_, whole_, kind_, table_, off_, word_, len_) \
    kmp_choose((h_), (n_), (lens_), (nw_), (whole_), (kind_), (table_), NULL, (off_), (word_), (len_), NULL)
    CHECK(CHOOSE(h, 5, lengths, 2, 1, 0, table, off, word, NULL) == KMP_ERR_INVALID, "NULL len");
    CHECK(CHOOSE(h, 5, NULL, 2, 1, 0, table, off, word, &len) == KMP_ERR_INVALID, "NULL lengths");
    CHECK(CHOOSE(h, 5, lengths, 0, 1, 0, table, off, word, &len) == KMP_ERR_INVALID, "no words");
    CHECK(CHOOSE(NULL, 5, lengths, 2, 1, 0, table, off, word, &len) == KMP_ERR_INVALID, "NULL haystack");
    CHECK(CHOOSE(h, 5, lengths, 2, 1, 0, table, NULL, word, &len) == KMP_ERR_INVALID, "NULL offsets");
    CHECK(CHOOSE(h, 5, lengths, 2, 1, 0, NULL, off, word, &len) == KMP_ERR_INVALID, "NULL word_chars");
    CHECK(CHOOSE(h, 5, lengths, 2, 0, 3, NULL, off, word, &len) == KMP_ERR_INVALID, "unknown kind");
    CHECK(CHOOSE(h, 5, lengths, 2, 0, -1, NULL, off, word, &len) == KMP_ERR_INVALID, "negative kind");
    CHECK(len == 2, "len untouched: %zu", len);
    /* a candidate out of range: the ones before it are kept */
    word[1] = 2;
    CHECK(CHOOSE(h, 5, lengths, 2, 0, 0, NULL, off, word, &len) == KMP_ERR_INVALID && len == 1, "word %zu", len);
    word[1] = 0;
    len = 2;
    off[1] = 4;
    CHECK(CHOOSE(h, 5, lengths, 2, 0, 0, NULL, off, word, &len) == KMP_ERR_INVALID && len == 1, "past the end");
    len = 2;
    off[1] = 6;
    CHECK(CHOOSE(h, 5, lengths, 2, 1, 1, table, off, word, &len) == KMP_ERR_INVALID && len == 1, "beyond");
    len = 2;
    off[0] = -1;
    CHECK(CHOOSE(h, 5, lengths, 2, 1, 2, table, off, word, &len) == KMP_ERR_INVALID && len == 0, "negative");
#undef CHOOSE
    free(table);
}

static void test_cancel(void)
{
    const size_t n = (3u << 20) + 5;
    uint8_t *h = malloc(n);
    int64_t *off = malloc(n * sizeof(int64_t));
    if (h == NULL || off == NULL)
        abort();
    memset(h, 'a', n);
    for (size_t i = 0; i < n; i++)
        off[i] = (int64_t)i;
    size_t one[] = {1};
    volatile unsigned char flag = 1;
    kmp_options opt = KMP_OPTIONS_INIT;
    opt.cancel = &flag;
    size_t len = n;
    CHECK(kmp_choose(h, n, one, 1, 0, KMP_KIND_LEFTMOST_FIRST, NULL, &opt, off, NULL, &len, NULL) ==
                  KMP_ERR_CANCELLED && len == 0, "cancelled: %zu", len);
    flag = 0;
    len = n;
    CHECK(kmp_choose(h, n, one, 1, 0, KMP_KIND_LEFTMOST_FIRST, NULL, &opt, off, NULL, &len, NULL) == KMP_OK &&
                  len == n && off[n - 1] == (int64_t)(n - 1), "not set: %zu", len);
    free(off);
    free(h);
}

static const test_group GROUPS[] = {
    {"utf8", test_utf8}, {"kinds", test_kinds}, {"differential", test_differential},
    {"errors", test_errors}, {"cancel", test_cancel},
};

int main(int argc, char **argv) { return run_groups(GROUPS, COUNT_OF(GROUPS), argc, argv); }
