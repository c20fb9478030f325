/*
 * Unit tests of libkmpsearch, run by ctest: `test_kmp GROUP` runs one group (`all`: every one).
 * Differential against a naive search over random small alphabets, periodic patterns, chunk
 * boundaries with many thread counts and min_chunk values, every scan and SIMD level, files
 * (small read blocks, short reads, truncation while searching, offsets past 4 GiB), NUL
 * bytes, errors, one searcher shared by several threads, and the fast scan's pair skip
 * (near misses, periodic needles, the pair cut by chunk, piece and block boundaries).
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
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kmp.h"
#include "testutil.h"

/* --- helpers ------------------------------------------------------------------------ */

typedef struct offsets { int64_t *v; size_t len; } offsets;

static offsets naive(const uint8_t *h, size_t n, const uint8_t *p, size_t m)
{
    offsets o = {NULL, 0};
    if (m == 0 || m > n)
        return o;
    o.v = malloc((n - m + 1) * sizeof(int64_t));
    if (o.v == NULL)
        abort();
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(h + i, p, m) == 0)
            o.v[o.len++] = (int64_t)i;
    return o;
}

static int same(const offsets *want, const kmp_matches *got, int64_t shift)
{
    if (want->len != got->len)
        return 0;
    for (size_t i = 0; i < want->len; i++)
        if (want->v[i] + shift != got->offsets[i])
            return 0;
    return 1;
}

static kmp_searcher *make(const void *p, size_t m)
{
    kmp_searcher *s = NULL;
    kmp_status st = kmp_searcher_new(p, m, &s);
    if (st != KMP_OK || s == NULL) {
        fprintf(stderr, "kmp_searcher_new failed: %s\n", kmp_strerror(st));
        exit(1);
    }
    return s;
}

static const unsigned THREADS[] = {1, 2, 3, 4, 7, 9};
static const uint64_t MIN_CHUNKS[] = {1, 2, 3, 4, 5, 7, 13, 64, 1000, 0 /* default */};
/* the plans of for_all_ways: a random plan's min_chunk is 1 + below(1 + n / 2) */
static const plans PLANS = {THREADS, COUNT_OF(THREADS), MIN_CHUNKS, COUNT_OF(MIN_CHUNKS), 2};

/* memory search of h with p under opt: compare find_all and count with the naive search */
static void check_mem(const kmp_searcher *s, const uint8_t *h, size_t n, const uint8_t *p, size_t m,
                      const offsets *want, const kmp_options *opt)
{
    kmp_matches got = KMP_MATCHES_INIT;
    uint64_t cnt = 12345;
    kmp_status st = kmp_find_all(s, h, n, opt, &got);
    CHECK(st == KMP_OK, "find_all: %s", kmp_strerror(st));
    CHECK(same(want, &got, 0), "find_all n=%zu m=%zu threads=%u min_chunk=%" PRIu64 " scan=%d simd=%d: %zu vs %zu matches",
          n, m, opt->threads, opt->min_chunk, opt->scan, opt->simd, got.len, want->len);
    st = kmp_count(s, h, n, opt, &cnt);
    CHECK(st == KMP_OK && cnt == want->len, "count n=%zu m=%zu threads=%u min_chunk=%" PRIu64 " scan=%d simd=%d: %" PRIu64 " vs %zu",
          n, m, opt->threads, opt->min_chunk, opt->scan, opt->simd, cnt, want->len);
    kmp_matches_free(&got);
    (void)p;
}

/* a search in memory and its reference, for for_all_ways */
typedef struct mem_case {
    const kmp_searcher *s;
    const uint8_t *h, *p;
    size_t n, m;
    const offsets *want;
} mem_case;

static void check_mem_case(const kmp_options *opt, void *ctx)
{
    const mem_case *c = ctx;
    check_mem(c->s, c->h, c->n, c->p, c->m, c->want, opt);
}

/* Every scan and SIMD level on one thread, on a random chunk plan and in memory pieces (the
 * automaton's state carried across them); with exhaustive, also the whole grid of thread
 * counts x min_chunk values (for each scan). */
static void check_all_ways(const uint8_t *h, size_t n, const uint8_t *p, size_t m, rng *r, int exhaustive)
{
    kmp_searcher *s = make(p, m);
    offsets want = naive(h, n, p, m);
    mem_case c = {s, h, p, n, m, &want};
    for_all_ways(&PLANS, n, r, exhaustive, check_mem_case, &c);
    free(want.v);
    kmp_searcher_free(s);
}

/* find_all and count under each scan with the given plan */
static void check_each_scan(const kmp_searcher *s, const uint8_t *h, size_t n, const uint8_t *p, size_t m,
                            const offsets *want, unsigned threads, uint64_t min_chunk)
{
    kmp_options opt = KMP_OPTIONS_INIT;
    opt.threads = threads;
    opt.min_chunk = min_chunk;
    for (size_t a = 0; a < COUNT_OF(SCANS); a++) {
        opt.scan = SCANS[a];
        check_mem(s, h, n, p, m, want, &opt);
    }
}

static const uint8_t ALPHABET[] = {'a', 'b', 0x00, 0xff, 'c', '3', 'J', '1'};

static void random_text(rng *r, uint8_t *buf, size_t n, size_t sigma)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = ALPHABET[below(r, sigma)];
}

/* --- groups ---------------------------------------------------------------------------- */

