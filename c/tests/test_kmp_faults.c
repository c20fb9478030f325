/*
 * Fault injection for libkmpsearch's file search, run by ctest where the linker can wrap
 * symbols (GNU ld, lld): the library's pread is replaced (-Wl,--wrap=pread64,--wrap=pread)
 * by one that fails with EIO at offsets at or past a threshold, or that sees the file end
 * at an offset (as if it were truncated while being searched).
 *
 * What it checks: when one chunk finds the end of the file early (KMP_ERR_TRUNCATED) and a
 * later chunk's read fails (KMP_ERR_IO), the search reports the I/O error and its errno,
 * not "truncated" (which the Python binding treats as "here is what was found"); a word-set
 * search of a file that ends early finds exactly the matches in the bytes before the end,
 * whatever the threads and the read block size. pthread_create is wrapped too: a chunk whose
 * thread cannot be started runs on the calling thread, with the same results. A batch of
 * files (kmp_batch_search) gives a file whose read fails its errno and no matches, a file
 * that ends early the matches before its end, and the same results when threads are refused.
 */
#define _POSIX_C_SOURCE 200809L
#define _FILE_OFFSET_BITS 64

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "kmp.h"

static off_t fail_from = -1; /* reads at offsets >= this fail with EIO; -1: none */
static off_t eof_at = -1;    /* the file seems to end here (reads stop short); -1: none */
static int refuse_threads = 0; /* pthread_create fails (EAGAIN) for every refuse_threads-th call */
static int thread_calls = 0;   /* (only the test's main thread starts searches here) */

int __real_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
    if (refuse_threads > 0 && ++thread_calls % refuse_threads == 0)
        return EAGAIN;
    return __real_pthread_create(t, a, fn, arg);
}

ssize_t __real_pread64(int fd, void *buf, size_t n, off_t off);
ssize_t __wrap_pread64(int fd, void *buf, size_t n, off_t off);
ssize_t __real_pread(int fd, void *buf, size_t n, off_t off);
ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off);

ssize_t __wrap_pread64(int fd, void *buf, size_t n, off_t off)
{
    if (fail_from >= 0 && off >= fail_from) {
        errno = EIO;
        return -1;
    }
    if (eof_at >= 0 && (off >= eof_at || (off_t)n > eof_at - off))
        n = off >= eof_at ? 0 : (size_t)(eof_at - off);
    return __real_pread64(fd, buf, n, off);
}

ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off)
{
    if (fail_from >= 0 && off >= fail_from) {
        errno = EIO;
        return -1;
    }
    if (eof_at >= 0 && (off >= eof_at || (off_t)n > eof_at - off))
        n = off >= eof_at ? 0 : (size_t)(eof_at - off);
    return __real_pread(fd, buf, n, off);
}

static int failures = 0;
#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            failures++;                                                                    \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond);       \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fputc('\n', stderr);                                                           \
        }                                                                                  \
    } while (0)

/* naive (start, word) matches of words in h[0..n), (start, word) order */
static size_t naive_pairs(const uint8_t *h, size_t n, const char *const *words, size_t nw, int64_t *off,
                          uint32_t *word)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t w = 0; w < nw; w++) {
            size_t len = strlen(words[w]);
            if (len <= n - i && memcmp(h + i, words[w], len) == 0) {
                off[k] = (int64_t)i;
                word[k++] = (uint32_t)w;
            }
        }
    return k;
}

/* A word-set search of a file whose reads end at eof_at: KMP_ERR_TRUNCATED, and exactly the
 * matches that lie wholly before eof_at. */
static void check_words_truncated(void)
{
    static const char *const words[] = {"ab", "abcab", "ca", "bcabcabca", "b"};
    size_t lens[5];
    for (size_t i = 0; i < 5; i++)
        lens[i] = strlen(words[i]);
    uint8_t data[3000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)"abcabcabcabxabcab"[(i * 7 + i / 13) % 17];
    char path[] = "/tmp/kmp-faults-words-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, data, sizeof data) != (ssize_t)sizeof data) {
        perror("temp file");
        exit(2);
    }
    unlink(path);
    kmp_wordset *ws = NULL;
    if (kmp_wordset_new((const void *const *)words, lens, 5, 0, &ws) != KMP_OK)
        exit(2);
    int64_t want_off[3000 * 5];
    uint32_t want_word[3000 * 5];
    for (off_t cut = 0; cut <= 2990; cut += 230) {
        eof_at = cut;
        size_t want = naive_pairs(data, (size_t)cut, words, 5, want_off, want_word);
        for (size_t block = 1; block <= 80; block += 9) {
            for (unsigned threads = 1; threads <= 5; threads += 2) {
                kmp_options opt = KMP_OPTIONS_INIT;
                opt.threads = threads;
                opt.min_chunk = 1 + block * 3;
                opt.block_size = block;
                opt.scan = (int)(block % 2);
                kmp_word_matches m = KMP_WORD_MATCHES_INIT;
                int err = -1;
                kmp_status st = kmp_wordset_find_all_fd(ws, fd, &opt, &m, &err);
                int ok = st == KMP_ERR_TRUNCATED && err == 0 && m.len == want;
                for (size_t i = 0; ok && i < want; i++)
                    ok = m.offsets[i] == want_off[i] && m.words[i] == want_word[i];
                CHECK(ok, "words, file ending at %lld, block %zu, threads %u: %s, %zu vs %zu matches",
                      (long long)cut, block, threads, kmp_strerror(st), m.len, want);
                uint64_t count = 0;
                st = kmp_wordset_count_fd(ws, fd, &opt, &count, &err);
                CHECK(st == KMP_ERR_TRUNCATED && count == want, "count, file ending at %lld", (long long)cut);
                kmp_word_matches_free(&m);
            }
        }
    }
    eof_at = -1;
    kmp_wordset_free(ws);
    close(fd);
}

