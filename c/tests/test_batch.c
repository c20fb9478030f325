/*
 * Unit tests of kmp_batch_search, run by ctest: `test_batch GROUP` runs one group (`all`:
 * every one). Batches of generated files (regular files of many sizes, empty ones, missing
 * paths, a directory, a FIFO, a device, files of max_size bytes and more, a symbolic link)
 * against per-file searches of the same files, for a pattern and a word set, every want,
 * scan and SIMD level, 1..4 threads and small read blocks; the packed paths; argument
 * errors; cancellation; many files on many threads; one batch of files searched by several
 * threads at once.
 */
#define _POSIX_C_SOURCE 200809L
#define _FILE_OFFSET_BITS 64

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "kmp.h"
#include "testutil.h"

static const int WANTS[] = {KMP_WANT_COUNT, KMP_WANT_EACH, KMP_WANT_OFFSETS, KMP_WANT_PAIRS};
static const char *const WANT_NAMES[] = {"count", "each", "offsets", "pairs"};

/* --- the files ------------------------------------------------------------------------ */

/* a directory of generated files: paths[i] is file i, status[i] what a batch must say of it
 * with max_size */
typedef struct fileset {
    char dir[4200];
    size_t n;
    char **paths;
    int64_t *status;
    uint64_t max_size;
    char **made;        /* what to remove at the end (copies of the paths) */
    size_t nmade;
} fileset;

static char *path_in(const fileset *fs, const char *name)
{
    size_t len = strlen(fs->dir) + strlen(name) + 2;
    char *p = malloc(len);
    if (p == NULL)
        abort();
    snprintf(p, len, "%s/%s", fs->dir, name);
    return p;
}

static char *copy(const char *s)
{
    char *p = malloc(strlen(s) + 1);
    if (p == NULL)
        abort();
    return strcpy(p, s);
}

static void write_file(const char *path, const uint8_t *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        perror(path);
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
    close(fd);
}

/* path (taken) is file n; made: it is to be removed at the end */
static void add(fileset *fs, char *path, int64_t status, int made)
{
    fs->paths[fs->n] = path;
    fs->status[fs->n++] = status;
    if (made)
        fs->made[fs->nmade++] = copy(path);
}

static const uint8_t TEXT[] = "abcab\0Ab";

/*
 * n random entries below a new directory: mostly regular files of 1 .. max_size - 1 bytes
 * over a small alphabet (sigma letters of TEXT), and empty files, files of max_size bytes
 * and a little more, missing paths, the directory, a subdirectory, a FIFO, /dev/null and a
 * symbolic link to a regular file.
 */
static void make_files(fileset *fs, size_t n, uint64_t max_size, size_t sigma, rng *r)
{
    memset(fs, 0, sizeof *fs);
    snprintf(fs->dir, sizeof fs->dir, "%s/kmp-batch-XXXXXX", tmpdir);
    if (mkdtemp(fs->dir) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    fs->max_size = max_size;
    fs->paths = calloc(n + 1, sizeof(char *));
    fs->status = calloc(n + 1, sizeof(int64_t));
    fs->made = calloc(2 * n + 1, sizeof(char *));
    uint8_t *data = malloc(max_size + 64);
    if (fs->paths == NULL || fs->status == NULL || fs->made == NULL || data == NULL)
        abort();
    int has_dir = 0;
    for (size_t i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "f%zu", i);
        char *path = path_in(fs, name);
        size_t kind = below(r, 100);
        if (kind < 70 || (kind < 74 && has_dir)) { /* regular */
            size_t len = 1 + below(r, max_size - 1);
            if (below(r, 4) == 0)
                len = 1 + below(r, 8);
            for (size_t j = 0; j < len; j++)
                data[j] = TEXT[below(r, sigma)];
            write_file(path, data, len);
            add(fs, path, 0, 1);
        } else if (kind < 74) { /* a subdirectory */
            if (mkdir(path, 0700) != 0) {
                perror("mkdir");
                exit(1);
            }
            has_dir = 1;
            add(fs, path, EISDIR, 1);
        } else if (kind < 80) { /* empty */
            write_file(path, data, 0);
            add(fs, path, KMP_BATCH_STREAM, 1);
        } else if (kind < 86) { /* max_size bytes or a few more */
            size_t len = (size_t)max_size + below(r, 3);
            memset(data, 'a', len);
            write_file(path, data, len);
            add(fs, path, KMP_BATCH_BIG, 1);
        } else if (kind < 90) { /* missing */
            add(fs, path, ENOENT, 0);
        } else if (kind < 93) { /* the directory itself */
            free(path);
            add(fs, path_in(fs, "."), EISDIR, 0);
        } else if (kind < 96) { /* a FIFO: never opened for writing */
            if (mkfifo(path, 0600) != 0) {
                perror("mkfifo");
                exit(1);
            }
            add(fs, path, KMP_BATCH_STREAM, 1);
        } else if (kind < 98) { /* a character device */
            free(path);
            add(fs, copy("/dev/null"), KMP_BATCH_STREAM, 0);
        } else { /* a symbolic link to a regular file: the file */
            char target[64];
            snprintf(target, sizeof target, "t%zu", i);
            char *tpath = path_in(fs, target);
            size_t len = 1 + below(r, max_size - 1);
            for (size_t j = 0; j < len; j++)
                data[j] = TEXT[below(r, sigma)];
            write_file(tpath, data, len);
            fs->made[fs->nmade++] = tpath;
            if (symlink(target, path) != 0) {
                perror("symlink");
                exit(1);
            }
            add(fs, path, 0, 1);
        }
    }
    free(data);
}