static void test_failure(void)
{
    rng r = {1};
    uint8_t p[40];
    for (int iter = 0; iter < 2000; iter++) {
        size_t m = 1 + below(&r, sizeof p);
        random_text(&r, p, m, 1 + below(&r, 3));
        kmp_searcher *s = make(p, m);
        CHECK(kmp_searcher_len(s) == m, "len");
        for (size_t i = 0; i < m; i++) {
            size_t want = 0;
            for (size_t k = i; k >= 1; k--)  /* longest proper border of p[0..i] */
                if (memcmp(p, p + i + 1 - k, k) == 0) {
                    want = k;
                    break;
                }
            CHECK(kmp_searcher_failure(s, i) == want, "fail[%zu] = %zu, want %zu", i, kmp_searcher_failure(s, i), want);
        }
        kmp_searcher_free(s);
    }
}

static void test_differential(void)
{
    rng r = {42};
    uint8_t h[700], p[16];
    for (int iter = 0; iter < 600; iter++) {
        size_t sigma = 1 + below(&r, 4);
        size_t n = below(&r, sizeof h);
        random_text(&r, h, n, sigma);
        size_t m = 1 + below(&r, iter % 5 == 0 ? sizeof p : 5);
        if (n >= m && below(&r, 2)) {  /* a needle taken from the text */
            memcpy(p, h + below(&r, n - m + 1), m);
        } else {
            random_text(&r, p, m, sigma);
        }
        check_all_ways(h, n, p, m, &r, iter < 10);
    }
}

static void test_periodic(void)
{
    static const char *units[] = {"a", "ab", "aab", "abaab", "\0\0\xff", "abcab", "aaaaaaab"};
    static const size_t unit_len[] = {1, 2, 3, 5, 3, 5, 8};
    rng r = {7};
    uint8_t h[2100], p[64];
    for (size_t u = 0; u < COUNT_OF(units); u++) {
        for (int iter = 0; iter < 25; iter++) {
            size_t reps = below(&r, sizeof h / unit_len[u]);
            size_t n = reps * unit_len[u];
            for (size_t i = 0; i < n; i++)
                h[i] = (uint8_t)units[u][i % unit_len[u]];
            size_t m = 1 + below(&r, sizeof p);
            for (size_t i = 0; i < m; i++)
                p[i] = (uint8_t)units[u][i % unit_len[u]];
            if (below(&r, 4) == 0)  /* a near miss */
                p[m - 1] ^= 1;
            check_all_ways(h, n, p, m, &r, iter < 2);
        }
    }
    /* adversarial, scaled down: a^n against a^999 b, and a^999 against a^n */
    size_t n = 300000;
    uint8_t *big = malloc(n);
    uint8_t *needle = malloc(1000);
    memset(big, 'a', n);
    memset(needle, 'a', 999);
    needle[999] = 'b';
    offsets none = {NULL, 0};
    kmp_searcher *s = make(needle, 1000);
    check_each_scan(s, big, n, needle, 1000, &none, 3, 5000);
    kmp_searcher_free(s);
    s = make(needle, 999);
    offsets all = naive(big, n, needle, 999);
    CHECK(all.len == n - 998, "naive");
    check_each_scan(s, big, n, needle, 999, &all, 4, 777);
    kmp_searcher_free(s);
    free(all.v);
    free(big);
    free(needle);
}

/* The skip kernels at every alignment and block length: pairs at every position, last byte. */
static void test_skip_edges(void)
{
    uint8_t h[300];
    const uint8_t pats[][3] = {{'x', 'y', 'z'}, {'x', 'x', 'y'}, {'x', 'y', 'x'}};
    rng r = {99};
    for (size_t pi = 0; pi < COUNT_OF(pats); pi++) {
        for (size_t m = 1; m <= 3; m++) {
            kmp_searcher *s = make(pats[pi], m);
            for (size_t n = 0; n <= 140; n++) {
                for (size_t pos = 0; pos <= n; pos++) {
                    memset(h, '.', n);
                    /* a lone first byte at pos - 1 or so: the traps of a pair search */
                    if (pos < n)
                        h[pos] = pats[pi][0];
                    if (pos + 1 < n && below(&r, 2))
                        h[pos + 1] = pats[pi][1];
                    if (pos + 2 < n && below(&r, 2))
                        h[pos + 2] = pats[pi][2];
                    if (n && below(&r, 4) == 0)
                        h[n - 1] = pats[pi][0];
                    offsets want = naive(h, n, pats[pi], m);
                    kmp_options opt = KMP_OPTIONS_INIT;
                    for (size_t b = 0; b < COUNT_OF(SIMDS); b++) {
                        opt.simd = SIMDS[b];
                        check_mem(s, h, n, pats[pi], m, &want, &opt);
                    }
                    free(want.v);
                }
            }
            kmp_searcher_free(s);
        }
    }
    /* long stretches: the unrolled loops of the SIMD kernels, matches far apart */
    size_t n = 100000;
    uint8_t *big = malloc(n);
    for (int iter = 0; iter < 20; iter++) {
        random_text(&r, big, n, 8);
        for (int k = 0; k < 30; k++)
            memcpy(big + below(&r, n - 3), "3J1", 3);
        static const char *needles[] = {"3J1", "3", "J1"};
        for (size_t w = 0; w < COUNT_OF(needles); w++) {
            const uint8_t *p = (const uint8_t *)needles[w];
            size_t m = strlen(needles[w]);
            kmp_searcher *s = make(p, m);
            kmp_options opt = KMP_OPTIONS_INIT;
            offsets want = naive(big + iter, n - (size_t)iter, p, m);
            for (size_t b = 0; b < COUNT_OF(SIMDS); b++) {
                opt.simd = SIMDS[b];
                opt.threads = 1 + (unsigned)below(&r, 4);
                opt.min_chunk = 1 + below(&r, 50000);
                check_mem(s, big + iter, n - (size_t)iter, p, m, &want, &opt);
            }
            free(want.v);
            kmp_searcher_free(s);
        }
    }
    free(big);
}

