/*
 * Batches of small files (batch.c): many files in one call, each searched whole by one
 * thread with the engine, the results in the order of the paths (kmp_batch_search).
 */
#ifndef KMP_BATCH_H
#define KMP_BATCH_H

#include "engine.h"

/*
 * Search paths[0..n) (none NULL) with the matcher mt: set's threads (1..KMP__MAX_THREADS)
 * take the files, each read in set's block_size pieces, set's cancel flag looked at before
 * each file and each read (its min_chunk and scratch are not used). want: a kmp_want, checked;
 * out: empty (all zero). KMP_OK, KMP_ERR_NOMEM or KMP_ERR_CANCELLED; on an error out may
 * hold arrays (the caller frees them).
 */
kmp_status kmp__run_batch(const kmp__matcher *mt, const kmp__settings *set, const char *const *paths, size_t n,
                          uint64_t max_size, int want, kmp_batch_result *out);

#endif /* KMP_BATCH_H */
