/*
 * The public search entry points: every kmp_count / kmp_find_all / kmp_wordset_* function,
 * in memory, over a file range, a whole file or a path, is one request to the engine with
 * one matcher (a searcher or a word set) and one output. Messages and version too.
 */
#define _POSIX_C_SOURCE 200809L
#define _FILE_OFFSET_BITS 64

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "batch.h"
#include "reader.h"
#include "searcher.h"
#include "tuning.h"
#include "wordset.h"

/* one search: one matcher (s or ws), its options, exactly one output */
typedef struct request {
    const kmp_searcher *s;
    const kmp_wordset *ws;
    const kmp_options *opt;
    uint64_t *count;
    uint64_t *each;
    kmp_matches *offsets;
    kmp_word_matches *pairs;
    int *os_errno;
} request;

/* Empty every output (even when the arguments turn out invalid), then check that there is
 * a matcher and an output. */
static kmp_status begin(const request *rq)
{
    if (rq->os_errno != NULL)
        *rq->os_errno = 0;
    if (rq->count != NULL)
        *rq->count = 0;
    if (rq->offsets != NULL)
        rq->offsets->len = 0;
    if (rq->pairs != NULL)
        rq->pairs->len = 0;
    if (rq->each != NULL && rq->ws != NULL)
        memset(rq->each, 0, rq->ws->n * sizeof(uint64_t));
    if ((rq->s == NULL && rq->ws == NULL) ||
        (rq->count == NULL && rq->each == NULL && rq->offsets == NULL && rq->pairs == NULL))
        return KMP_ERR_INVALID;
    return KMP_OK;
}

/* a matcher (s, or else ws) and the engine's settings for one search: its matcher's
 * storage */
typedef struct prepared {
    kmp__matcher mt;
    kmp__settings set;
    kmp__kmp_ctx kctx;
    kmp__ws_ctx wctx;
} prepared;

/* The matcher and settings of s or ws (one not NULL) under opt (NULL: the defaults);
 * KMP_ERR_INVALID for an unknown scan or SIMD level. */
static kmp_status prepare(const kmp_searcher *s, const kmp_wordset *ws, const kmp_options *opt, prepared *p)
{
    kmp_options o = KMP_OPTIONS_INIT;
    if (opt != NULL)
        o = *opt;
    if (o.scan != KMP_SCAN_FAST && o.scan != KMP_SCAN_TEXTBOOK)
        return KMP_ERR_INVALID;
    if (o.simd < KMP_SIMD_AUTO || o.simd > KMP_SIMD_AVX2)
        return KMP_ERR_INVALID;
    p->set.threads = o.threads == 0 ? 1u : (o.threads > KMP__MAX_THREADS ? KMP__MAX_THREADS : o.threads);
    p->set.min_chunk = o.min_chunk == 0 ? KMP_DEFAULT_MIN_CHUNK : o.min_chunk;
    p->set.block_size = o.block_size == 0 ? KMP_DEFAULT_BLOCK_SIZE : o.block_size;
    p->set.cancel = o.cancel;
    p->set.scratch = NULL;
    if (s != NULL)
        kmp__searcher_matcher(s, o.scan, o.simd, &p->kctx, &p->mt);
    else
        kmp__wordset_matcher(ws, o.scan, o.simd, &p->wctx, &p->mt);
    return KMP_OK;
}

/* Search n bytes: mem[0..n), or fd's [base, base + n) when mem is NULL. */
static kmp_status run(const request *rq, const uint8_t *mem, int fd, uint64_t base, uint64_t n)
{
    prepared p;
    kmp_status st = prepare(rq->s, rq->ws, rq->opt, &p);
    if (st != KMP_OK)
        return st;
    kmp__results res = {0, rq->each, rq->offsets, rq->pairs, 0};
    int err = 0;
    st = kmp__run(&p.mt, &p.set, mem, fd, base, n, &res, &err);
    if (rq->count != NULL)
        *rq->count = res.count;
    if (rq->os_errno != NULL)
        *rq->os_errno = st == KMP_ERR_IO ? err : 0;
    return st;
}

