/*
 * libkmpsearch: the searcher, the KMP scans, the chunk plan over pthreads, file reading.
 * See include/kmp.h for the API and its guarantees.
 */
#define _POSIX_C_SOURCE 200809L
#define _FILE_OFFSET_BITS 64

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "kmp_internal.h"

#if defined(__GNUC__) || defined(__clang__)
#  define KMP_INLINE static inline __attribute__((always_inline))
#  define KMP_NOINLINE __attribute__((noinline))
#  define KMP_LIKELY(x) __builtin_expect(!!(x), 1)
#  define KMP_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#  define KMP_INLINE static inline
#  define KMP_NOINLINE
#  define KMP_LIKELY(x) (x)
#  define KMP_UNLIKELY(x) (x)
#endif

#ifndef O_CLOEXEC
#  define O_CLOEXEC 0
#endif
#ifndef O_NOCTTY
#  define O_NOCTTY 0
#endif
#ifndef O_NONBLOCK
#  define O_NONBLOCK 0
#endif

/* --- the searcher --------------------------------------------------------------------- */

struct kmp_searcher {
    size_t m;
    const size_t *fail;  /* fail[i]: longest proper border of pat[0..i] */
    const uint8_t *pat;
    /* followed in the same allocation by fail[m] and pat[m] */
};

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
    s->m = len;
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

/* --- results -------------------------------------------------------------------------- */

void kmp_matches_free(kmp_matches *m)
{
    if (m == NULL)
        return;
    free(m->offsets);
    m->offsets = NULL;
    m->len = m->cap = 0;
}

/* room for at least `need` offsets; 0 or -1 (allocation failed, *m unchanged) */
static int matches_reserve(kmp_matches *m, size_t need)
{
    if (need <= m->cap)
        return 0;
    size_t cap = m->cap < 64 ? 64 : m->cap;
    while (cap < need) {
        if (cap > SIZE_MAX / 2 / sizeof(int64_t))
            return -1;
        cap *= 2;
    }
    if (cap > SIZE_MAX / sizeof(int64_t))
        return -1;
    int64_t *p = realloc(m->offsets, cap * sizeof(int64_t));
    if (p == NULL)
        return -1;
    m->offsets = p;
    m->cap = cap;
    return 0;
}

int kmp__matches_reserve_more(kmp_matches *m, size_t extra)
{
    if (extra > SIZE_MAX - m->len)
        return -1;
    return matches_reserve(m, m->len + extra);
}

static KMP_NOINLINE int matches_grow(kmp_matches *m)
{
    if (m->len == SIZE_MAX)
        return -1;
    return matches_reserve(m, m->len + 1);
}

/* --- the scans -------------------------------------------------------------------------- */

typedef struct scan_ctx {
    const uint8_t *pat;
    const size_t *fail;
    size_t m;
    int fast;
    kmp_kernels kern;
} scan_ctx;

typedef struct sink {
    uint64_t count;
    kmp_matches *out;  /* NULL: count only */
    int nomem;
} sink;

/*
 * Run the automaton from state q over buf[0..len), whose first byte is at offset `base`;
 * return the new state. Matches go to sk (count, and offsets when collecting). One forward
 * pass, worst case O(len) (amortised over the failure links, as in textbook KMP).
 *
 * The fast scan: in state 0 no partial match is pending, so a match can only start where
 * the first two pattern bytes occur together: find_pair jumps there (SIMD). Skipping the
 * bytes before that position is exact: from state 0, bytes that hold no (pat[0], pat[1])
 * pair can only leave the automaton in state 0 or 1 (1 when the last one is pat[0]), and a
 * state-1 prefix that does not continue with pat[1] cannot be part of any match. At the
 * end of a block find_pair stops on a last byte equal to pat[0], which the automaton then
 * reads, so the pair is not lost across blocks. One-byte patterns need no automaton: a SIMD
 * byte scan collects (collect_byte) or counts (count_byte) them.
 */