/* Chunk boundaries: needles as long as or longer than chunks, every thread count. */
static void test_chunks(void)
{
    rng r = {2024};
    uint8_t h[400], p[60];
    for (int iter = 0; iter < 30; iter++) {
        size_t n = below(&r, sizeof h);
        size_t sigma = 1 + below(&r, 2);
        random_text(&r, h, n, sigma);
        size_t m = 1 + below(&r, sizeof p);
        random_text(&r, p, m, sigma);
        check_all_ways(h, n, p, m, &r, 1);
    }
    /* NUL bytes everywhere */
    memset(h, 0, sizeof h);
    check_all_ways(h, sizeof h, h, 3, &r, 1);
    h[100] = 1;
    check_all_ways(h, sizeof h, h + 98, 4, &r, 1);
    /* more threads than positions, and the cap */
    kmp_searcher *s = make("ab", 2);
    kmp_options opt = KMP_OPTIONS_INIT;
    opt.threads = 100000;
    opt.min_chunk = 1;
    uint64_t cnt = 0;
    CHECK(kmp_count(s, "abab", 4, &opt, &cnt) == KMP_OK && cnt == 2, "many threads");
    kmp_searcher_free(s);
}

/* --- files ------------------------------------------------------------------------------ */

static void check_file(const kmp_searcher *s, int fd, const char *path, const offsets *want, const kmp_options *opt)
{
    kmp_matches got = KMP_MATCHES_INIT;
    uint64_t cnt = 999;
    int err = -1;
    kmp_status st = kmp_find_all_fd(s, fd, opt, &got, &err);
    CHECK(st == KMP_OK && err == 0, "find_all_fd: %s errno %d", kmp_strerror(st), err);
    CHECK(same(want, &got, 0), "find_all_fd threads=%u min_chunk=%" PRIu64 " block=%zu scan=%d: %zu vs %zu",
          opt->threads, opt->min_chunk, opt->block_size, opt->scan, got.len, want->len);
    st = kmp_count_fd(s, fd, opt, &cnt, &err);
    CHECK(st == KMP_OK && cnt == want->len, "count_fd: %s %" PRIu64 " vs %zu", kmp_strerror(st), cnt, want->len);
    if (path != NULL) {
        st = kmp_find_all_path(s, path, opt, &got, &err);
        CHECK(st == KMP_OK && same(want, &got, 0), "find_all_path: %s", kmp_strerror(st));
        st = kmp_count_path(s, path, opt, &cnt, &err);
        CHECK(st == KMP_OK && cnt == want->len, "count_path: %s", kmp_strerror(st));
    }
    kmp_matches_free(&got);
}

static void test_files(void)
{
    rng r = {5};
    static const size_t blocks[] = {1, 2, 3, 5, 8, 64, 4096, 0};
    char path[4200];
    for (int iter = 0; iter < 40; iter++) {
        size_t n = iter == 0 ? 0 : below(&r, 5000);
        size_t sigma = 1 + below(&r, 4);
        uint8_t *h = malloc(n + 1);
        random_text(&r, h, n, sigma);
        uint8_t p[24];
        size_t m = 1 + below(&r, iter % 4 == 0 ? sizeof p : 6);
        if (n >= m && below(&r, 2))
            memcpy(p, h + below(&r, n - m + 1), m);
        else
            random_text(&r, p, m, sigma);
        int fd = temp_file(h, n, path, sizeof path);
        kmp_searcher *s = make(p, m);
        offsets want = naive(h, n, p, m);
        kmp_options opt = KMP_OPTIONS_INIT;
        for (size_t b = 0; b < COUNT_OF(blocks); b++) {
            opt.block_size = blocks[b];
            random_way(&r, &PLANS, &opt);
            opt.min_chunk = MIN_CHUNKS[below(&r, COUNT_OF(MIN_CHUNKS))];
            check_file(s, fd, b == 0 ? path : NULL, &want, &opt);
        }
        /* a range inside the file: offsets stay file offsets */
        if (n > 10) {
            int64_t off = (int64_t)below(&r, n / 2), len = (int64_t)below(&r, n - (size_t)off);
            offsets part = naive(h + off, (size_t)len, p, m);
            kmp_matches got = KMP_MATCHES_INIT;
            int err;
            opt.block_size = 7;
            CHECK(kmp_find_all_fd_range(s, fd, off, len, &opt, &got, &err) == KMP_OK && same(&part, &got, off), "range");
            kmp_matches_free(&got);
            free(part.v);
        }
        free(want.v);
        kmp_searcher_free(s);
        close(fd);
        unlink(path);
        free(h);
    }
}

