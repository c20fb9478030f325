/*
 * The engine: the chunk plan (kmp_plan, public), the threads that run the chunks, and the
 * merge of their results. It runs any matcher (engine.h) over memory or over a file range.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "reader.h"
#include "tuning.h"

_Static_assert(KMP__MAX_THREADS == KMP_MAX_THREADS, "kmp.h's KMP_MAX_THREADS is tuning.h's KMP__MAX_THREADS");

/* floor(p * i / k) without overflow (i <= k <= KMP__MAX_THREADS) */
static uint64_t split_point(uint64_t p, uint64_t i, uint64_t k)
{
    return (p / k) * i + (p % k) * i / k;
}

/* the number of chunks for n bytes and width m (m >= 1) */
static uint64_t chunk_count(uint64_t n, uint64_t m, unsigned threads, uint64_t min_chunk)
{
    if (m > n)
        return 0;
    uint64_t positions = n - m + 1;
    uint64_t t = threads == 0 ? 1 : (threads > KMP__MAX_THREADS ? KMP__MAX_THREADS : threads);
    uint64_t k = positions / min_chunk;
    if (k > t)
        k = t;
    return k < 1 ? 1 : k;
}

kmp_status kmp_plan(uint64_t n, uint64_t m, unsigned threads, uint64_t min_chunk, kmp_chunk *chunks, size_t cap,
                    size_t *k)
{
    if (k != NULL)
        *k = 0;
    if (k == NULL || m == 0 || threads == 0 || min_chunk == 0 || (chunks == NULL && cap != 0))
        return KMP_ERR_INVALID;
    uint64_t kk = chunk_count(n, m, threads, min_chunk);
    *k = (size_t)kk;
    uint64_t positions = n - m + 1; /* unused when kk == 0 */
    for (uint64_t i = 0; i < kk && i < cap; i++) {
        chunks[i].start = split_point(positions, i, kk);
        chunks[i].end = split_point(positions, i + 1, kk) + m - 1;
    }
    return KMP_OK;
}

/* --- running the chunks ---------------------------------------------------------------------- */

typedef struct job {
    const kmp__matcher *mt;
    const uint8_t *mem;  /* memory search: the haystack (offset 0); NULL: read fd */
    int fd;
    size_t block_size;
    const volatile unsigned char *cancel;
    kmp__buffer *scratch; /* NULL: the reader allocates its buffer */
    kmp__window w;
    kmp__results res;    /* chunk 0: the caller's outputs; others: their own */
    kmp_matches offsets;
    kmp_word_matches pairs;
    kmp_status status;
    int os_errno;
} job;

/*
 * One chunk in memory. Without a cancel flag, one scan of the whole window. With one, the
 * window goes in pieces of block_size bytes, the flag looked at before each: a matcher
 * that carries its state (KMP) gets consecutive pieces (its state carried, as from a
 * file); a stateless one (word sets) gets the starts [p, p + block) of each piece plus
 * longest - 1 bytes of lookahead (the automaton restarts at each piece: the same matches).
 */
static void run_memory(job *j)
{
    const kmp__matcher *mt = j->mt;
    const kmp__window *w = &j->w;
    uint64_t state = 0;
    if (j->cancel == NULL) {
        mt->scan(mt->ctx, j->mem + w->start, (size_t)(w->end - w->start), (size_t)(w->own_end - w->start),
                 (int64_t)w->start, &state, &j->res);
    } else {
        const uint64_t keep = mt->carries_state ? 0 : mt->longest - 1;
        const uint64_t step = j->block_size;
        const uint64_t stop = mt->carries_state ? w->end : w->own_end;
        for (uint64_t p = w->start; p < stop && !j->res.nomem;) {
            if (kmp__cancelled(j->cancel)) {
                j->status = KMP_ERR_CANCELLED;
                return;
            }
            uint64_t hi = stop - p > step ? p + step : stop;
            uint64_t end = mt->carries_state ? hi : (w->end - hi > keep ? hi + keep : w->end);
            mt->scan(mt->ctx, j->mem + p, (size_t)(end - p), (size_t)(hi - p), (int64_t)p, &state, &j->res);
            p = hi;
        }
    }
    if (j->res.nomem)
        j->status = KMP_ERR_NOMEM;
}