static kmp_status in_memory(const request *rq, const void *haystack, size_t n)
{
    kmp_status st = begin(rq);
    if (st != KMP_OK)
        return st;
    if ((haystack == NULL && n != 0) || (uint64_t)n > (uint64_t)INT64_MAX)
        return KMP_ERR_INVALID;
    /* an empty haystack has no chunks: mem is never read, but must not be NULL (file search) */
    return run(rq, n ? haystack : (const uint8_t *)"", -1, 0, n);
}

static kmp_status fd_range(const request *rq, int fd, int64_t offset, int64_t length)
{
    if (fd < 0 || offset < 0 || length < 0 || length > INT64_MAX - offset)
        return KMP_ERR_INVALID;
    return run(rq, NULL, fd, (uint64_t)offset, (uint64_t)length);
}

static kmp_status in_range(const request *rq, int fd, int64_t offset, int64_t length)
{
    kmp_status st = begin(rq);
    return st != KMP_OK ? st : fd_range(rq, fd, offset, length);
}

/* the whole of fd: its size from fstat (a regular file only) */
static kmp_status whole_fd(const request *rq, int fd)
{
    struct stat sb;
    if (fd < 0)
        return KMP_ERR_INVALID;
    if (fstat(fd, &sb) != 0) {
        if (rq->os_errno != NULL)
            *rq->os_errno = errno;
        return KMP_ERR_IO;
    }
    if (!S_ISREG(sb.st_mode)) {
        if (rq->os_errno != NULL)
            *rq->os_errno = S_ISDIR(sb.st_mode) ? EISDIR : EINVAL;
        return KMP_ERR_IO;
    }
    return fd_range(rq, fd, 0, (int64_t)sb.st_size);
}

static kmp_status in_fd(const request *rq, int fd)
{
    kmp_status st = begin(rq);
    return st != KMP_OK ? st : whole_fd(rq, fd);
}

static kmp_status in_path(const request *rq, const char *path)
{
    kmp_status st = begin(rq);
    if (st != KMP_OK)
        return st;
    if (path == NULL)
        return KMP_ERR_INVALID;
    int fd = kmp__open_read(path);
    if (fd < 0) {
        if (rq->os_errno != NULL)
            *rq->os_errno = errno;
        return KMP_ERR_IO;
    }
    st = whole_fd(rq, fd);
    close(fd);
    return st;
}

/* --- single pattern ------------------------------------------------------------------------ */

#define KMP_REQ(s_, ws_, opt_, count_, each_, offsets_, pairs_, err_)                           \
    (request) { (s_), (ws_), (opt_), (count_), (each_), (offsets_), (pairs_), (err_) }

kmp_status kmp_count(const kmp_searcher *s, const void *haystack, size_t n, const kmp_options *opt, uint64_t *count)
{
    request rq = KMP_REQ(s, NULL, opt, count, NULL, NULL, NULL, NULL);
    return count == NULL ? KMP_ERR_INVALID : in_memory(&rq, haystack, n);
}

kmp_status kmp_find_all(const kmp_searcher *s, const void *haystack, size_t n, const kmp_options *opt, kmp_matches *out)
{
    request rq = KMP_REQ(s, NULL, opt, NULL, NULL, out, NULL, NULL);
    return out == NULL ? KMP_ERR_INVALID : in_memory(&rq, haystack, n);
}

kmp_status kmp_count_fd_range(const kmp_searcher *s, int fd, int64_t offset, int64_t length,
                              const kmp_options *opt, uint64_t *count, int *os_errno)
{
    request rq = KMP_REQ(s, NULL, opt, count, NULL, NULL, NULL, os_errno);
    return count == NULL ? KMP_ERR_INVALID : in_range(&rq, fd, offset, length);
}

kmp_status kmp_find_all_fd_range(const kmp_searcher *s, int fd, int64_t offset, int64_t length,
                                 const kmp_options *opt, kmp_matches *out, int *os_errno)
{
    request rq = KMP_REQ(s, NULL, opt, NULL, NULL, out, NULL, os_errno);
    return out == NULL ? KMP_ERR_INVALID : in_range(&rq, fd, offset, length);
}

