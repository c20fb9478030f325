/*
 * What the C test programs share: CHECK, a seeded generator, temporary files, the option
 * grids every search is checked over (for_all_ways), the threads of the sharing tests
 * (run_shared) and the group runner (run_groups).
 */
#ifndef KMP_TESTUTIL_H
#define KMP_TESTUTIL_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kmp.h"

static long failures = 0;
static long checks = 0;

#define CHECK(cond, ...)                                                         \
    do {                                                                         \
        checks++;                                                                \
        if (!(cond)) {                                                           \
            failures++;                                                          \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                        \
            fputc('\n', stderr);                                                 \
            if (failures > 20) {                                                 \
                fprintf(stderr, "too many failures\n");                          \
                exit(1);                                                         \
            }                                                                    \
        }                                                                        \
    } while (0)

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

typedef struct rng { uint64_t s; } rng;
static inline uint64_t next_u64(rng *r)  /* splitmix64 */
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static inline size_t below(rng *r, size_t n) { return n ? (size_t)(next_u64(r) % n) : 0; }

static char tmpdir[4096];

static void init_tmpdir(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s", t && *t ? t : "/tmp");
}

/* a new file holding data[0..n) (its path in path), open read-write */
static inline int temp_file(const uint8_t *data, size_t n, char *path, size_t cap)
{
    snprintf(path, cap, "%s/kmp-test-XXXXXX", tmpdir);
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("mkstemp");
        exit(1);
    }
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, data + done, n - done);
        if (w <= 0) {
            perror("write");
            exit(1);
        }
        done += (size_t)w;
    }
    return fd;
}

static inline double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* --- the options a search is checked under ------------------------------------------------ */

static const int SCANS[] = {KMP_SCAN_FAST, KMP_SCAN_TEXTBOOK};
static const int SIMDS[] = {KMP_SIMD_AUTO, KMP_SIMD_SCALAR, KMP_SIMD_SSE2, KMP_SIMD_AVX2};

/* a check of one search (the caller's haystack and reference in ctx) under opt */
typedef void (*check_fn)(const kmp_options *opt, void *ctx);

/* the plans a program draws from: its thread counts, the min_chunk values of the exhaustive
 * grid, and a random plan's min_chunk 1 + below(1 + n / plan_div) */
typedef struct plans {
    const unsigned *threads;
    size_t nthreads;
    const uint64_t *min_chunks;
    size_t nmin_chunks;
    size_t plan_div;
} plans;

/*
 * check(opt, ctx) under every scan and SIMD level: on one thread, on a random plan, and in
 * memory pieces (a cancel flag that is never set: pieces of a random block size, then of 1..8
 * bytes); with exhaustive, also for each scan the grid of thread counts x min_chunk values.
 * n: the haystack's length (the random plans' scale).
 */
static inline void for_all_ways(const plans *pl, size_t n, rng *r, int exhaustive, check_fn check, void *ctx)
{
    static const volatile unsigned char never = 0;
    kmp_options opt = KMP_OPTIONS_INIT;
    for (size_t a = 0; a < COUNT_OF(SCANS); a++) {
        opt.scan = SCANS[a];
        for (size_t b = 0; b < COUNT_OF(SIMDS); b++) {
            opt.simd = SIMDS[b];
            opt.threads = 1;
            opt.min_chunk = 0;
            check(&opt, ctx);
            opt.threads = pl->threads[below(r, pl->nthreads)];
            opt.min_chunk = 1 + below(r, 1 + n / pl->plan_div);
            check(&opt, ctx);
            opt.cancel = &never;
            opt.block_size = 1 + below(r, 1 + n / 2);
            check(&opt, ctx);
            opt.block_size = 1 + below(r, 8);
            check(&opt, ctx);
            opt.cancel = NULL;
            opt.block_size = 0;
        }
        opt.simd = KMP_SIMD_AUTO;
        for (size_t t = 0; exhaustive && t < pl->nthreads; t++) {
            for (size_t c = 0; c < pl->nmin_chunks; c++) {
                opt.threads = pl->threads[t];
                opt.min_chunk = pl->min_chunks[c];
                check(&opt, ctx);
            }
        }
    }
}

/* a random scan, SIMD level and thread count for one search (in that order of draws) */
static inline void random_way(rng *r, const plans *pl, kmp_options *opt)
{
    opt->scan = SCANS[below(r, COUNT_OF(SCANS))];
    opt->simd = SIMDS[below(r, COUNT_OF(SIMDS))];
    opt->threads = pl->threads[below(r, pl->nthreads)];
}

/* --- one object, several threads --------------------------------------------------------- */

/* what each sharing thread's argument starts with: its number, and its wrong results */
typedef struct shared_head {
    int id;
    long bad;
} shared_head;

/* the options of round k (0..5) of sharing thread id: threads 1..4, both scans, small reads */
static inline kmp_options shared_options(int id, int k)
{
    kmp_options opt = KMP_OPTIONS_INIT;
    opt.threads = 1 + (unsigned)((id + k) % 4);
    opt.min_chunk = 100 + (uint64_t)k * 37;
    opt.scan = SCANS[k % 2];
    opt.block_size = 1000;
    return opt;
}

/* worker on `count` threads at once (at most 8), each given its argument in args (`size`
 * bytes apart, each starting with a shared_head: its id is set here); then every thread
 * must report no wrong results */
static inline void run_shared(void *(*worker)(void *), void *args, size_t size, int count)
{
    pthread_t tids[8];
    if (count > 8)
        count = 8;
    for (int i = 0; i < count; i++) {
        shared_head *h = (shared_head *)((char *)args + (size_t)i * size);
        h->id = i;
        h->bad = 0;
        CHECK(pthread_create(&tids[i], NULL, worker, h) == 0, "pthread_create");
    }
    for (int i = 0; i < count; i++) {
        pthread_join(tids[i], NULL);
        const shared_head *h = (const shared_head *)((const char *)args + (size_t)i * size);
        CHECK(h->bad == 0, "thread %d: %ld wrong results", i, h->bad);
    }
}

/* --- groups ---------------------------------------------------------------------------------- */

typedef struct test_group {
    const char *name;
    void (*fn)(void);
} test_group;

/* `PROGRAM GROUP` runs one group, `PROGRAM` or `PROGRAM all` every one: the exit status */
static inline int run_groups(const test_group *groups, size_t count, int argc, char **argv)
{
    init_tmpdir();
    const char *which = argc > 1 ? argv[1] : "all";
    int ran = 0;
    for (size_t g = 0; g < count; g++) {
        if (strcmp(which, "all") == 0 || strcmp(which, groups[g].name) == 0) {
            long before = failures;
            groups[g].fn();
            printf("%-14s %s\n", groups[g].name, failures == before ? "ok" : "FAILED");
            ran++;
        }
    }
    if (!ran) {
        fprintf(stderr, "unknown test group %s\n", which);
        return 2;
    }
    printf("%ld checks, %ld failed\n", checks, failures);
    return failures ? 1 : 0;
}

#endif /* KMP_TESTUTIL_H */