/*
 * One chunk of a file: its window read in pieces (reader.h), each one scanned. A stateless
 * matcher (word sets) needs longest - 1 bytes of lookahead past a start to decide it; a
 * matcher that carries its state (KMP) takes every piece whole, in order, to the window's
 * end. KMP_ERR_TRUNCATED (the file ended before the window: the matches in what was read),
 * KMP_ERR_IO, KMP_ERR_CANCELLED (the flag was set before a read: the matches so far), or
 * KMP_ERR_NOMEM.
 */
static void run_file(job *j)
{
    const kmp__matcher *mt = j->mt;
    const kmp__window *w = &j->w;
    const uint64_t keep = mt->carries_state ? 0 : mt->longest - 1;
    const uint64_t own_end = mt->carries_state ? w->end : w->own_end;
    kmp__reader r;
    j->status = kmp__reader_open(&r, j->fd, w->start, own_end, w->end, keep, j->block_size, j->cancel, j->scratch);
    if (j->status != KMP_OK)
        return;
    uint64_t state = 0;
    while (!j->res.nomem && kmp__reader_next(&r, &j->os_errno))
        mt->scan(mt->ctx, r.buf, r.len, r.own, (int64_t)r.base, &state, &j->res);
    j->status = j->res.nomem ? KMP_ERR_NOMEM : r.status;
    kmp__reader_close(&r);
}

static void run_job(job *j)
{
    if (j->mem != NULL)
        run_memory(j);
    else
        run_file(j);
}

static void *job_thread(void *arg)
{
    run_job(arg);
    return NULL;
}

kmp_status kmp__parallel(void *(*fn)(void *), void *tasks, size_t size, size_t k)
{
    if (k <= 1) {
        fn(tasks);
        return KMP_OK;
    }
    pthread_t *tids = calloc(k, sizeof(pthread_t));
    unsigned char *started = calloc(k, 1);
    if (tids == NULL || started == NULL) {
        free(tids);
        free(started);
        return KMP_ERR_NOMEM;
    }
    char *at = tasks;
    for (size_t i = 1; i < k; i++)
        started[i] = pthread_create(&tids[i], NULL, fn, at + i * size) == 0;
    fn(tasks);
    for (size_t i = 1; i < k; i++) {
        if (started[i])
            pthread_join(tids[i], NULL);
        else
            fn(at + i * size);
    }
    free(tids);
    free(started);
    return KMP_OK;
}

/* which of two chunk statuses the merged result reports: OK < TRUNCATED < any error */
static int status_rank(kmp_status st)
{
    return st == KMP_OK ? 0 : st == KMP_ERR_TRUNCATED ? 1 : 2;
}

/* append chunk i's arrays to the caller's (chunk 0's), in chunk order = offset order */
static int merge_arrays(kmp__results *out, job *jobs, uint64_t k)
{
    size_t found = 0;
    for (uint64_t i = 1; i < k; i++) {
        size_t len = out->offsets ? jobs[i].offsets.len : out->pairs ? jobs[i].pairs.len : 0;
        if (len > SIZE_MAX - found)
            return -1;
        found += len;
    }
    if (out->offsets != NULL) {
        if (kmp__matches_reserve_more(out->offsets, found) != 0)
            return -1;
        for (uint64_t i = 1; i < k; i++) {
            kmp_matches *src = &jobs[i].offsets;
            if (src->len)
                memcpy(out->offsets->offsets + out->offsets->len, src->offsets, src->len * sizeof(int64_t));
            out->offsets->len += src->len;
        }
    }
    if (out->pairs != NULL) {
        if (kmp__word_matches_reserve_more(out->pairs, found) != 0)
            return -1;
        kmp_word_matches *dst = out->pairs;
        for (uint64_t i = 1; i < k; i++) {
            kmp_word_matches *src = &jobs[i].pairs;
            if (src->len) {
                memcpy(dst->offsets + dst->len, src->offsets, src->len * sizeof(int64_t));
                memcpy(dst->words + dst->len, src->words, src->len * sizeof(uint32_t));
            }
            dst->len += src->len;
        }
    }
    return 0;
}