static void remove_files(fileset *fs)
{
    for (size_t i = 0; i < fs->nmade; i++) {
        if (unlink(fs->made[i]) != 0 && rmdir(fs->made[i]) != 0)
            perror(fs->made[i]);
        free(fs->made[i]);
    }
    if (rmdir(fs->dir) != 0)
        perror(fs->dir);
    for (size_t i = 0; i < fs->n; i++)
        free(fs->paths[i]);
    free(fs->paths);
    free(fs->status);
    free(fs->made);
}

/* --- the reference: each file searched on its own ---------------------------------------- */

/* what one per-file search of each file found, words 0 for a pattern */
typedef struct reference {
    size_t n, nwords;
    const int64_t *status;
    kmp_word_matches *m; /* [n]: empty for a file not searched */
} reference;

static void make_reference(const fileset *fs, const kmp_searcher *s, const kmp_wordset *ws, reference *ref)
{
    ref->n = fs->n;
    ref->nwords = ws != NULL ? kmp_wordset_len(ws) : 1;
    ref->status = fs->status;
    ref->m = calloc(fs->n + 1, sizeof(kmp_word_matches));
    if (ref->m == NULL)
        abort();
    for (size_t i = 0; i < fs->n; i++) {
        if (fs->status[i] != 0)
            continue;
        int err = 0;
        kmp_status st;
        if (s != NULL) {
            kmp_matches m = KMP_MATCHES_INIT;
            st = kmp_find_all_path(s, fs->paths[i], NULL, &m, &err);
            ref->m[i].offsets = m.offsets;
            ref->m[i].len = m.len;
            ref->m[i].cap = m.cap;
            ref->m[i].words = calloc(m.len + 1, sizeof(uint32_t));
            if (ref->m[i].words == NULL)
                abort();
        } else {
            int fd = open(fs->paths[i], O_RDONLY);
            st = kmp_wordset_find_all_fd(ws, fd, NULL, &ref->m[i], &err);
            close(fd);
        }
        CHECK(st == KMP_OK, "reference search of %s: %s", fs->paths[i], kmp_strerror(st));
    }
}

static void free_reference(reference *ref)
{
    for (size_t i = 0; i < ref->n; i++)
        kmp_word_matches_free(&ref->m[i]);
    free(ref->m);
}