/* A file shorter than the range asked for: KMP_ERR_TRUNCATED with the matches that exist. */
static void test_truncated(void)
{
    char path[4200];
    size_t n = 10000;
    uint8_t *h = malloc(n);
    for (size_t i = 0; i < n; i++)
        h[i] = (uint8_t)"xx3J1yy"[i % 7];
    int fd = temp_file(h, n, path, sizeof path);
    kmp_searcher *s = make("3J1", 3);
    offsets want = naive(h, n, (const uint8_t *)"3J1", 3);
    kmp_options opt = KMP_OPTIONS_INIT;
    for (size_t t = 0; t < COUNT_OF(THREADS); t++) {
        opt.threads = THREADS[t];
        opt.min_chunk = 100;
        opt.block_size = 333;
        kmp_matches got = KMP_MATCHES_INIT;
        uint64_t cnt = 0;
        int err = -1;
        /* the range ends 5000 bytes past the end of the file (as if it shrank) */
        kmp_status st = kmp_find_all_fd_range(s, fd, 0, (int64_t)n + 5000, &opt, &got, &err);
        CHECK(st == KMP_ERR_TRUNCATED, "want TRUNCATED, got %s", kmp_strerror(st));
        CHECK(same(&want, &got, 0), "matches found before the end: %zu vs %zu", got.len, want.len);
        st = kmp_count_fd_range(s, fd, 0, (int64_t)n + 5000, &opt, &cnt, &err);
        CHECK(st == KMP_ERR_TRUNCATED && cnt == want.len, "count: %s %" PRIu64, kmp_strerror(st), cnt);
        /* a range wholly past the end */
        st = kmp_count_fd_range(s, fd, (int64_t)n + 10, 100, &opt, &cnt, &err);
        CHECK(st == KMP_ERR_TRUNCATED && cnt == 0, "past the end: %s", kmp_strerror(st));
        kmp_matches_free(&got);
    }
    close(fd);
    unlink(path);
    /* the file shrinks while it is searched, many times: never a crash, only real matches */
    size_t big = 1 << 20;
    uint8_t *b = malloc(big);
    for (size_t i = 0; i < big; i++)
        b[i] = (uint8_t)"xx3J1yy"[i % 7];
    fd = temp_file(b, big, path, sizeof path);
    int truncated = 0;
    for (int round = 0; round < 24; round++) {
        CHECK(ftruncate(fd, 0) == 0 && pwrite(fd, b, big, 0) == (ssize_t)big, "rewrite");
        opt.threads = 1 + (unsigned)(round % 4);
        opt.min_chunk = 4096;
        opt.block_size = 64;
        opt.scan = SCANS[round % 2];
        kmp_matches got = KMP_MATCHES_INIT;
        int err = 0;
        /* a child process truncates the file after a while: a real race, no threads of ours */
        pid_t child = fork();
        if (child == 0) {
            struct timespec ts = {0, 250000L * (round % 8)};
            nanosleep(&ts, NULL);
            int wfd = open(path, O_WRONLY);
            _exit(wfd >= 0 && ftruncate(wfd, (off_t)(big / 3)) == 0 ? 0 : 1);
        }
        kmp_status st = kmp_find_all_fd(s, fd, &opt, &got, &err);
        int wstatus = 0;
        while (waitpid(child, &wstatus, 0) < 0 && errno == EINTR) {
        }
        CHECK(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0, "truncating child");
        CHECK(st == KMP_OK || st == KMP_ERR_TRUNCATED, "status %s", kmp_strerror(st));
        truncated += st == KMP_ERR_TRUNCATED;
        int ok = 1;
        for (size_t i = 0; i < got.len; i++)
            ok &= got.offsets[i] >= 0 && (size_t)got.offsets[i] + 3 <= big &&
                  memcmp(b + got.offsets[i], "3J1", 3) == 0 && (i == 0 || got.offsets[i] > got.offsets[i - 1]);
        CHECK(ok, "only real matches, ascending");
        kmp_matches_free(&got);
    }
    printf("truncated while searching: %d of 24 rounds\n", truncated);
    free(b);
    free(want.v);
    kmp_searcher_free(s);
    close(fd);
    unlink(path);
    free(h);
}

/* Offsets past 4 GiB, through a sparse file and a range (fast: only a few bytes are read). */
static void test_large_offsets(void)
{
    char path[4200];
    int fd = temp_file((const uint8_t *)"", 0, path, sizeof path);
    const int64_t at = ((int64_t)5 << 30) + 7;
    if (ftruncate(fd, at + 4096) != 0 || pwrite(fd, "3J1", 3, at) != 3 || pwrite(fd, "3J1", 3, at + 3) != 3) {
        fprintf(stderr, "no sparse files here: skipping the large offsets test\n");
        close(fd);
        unlink(path);
        return;
    }
    kmp_searcher *s = make("3J1", 3);
    kmp_options opt = KMP_OPTIONS_INIT;
    opt.threads = 3;
    opt.min_chunk = 10;
    opt.block_size = 5;
    kmp_matches got = KMP_MATCHES_INIT;
    int err;
    kmp_status st = kmp_find_all_fd_range(s, fd, at - 100, 300, &opt, &got, &err);
    CHECK(st == KMP_OK && got.len == 2 && got.offsets[0] == at && got.offsets[1] == at + 3,
          "offsets past 4 GiB: %s, %zu matches", kmp_strerror(st), got.len);
    uint64_t cnt;
    st = kmp_count_fd_range(s, fd, at - 1, 7, &opt, &cnt, &err);
    CHECK(st == KMP_OK && cnt == 2, "count past 4 GiB");
    kmp_matches_free(&got);
    kmp_searcher_free(s);
    close(fd);
    unlink(path);
}