kmp_status kmp__run(const kmp__matcher *mt, const kmp__settings *set, const uint8_t *mem, int fd, uint64_t base,
                    uint64_t n, kmp__results *out, int *os_errno)
{
    if (n == 0)
        return KMP_OK; /* no chunks (a word set's width min(L, n) would be 0) */
    const uint64_t m = mt->owns_to_end && mt->longest > n ? n : mt->longest;
    const uint64_t k = chunk_count(n, m, set->threads, set->min_chunk);
    if (k == 0)
        return KMP_OK;
    const uint64_t positions = n - m + 1;

    job one;
    job *jobs = &one;
    if (k > 1 && (jobs = calloc((size_t)k, sizeof(job))) == NULL)
        return KMP_ERR_NOMEM;
    kmp_status st = KMP_OK;
    for (uint64_t i = 0; i < k; i++) {
        job *j = &jobs[i];
        memset(j, 0, sizeof *j);
        j->mt = mt;
        j->mem = mem;
        j->fd = fd;
        j->block_size = set->block_size;
        j->cancel = set->cancel;
        j->scratch = i == 0 ? set->scratch : NULL;
        j->w.start = base + split_point(positions, i, k);
        j->w.own_end = base + split_point(positions, i + 1, k);
        j->w.end = j->w.own_end + m - 1;
        if (i == k - 1 && mt->owns_to_end)
            j->w.own_end = base + n; /* the last chunk owns the starts of the words shorter than m */
        j->status = KMP_OK;
        if (i == 0) {
            j->res = *out; /* chunk 0 writes straight into the caller's outputs */
            continue;
        }
        j->res.offsets = out->offsets ? &j->offsets : NULL;
        j->res.pairs = out->pairs ? &j->pairs : NULL;
        if (out->each != NULL && (j->res.each = calloc(mt->nwords ? mt->nwords : 1, sizeof(uint64_t))) == NULL)
            st = KMP_ERR_NOMEM;
    }
    /* chunks 1..k-1 on new threads, chunk 0 here; a chunk whose thread cannot be started
     * runs here too, after chunk 0 (never an error: only slower) */
    if (st == KMP_OK)
        st = kmp__parallel(job_thread, jobs, sizeof(job), (size_t)k);
    if (st == KMP_OK) {
        /* report the first chunk's error, a real error (I/O, memory) before
         * KMP_ERR_TRUNCATED: a chunk that found the file shorter must not hide a later
         * chunk's failed read behind "the file shrank, here is what was found" */
        uint64_t total = 0;
        for (uint64_t i = 0; i < k; i++) {
            total += jobs[i].res.count;
            if (status_rank(jobs[i].status) > status_rank(st)) {
                st = jobs[i].status;
                if (os_errno != NULL)
                    *os_errno = st == KMP_ERR_IO ? jobs[i].os_errno : 0;
            }
            if (i > 0 && out->each != NULL)
                for (size_t w = 0; w < mt->nwords; w++)
                    out->each[w] += jobs[i].res.each[w];
        }
        out->count = total;
        /* on failure the caller's arrays keep chunk 0's matches: still ordered, each one real.
         * A cancelled search keeps only those too: merging the other chunks' (a copy of them
         * all, maybe gigabytes of dense matches) would only delay the return */
        if (k > 1 && st != KMP_ERR_CANCELLED && merge_arrays(out, jobs, k) != 0)
            st = KMP_ERR_NOMEM;
    }
    if (k > 1) {
        for (uint64_t i = 1; i < k; i++) {
            kmp_matches_free(&jobs[i].offsets);
            kmp_word_matches_free(&jobs[i].pairs);
            free(jobs[i].res.each);
        }
        free(jobs);
    }
    return st;
}