/* whether got (a batch search's results for want) is ref's */
static int same_results(const reference *ref, int want, const kmp_batch_result *got, char *why, size_t cap)
{
    const size_t n = ref->n;
    why[0] = 0;
    if (got->n != n) {
        snprintf(why, cap, "n %zu, not %zu", got->n, n);
        return 0;
    }
    if (got->status == NULL) {
        snprintf(why, cap, "no status");
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (got->status[i] != ref->status[i]) {
            snprintf(why, cap, "file %zu: status %lld, not %lld", i, (long long)got->status[i],
                     (long long)ref->status[i]);
            return 0;
        }
    const int matches = want == KMP_WANT_OFFSETS || want == KMP_WANT_PAIRS;
    if (matches != (got->bounds != NULL) || matches != (got->offsets != NULL) || matches == (got->counts != NULL) ||
        (want == KMP_WANT_PAIRS) != (got->words != NULL)) {
        snprintf(why, cap, "the arrays given are not the want's");
        return 0;
    }
    if (!matches) {
        size_t cols = want == KMP_WANT_EACH ? ref->nwords : 1;
        if (got->nwords != cols) {
            snprintf(why, cap, "nwords %zu, not %zu", got->nwords, cols);
            return 0;
        }
        for (size_t i = 0; i < n; i++) {
            for (size_t w = 0; w < cols; w++) {
                uint64_t expect = 0;
                for (size_t j = 0; j < ref->m[i].len; j++)
                    expect += want == KMP_WANT_COUNT || ref->m[i].words[j] == w;
                if (got->counts[i * cols + w] != expect) {
                    snprintf(why, cap, "file %zu word %zu: %llu, not %llu", i, w,
                             (unsigned long long)got->counts[i * cols + w], (unsigned long long)expect);
                    return 0;
                }
            }
        }
        return 1;
    }
    if (got->bounds[0] != 0) {
        snprintf(why, cap, "bounds[0] %lld", (long long)got->bounds[0]);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        const kmp_word_matches *m = &ref->m[i];
        int64_t lo = got->bounds[i];
        if (got->bounds[i + 1] - lo != (int64_t)m->len) {
            snprintf(why, cap, "file %zu: %lld matches, not %zu", i, (long long)(got->bounds[i + 1] - lo), m->len);
            return 0;
        }
        for (size_t j = 0; j < m->len; j++)
            if (got->offsets[lo + (int64_t)j] != m->offsets[j] ||
                (want == KMP_WANT_PAIRS && got->words[lo + (int64_t)j] != m->words[j])) {
                snprintf(why, cap, "file %zu, match %zu differs", i, j);
                return 0;
            }
    }
    if ((int64_t)got->len != got->bounds[n]) {
        snprintf(why, cap, "len %zu, bounds[n] %lld", got->len, (long long)got->bounds[n]);
        return 0;
    }
    return 1;
}

/* one batch search of fs with opt and want, against ref */
static void check_batch(const fileset *fs, const reference *ref, const kmp_searcher *s, const kmp_wordset *ws,
                        int want, const kmp_options *opt, const char *what)
{
    kmp_batch_result got = KMP_BATCH_RESULT_INIT;
    kmp_status st = kmp_batch_search(s, ws, (const char *const *)fs->paths, fs->n, fs->max_size, want, opt, &got);
    char why[200] = "";
    CHECK(st == KMP_OK && same_results(ref, want, &got, why, sizeof why),
          "%s, %s %s, scan %d simd %d threads %u block %zu: %s %s", what, ws ? "words" : "pattern",
          WANT_NAMES[want], opt->scan, opt->simd, opt->threads, opt->block_size, kmp_strerror(st), why);
    kmp_batch_result_free(&got);
}

/* every want, scan, SIMD level, 1..4 threads and the blocks sizes */
static void check_every_way(const fileset *fs, const kmp_searcher *s, const kmp_wordset *ws, const char *what)
{
    static const size_t BLOCKS[] = {0, 1, 2, 3, 7, 64};
    reference ref;
    make_reference(fs, s, ws, &ref);
    for (size_t a = 0; a < COUNT_OF(SCANS); a++) {
        for (size_t b = 0; b < COUNT_OF(SIMDS); b++) {
            for (unsigned t = 1; t <= 4; t++) {
                for (size_t k = 0; k < COUNT_OF(BLOCKS); k++) {
                    kmp_options opt = KMP_OPTIONS_INIT;
                    opt.scan = SCANS[a];
                    opt.simd = SIMDS[b];
                    opt.threads = t;
                    opt.block_size = BLOCKS[k];
                    for (size_t w = 0; w < COUNT_OF(WANTS); w++)
                        check_batch(fs, &ref, s, ws, WANTS[w], &opt, what);
                }
            }
        }
    }
    free_reference(&ref);
}

/* random words over TEXT's first sigma letters (distinct), 1..max_len bytes */
static kmp_wordset *random_words(rng *r, size_t count, size_t max_len, size_t sigma, unsigned flags)
{
    uint8_t buf[64 * 8];
    size_t lens[64];
    const void *ptrs[64];
    size_t made = 0;
    while (made < count) {
        size_t len = 1 + below(r, max_len);
        uint8_t *w = buf + made * 8;
        for (size_t j = 0; j < len; j++)
            w[j] = TEXT[below(r, sigma)];
        int dup = 0;
        for (size_t k = 0; k < made && !dup; k++)
            dup = lens[k] == len && memcmp(ptrs[k], w, len) == 0;
        if (dup)
            continue;
        lens[made] = len;
        ptrs[made++] = w;
    }
    kmp_wordset *ws = NULL;
    if (kmp_wordset_new(ptrs, lens, count, flags, &ws) != KMP_OK)
        abort();
    return ws;
}

/* --- groups ------------------------------------------------------------------------------- */

/* batches of every kind of file, a pattern and a word set, every way */
static void test_kinds(void)
{
    rng r = {20261208};
    for (int round = 0; round < 4; round++) {
        fileset fs;
        size_t sigma = 2 + (size_t)round % 3;
        make_files(&fs, 24 + below(&r, 30), 100 + below(&r, 400), sigma, &r);
        uint8_t pat[6];
        size_t m = 1 + below(&r, 5);
        for (size_t j = 0; j < m; j++)
            pat[j] = TEXT[below(&r, sigma)];
        kmp_searcher *s = NULL;
        if (kmp_searcher_new(pat, m, &s) != KMP_OK)
            abort();
        check_every_way(&fs, s, NULL, "kinds");
        kmp_searcher_free(s);
        kmp_wordset *ws = random_words(&r, 1 + below(&r, 6), 1 + below(&r, 6), sigma, round == 3 ? KMP_IGNORE_CASE : 0);
        check_every_way(&fs, NULL, ws, "kinds");
        kmp_wordset_free(ws);
        remove_files(&fs);
    }
}

/* max_size at its edges: 0 and 1 (every non-empty regular file is BIG), UINT64_MAX (none is) */
static void test_max_size(void)
{
    rng r = {77};
    fileset fs;
    make_files(&fs, 30, 300, 2, &r);
    kmp_searcher *s = NULL;
    if (kmp_searcher_new("ab", 2, &s) != KMP_OK)
        abort();
    static const uint64_t SIZES[] = {0, 1, UINT64_MAX};
    int64_t *saved = malloc(fs.n * sizeof(int64_t));
    if (saved == NULL)
        abort();
    memcpy(saved, fs.status, fs.n * sizeof(int64_t));
    for (size_t k = 0; k < COUNT_OF(SIZES); k++) {
        fs.max_size = SIZES[k];
        for (size_t i = 0; i < fs.n; i++)
            fs.status[i] = saved[i] == 0 || saved[i] == KMP_BATCH_BIG ? (SIZES[k] <= 1 ? KMP_BATCH_BIG : 0) : saved[i];
        reference ref;
        make_reference(&fs, s, NULL, &ref);
        kmp_options opt = KMP_OPTIONS_INIT;
        opt.threads = 3;
        for (size_t w = 0; w < COUNT_OF(WANTS); w++)
            check_batch(&fs, &ref, s, NULL, WANTS[w], &opt, "max_size");
        free_reference(&ref);
    }
    memcpy(fs.status, saved, fs.n * sizeof(int64_t));
    free(saved);
    kmp_searcher_free(s);
    remove_files(&fs);
}

/* many files on many threads (more than KMP_MAX_THREADS: the cap), more threads than files,
 * and the packed paths */
static void test_many(void)
{
    rng r = {4242};
    fileset fs;
    make_files(&fs, 700, 2000, 3, &r);
    kmp_searcher *s = NULL;
    if (kmp_searcher_new("ab", 2, &s) != KMP_OK)
        abort();
    kmp_wordset *ws = random_words(&r, 5, 3, 3, 0);
    static const unsigned THREADS[] = {1, 2, 5, 64, 300};
    for (int kind = 0; kind < 2; kind++) {
        const kmp_searcher *ps = kind == 0 ? s : NULL;
        const kmp_wordset *pw = kind == 0 ? NULL : ws;
        reference ref;
        make_reference(&fs, ps, pw, &ref);
        for (size_t t = 0; t < COUNT_OF(THREADS); t++) {
            kmp_options opt = KMP_OPTIONS_INIT;
            opt.threads = THREADS[t];
            opt.block_size = t % 2 ? 100 : 0;
            for (size_t w = 0; w < COUNT_OF(WANTS); w++)
                check_batch(&fs, &ref, ps, pw, WANTS[w], &opt, "many");
        }
        /* more threads than files: the first three */
        fileset few = fs;
        few.n = 3;
        reference ref3 = ref;
        ref3.n = 3;
        kmp_options opt = KMP_OPTIONS_INIT;
        opt.threads = 8;
        check_batch(&few, &ref3, ps, pw, KMP_WANT_PAIRS, &opt, "more threads than files");

        /* the packed paths give the same results */
        size_t size = 0;
        for (size_t i = 0; i < fs.n; i++)
            size += strlen(fs.paths[i]) + 1;
        char *packed = malloc(size);
        if (packed == NULL)
            abort();
        size_t at = 0;
        for (size_t i = 0; i < fs.n; i++) {
            size_t len = strlen(fs.paths[i]) + 1;
            memcpy(packed + at, fs.paths[i], len);
            at += len;
        }
        for (size_t w = 0; w < COUNT_OF(WANTS); w++) {
            kmp_batch_result got = KMP_BATCH_RESULT_INIT;
            opt.threads = 2;
            kmp_status st = kmp_batch_search_packed(ps, pw, packed, size, fs.n, fs.max_size, WANTS[w], &opt, &got);
            char why[200] = "";
            CHECK(st == KMP_OK && same_results(&ref, WANTS[w], &got, why, sizeof why), "packed %s: %s %s",
                  WANT_NAMES[w], kmp_strerror(st), why);
            kmp_batch_result_free(&got);
        }
        free(packed);
        free_reference(&ref);
    }
    kmp_searcher_free(s);
    kmp_wordset_free(ws);
    remove_files(&fs);
}

/* invalid arguments: KMP_ERR_INVALID and *out emptied; the packed paths' checks; no files */
static void test_errors(void)
{
    kmp_searcher *s = NULL;
    kmp_wordset *ws = NULL;
    const void *words[] = {"ab"};
    size_t lens[] = {2};
    if (kmp_searcher_new("ab", 2, &s) != KMP_OK || kmp_wordset_new(words, lens, 1, 0, &ws) != KMP_OK)
        abort();
    const char *paths[] = {"/nonexistent/kmp-batch", NULL};
    kmp_batch_result out = KMP_BATCH_RESULT_INIT;
    kmp_options opt = KMP_OPTIONS_INIT;

#define EXPECT_INVALID(call, what)                                                                       \
    do {                                                                                                 \
        kmp_status st_ = kmp_batch_search(s, NULL, paths, 1, 100, KMP_WANT_COUNT, NULL, &out);         \
        CHECK(st_ == KMP_OK && out.status != NULL, "set up: %s", kmp_strerror(st_));                     \
        st_ = (call);                                                                                    \
        CHECK(st_ == KMP_ERR_INVALID, "%s: %s", what, kmp_strerror(st_));                                \
        CHECK(out.n == 0 && out.status == NULL && out.counts == NULL && out.bounds == NULL &&            \
                  out.offsets == NULL && out.words == NULL && out.len == 0,                              \
              "%s: results not emptied", what);                                                          \
    } while (0)

    EXPECT_INVALID(kmp_batch_search(NULL, NULL, paths, 1, 100, KMP_WANT_COUNT, NULL, &out), "no matcher");
    EXPECT_INVALID(kmp_batch_search(s, ws, paths, 1, 100, KMP_WANT_COUNT, NULL, &out), "two matchers");
    EXPECT_INVALID(kmp_batch_search(s, NULL, NULL, 1, 100, KMP_WANT_COUNT, NULL, &out), "NULL paths");
    EXPECT_INVALID(kmp_batch_search(s, NULL, paths, 2, 100, KMP_WANT_COUNT, NULL, &out), "a NULL path");
    EXPECT_INVALID(kmp_batch_search(s, NULL, paths, 1, 100, -1, NULL, &out), "want -1");
    EXPECT_INVALID(kmp_batch_search(s, NULL, paths, 1, 100, 4, NULL, &out), "want 4");
    opt.scan = 7;
    EXPECT_INVALID(kmp_batch_search(s, NULL, paths, 1, 100, KMP_WANT_COUNT, &opt, &out), "scan 7");
    opt = (kmp_options)KMP_OPTIONS_INIT;
    opt.simd = 9;
    EXPECT_INVALID(kmp_batch_search(NULL, ws, paths, 1, 100, KMP_WANT_PAIRS, &opt, &out), "simd 9");
    opt = (kmp_options)KMP_OPTIONS_INIT;
    static const char two[] = "/a\0/b"; /* 6 bytes: two paths */
    EXPECT_INVALID(kmp_batch_search_packed(s, NULL, two, 6, 1, 100, KMP_WANT_COUNT, NULL, &out), "packed: 2 for 1");
    EXPECT_INVALID(kmp_batch_search_packed(s, NULL, two, 6, 3, 100, KMP_WANT_COUNT, NULL, &out), "packed: 2 for 3");
    EXPECT_INVALID(kmp_batch_search_packed(s, NULL, two, 5, 2, 100, KMP_WANT_COUNT, NULL, &out), "packed: no last NUL");
    EXPECT_INVALID(kmp_batch_search_packed(s, NULL, NULL, 6, 2, 100, KMP_WANT_COUNT, NULL, &out), "packed: NULL");
    EXPECT_INVALID(kmp_batch_search_packed(s, ws, two, 6, 2, 100, KMP_WANT_COUNT, NULL, &out), "packed: two matchers");
    EXPECT_INVALID(kmp_batch_search_packed(s, NULL, two, 6, 0, 100, KMP_WANT_COUNT, NULL, &out), "packed: 2 for 0");
#undef EXPECT_INVALID
    CHECK(kmp_batch_search(s, NULL, paths, 1, 100, KMP_WANT_COUNT, NULL, NULL) == KMP_ERR_INVALID, "NULL out");
    CHECK(kmp_batch_search_packed(s, NULL, two, 6, 2, 100, KMP_WANT_COUNT, NULL, NULL) == KMP_ERR_INVALID,
          "packed: NULL out");

    /* two missing files, packed */
    kmp_status st = kmp_batch_search_packed(NULL, ws, two, 6, 2, 100, KMP_WANT_PAIRS, NULL, &out);
    CHECK(st == KMP_OK && out.n == 2 && out.status[0] == ENOENT && out.status[1] == ENOENT && out.bounds[2] == 0 &&
              out.len == 0 && out.offsets != NULL && out.words != NULL,
          "packed, two missing files: %s", kmp_strerror(st));
    /* an empty path: ENOENT */
    st = kmp_batch_search_packed(s, NULL, "", 1, 1, 100, KMP_WANT_COUNT, NULL, &out);
    CHECK(st == KMP_OK && out.n == 1 && out.status[0] == ENOENT, "an empty path: %s", kmp_strerror(st));

    /* no files: every array the want uses, empty (bounds: {0}); even with the flag set */
    static const volatile unsigned char set = 1;
    for (size_t w = 0; w < COUNT_OF(WANTS); w++) {
        for (int cancelled = 0; cancelled < 2; cancelled++) {
            opt.cancel = cancelled ? &set : NULL;
            st = kmp_batch_search(NULL, ws, NULL, 0, 100, WANTS[w], &opt, &out);
            int matches = WANTS[w] >= KMP_WANT_OFFSETS;
            CHECK(st == KMP_OK && out.n == 0 && out.status != NULL && (matches ? out.bounds != NULL &&
                  out.bounds[0] == 0 && out.offsets != NULL : out.counts != NULL) && out.len == 0,
                  "no files, %s: %s", WANT_NAMES[w], kmp_strerror(st));
            st = kmp_batch_search_packed(s, NULL, NULL, 0, 0, 100, WANTS[w], &opt, &out);
            CHECK(st == KMP_OK && out.n == 0, "no files, packed, %s: %s", WANT_NAMES[w], kmp_strerror(st));
        }
    }
    kmp_batch_result_free(&out);
    kmp_batch_result_free(&out); /* twice: it was left empty */
    kmp_batch_result_free(NULL);
    kmp_searcher_free(s);
    kmp_wordset_free(ws);
}

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

/* A flag set before the call: KMP_ERR_CANCELLED, *out empty, for every want and 1..3
 * threads. Set by another thread during a long batch: it stops early. */
static void test_cancel(void)
{
    const size_t size = (size_t)1 << 20;
    uint8_t *h = malloc(size);
    if (h == NULL)
        abort();
    memset(h, 'a', size);
    char path[4200];
    int fd = temp_file(h, size, path, sizeof path);
    close(fd);
    free(h);
    enum { N = 400 };
    const char **paths = malloc(N * sizeof(char *));
    if (paths == NULL)
        abort();
    for (size_t i = 0; i < N; i++)
        paths[i] = path;
    uint8_t pat[200];
    memset(pat, 'a', sizeof pat - 1);
    pat[sizeof pat - 1] = 'b';
    kmp_searcher *s = NULL;
    if (kmp_searcher_new(pat, sizeof pat, &s) != KMP_OK)
        abort();
    const void *words[] = {pat};
    size_t lens[] = {sizeof pat};
    kmp_wordset *ws = NULL;
    if (kmp_wordset_new(words, lens, 1, 0, &ws) != KMP_OK)
        abort();

    volatile unsigned char flag = 1;
    kmp_options opt = KMP_OPTIONS_INIT;
    opt.cancel = &flag;
    kmp_batch_result out = KMP_BATCH_RESULT_INIT;
    for (unsigned threads = 1; threads <= 3; threads++) {
        opt.threads = threads;
        for (size_t w = 0; w < COUNT_OF(WANTS); w++) {
            for (int kind = 0; kind < 2; kind++) {
                kmp_status st = kmp_batch_search(kind ? NULL : s, kind ? ws : NULL, paths, 3, (uint64_t)size + 1,
                                                 WANTS[w], &opt, &out);
                CHECK(st == KMP_ERR_CANCELLED && out.status == NULL && out.n == 0, "set before, %s: %s",
                      WANT_NAMES[w], kmp_strerror(st));
            }
        }
    }

    /* set from another thread during a textbook scan of 400 MiB on 2 threads, in small reads */
    flag = 0;
    opt.threads = 2;
    opt.scan = KMP_SCAN_TEXTBOOK;
    opt.block_size = 4096;
    canceller c = {&flag, 5};
    pthread_t t;
    if (pthread_create(&t, NULL, cancel_later, &c) == 0) {
        kmp_status st = kmp_batch_search(s, NULL, paths, N, (uint64_t)size + 1, KMP_WANT_COUNT, &opt, &out);
        pthread_join(t, NULL);
        /* a very fast machine may finish first: then every count is right */
        int ok = st == KMP_ERR_CANCELLED;
        for (size_t i = 0; st == KMP_OK && i < N; i++)
            ok = out.status[i] == 0 && out.counts[i] == 0;
        CHECK(ok, "concurrent: %s", kmp_strerror(st));
    }
    kmp_batch_result_free(&out);
    kmp_searcher_free(s);
    kmp_wordset_free(ws);
    free(paths);
    unlink(path);
}

/* one batch of files searched by several threads at once, each its own batch calls */
typedef struct shared_arg {
    shared_head head;
    const fileset *fs;
    const reference *ref;
    const kmp_searcher *s;
    const kmp_wordset *ws;
} shared_arg;

static void *shared_worker(void *p)
{
    shared_arg *a = p;
    for (int k = 0; k < 6; k++) {
        kmp_options opt = shared_options(a->head.id, k);
        opt.block_size = (size_t)(1 + k * 13);
        int want = WANTS[(a->head.id + k) % 4];
        kmp_batch_result got = KMP_BATCH_RESULT_INIT;
        kmp_status st = kmp_batch_search(a->s, a->ws, (const char *const *)a->fs->paths, a->fs->n, a->fs->max_size,
                                         want, &opt, &got);
        char why[200];
        if (st != KMP_OK || !same_results(a->ref, want, &got, why, sizeof why))
            a->head.bad++;
        kmp_batch_result_free(&got);
    }
    return NULL;
}

static void test_shared(void)
{
    rng r = {99};
    fileset fs;
    make_files(&fs, 60, 500, 3, &r);
    kmp_wordset *ws = random_words(&r, 4, 3, 3, 0);
    reference ref;
    make_reference(&fs, NULL, ws, &ref);
    shared_arg args[4];
    for (int i = 0; i < 4; i++)
        args[i] = (shared_arg){{0, 0}, &fs, &ref, NULL, ws};
    run_shared(shared_worker, args, sizeof(shared_arg), 4);
    free_reference(&ref);
    kmp_wordset_free(ws);
    remove_files(&fs);
}

static const test_group GROUPS[] = {
    {"kinds", test_kinds},
    {"max_size", test_max_size},
    {"many", test_many},
    {"errors", test_errors},
    {"cancel", test_cancel},
    {"shared", test_shared},
};

int main(int argc, char **argv) { return run_groups(GROUPS, COUNT_OF(GROUPS), argc, argv); }