/* Threads that cannot be started: their chunks run on the calling thread, same results. */
static void check_threads_refused(void)
{
    static const char *const words[] = {"ab", "abcab", "ca", "b"};
    size_t lens[4] = {2, 5, 2, 1};
    uint8_t data[5000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)"abcabcabxab"[(i * 5 + i / 7) % 11];
    int64_t want_off[5000 * 4];
    uint32_t want_word[5000 * 4];
    size_t want = naive_pairs(data, sizeof data, words, 4, want_off, want_word);
    kmp_wordset *ws = NULL;
    kmp_searcher *s = NULL;
    if (kmp_wordset_new((const void *const *)words, lens, 4, 0, &ws) != KMP_OK || kmp_searcher_new("ab", 2, &s) != KMP_OK)
        exit(2);
    uint64_t pattern_count = 0;
    for (size_t i = 0; i < want; i++)
        pattern_count += want_word[i] == 0;
    for (int every = 1; every <= 3; every++) {
        refuse_threads = every; /* 1: no thread ever starts */
        kmp_options opt = KMP_OPTIONS_INIT;
        opt.threads = 7;
        opt.min_chunk = 100;
        kmp_word_matches m = KMP_WORD_MATCHES_INIT;
        kmp_status st = kmp_wordset_find_all(ws, data, sizeof data, &opt, &m);
        int ok = st == KMP_OK && m.len == want;
        for (size_t i = 0; ok && i < want; i++)
            ok = m.offsets[i] == want_off[i] && m.words[i] == want_word[i];
        CHECK(ok, "threads refused (1 in %d): %s, %zu vs %zu matches", every, kmp_strerror(st), m.len, want);
        kmp_word_matches_free(&m);
        uint64_t count = 0;
        st = kmp_count(s, data, sizeof data, &opt, &count);
        CHECK(st == KMP_OK && count == pattern_count, "single pattern, threads refused (1 in %d)", every);
    }
    CHECK(thread_calls > 0, "the engine asked for threads");
    refuse_threads = 0;
    kmp_wordset_free(ws);
    kmp_searcher_free(s);
}

/* A batch of files (kmp_batch_search) read in 100-byte blocks: with reads failing from offset
 * 200, the files longer than that have status EIO and no matches (what their first reads
 * found is dropped), the others theirs; with the files seeming to end at 120, the longer ones
 * have status 0 and the matches before 120; with threads refused, the same results. */