static void test_errors(void)
{
    kmp_searcher *s = NULL;
    CHECK(kmp_searcher_new("", 0, &s) == KMP_ERR_INVALID && s == NULL, "empty pattern");
    CHECK(kmp_searcher_new(NULL, 3, &s) == KMP_ERR_INVALID, "NULL pattern");
    CHECK(kmp_searcher_new("ab", 2, NULL) == KMP_ERR_INVALID, "NULL out");
    kmp_searcher_free(NULL);
    kmp_matches_free(NULL);
    s = make("ab", 2);
    uint64_t cnt;
    kmp_matches got = KMP_MATCHES_INIT;
    int err = 0;
    CHECK(kmp_count(NULL, "ab", 2, NULL, &cnt) == KMP_ERR_INVALID, "NULL searcher");
    CHECK(kmp_count(s, NULL, 2, NULL, &cnt) == KMP_ERR_INVALID, "NULL haystack");
    CHECK(kmp_count(s, NULL, 0, NULL, &cnt) == KMP_OK && cnt == 0, "NULL empty haystack");
    CHECK(kmp_count(s, "ab", 2, NULL, NULL) == KMP_ERR_INVALID, "NULL count");
    CHECK(kmp_find_all(s, "ab", 2, NULL, NULL) == KMP_ERR_INVALID, "NULL out");
    CHECK(kmp_find_all(s, "abab", 4, NULL, &got) == KMP_OK && got.len == 2, "defaults");
    /* a second call replaces the results */
    CHECK(kmp_find_all(s, "xab", 3, NULL, &got) == KMP_OK && got.len == 1 && got.offsets[0] == 1, "replace");
    kmp_options opt = KMP_OPTIONS_INIT;
    opt.scan = 7;
    CHECK(kmp_count(s, "ab", 2, &opt, &cnt) == KMP_ERR_INVALID, "bad scan");
    opt.scan = KMP_SCAN_FAST;
    opt.simd = 9;
    CHECK(kmp_count(s, "ab", 2, &opt, &cnt) == KMP_ERR_INVALID, "bad simd");
    CHECK(kmp_count_fd(s, -1, NULL, &cnt, &err) == KMP_ERR_INVALID, "fd -1");
    CHECK(kmp_count_fd(s, 987, NULL, &cnt, &err) == KMP_ERR_IO && err == EBADF, "closed fd: errno %d", err);
    CHECK(kmp_count_fd_range(s, 3, -1, 5, NULL, &cnt, &err) == KMP_ERR_INVALID, "negative offset");
    CHECK(kmp_count_fd_range(s, 3, INT64_MAX - 1, 5, NULL, &cnt, &err) == KMP_ERR_INVALID, "overflowing range");
    CHECK(kmp_count_path(s, "/nonexistent/kmp/file", NULL, &cnt, &err) == KMP_ERR_IO && err == ENOENT, "missing: %d", err);
    CHECK(kmp_find_all_path(s, tmpdir, NULL, &got, &err) == KMP_ERR_IO && err == EISDIR && got.len == 0, "dir: %d", err);
    CHECK(kmp_count_path(s, NULL, NULL, &cnt, &err) == KMP_ERR_INVALID, "NULL path");
    int pipefd[2];
    if (pipe(pipefd) == 0) {
        CHECK(kmp_count_fd(s, pipefd[0], NULL, &cnt, &err) == KMP_ERR_IO && err == EINVAL, "pipe: %d", err);
        CHECK(kmp_count_fd_range(s, pipefd[0], 0, 10, NULL, &cnt, &err) == KMP_ERR_IO && err == ESPIPE, "pipe range: %d", err);
        close(pipefd[0]);
        close(pipefd[1]);
    }
    /* a block size too large to allocate */
    char path[4200];
    int fd = temp_file((const uint8_t *)"abab", 4, path, sizeof path);
    opt.simd = KMP_SIMD_AUTO;
    opt.block_size = SIZE_MAX / 2;
    kmp_status st = kmp_count_fd_range(s, fd, 0, INT64_MAX / 2, &opt, &cnt, &err);
    CHECK(st == KMP_ERR_NOMEM, "huge block: %s", kmp_strerror(st));
    close(fd);
    unlink(path);
    /* messages */
    for (int c = 0; c <= 5; c++)
        CHECK(kmp_strerror((kmp_status)c) != NULL && *kmp_strerror((kmp_status)c), "message %d", c);
    CHECK(strcmp(kmp_version(), "0.1.0") == 0, "version");
    CHECK(strcmp(kmp_simd_name(KMP_SIMD_SCALAR), "scalar") == 0, "scalar name");
    printf("simd: auto=%s sse2=%s avx2=%s\n", kmp_simd_name(KMP_SIMD_AUTO), kmp_simd_name(KMP_SIMD_SSE2),
           kmp_simd_name(KMP_SIMD_AVX2));
    kmp_matches_free(&got);
    kmp_searcher_free(s);
}

/* One searcher, several threads, each running multi-threaded searches (for TSan). */
typedef struct shared_arg {
    shared_head head; /* run_shared's */
    const kmp_searcher *s;
    const uint8_t *h;
    size_t n;
    const offsets *want;
    const char *path;
} shared_arg;

