/*
 * Batches of small files (kmp_batch_search, batch.h): workers on the engine's threads
 * (kmp__parallel) take the files one at a time from an atomic counter; each one opens a
 * file, fstat's it and searches it whole with the engine on one chunk (kmp__run on one
 * thread, reading into the worker's own buffer), then closes it. Counts go straight into
 * the file's slot of the results; matches into the worker's arrays, copied into the
 * results in path order at the end.
 */
#define _POSIX_C_SOURCE 200809L
#define _FILE_OFFSET_BITS 64

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "batch.h"
#include "reader.h"

typedef struct batch {
    const kmp__matcher *mt;
    kmp__settings set;          /* one thread per file; scratch: the worker's */
    const char *const *paths;
    size_t n;
    uint64_t max_size;
    int want;
    atomic_size_t next;         /* the next file to take */
    atomic_int stop;            /* a worker failed (memory) or saw the cancel flag */
    kmp_batch_result *out;      /* status, counts (each: ncols per file), bounds */
    size_t ncols;
    /* matches (OFFSETS, PAIRS): file i's are [at[i], at[i] + bounds[i + 1]) of worker
     * owner[i]'s array, bounds[i + 1] holding their number until the end */
    size_t *at;
    uint16_t *owner;
} batch;

typedef struct worker {
    batch *b;
    uint16_t id;
    kmp__buffer buf;            /* the read buffer of all its files */
    kmp_matches offsets;        /* a searcher's matches */
    kmp_word_matches pairs;     /* a word set's */
    kmp_status status;          /* KMP_OK, KMP_ERR_NOMEM, KMP_ERR_CANCELLED */
} worker;

/* Search the regular file open on fd (size bytes, 1 <= size < max_size) as file i: its
 * status (0, or the errno of a failed read); a memory error or the cancel flag is the
 * worker's status instead. */
static int64_t search_file(worker *w, size_t i, int fd, uint64_t size)
{
    batch *b = w->b;
    const kmp__matcher *mt = b->mt;
    const int matches = b->want == KMP_WANT_OFFSETS || b->want == KMP_WANT_PAIRS;
    kmp__results res = {0, NULL, NULL, NULL, 0};
    uint64_t *each = NULL;
    size_t mark = 0;
    if (b->want == KMP_WANT_EACH && mt->nwords > 0)
        res.each = each = b->out->counts + i * b->ncols; /* zero: calloc */
    if (matches && mt->pairs) {
        res.pairs = &w->pairs;
        mark = w->pairs.len;
    } else if (matches) {
        res.offsets = &w->offsets;
        mark = w->offsets.len;
    }
    kmp__settings set = b->set;
    set.scratch = &w->buf;
    int err = 0;
    kmp_status st = kmp__run(mt, &set, NULL, fd, 0, size, &res, &err);
    if (st == KMP_OK || st == KMP_ERR_TRUNCATED) { /* a file that shrank: what was read */
        if (matches) {
            b->owner[i] = w->id;
            b->at[i] = mark;
            b->out->bounds[i + 1] = (int64_t)((mt->pairs ? w->pairs.len : w->offsets.len) - mark);
        } else if (each == NULL) {
            b->out->counts[i] = res.count; /* COUNT, or a searcher's one column of EACH */
        }
        return 0;
    }
    /* the file gives no results: drop what it added */
    if (each != NULL)
        memset(each, 0, b->ncols * sizeof(uint64_t));
    if (matches)
        *(mt->pairs ? &w->pairs.len : &w->offsets.len) = mark;
    if (st == KMP_ERR_IO)
        return err > 0 ? err : EIO;
    w->status = st;
    atomic_store_explicit(&b->stop, 1, memory_order_relaxed);
    return 0;
}

/* file i: open, fstat, search when it is a regular file of 1 to max_size - 1 bytes, close;
 * its status */
static int64_t one_file(worker *w, size_t i)
{
    int fd = kmp__open_read(w->b->paths[i]);
    if (fd < 0)
        return errno > 0 ? errno : EIO;
    struct stat sb;
    int64_t st;
    if (fstat(fd, &sb) != 0)
        st = errno > 0 ? errno : EIO;
    else if (S_ISDIR(sb.st_mode))
        st = EISDIR;
    else if (!S_ISREG(sb.st_mode) || sb.st_size <= 0)
        st = KMP_BATCH_STREAM;
    else if ((uint64_t)sb.st_size >= w->b->max_size)
        st = KMP_BATCH_BIG;
    else
        st = search_file(w, i, fd, (uint64_t)sb.st_size);
    close(fd);
    return st;
}

static void *work(void *arg)
{
    worker *w = arg;
    batch *b = w->b;
    while (w->status == KMP_OK && !atomic_load_explicit(&b->stop, memory_order_relaxed)) {
        if (kmp__cancelled(b->set.cancel)) {
            w->status = KMP_ERR_CANCELLED;
            atomic_store_explicit(&b->stop, 1, memory_order_relaxed);
            break;
        }
        size_t i = atomic_fetch_add_explicit(&b->next, 1, memory_order_relaxed);
        if (i >= b->n)
            break;
        b->out->status[i] = one_file(w, i);
    }
    return NULL;
}