kmp_status kmp_count_fd(const kmp_searcher *s, int fd, const kmp_options *opt, uint64_t *count, int *os_errno)
{
    request rq = KMP_REQ(s, NULL, opt, count, NULL, NULL, NULL, os_errno);
    return count == NULL ? KMP_ERR_INVALID : in_fd(&rq, fd);
}

kmp_status kmp_find_all_fd(const kmp_searcher *s, int fd, const kmp_options *opt, kmp_matches *out, int *os_errno)
{
    request rq = KMP_REQ(s, NULL, opt, NULL, NULL, out, NULL, os_errno);
    return out == NULL ? KMP_ERR_INVALID : in_fd(&rq, fd);
}

kmp_status kmp_count_path(const kmp_searcher *s, const char *path, const kmp_options *opt, uint64_t *count,
                          int *os_errno)
{
    request rq = KMP_REQ(s, NULL, opt, count, NULL, NULL, NULL, os_errno);
    return count == NULL ? KMP_ERR_INVALID : in_path(&rq, path);
}

kmp_status kmp_find_all_path(const kmp_searcher *s, const char *path, const kmp_options *opt, kmp_matches *out,
                             int *os_errno)
{
    request rq = KMP_REQ(s, NULL, opt, NULL, NULL, out, NULL, os_errno);
    return out == NULL ? KMP_ERR_INVALID : in_path(&rq, path);
}

/* --- word sets ------------------------------------------------------------------------------ */

kmp_status kmp_wordset_count(const kmp_wordset *ws, const void *haystack, size_t n, const kmp_options *opt,
                             uint64_t *count)
{
    request rq = KMP_REQ(NULL, ws, opt, count, NULL, NULL, NULL, NULL);
    return count == NULL ? KMP_ERR_INVALID : in_memory(&rq, haystack, n);
}

kmp_status kmp_wordset_count_each(const kmp_wordset *ws, const void *haystack, size_t n, const kmp_options *opt,
                                  uint64_t *counts)
{
    request rq = KMP_REQ(NULL, ws, opt, NULL, counts, NULL, NULL, NULL);
    return counts == NULL ? KMP_ERR_INVALID : in_memory(&rq, haystack, n);
}

kmp_status kmp_wordset_find_all(const kmp_wordset *ws, const void *haystack, size_t n, const kmp_options *opt,
                                kmp_word_matches *out)
{
    request rq = KMP_REQ(NULL, ws, opt, NULL, NULL, NULL, out, NULL);
    return out == NULL ? KMP_ERR_INVALID : in_memory(&rq, haystack, n);
}

kmp_status kmp_wordset_count_fd_range(const kmp_wordset *ws, int fd, int64_t offset, int64_t length,
                                      const kmp_options *opt, uint64_t *count, int *os_errno)
{
    request rq = KMP_REQ(NULL, ws, opt, count, NULL, NULL, NULL, os_errno);
    return count == NULL ? KMP_ERR_INVALID : in_range(&rq, fd, offset, length);
}

kmp_status kmp_wordset_count_each_fd_range(const kmp_wordset *ws, int fd, int64_t offset, int64_t length,
                                           const kmp_options *opt, uint64_t *counts, int *os_errno)
{
    request rq = KMP_REQ(NULL, ws, opt, NULL, counts, NULL, NULL, os_errno);
    return counts == NULL ? KMP_ERR_INVALID : in_range(&rq, fd, offset, length);
}

kmp_status kmp_wordset_find_all_fd_range(const kmp_wordset *ws, int fd, int64_t offset, int64_t length,
                                         const kmp_options *opt, kmp_word_matches *out, int *os_errno)
{
    request rq = KMP_REQ(NULL, ws, opt, NULL, NULL, NULL, out, os_errno);
    return out == NULL ? KMP_ERR_INVALID : in_range(&rq, fd, offset, length);
}