KMP_INLINE size_t scan_impl(const scan_ctx *c, const uint8_t *buf, size_t len, int64_t base,
                            size_t q, sink *sk, const int fast, const int collect)
{
    const uint8_t *pat = c->pat;
    const size_t *fail = c->fail;
    const size_t last = c->m - 1;
    const uint8_t a = pat[0];
    kmp_matches res = {NULL, 0, 0};
    if (collect)
        res = *sk->out;  /* kept in locals: no stores to shared cache lines per match */
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
        *sk->out = res;
        sk->count += cnt;
        return 0;
    }

    const kmp_find_pair_fn find_pair = c->kern.find_pair;
    const uint8_t b = last ? pat[1] : 0;
    while (i < len) {
        if (fast && q == 0) {
            i = find_pair(buf, i, len, a, b);
            if (i >= len)
                break;
        }
        const uint8_t ch = buf[i];
        while (q != 0 && pat[q] != ch)
            q = fail[q - 1];
        if (pat[q] == ch) {
            if (q == last) {
                if (collect) {
                    if (KMP_UNLIKELY(res.len == res.cap) && matches_grow(&res)) {
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
        *sk->out = res;
    sk->count += cnt;
    return q;
}

static size_t scan_fast_count(const scan_ctx *c, const uint8_t *buf, size_t len, int64_t base, size_t q, sink *sk)
{
    return scan_impl(c, buf, len, base, q, sk, 1, 0);
}
static size_t scan_fast_collect(const scan_ctx *c, const uint8_t *buf, size_t len, int64_t base, size_t q, sink *sk)
{
    return scan_impl(c, buf, len, base, q, sk, 1, 1);
}
static size_t scan_textbook_count(const scan_ctx *c, const uint8_t *buf, size_t len, int64_t base, size_t q, sink *sk)
{
    return scan_impl(c, buf, len, base, q, sk, 0, 0);
}
static size_t scan_textbook_collect(const scan_ctx *c, const uint8_t *buf, size_t len, int64_t base, size_t q, sink *sk)
{
    return scan_impl(c, buf, len, base, q, sk, 0, 1);
}

static size_t scan_block(const scan_ctx *c, const uint8_t *buf, size_t len, int64_t base, size_t q, sink *sk)
{
    if (c->fast)
        return sk->out ? scan_fast_collect(c, buf, len, base, q, sk) : scan_fast_count(c, buf, len, base, q, sk);
    return sk->out ? scan_textbook_collect(c, buf, len, base, q, sk) : scan_textbook_count(c, buf, len, base, q, sk);
}

/* --- one chunk ------------------------------------------------------------------------ */

typedef struct job {
    const scan_ctx *ctx;
    const uint8_t *mem;   /* memory search: the haystack; NULL for a file search */
    int fd;
    size_t block_size;
    uint64_t start, end;  /* the chunk's scan window (file offsets for a file search) */
    kmp_matches matches;
    sink sk;
    kmp_status status;
    int os_errno;
} job;

static void run_job(job *j)
{
    if (j->mem != NULL) {
        scan_block(j->ctx, j->mem + j->start, (size_t)(j->end - j->start), (int64_t)j->start, 0, &j->sk);
        if (j->sk.nomem)
            j->status = KMP_ERR_NOMEM;
        return;
    }
    uint64_t want = j->end - j->start;
    size_t bs = j->block_size < want ? j->block_size : (size_t)want;
    uint8_t *buf = malloc(bs);
    if (buf == NULL) {
        j->status = KMP_ERR_NOMEM;
        return;
    }
    uint64_t pos = j->start;
    size_t q = 0;
    while (pos < j->end) {
        size_t n = j->end - pos < bs ? (size_t)(j->end - pos) : bs;
        ssize_t r = pread(j->fd, buf, n, (off_t)pos);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            j->status = KMP_ERR_IO;
            j->os_errno = errno;
            break;
        }
        if (r == 0) { /* end of file before the planned end: it shrank */
            j->status = KMP_ERR_TRUNCATED;
            break;
        }
        q = scan_block(j->ctx, buf, (size_t)r, (int64_t)pos, q, &j->sk);
        if (j->sk.nomem) {
            j->status = KMP_ERR_NOMEM;
            break;
        }
        pos += (uint64_t)r;
    }
    free(buf);
}

static void *job_thread(void *arg)
{
    run_job(arg);
    return NULL;
}

/* floor(p * i / k) without overflow (i <= k) */
static uint64_t split_point(uint64_t p, uint64_t i, uint64_t k)
{
    return (p / k) * i + (p % k) * i / k;
}

/* --- the chunk plan --------------------------------------------------------------------- */

typedef struct resolved {
    unsigned threads;
    uint64_t min_chunk;
    size_t block_size;
    scan_ctx ctx;
} resolved;

static kmp_status resolve(const kmp_searcher *s, const kmp_options *opt, resolved *r)
{
    kmp_options o = KMP_OPTIONS_INIT;
    if (opt != NULL)
        o = *opt;
    if (o.scan != KMP_SCAN_FAST && o.scan != KMP_SCAN_TEXTBOOK)
        return KMP_ERR_INVALID;
    if (o.simd < KMP_SIMD_AUTO || o.simd > KMP_SIMD_AVX2)
        return KMP_ERR_INVALID;
    r->threads = o.threads == 0 ? 1u : (o.threads > KMP_MAX_THREADS ? KMP_MAX_THREADS : o.threads);
    r->min_chunk = o.min_chunk == 0 ? KMP_DEFAULT_MIN_CHUNK : o.min_chunk;
    r->block_size = o.block_size == 0 ? KMP_DEFAULT_BLOCK_SIZE : o.block_size;
    r->ctx.pat = s->pat;
    r->ctx.fail = s->fail;
    r->ctx.m = s->m;
    r->ctx.fast = o.scan == KMP_SCAN_FAST;
    r->ctx.kern = kmp__kernels(o.simd);
    return KMP_OK;
}

/* which of two chunk statuses the merged result reports: OK < TRUNCATED < any error */
static int status_rank(kmp_status st)
{
    return st == KMP_OK ? 0 : st == KMP_ERR_TRUNCATED ? 1 : 2;
}

/*
 * Search n bytes (mem[0..n), or fd's bytes [base, base + n)) along the chunk plan.
 * count and/or out receive the results (out, when given, was already emptied).
 */
static kmp_status run_plan(const kmp_searcher *s, const kmp_options *opt, const uint8_t *mem, int fd,
                           uint64_t base, uint64_t n, uint64_t *count, kmp_matches *out, int *os_errno)
{
    resolved r;
    kmp_status st = resolve(s, opt, &r);
    if (st != KMP_OK)
        return st;
    const uint64_t m = s->m;
    if (m > n)
        return KMP_OK;
    const uint64_t positions = n - m + 1;
    uint64_t k = positions / r.min_chunk;
    if (k > r.threads)
        k = r.threads;
    if (k < 1)
        k = 1;

    job one;
    job *jobs = &one;
    pthread_t *tids = NULL;
    unsigned char *started = NULL;
    if (k > 1) {
        jobs = calloc((size_t)k, sizeof(job));
        tids = calloc((size_t)k, sizeof(pthread_t));
        started = calloc((size_t)k, 1);
        if (jobs == NULL || tids == NULL || started == NULL) {
            free(jobs);
            free(tids);
            free(started);
            return KMP_ERR_NOMEM;
        }
    }
    for (uint64_t i = 0; i < k; i++) {
        job *j = &jobs[i];
        memset(j, 0, sizeof *j);
        j->ctx = &r.ctx;
        j->mem = mem;
        j->fd = fd;
        j->block_size = r.block_size;
        j->start = base + split_point(positions, i, k);
        j->end = base + split_point(positions, i + 1, k) + m - 1;
        j->status = KMP_OK;
        /* chunk 0 writes straight into out (reusing its storage) */
        j->sk.out = out == NULL ? NULL : (i == 0 ? out : &j->matches);
    }
    /* chunks 1..k-1 on new threads, chunk 0 here; a thread that cannot start runs here */
    for (uint64_t i = 1; i < k; i++)
        started[i] = pthread_create(&tids[i], NULL, job_thread, &jobs[i]) == 0;
    run_job(&jobs[0]);
    for (uint64_t i = 1; i < k; i++) {
        if (started[i])
            pthread_join(tids[i], NULL);
        else
            run_job(&jobs[i]);
    }

    /* merge in chunk order (= offset order); report the first chunk's error, a real error
     * (I/O, memory) before KMP_ERR_TRUNCATED: a chunk that found the file shorter must not
     * hide a later chunk's failed read behind a "the file shrank, here is what was found" */
    st = KMP_OK;
    uint64_t total = 0, found = 0;
    for (uint64_t i = 0; i < k; i++) {
        total += jobs[i].sk.count;
        if (i > 0)
            found += jobs[i].matches.len;
        if (status_rank(jobs[i].status) > status_rank(st)) {
            st = jobs[i].status;
            if (os_errno != NULL)
                *os_errno = st == KMP_ERR_IO ? jobs[i].os_errno : 0;
        }
    }
    if (count != NULL)
        *count = total;
    if (out != NULL && k > 1) {
        if (found > SIZE_MAX - out->len || matches_reserve(out, out->len + (size_t)found) != 0) {
            st = KMP_ERR_NOMEM; /* out keeps chunk 0's matches: still ascending and real */
        } else {
            for (uint64_t i = 1; i < k; i++) {
                if (jobs[i].matches.len) {
                    memcpy(out->offsets + out->len, jobs[i].matches.offsets, jobs[i].matches.len * sizeof(int64_t));
                    out->len += jobs[i].matches.len;
                }
            }
        }
    }
    if (k > 1) {
        for (uint64_t i = 1; i < k; i++)
            kmp_matches_free(&jobs[i].matches);
        free(jobs);
        free(tids);
        free(started);
    }
    return st;
}

/* --- public entry points ---------------------------------------------------------------- */

static void reset_out(kmp_matches *out) { out->len = 0; }

kmp_status kmp_count(const kmp_searcher *s, const void *haystack, size_t n, const kmp_options *opt, uint64_t *count)
{
    if (count != NULL)
        *count = 0;
    if (s == NULL || count == NULL || (haystack == NULL && n != 0) || (uint64_t)n > (uint64_t)INT64_MAX)
        return KMP_ERR_INVALID;
    return run_plan(s, opt, haystack, -1, 0, n, count, NULL, NULL);
}

kmp_status kmp_find_all(const kmp_searcher *s, const void *haystack, size_t n, const kmp_options *opt, kmp_matches *out)
{
    if (out == NULL)
        return KMP_ERR_INVALID;
    reset_out(out);
    if (s == NULL || (haystack == NULL && n != 0) || (uint64_t)n > (uint64_t)INT64_MAX)
        return KMP_ERR_INVALID;
    return run_plan(s, opt, haystack, -1, 0, n, NULL, out, NULL);
}

static kmp_status fd_range(const kmp_searcher *s, int fd, int64_t offset, int64_t length, const kmp_options *opt,
                           uint64_t *count, kmp_matches *out, int *os_errno)
{
    if (s == NULL || fd < 0 || offset < 0 || length < 0 || length > INT64_MAX - offset)
        return KMP_ERR_INVALID;
    /* a memory search with mem == NULL is a file search: run_job reads fd */
    return run_plan(s, opt, NULL, fd, (uint64_t)offset, (uint64_t)length, count, out, os_errno);
}

static kmp_status fd_size(int fd, int64_t *size, int *os_errno)
{
    struct stat sb;
    if (fd < 0)
        return KMP_ERR_INVALID;
    if (fstat(fd, &sb) != 0) {
        if (os_errno != NULL)
            *os_errno = errno;
        return KMP_ERR_IO;
    }
    if (!S_ISREG(sb.st_mode)) {
        if (os_errno != NULL)
            *os_errno = S_ISDIR(sb.st_mode) ? EISDIR : EINVAL;
        return KMP_ERR_IO;
    }
    *size = (int64_t)sb.st_size;
    return KMP_OK;
}

static kmp_status open_path(const char *path, int *fd, int *os_errno)
{
    if (path == NULL)
        return KMP_ERR_INVALID;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer (fstat rejects it next) */
    do {
        *fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    } while (*fd < 0 && errno == EINTR);
    if (*fd < 0) {
        if (os_errno != NULL)
            *os_errno = errno;
        return KMP_ERR_IO;
    }
    return KMP_OK;
}

/* What the file entry points share: os_errno cleared, the one output given (count or out)
 * emptied; KMP_ERR_INVALID when it is missing. */
static kmp_status begin_file(uint64_t *count, kmp_matches *out, int *os_errno)
{
    if (os_errno != NULL)
        *os_errno = 0;
    if (count != NULL)
        *count = 0;
    else if (out != NULL)
        reset_out(out);
    else
        return KMP_ERR_INVALID;
    return KMP_OK;
}

/* the whole of fd: its size from fstat (a regular file only) */
static kmp_status fd_whole(const kmp_searcher *s, int fd, const kmp_options *opt, uint64_t *count,
                           kmp_matches *out, int *os_errno)
{
    int64_t size = 0;
    if (s == NULL)
        return KMP_ERR_INVALID;
    kmp_status st = fd_size(fd, &size, os_errno);
    if (st != KMP_OK)
        return st;
    return fd_range(s, fd, 0, size, opt, count, out, os_errno);
}

static kmp_status path_whole(const kmp_searcher *s, const char *path, const kmp_options *opt, uint64_t *count,
                             kmp_matches *out, int *os_errno)
{
    int fd;
    if (s == NULL)
        return KMP_ERR_INVALID;
    kmp_status st = open_path(path, &fd, os_errno);
    if (st != KMP_OK)
        return st;
    st = fd_whole(s, fd, opt, count, out, os_errno);
    close(fd);
    return st;
}

kmp_status kmp_count_fd_range(const kmp_searcher *s, int fd, int64_t offset, int64_t length,
                              const kmp_options *opt, uint64_t *count, int *os_errno)
{
    kmp_status st = begin_file(count, NULL, os_errno);
    return st != KMP_OK ? st : fd_range(s, fd, offset, length, opt, count, NULL, os_errno);
}

kmp_status kmp_find_all_fd_range(const kmp_searcher *s, int fd, int64_t offset, int64_t length,
                                 const kmp_options *opt, kmp_matches *out, int *os_errno)
{
    kmp_status st = begin_file(NULL, out, os_errno);
    return st != KMP_OK ? st : fd_range(s, fd, offset, length, opt, NULL, out, os_errno);
}

kmp_status kmp_count_fd(const kmp_searcher *s, int fd, const kmp_options *opt, uint64_t *count, int *os_errno)
{
    kmp_status st = begin_file(count, NULL, os_errno);
    return st != KMP_OK ? st : fd_whole(s, fd, opt, count, NULL, os_errno);
}

kmp_status kmp_find_all_fd(const kmp_searcher *s, int fd, const kmp_options *opt, kmp_matches *out, int *os_errno)
{
    kmp_status st = begin_file(NULL, out, os_errno);
    return st != KMP_OK ? st : fd_whole(s, fd, opt, NULL, out, os_errno);
}

kmp_status kmp_count_path(const kmp_searcher *s, const char *path, const kmp_options *opt, uint64_t *count, int *os_errno)
{
    kmp_status st = begin_file(count, NULL, os_errno);
    return st != KMP_OK ? st : path_whole(s, path, opt, count, NULL, os_errno);
}

kmp_status kmp_find_all_path(const kmp_searcher *s, const char *path, const kmp_options *opt, kmp_matches *out,
                             int *os_errno)
{
    kmp_status st = begin_file(NULL, out, os_errno);
    return st != KMP_OK ? st : path_whole(s, path, opt, NULL, out, os_errno);
}

/* --- messages --------------------------------------------------------------------------- */

const char *kmp_strerror(kmp_status status)
{
    switch (status) {
    case KMP_OK: return "success";
    case KMP_ERR_INVALID: return "invalid argument";
    case KMP_ERR_NOMEM: return "out of memory";
    case KMP_ERR_IO: return "I/O error (see errno)";
    case KMP_ERR_TRUNCATED: return "the file ended early (it shrank during the search)";
    }
    return "unknown kmpsearch status";
}

const char *kmp_version(void) { return "0.1.0"; }

const char *kmp_simd_name(int level)
{
    switch (kmp__kernels(level).level) {
    case KMP_SIMD_AVX2: return "avx2";
    case KMP_SIMD_SSE2: return "sse2";
    default: return "scalar";
    }
}