/* the workers' matches into out's arrays in path order (bounds[i + 1] holds file i's
 * number): 0, or -1 when memory ran out */
static int assemble(batch *b, const worker *workers)
{
    kmp_batch_result *out = b->out;
    const int pairs = b->mt->pairs;
    uint64_t total = 0;
    for (size_t i = 0; i < b->n; i++) {
        total += (uint64_t)out->bounds[i + 1];
        out->bounds[i + 1] = (int64_t)total;
    }
    if (total > SIZE_MAX / sizeof(int64_t))
        return -1;
    out->len = (size_t)total;
    out->offsets = malloc(total ? (size_t)total * sizeof(int64_t) : 1);
    if (out->offsets == NULL)
        return -1;
    if (b->want == KMP_WANT_PAIRS) {
        /* a searcher's words are all 0 */
        out->words = pairs ? malloc(total ? (size_t)total * sizeof(uint32_t) : 1)
                           : calloc(total ? (size_t)total : 1, sizeof(uint32_t));
        if (out->words == NULL)
            return -1;
    }
    for (size_t i = 0; i < b->n; i++) {
        size_t len = (size_t)(out->bounds[i + 1] - out->bounds[i]);
        if (len == 0)
            continue;
        const worker *w = &workers[b->owner[i]];
        const size_t at = b->at[i], to = (size_t)out->bounds[i];
        memcpy(out->offsets + to, (pairs ? w->pairs.offsets : w->offsets.offsets) + at, len * sizeof(int64_t));
        if (pairs && out->words != NULL)
            memcpy(out->words + to, w->pairs.words + at, len * sizeof(uint32_t));
    }
    return 0;
}

/* a new array of count items of size bytes, zeroed (count 0: one item, so never NULL) */
static void *zeroed(size_t count, size_t size)
{
    return calloc(count ? count : 1, size);
}

kmp_status kmp__run_batch(const kmp__matcher *mt, const kmp__settings *set, const char *const *paths, size_t n,
                          uint64_t max_size, int want, kmp_batch_result *out)
{
    batch b;
    memset(&b, 0, sizeof b);
    b.mt = mt;
    b.set = *set;
    b.set.threads = 1;
    b.set.scratch = NULL;
    b.paths = paths;
    b.n = n;
    b.max_size = max_size;
    b.want = want;
    atomic_init(&b.next, 0);
    atomic_init(&b.stop, 0);
    b.out = out;
    b.ncols = want == KMP_WANT_EACH && mt->nwords > 0 ? mt->nwords : 1;
    const int matches = want == KMP_WANT_OFFSETS || want == KMP_WANT_PAIRS;

    out->n = n;
    out->nwords = want == KMP_WANT_EACH ? b.ncols : 1;
    if (n > SIZE_MAX / sizeof(int64_t) - 1 || (want == KMP_WANT_EACH && n > SIZE_MAX / sizeof(uint64_t) / b.ncols))
        return KMP_ERR_NOMEM;
    out->status = zeroed(n, sizeof(int64_t));
    if (out->status == NULL)
        return KMP_ERR_NOMEM;
    if (matches) {
        out->bounds = zeroed(n + 1, sizeof(int64_t));
        b.at = zeroed(n, sizeof(size_t));
        b.owner = zeroed(n, sizeof(uint16_t));
        if (out->bounds == NULL || b.at == NULL || b.owner == NULL) {
            free(b.at);
            free(b.owner);
            return KMP_ERR_NOMEM;
        }
    } else if ((out->counts = zeroed(n * b.ncols, sizeof(uint64_t))) == NULL) {
        return KMP_ERR_NOMEM;
    }

    kmp_status st = KMP_OK;
    size_t k = set->threads < n ? set->threads : n; /* (threads <= KMP__MAX_THREADS: ids fit) */
    worker *workers = NULL;
    if (k > 0) {
        workers = calloc(k, sizeof(worker));
        if (workers == NULL)
            st = KMP_ERR_NOMEM;
        for (size_t t = 0; t < k && workers != NULL; t++) {
            workers[t].b = &b;
            workers[t].id = (uint16_t)t;
            workers[t].status = KMP_OK;
        }
        if (st == KMP_OK)
            st = kmp__parallel(work, workers, sizeof(worker), k);
        for (size_t t = 0; t < k && st == KMP_OK; t++)
            st = workers[t].status;
    }
    if (st == KMP_OK && matches && assemble(&b, workers) != 0)
        st = KMP_ERR_NOMEM;
    for (size_t t = 0; workers != NULL && t < k; t++) {
        free(workers[t].buf.p);
        kmp_matches_free(&workers[t].offsets);
        kmp_word_matches_free(&workers[t].pairs);
    }
    free(workers);
    free(b.at);
    free(b.owner);
    return st;
}

void kmp_batch_result_free(kmp_batch_result *r)
{
    if (r == NULL)
        return;
    free(r->status);
    free(r->counts);
    free(r->bounds);
    free(r->offsets);
    free(r->words);
    memset(r, 0, sizeof *r);
}