kmp_status kmp_wordset_count_fd(const kmp_wordset *ws, int fd, const kmp_options *opt, uint64_t *count,
                                int *os_errno)
{
    request rq = KMP_REQ(NULL, ws, opt, count, NULL, NULL, NULL, os_errno);
    return count == NULL ? KMP_ERR_INVALID : in_fd(&rq, fd);
}

kmp_status kmp_wordset_count_each_fd(const kmp_wordset *ws, int fd, const kmp_options *opt, uint64_t *counts,
                                     int *os_errno)
{
    request rq = KMP_REQ(NULL, ws, opt, NULL, counts, NULL, NULL, os_errno);
    return counts == NULL ? KMP_ERR_INVALID : in_fd(&rq, fd);
}

kmp_status kmp_wordset_find_all_fd(const kmp_wordset *ws, int fd, const kmp_options *opt, kmp_word_matches *out,
                                   int *os_errno)
{
    request rq = KMP_REQ(NULL, ws, opt, NULL, NULL, NULL, out, os_errno);
    return out == NULL ? KMP_ERR_INVALID : in_fd(&rq, fd);
}

/* --- many small files ----------------------------------------------------------------------- */

kmp_status kmp_batch_search(const kmp_searcher *s, const kmp_wordset *ws, const char *const *paths, size_t n,
                            uint64_t max_size, int want, const kmp_options *opt, kmp_batch_result *out)
{
    if (out == NULL)
        return KMP_ERR_INVALID;
    kmp_batch_result_free(out);
    if ((s == NULL) == (ws == NULL) || (paths == NULL && n != 0) || want < KMP_WANT_COUNT || want > KMP_WANT_PAIRS)
        return KMP_ERR_INVALID;
    for (size_t i = 0; i < n; i++)
        if (paths[i] == NULL)
            return KMP_ERR_INVALID;
    prepared p;
    kmp_status st = prepare(s, ws, opt, &p);
    if (st == KMP_OK)
        st = kmp__run_batch(&p.mt, &p.set, paths, n, max_size, want, out);
    if (st != KMP_OK)
        kmp_batch_result_free(out);
    return st;
}

kmp_status kmp_batch_search_packed(const kmp_searcher *s, const kmp_wordset *ws, const char *bytes, size_t size,
                                   size_t n, uint64_t max_size, int want, const kmp_options *opt,
                                   kmp_batch_result *out)
{
    if (out == NULL)
        return KMP_ERR_INVALID;
    kmp_batch_result_free(out);
    if ((bytes == NULL && size != 0) || n > size)
        return KMP_ERR_INVALID;
    const char **paths = malloc((n ? n : 1) * sizeof(const char *));
    if (paths == NULL)
        return KMP_ERR_NOMEM;
    /* path i runs to the i-th NUL; the last NUL ends the buffer */
    size_t at = 0;
    kmp_status st = KMP_OK;
    for (size_t i = 0; i < n; i++) {
        const char *nul = memchr(bytes + at, 0, size - at);
        if (nul == NULL) {
            st = KMP_ERR_INVALID;
            break;
        }
        paths[i] = bytes + at;
        at = (size_t)(nul - bytes) + 1;
    }
    if (at != size)
        st = KMP_ERR_INVALID;
    if (st == KMP_OK)
        st = kmp_batch_search(s, ws, paths, n, max_size, want, opt, out);
    free(paths);
    return st;
}

/* --- messages ------------------------------------------------------------------------------- */

const char *kmp_strerror(kmp_status status)
{
    switch (status) {
    case KMP_OK: return "success";
    case KMP_ERR_INVALID: return "invalid argument";
    case KMP_ERR_NOMEM: return "out of memory";
    case KMP_ERR_IO: return "I/O error (see errno)";
    case KMP_ERR_TRUNCATED: return "the file ended early (it shrank during the search)";
    case KMP_ERR_CANCELLED: return "the search was cancelled";
    }
    return "unknown kmpsearch status";
}

const char *kmp_version(void) { return "0.1.0"; }

const char *kmp_simd_name(int level)
{
    switch (kmp__simd_level(level)) {
    case KMP_SIMD_AVX2: return "avx2";
    case KMP_SIMD_SSE2: return "sse2";
    default: return "scalar";
    }
}