static void *shared_worker(void *p)
{
    shared_arg *a = p;
    for (int k = 0; k < 6; k++) {
        kmp_options opt = shared_options(a->head.id, k);
        kmp_matches got = KMP_MATCHES_INIT;
        uint64_t cnt = 0;
        int err;
        if (kmp_find_all(a->s, a->h, a->n, &opt, &got) != KMP_OK || !same(a->want, &got, 0))
            a->head.bad++;
        if (kmp_count(a->s, a->h, a->n, &opt, &cnt) != KMP_OK || cnt != a->want->len)
            a->head.bad++;
        if (kmp_find_all_path(a->s, a->path, &opt, &got, &err) != KMP_OK || !same(a->want, &got, 0))
            a->head.bad++;
        kmp_matches_free(&got);
    }
    return NULL;
}

static void test_shared(void)
{
    rng r = {11};
    size_t n = 20000;
    uint8_t *h = malloc(n);
    random_text(&r, h, n, 3);
    char path[4200];
    int fd = temp_file(h, n, path, sizeof path);
    kmp_searcher *s = make("aab", 3);
    offsets want = naive(h, n, (const uint8_t *)"aab", 3);
    shared_arg args[6];
    for (int i = 0; i < 6; i++)
        args[i] = (shared_arg){{0, 0}, s, h, n, &want, path};
    run_shared(shared_worker, args, sizeof args[0], 6);
    free(want.v);
    kmp_searcher_free(s);
    close(fd);
    unlink(path);
    free(h);
}

/* --- the chunk plan ---------------------------------------------------------------------------- */

__extension__ typedef unsigned __int128 u128; /* GCC and Clang */

/* the plan's formula in 128-bit arithmetic (the reference of python/kmpsearch/_plan.py) */
static int plan_matches_reference(uint64_t n, uint64_t m, unsigned threads, uint64_t min_chunk)
{
    kmp_chunk got[KMP_MAX_THREADS];
    size_t k = 12345;
    if (kmp_plan(n, m, threads, min_chunk, got, COUNT_OF(got), &k) != KMP_OK)
        return 0;
    if (m > n)
        return k == 0;
    u128 P = (u128)n - m + 1;
    u128 t = threads > KMP_MAX_THREADS ? KMP_MAX_THREADS : threads;
    u128 want = P / min_chunk;
    want = want < t ? want : t;
    want = want < 1 ? 1 : want;
    if (k != (size_t)want)
        return 0;
    for (size_t i = 0; i < k; i++) {
        u128 start = P * i / want, end = P * (i + 1) / want + m - 1;
        if (got[i].start != (uint64_t)start || got[i].end != (uint64_t)end)
            return 0;
    }
    return 1;
}

static void test_plan(void)
{
    rng r = {31337};
    static const uint64_t ns[] = {0, 1, 2, 3, 7, 100, 4096, 1u << 20, (uint64_t)1 << 32, ((uint64_t)1 << 63) - 1,
                                  (uint64_t)1 << 63, ((uint64_t)1 << 63) + 12345, UINT64_MAX - 1, UINT64_MAX};
    long bad = 0, runs = 0;
    for (size_t a = 0; a < COUNT_OF(ns); a++) {
        for (int iter = 0; iter < 400; iter++) {
            uint64_t n = ns[a] - (ns[a] > 1000 ? below(&r, 1000) : 0);
            uint64_t m = 1 + (iter % 3 == 0 ? below(&r, 50) : next_u64(&r) % (n ? n + 1 : 2));
            unsigned threads = 1 + (unsigned)below(&r, iter % 5 == 0 ? 3000 : 300);
            uint64_t min_chunk = 1 + (iter % 2 ? below(&r, 100) : next_u64(&r) >> below(&r, 64));
            bad += !plan_matches_reference(n, m, threads, min_chunk);
            runs++;
        }
    }
    CHECK(bad == 0, "%ld of %ld plans differ from the reference", bad, runs);
    /* what the reference module's doctests say */
    kmp_chunk c[4];
    size_t k = 0;
    CHECK(kmp_plan(10, 3, 2, 1, c, 4, &k) == KMP_OK && k == 2 && c[0].start == 0 && c[0].end == 6 &&
          c[1].start == 4 && c[1].end == 10, "plan(10, 3, 2, 1)");
    CHECK(kmp_plan(10, 3, 4, 4, c, 4, &k) == KMP_OK && k == 2 && c[1].end == 10, "plan(10, 3, 4, 4)");
    CHECK(kmp_plan(2, 3, 2, 1, c, 4, &k) == KMP_OK && k == 0, "plan(2, 3, 2, 1)");
    /* counting only, a short array, bad arguments */
    CHECK(kmp_plan(1000, 3, 8, 1, NULL, 0, &k) == KMP_OK && k == 8, "count only");
    CHECK(kmp_plan(1000, 3, 8, 1, c, 2, &k) == KMP_OK && k == 8 && c[1].end == 2 * 998 / 8 + 2, "short array");
    CHECK(kmp_plan(10, 0, 1, 1, c, 4, &k) == KMP_ERR_INVALID && k == 0, "m 0");
    CHECK(kmp_plan(10, 1, 0, 1, c, 4, &k) == KMP_ERR_INVALID, "threads 0");
    CHECK(kmp_plan(10, 1, 1, 0, c, 4, &k) == KMP_ERR_INVALID, "min_chunk 0");
    CHECK(kmp_plan(10, 1, 1, 1, NULL, 4, &k) == KMP_ERR_INVALID, "NULL chunks");
    CHECK(kmp_plan(10, 1, 1, 1, c, 4, NULL) == KMP_ERR_INVALID, "NULL k");
}

/* --- cancel ------------------------------------------------------------------------------ */

typedef struct canceller {
    volatile unsigned char *flag;
    unsigned delay_ms;
} canceller;