static void check_batch(void)
{
    static const char *const words[] = {"ab", "abcab", "ca", "b"};
    size_t lens[4] = {2, 5, 2, 1};
    enum { FILES = 8 };
    uint8_t data[400];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)"abcabcabxab"[(i * 5 + i / 7) % 11];
    char dir[] = "/tmp/kmp-faults-batch-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        exit(2);
    }
    char names[FILES][64];
    const char *paths[FILES];
    size_t sizes[FILES];
    for (size_t f = 0; f < FILES; f++) {
        sizes[f] = 50 * f + 30; /* 30 .. 380 */
        snprintf(names[f], sizeof names[f], "%s/f%zu", dir, f);
        int fd = open(names[f], O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || write(fd, data, sizes[f]) != (ssize_t)sizes[f]) {
            perror("batch file");
            exit(2);
        }
        close(fd);
        paths[f] = names[f];
    }
    kmp_wordset *ws = NULL;
    kmp_searcher *s = NULL;
    if (kmp_wordset_new((const void *const *)words, lens, 4, 0, &ws) != KMP_OK || kmp_searcher_new("ab", 2, &s) != KMP_OK)
        exit(2);
    static int64_t off[400 * 4];
    static uint32_t word[400 * 4];
    for (int fault = 0; fault < 4; fault++) {
        /* 0: none, 1: EIO from 200, 2: the files end at 120, 3: threads refused */
        fail_from = fault == 1 ? 200 : -1;
        eof_at = fault == 2 ? 120 : -1;
        refuse_threads = fault == 3 ? 2 : 0;
        for (int kind = 0; kind < 2; kind++) {
            for (int want = KMP_WANT_COUNT; want <= KMP_WANT_PAIRS; want++) {
                for (unsigned threads = 1; threads <= 4; threads += 3) {
                    kmp_options opt = KMP_OPTIONS_INIT;
                    opt.threads = threads;
                    opt.block_size = 100;
                    opt.scan = want % 2;
                    kmp_batch_result out = KMP_BATCH_RESULT_INIT;
                    kmp_status st = kmp_batch_search(kind ? NULL : s, kind ? ws : NULL, paths, FILES, 1000, want,
                                                     &opt, &out);
                    int ok = st == KMP_OK && out.n == FILES;
                    const size_t nw = kind ? 4 : 1;
                    for (size_t f = 0; ok && f < FILES; f++) {
                        int failed = fault == 1 && sizes[f] > 200;
                        size_t seen = fault == 2 && sizes[f] > 120 ? 120 : sizes[f];
                        size_t k = failed ? 0 : naive_pairs(data, seen, words, nw, off, word);
                        ok = out.status[f] == (failed ? EIO : 0);
                        if (ok && want == KMP_WANT_COUNT)
                            ok = out.counts[f] == k;
                        for (size_t w = 0; ok && want == KMP_WANT_EACH && w < nw; w++) {
                            uint64_t c = 0;
                            for (size_t j = 0; j < k; j++)
                                c += word[j] == w;
                            ok = out.counts[f * nw + w] == c;
                        }
                        if (ok && want >= KMP_WANT_OFFSETS) {
                            ok = out.bounds[f + 1] - out.bounds[f] == (int64_t)k;
                            for (size_t j = 0; ok && j < k; j++)
                                ok = out.offsets[out.bounds[f] + (int64_t)j] == off[j] &&
                                     (want == KMP_WANT_OFFSETS || out.words[out.bounds[f] + (int64_t)j] == word[j]);
                        }
                        if (!ok)
                            fprintf(stderr, "file %zu (%zu bytes): status %lld\n", f, sizes[f],
                                    (long long)out.status[f]);
                    }
                    CHECK(ok, "batch, fault %d, %s, want %d, threads %u: %s", fault, kind ? "words" : "pattern", want,
                          threads, kmp_strerror(st));
                    kmp_batch_result_free(&out);
                }
            }
        }
    }
    fail_from = eof_at = -1;
    refuse_threads = 0;
    for (size_t f = 0; f < FILES; f++)
        unlink(names[f]);
    rmdir(dir);
    kmp_wordset_free(ws);
    kmp_searcher_free(s);
}

int main(void)
{
    char path[] = "/tmp/kmp-faults-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("mkstemp");
        return 2;
    }
    unlink(path);
    if (write(fd, "abcabcabcabc", 12) != 12) {
        perror("write");
        return 2;
    }
    kmp_searcher *s = NULL;
    if (kmp_searcher_new("abc", 3, &s) != KMP_OK) {
        fprintf(stderr, "kmp_searcher_new failed\n");
        return 2;
    }
    kmp_options opt = KMP_OPTIONS_INIT;
    opt.threads = 2;
    opt.min_chunk = 1;
    uint64_t count = 0;
    int err = 0;

    /* without faults: a range past the end of the 12-byte file is TRUNCATED, 4 matches */
    kmp_status st = kmp_count_fd_range(s, fd, 0, 2000, &opt, &count, &err);
    CHECK(st == KMP_ERR_TRUNCATED && count == 4 && err == 0, "no faults: %s, %llu, errno %d",
          kmp_strerror(st), (unsigned long long)count, err);

    /* chunk 0 (from offset 0) hits the end of the file at 12; chunk 1 (from offset ~999)
     * gets EIO */
    fail_from = 900;
    st = kmp_count_fd_range(s, fd, 0, 2000, &opt, &count, &err);
    CHECK(st == KMP_ERR_IO && err == EIO, "truncated + EIO: %s, errno %d", kmp_strerror(st), err);
    kmp_matches m = {0};
    st = kmp_find_all_fd_range(s, fd, 0, 2000, &opt, &m, &err);
    CHECK(st == KMP_ERR_IO && err == EIO, "find_all, truncated + EIO: %s, errno %d", kmp_strerror(st), err);
    kmp_matches_free(&m);

    /* one chunk, EIO only */
    opt.threads = 1;
    st = kmp_count_fd_range(s, fd, 1000, 2000, &opt, &count, &err);
    CHECK(st == KMP_ERR_IO && err == EIO, "EIO only: %s, errno %d", kmp_strerror(st), err);

    kmp_searcher_free(s);
    close(fd);
    fail_from = -1;
    check_words_truncated();
    check_threads_refused();
    int calls = thread_calls;
    check_batch();
    CHECK(thread_calls > calls, "the batch asked for threads");
    if (failures == 0)
        printf("faults: all checks passed\n");
    return failures == 0 ? 0 : 1;
}
