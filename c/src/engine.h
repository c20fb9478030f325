/*
 * The engine (engine.c): one chunk plan, one thread runner and one merge for every matcher
 * (the KMP searcher, the word set), over memory or over a range of a file descriptor (read
 * by the file reader, reader.h).
 */
#ifndef KMP_ENGINE_H
#define KMP_ENGINE_H

#include "common.h"
#include "reader.h"

/*
 * scan(ctx, buf, len, own, base, state, out): search buf[0..len), whose first byte is at
 * offset `base`, and add to out every match that STARTS in buf[0..own) (own <= len; the
 * bytes past own are lookahead for matches that start before own).
 *
 * A matcher that carries its state (KMP: the automaton's state, in *state, 0 at the start
 * of a chunk) is instead given consecutive pieces of its window with own == len and reports
 * every match that ENDS in the piece: the plan's window already makes each such match one
 * the chunk owns.
 */
typedef void (*kmp__scan_fn)(const void *ctx, const uint8_t *buf, size_t len, size_t own, int64_t base,
                             uint64_t *state, kmp__results *out);

typedef struct kmp__matcher {
    kmp__scan_fn scan;
    const void *ctx;
    uint64_t longest;   /* the longest match: KMP m, word set L */
    int carries_state;  /* 1: KMP (see above); 0: stateless, reads keep longest - 1 bytes of lookahead */
    int owns_to_end;    /* word sets: the plan uses m = min(L, n) and the last chunk owns every start
                           up to n (shorter words near the end); KMP: m, starts up to n - m */
    size_t nwords;      /* the length of results.each */
    int pairs;          /* where its matches go: 1 results.pairs (word sets), 0 results.offsets */
} kmp__matcher;

typedef struct kmp__settings {
    unsigned threads;   /* 1..KMP__MAX_THREADS */
    uint64_t min_chunk; /* >= 1 */
    size_t block_size;  /* >= 1: bytes per read (files), per look at cancel (memory) */
    const volatile unsigned char *cancel; /* NULL, or the caller's flag (kmp_options.cancel) */
    kmp__buffer *scratch; /* NULL, or the read buffer chunk 0 of a file search reuses (reader.h) */
} kmp__settings;

/* one chunk: scan bytes [start, end), own the match starts [start, own_end) */
typedef struct kmp__window {
    uint64_t start, own_end, end;
} kmp__window;

/*
 * Search n bytes along the chunk plan: mem[0..n) when mem != NULL (offsets from 0), else
 * fd's bytes [base, base + n) (file offsets). out's optional outputs were emptied by the
 * caller (each zeroed); they receive the merged results in offset order.
 */
kmp_status kmp__run(const kmp__matcher *mt, const kmp__settings *set, const uint8_t *mem, int fd, uint64_t base,
                    uint64_t n, kmp__results *out, int *os_errno);

/*
 * fn(task) for k (>= 1) tasks, the objects at `tasks`, `size` bytes apart: tasks 1..k-1 on new
 * threads, task 0 on the calling thread, then on the calling thread each task whose thread
 * could not be started (never an error: only slower). Every task has run when it returns:
 * KMP_OK, or KMP_ERR_NOMEM (the thread ids could not be had: none has run).
 */
kmp_status kmp__parallel(void *(*fn)(void *), void *tasks, size_t size, size_t k);

#endif /* KMP_ENGINE_H */