static void *cancel_later(void *p)
{
    canceller *c = p;
    struct timespec ts = {0, (long)c->delay_ms * 1000000L};
    nanosleep(&ts, NULL);
    __atomic_store_n((unsigned char *)c->flag, 1, __ATOMIC_RELAXED);
    return NULL;
}

/* A flag set before the call: KMP_ERR_CANCELLED in memory and from a file, on one thread
 * and on several. A flag set by another thread during a long search stops it early. */
static void test_cancel(void)
{
    const size_t n = (size_t)64 << 20;
    uint8_t *h = malloc(n);
    if (h == NULL)
        abort();
    memset(h, 'a', n);
    uint8_t pat[200];
    memset(pat, 'a', sizeof pat - 1);
    pat[sizeof pat - 1] = 'b';
    kmp_searcher *s = make(pat, sizeof pat);
    volatile unsigned char flag = 1;
    kmp_options opt = KMP_OPTIONS_INIT;
    opt.cancel = &flag;
    uint64_t cnt = 0;
    kmp_matches got = KMP_MATCHES_INIT;
    char path[4200];
    int fd = temp_file(h, 1 << 20, path, sizeof path);
    int err = 0;
    for (unsigned threads = 1; threads <= 3; threads++) {
        opt.threads = threads;
        opt.min_chunk = 1;
        for (size_t a = 0; a < COUNT_OF(SCANS); a++) {
            opt.scan = SCANS[a];
            kmp_status st = kmp_count(s, h, n, &opt, &cnt);
            CHECK(st == KMP_ERR_CANCELLED, "count: %s", kmp_strerror(st));
            st = kmp_find_all(s, h, n, &opt, &got);
            CHECK(st == KMP_ERR_CANCELLED, "find_all: %s", kmp_strerror(st));
            st = kmp_count_fd(s, fd, &opt, &cnt, &err);
            CHECK(st == KMP_ERR_CANCELLED && err == 0, "count_fd: %s", kmp_strerror(st));
        }
    }
    /* an empty haystack has nothing to cancel */
    CHECK(kmp_count(s, h, 0, &opt, &cnt) == KMP_OK && cnt == 0, "empty");

    /* set from another thread during a textbook scan of 64 MiB on 2 threads */
    flag = 0;
    opt.threads = 2;
    opt.min_chunk = 0;
    opt.scan = KMP_SCAN_TEXTBOOK;
    canceller c = {&flag, 5};
    pthread_t t;
    if (pthread_create(&t, NULL, cancel_later, &c) == 0) {
        kmp_status st = kmp_count(s, h, n, &opt, &cnt);
        pthread_join(t, NULL);
        /* a very fast machine may finish first: then the count is right */
        CHECK(st == KMP_ERR_CANCELLED || (st == KMP_OK && cnt == 0), "concurrent: %s", kmp_strerror(st));
    }
    CHECK(strcmp(kmp_strerror(KMP_ERR_CANCELLED), "the search was cancelled") == 0, "strerror");
    kmp_matches_free(&got);
    kmp_searcher_free(s);
    close(fd);
    unlink(path);
    free(h);
}

/* --- the pair skip --------------------------------------------------------------------- */

/* A file holding h[0..n): every scan, SIMD level and block size in blocks[] (0: the
 * default), on one thread and on several. */
static void check_file_blocks(const uint8_t *h, size_t n, const uint8_t *p, size_t m, const size_t *blocks,
                              size_t nblocks)
{
    char path[4200];
    int fd = temp_file(h, n, path, sizeof path);
    kmp_searcher *s = make(p, m);
    offsets want = naive(h, n, p, m);
    kmp_options opt = KMP_OPTIONS_INIT;
    for (size_t b = 0; b < nblocks; b++) {
        opt.block_size = blocks[b];
        for (size_t a = 0; a < COUNT_OF(SCANS); a++) {
            opt.scan = SCANS[a];
            opt.simd = SIMDS[(b + a) % COUNT_OF(SIMDS)];
            opt.threads = 1;
            opt.min_chunk = 0;
            check_file(s, fd, NULL, &want, &opt);
            opt.threads = 3;
            opt.min_chunk = 1 + n / 5;
            check_file(s, fd, NULL, &want, &opt);
        }
    }
    free(want.v);
    kmp_searcher_free(s);
    close(fd);
    unlink(path);
}

/* The fast scan's pair: pat[0] and pat[d], d the last offset whose byte differs from pat[0].
 * Near misses (`a`x999 `b` over (`a`x998 `b`) repeated: every `b` a near miss), periodic
 * needles with the pair at offsets 1 to 100, and pairs cut by chunk, piece and file block
 * boundaries (blocks shorter than d, about d, longer). Results only, against the naive
 * search. */
static void test_pair_skip(void)
{
    rng r = {31337};
    /* near misses, scaled down: (a^998 b) repeated, needles a^k b around 999 */
    size_t n = 200000;
    uint8_t *h = malloc(n);
    uint8_t *p = malloc(1002);
    for (size_t i = 0; i < n; i++)
        h[i] = i % 999 == 998 ? 'b' : 'a';
    static const size_t ks[] = {997, 998, 999, 1000};
    static const size_t blocks[] = {1, 7, 998, 999, 1000, 1001, 4096, 0};
    for (int planted = 0; planted < 2; planted++) {
        if (planted) {
            /* a few real matches of a^999 b: a b turned into a, the next b then ends one;
             * one near each chunk boundary of 3 and 4 threads, one at each end */
            size_t at[] = {998, n / 3, n / 2, 2 * n / 3, n / 4, 3 * n / 4, n - 2000};
            for (size_t t = 0; t < COUNT_OF(at); t++)
                h[at[t] - at[t] % 999 + 998] = 'a';
        }
        for (size_t k = 0; k < COUNT_OF(ks); k++) {
            memset(p, 'a', ks[k]);
            p[ks[k]] = 'b';
            offsets want = naive(h, n, p, ks[k] + 1);
            CHECK(ks[k] != 999 || want.len == (planted ? 7u : 0u), "planted %zu", want.len);
            free(want.v);
            check_all_ways(h, n, p, ks[k] + 1, &r, 0);
        }
        memset(p, 'a', 999);
        p[999] = 'b';
        check_file_blocks(h, n, p, 1000, blocks, COUNT_OF(blocks));
    }
    /* the same needle over (a^997 b) repeated: there the pair passes once a period */
    for (size_t i = 0; i < n; i++)
        h[i] = i % 998 == 997 ? 'b' : 'a';
    check_all_ways(h, 20000, p, 1000, &r, 1);
    check_file_blocks(h, 20000, p, 1000, blocks, COUNT_OF(blocks));
    free(h);
    free(p);

    /* periodic needles: a prefix of period u, then pat[d] != pat[0], then s more pat[0];
     * texts of the same period with the needle planted and bytes flipped */
    static const char *units[] = {"a", "ab", "aab", "abc", "abaab"};
    static const size_t ds[] = {1, 2, 3, 5, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100};
    uint8_t pat[110], text[3000];
    for (size_t u = 0; u < COUNT_OF(units); u++) {
        size_t ul = strlen(units[u]);
        for (size_t di = 0; di < COUNT_OF(ds); di++) {
            size_t d = ds[di];
            size_t m = d + 1 + below(&r, 4);
            for (size_t i = 0; i < m; i++)
                pat[i] = i < d ? (uint8_t)units[u][i % ul] : 'a';
            pat[d] = units[u][d % ul] != 'a' ? (uint8_t)units[u][d % ul] : (uint8_t)'z';
            size_t tn = 500 + below(&r, sizeof text - 500);
            for (size_t i = 0; i < tn; i++)
                text[i] = (uint8_t)units[u][i % ul];
            for (size_t k = below(&r, 4); k > 0 && tn >= m; k--)
                memcpy(text + below(&r, tn - m + 1), pat, m);
            for (size_t k = below(&r, 6); k > 0; k--)
                text[below(&r, tn)] = pat[d];
            if (below(&r, 2))  /* a needle cut short at the very end */
                memcpy(text + tn - m + 1, pat, m - 1);
            check_all_ways(text, tn, pat, m, &r, di % 5 == 0);
            static const size_t few[] = {1, 2, 16, 64, 0};
            if (di % 3 == 0)
                check_file_blocks(text, tn, pat, m, few, COUNT_OF(few));
        }
    }

    /* the kernels with the pair d apart, at every alignment and block length: x at pos and y
     * at pos + d, the whole needle some of the time, a lone x at the end */
    static const size_t kd[] = {1, 2, 15, 16, 17, 33, 64};
    uint8_t hay[200];
    for (size_t di = 0; di < COUNT_OF(kd); di++) {
        size_t d = kd[di], m = d + 1;
        for (size_t i = 0; i < m; i++)
            pat[i] = '-';
        pat[0] = 'x';
        pat[d] = 'y';
        kmp_searcher *s = make(pat, m);
        for (size_t hn = 0; hn <= d + 80 && hn <= sizeof hay; hn++) {
            for (size_t pos = 0; pos <= hn; pos++) {
                memset(hay, '.', hn);
                if (pos < hn)
                    hay[pos] = 'x';
                if (pos + d < hn && below(&r, 4))
                    hay[pos + d] = 'y';
                if (pos + m <= hn && below(&r, 3) == 0)
                    memcpy(hay + pos, pat, m);
                if (hn && below(&r, 4) == 0)
                    hay[hn - 1] = 'x';
                offsets want = naive(hay, hn, pat, m);
                kmp_options opt = KMP_OPTIONS_INIT;
                for (size_t b = 0; b < COUNT_OF(SIMDS); b++) {
                    opt.simd = SIMDS[b];
                    check_mem(s, hay, hn, pat, m, &want, &opt);
                }
                /* pieces around d bytes: the pair cut by a piece boundary */
                static const volatile unsigned char never = 0;
                opt.cancel = &never;
                opt.block_size = d + below(&r, 3) - (d > 1 ? 1 : 0);
                opt.simd = SIMDS[below(&r, COUNT_OF(SIMDS))];
                check_mem(s, hay, hn, pat, m, &want, &opt);
                free(want.v);
            }
        }
        kmp_searcher_free(s);
    }
}

/* --- main -------------------------------------------------------------------------------- */

static const test_group GROUPS[] = {
    {"failure", test_failure},   {"differential", test_differential},
    {"periodic", test_periodic}, {"skip_edges", test_skip_edges},
    {"chunks", test_chunks},     {"files", test_files},
    {"truncated", test_truncated}, {"large_offsets", test_large_offsets},
    {"errors", test_errors},     {"shared", test_shared},
    {"plan", test_plan},         {"cancel", test_cancel},
    {"pair_skip", test_pair_skip},
};

int main(int argc, char **argv) { return run_groups(GROUPS, COUNT_OF(GROUPS), argc, argv); }
