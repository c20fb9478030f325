/*
 * kmp.h - libkmpsearch: every occurrence of a pattern, or of every word of a set, in large
 * text: Knuth-Morris-Pratt and Aho-Corasick over pthreads, in memory or straight from a
 * file. C11, no dependencies but pthreads.
 *
 *     kmp_searcher *s;
 *     if (kmp_searcher_new("3J1", 3, &s) != KMP_OK) ...
 *     kmp_options opt = KMP_OPTIONS_INIT;      // or NULL everywhere for the defaults
 *     opt.threads = 4;
 *     uint64_t n;
 *     kmp_status st = kmp_count(s, text, len, &opt, &n);
 *     kmp_matches m = KMP_MATCHES_INIT;
 *     st = kmp_find_all_path(s, "corpus.txt", &opt, &m, &err);   // err: errno for KMP_ERR_IO
 *     for (size_t i = 0; i < m.len; i++) printf("%lld\n", (long long)m.offsets[i]);
 *     kmp_matches_free(&m);
 *     kmp_searcher_free(s);
 *
 *     const void *words[] = {"he", "she", "hers"};
 *     size_t lens[] = {2, 3, 4};
 *     kmp_wordset *ws;
 *     kmp_wordset_new(words, lens, 3, KMP_IGNORE_CASE, &ws);
 *     kmp_word_matches wm = KMP_WORD_MATCHES_INIT;
 *     kmp_wordset_find_all(ws, "ushers", 6, NULL, &wm);  // (1, 1) (2, 0) (2, 2): offset, word
 *     kmp_word_matches_free(&wm);
 *     kmp_wordset_free(ws);
 *
 * Matches overlap (`aa` occurs 3 times in `aaaa`); offsets are 64-bit and ascending (word
 * sets: ascending by offset, then by word index).
 *
 * Threads follow one chunk plan (the same as kmpsearch's Python backends; kmp_plan computes
 * it): for n bytes and a pattern of m bytes, P = n - m + 1 start positions are split into
 * k = max(1, min(threads, P / min_chunk)) chunks; chunk i owns the start positions
 * [P*i/k, P*(i+1)/k) and scans the bytes [P*i/k, P*(i+1)/k + m - 1), so every match is
 * found exactly once, by the chunk it starts in. Word sets use m = min(longest word, n)
 * (n == 0: no chunks) and the last chunk owns every start up to n, so a haystack shorter
 * than the longest word is one chunk that still finds the shorter words. Chunk 0 runs on
 * the calling thread; a chunk whose thread cannot be started (pthread_create fails) runs on
 * the calling thread after chunk 0: never an error, only slower.
 *
 * Files are read with pread() into bounded per-thread buffers (opt.block_size bytes per
 * read, 1 MiB by default; word sets keep the last longest-1 bytes of a block for the next):
 * memory does not depend on the file size, and nothing is mapped, so a file that shrinks
 * during a search gives KMP_ERR_TRUNCATED with the matches found so far, never a SIGBUS.
 *
 * Thread safety: searchers and word sets are immutable once made and may be used by any
 * number of threads at once. The library has no global mutable state. No call aborts:
 * every failure is a kmp_status (memory exhaustion included).
 */
#ifndef KMP_H
#define KMP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#  define KMP_API
#elif defined(__GNUC__) || defined(__clang__)
#  define KMP_API __attribute__((visibility("default")))
#else
#  define KMP_API
#endif

#define KMP_VERSION_MAJOR 0
#define KMP_VERSION_MINOR 1
#define KMP_VERSION_PATCH 0

/* a chunk gets at least this many start positions unless opt.min_chunk says otherwise */
#define KMP_DEFAULT_MIN_CHUNK ((uint64_t)1 << 20)
/* bytes read per pread() by each thread of a file search, unless opt.block_size says otherwise */
#define KMP_DEFAULT_BLOCK_SIZE ((size_t)1 << 20)
/* more threads than this are treated as this many (results never depend on threads); the
 * cap of the Python layer and of the other cores too */
#define KMP_MAX_THREADS 256

typedef enum kmp_status {
    KMP_OK = 0,
    KMP_ERR_INVALID = 1,   /* an invalid argument (NULL pointer, empty pattern, ...) */
    KMP_ERR_NOMEM = 2,     /* memory allocation failed */
    KMP_ERR_IO = 3,        /* an OS call failed (open, fstat, pread): its errno in *os_errno */
    KMP_ERR_TRUNCATED = 4, /* the file ended early (it shrank during the search): the
                              results hold every match found in the bytes that were read */
    KMP_ERR_CANCELLED = 5  /* *opt.cancel became nonzero during the search: it stopped early;
                              the results hold some of the matches (each one real, ordered) */
} kmp_status;

typedef enum kmp_scan {
    KMP_SCAN_FAST = 0,     /* searcher: in state 0, jump to the next place the first two pattern
                              bytes occur (SIMD), then continue the automaton.
                              word set: a hashed prefilter on word starts with exact
                              verification, falling back to the automaton where verifying
                              costs too much. Worst case linear in both */
    KMP_SCAN_TEXTBOOK = 1  /* the plain automaton (KMP, Aho-Corasick): every byte goes through it */
} kmp_scan;

typedef enum kmp_simd {
    KMP_SIMD_AUTO = 0,     /* the best the CPU supports (decided at each call) */
    KMP_SIMD_SCALAR = 1,   /* portable C and memchr */
    KMP_SIMD_SSE2 = 2,     /* x86-64 */
    KMP_SIMD_AVX2 = 3      /* x86-64 with AVX2; a level the CPU lacks is lowered to one it has */
} kmp_simd;

typedef struct kmp_options {
    unsigned threads;      /* threads to use at most; 0 means 1 */
    uint64_t min_chunk;    /* minimum start positions per chunk; 0 means KMP_DEFAULT_MIN_CHUNK */
    int scan;              /* a kmp_scan */
    int simd;              /* a kmp_simd: the level of every SIMD part (for tests and
                              benchmarks; results never depend on it) */
    size_t block_size;     /* file searches: bytes per read; in-memory searches with a cancel
                              flag: bytes each thread scans between two looks at it;
                              0 means KMP_DEFAULT_BLOCK_SIZE */
    const volatile unsigned char *cancel;
                           /* NULL, or a flag another thread (or a signal handler) may set to
                              nonzero to stop the search: every thread looks at it (a relaxed
                              atomic load) before each block it reads or scans, so the call
                              returns KMP_ERR_CANCELLED within one block per thread. Set it
                              with an atomic store (__atomic_store_n(p, 1, __ATOMIC_RELAXED))
                              or from the thread's own signal handler. */
} kmp_options;

#define KMP_OPTIONS_INIT {1u, 0u, KMP_SCAN_FAST, KMP_SIMD_AUTO, 0u, NULL}

/* A growable array of match offsets owned by the library: start it as KMP_MATCHES_INIT
 * (or all zero), read offsets[0..len), give it back with kmp_matches_free. A find_all
 * call replaces what it held. */
typedef struct kmp_matches {
    int64_t *offsets;
    size_t len;
    size_t cap;
} kmp_matches;

#define KMP_MATCHES_INIT {NULL, 0u, 0u}

/* Frees the storage and leaves *m empty (reusable). NULL is allowed. */
KMP_API void kmp_matches_free(kmp_matches *m);

/* A chunk of the plan: the bytes [start, end) it scans (offsets into the haystack). */
typedef struct kmp_chunk {
    uint64_t start;
    uint64_t end;
} kmp_chunk;

/* The chunk plan the searches use, for n bytes, width m (>= 1), threads (>= 1, more than
 * KMP_MAX_THREADS count as that many) and min_chunk (>= 1) as described above. *k receives
 * the number of chunks (0 when m > n); chunks[0 .. min(cap, *k)) receive the first ones
 * (chunks may be NULL when cap is 0). Exact 64-bit arithmetic for every n.
 * KMP_ERR_INVALID for m, threads or min_chunk 0, or k NULL. */
KMP_API kmp_status kmp_plan(uint64_t n, uint64_t m, unsigned threads, uint64_t min_chunk,
                            kmp_chunk *chunks, size_t cap, size_t *k);

/* --- single pattern ------------------------------------------------------------------------- */

/* A prepared pattern: a copy of it and its failure function. Immutable, shareable. */
typedef struct kmp_searcher kmp_searcher;

/* KMP_ERR_INVALID for a NULL argument or len == 0, KMP_ERR_NOMEM. */
KMP_API kmp_status kmp_searcher_new(const void *pattern, size_t len, kmp_searcher **out);
KMP_API void kmp_searcher_free(kmp_searcher *s);  /* NULL is allowed */
KMP_API size_t kmp_searcher_len(const kmp_searcher *s);
/* fail[i] = length of the longest proper border of pattern[0..i]; i < kmp_searcher_len */
KMP_API size_t kmp_searcher_failure(const kmp_searcher *s, size_t i);

/* In memory. haystack may be NULL when n == 0. opt may be NULL (defaults). */
KMP_API kmp_status kmp_count(const kmp_searcher *s, const void *haystack, size_t n,
                             const kmp_options *opt, uint64_t *count);
KMP_API kmp_status kmp_find_all(const kmp_searcher *s, const void *haystack, size_t n,
                                const kmp_options *opt, kmp_matches *out);

/* A file open for reading: its size is taken with fstat when the call starts. The
 * descriptor is only read with pread (its offset is not used or moved) and is not closed.
 * os_errno (may be NULL) receives the errno of a KMP_ERR_IO (EINVAL for an fd that is not
 * a regular file, EISDIR for a directory). On KMP_ERR_TRUNCATED and KMP_ERR_IO the
 * results hold the matches found before the error (still ascending, each one real). */
KMP_API kmp_status kmp_count_fd(const kmp_searcher *s, int fd, const kmp_options *opt,
                                uint64_t *count, int *os_errno);
KMP_API kmp_status kmp_find_all_fd(const kmp_searcher *s, int fd, const kmp_options *opt,
                                   kmp_matches *out, int *os_errno);

/* Bytes [offset, offset + length) of fd, with the chunk plan over that range; offsets in
 * the results are file offsets. A range that reaches past the end of the file is
 * KMP_ERR_TRUNCATED once a read finds the end (a range shorter than the pattern is never
 * read: KMP_OK, no matches). */
KMP_API kmp_status kmp_count_fd_range(const kmp_searcher *s, int fd, int64_t offset, int64_t length,
                                      const kmp_options *opt, uint64_t *count, int *os_errno);
KMP_API kmp_status kmp_find_all_fd_range(const kmp_searcher *s, int fd, int64_t offset, int64_t length,
                                         const kmp_options *opt, kmp_matches *out, int *os_errno);

/* Convenience: open the path read-only, search it as with kmp_*_fd, close it. */
KMP_API kmp_status kmp_count_path(const kmp_searcher *s, const char *path, const kmp_options *opt,
                                  uint64_t *count, int *os_errno);
KMP_API kmp_status kmp_find_all_path(const kmp_searcher *s, const char *path, const kmp_options *opt,
                                     kmp_matches *out, int *os_errno);

/* --- word sets ------------------------------------------------------------------------------ */

/* kmp_wordset_new flags */
#define KMP_IGNORE_CASE 1u      /* ASCII letters only: A-Z == a-z; every other byte compares
                                   exactly ('[' and '{', '@' and '`' differ) */
#define KMP_WORDSET_DENSE 2u    /* force the dense DFA (KMP_ERR_NOMEM if it cannot be held) */
#define KMP_WORDSET_COMPACT 4u  /* force the compact automaton (tests, benchmarks: the results
                                   never depend on the form; by default the dense DFA is used
                                   while it is small enough to stay in cache) */

/* Word set results: match i is word words[i] starting at offsets[i]; ordered by offset,
 * then word index. Start it as KMP_WORD_MATCHES_INIT, free it with kmp_word_matches_free;
 * a find_all call replaces what it held. */
typedef struct kmp_word_matches {
    int64_t *offsets;
    uint32_t *words;
    size_t len;
    size_t cap;
} kmp_word_matches;

#define KMP_WORD_MATCHES_INIT {NULL, NULL, 0u, 0u}

/* Frees the storage and leaves *m empty (reusable). NULL is allowed. */
KMP_API void kmp_word_matches_free(kmp_word_matches *m);

/* A prepared set of words: the Aho-Corasick automaton and the prefilter. Immutable,
 * shareable by any number of threads. */
typedef struct kmp_wordset kmp_wordset;

/* words[i] (lens[i] bytes, >= 1) is word i, 1 <= n <= 2^31. The words are copied.
 * Duplicates (equal words, or equal after ASCII case folding with KMP_IGNORE_CASE) are
 * allowed and are distinct words: each one is reported at every place it occurs, so a
 * place where two equal words occur gives two matches (offset, i) and (offset, j).
 * KMP_ERR_INVALID for a NULL argument, n == 0, an empty word or an unknown flag;
 * KMP_ERR_NOMEM when memory runs out (or the words total 2^32 - 2 bytes or more). */
KMP_API kmp_status kmp_wordset_new(const void *const *words, const size_t *lens, size_t n,
                                   unsigned flags, kmp_wordset **out);
/* The same with the words laid end to end in bytes: word i is the lens[i] bytes after
 * words 0..i-1 (one buffer instead of n pointers: what a binding or a word file has). */
KMP_API kmp_status kmp_wordset_new_packed(const void *bytes, const size_t *lens, size_t n,
                                          unsigned flags, kmp_wordset **out);
KMP_API void kmp_wordset_free(kmp_wordset *ws);        /* NULL is allowed */
KMP_API size_t kmp_wordset_len(const kmp_wordset *ws);     /* the number of words */
KMP_API size_t kmp_wordset_longest(const kmp_wordset *ws); /* the longest word's length */
KMP_API size_t kmp_wordset_memory(const kmp_wordset *ws);  /* bytes the set holds */

/* In memory, as kmp_count / kmp_find_all. count: every match of every word; counts: an
 * array of kmp_wordset_len(ws) counters, one per word (zeroed first; each chunk of the plan
 * but the first counts into its own array of the same size, added up at the end); out:
 * every match. */
KMP_API kmp_status kmp_wordset_count(const kmp_wordset *ws, const void *haystack, size_t n,
                                     const kmp_options *opt, uint64_t *count);
KMP_API kmp_status kmp_wordset_count_each(const kmp_wordset *ws, const void *haystack, size_t n,
                                          const kmp_options *opt, uint64_t *counts);
KMP_API kmp_status kmp_wordset_find_all(const kmp_wordset *ws, const void *haystack, size_t n,
                                        const kmp_options *opt, kmp_word_matches *out);

/* Files, as kmp_*_fd_range and kmp_*_fd (the same errors, KMP_ERR_TRUNCATED included). */
KMP_API kmp_status kmp_wordset_count_fd_range(const kmp_wordset *ws, int fd, int64_t offset, int64_t length,
                                              const kmp_options *opt, uint64_t *count, int *os_errno);
KMP_API kmp_status kmp_wordset_count_each_fd_range(const kmp_wordset *ws, int fd, int64_t offset,
                                                   int64_t length, const kmp_options *opt,
                                                   uint64_t *counts, int *os_errno);
KMP_API kmp_status kmp_wordset_find_all_fd_range(const kmp_wordset *ws, int fd, int64_t offset,
                                                 int64_t length, const kmp_options *opt,
                                                 kmp_word_matches *out, int *os_errno);
KMP_API kmp_status kmp_wordset_count_fd(const kmp_wordset *ws, int fd, const kmp_options *opt,
                                        uint64_t *count, int *os_errno);
KMP_API kmp_status kmp_wordset_count_each_fd(const kmp_wordset *ws, int fd, const kmp_options *opt,
                                             uint64_t *counts, int *os_errno);
KMP_API kmp_status kmp_wordset_find_all_fd(const kmp_wordset *ws, int fd, const kmp_options *opt,
                                           kmp_word_matches *out, int *os_errno);

/* --- chosen matches: whole words, match kinds ------------------------------------------------- */

/* which of the matches left at each offset kmp_choose keeps (the aho-corasick crate's MatchKind) */
typedef enum kmp_kind {
    KMP_KIND_OVERLAPPING = 0,       /* every one */
    KMP_KIND_LEFTMOST_LONGEST = 1,  /* offset by offset: the longest word (the lowest index among
                                       equal lengths), kept when it starts at or after the end
                                       of the last match kept */
    KMP_KIND_LEFTMOST_FIRST = 2     /* the same with the lowest word index */
} kmp_kind;

/*
 * The matches chosen from the candidates of a search of haystack[0..n): offsets[0..*len)
 * and words[0..*len) as kmp_wordset_find_all gives them (ordered by offset, then word;
 * words NULL: every candidate is word 0, as kmp_find_all gives them), word w being
 * lengths[w] bytes long (nwords words). Two steps, in one pass:
 *
 *  1. whole (nonzero): a candidate [s, e) is dropped when the character that ends at s or
 *     the one that starts at e is a word character, word_chars[cp] != 0 for its code point
 *     (word_chars: 0x110000 bytes). Characters are read as strict UTF-8 (RFC 3629: no
 *     overlong form, no surrogate, nothing above U+10FFFF). The one ending at s: from s - 1
 *     back over continuation bytes (0x80-0xBF) while the position is above 0 and above
 *     s - 4; the bytes from there to s must be exactly one character. The one starting at
 *     e: its length from the lead byte (0xC2-0xDF: 2, 0xE0-0xEF: 3, 0xF0-0xF4: 4). A
 *     sequence that is not valid, is cut by the edge of the haystack, or is missing (s == 0,
 *     e == n) is not a word character.
 *  2. kind (a kmp_kind): of the candidates left, which are kept.
 *
 * The kept matches are moved to the front of offsets and words, in order, and *len becomes
 * their number; counts (NULL, or nwords counters, zeroed first) receives each word's. Only
 * opt's cancel flag is used (opt may be NULL); it is looked at every 2^20 candidates. No
 * memory is allocated.
 *
 * KMP_OK; KMP_ERR_INVALID for a NULL argument (word_chars may be NULL when whole is 0;
 * haystack when n is 0; offsets when *len is 0), nwords 0, an unknown kind, or a candidate
 * whose word is not below nwords or that does not lie within the haystack;
 * KMP_ERR_CANCELLED. On an error *len and counts hold the matches kept before it (each one
 * chosen, ordered).
 */
KMP_API kmp_status kmp_choose(const void *haystack, size_t n, const size_t *lengths, size_t nwords, int whole,
                              int kind, const unsigned char *word_chars, const kmp_options *opt, int64_t *offsets,
                              uint32_t *words, size_t *len, uint64_t *counts);

/* --- many small files ------------------------------------------------------------------------ */

/* what a batch search collects for each file (kmp_batch_search) */
typedef enum kmp_want {
    KMP_WANT_COUNT = 0,    /* counts[i]: file i's matches */
    KMP_WANT_EACH = 1,     /* counts[i * nwords + w]: the matches of word w in file i (a
                              searcher: nwords 1, the same as KMP_WANT_COUNT) */
    KMP_WANT_OFFSETS = 2,  /* offsets[bounds[i] .. bounds[i + 1]): file i's match offsets, ascending
                              (word sets: one per (offset, word) match, an offset repeated where
                              several words start) */
    KMP_WANT_PAIRS = 3     /* the same, and words[bounds[i] .. bounds[i + 1]): the word of each
                              (ordered by offset, then word; a searcher: all 0) */
} kmp_want;

/* a file's status in a batch besides 0 (searched) and an errno (> 0) */
#define KMP_BATCH_STREAM (-1)  /* not a regular file, or its size is 0: read it as a stream */
#define KMP_BATCH_BIG (-2)     /* max_size bytes or more: search it with kmp_*_fd_range and
                                  every thread */

/* The results of a batch search, owned by the library: start it as KMP_BATCH_RESULT_INIT (or
 * all zero), give it back with kmp_batch_result_free. A batch search replaces what it held.
 * Arrays the want does not use are NULL; the others are never NULL, even empty. */
typedef struct kmp_batch_result {
    size_t n;          /* the number of files */
    size_t nwords;     /* counts per file with KMP_WANT_EACH (else 1) */
    int64_t *status;   /* [n]: 0 searched, errno (> 0: open, fstat or a read failed; EISDIR
                          for a directory), KMP_BATCH_STREAM or KMP_BATCH_BIG */
    uint64_t *counts;  /* COUNT: [n]; EACH: [n * nwords] (0 for a file not searched) */
    int64_t *bounds;   /* OFFSETS, PAIRS: [n + 1], bounds[0] = 0, bounds[n] = len (a file not
                          searched has none) */
    int64_t *offsets;  /* OFFSETS, PAIRS: [len], offsets in their file */
    uint32_t *words;   /* PAIRS: [len] */
    size_t len;        /* the matches of every file */
} kmp_batch_result;

#define KMP_BATCH_RESULT_INIT {0u, 0u, NULL, NULL, NULL, NULL, NULL, 0u}

/* Frees the storage and leaves *r empty (reusable). NULL is allowed. */
KMP_API void kmp_batch_result_free(kmp_batch_result *r);

/*
 * Many small files in one call (a tree's): each of paths[0..n) is opened (read-only,
 * O_NONBLOCK: a FIFO's writer is not waited for), fstat'ed and, when it is a regular file of
 * 1 to max_size - 1 bytes, read with pread (opt.block_size bytes per read) and searched whole
 * by one thread, then closed. Exactly one of s and ws is not NULL: the pattern or the word
 * set searched for. opt.threads threads take the files one at a time, in order (so at most
 * that many are open at once), each reading into one buffer it keeps for all its files; a
 * thread that cannot be started leaves its files to the others (never an error). want: a
 * kmp_want. The results come in the order of paths (kmp_batch_result); a file that turns
 * out shorter than its size gives the matches in what could be read (status 0), one whose
 * read fails its errno and no matches. opt.cancel is looked at before each file and each
 * read: KMP_ERR_CANCELLED.
 *
 * KMP_OK (every file has its status), KMP_ERR_INVALID (a NULL argument or path, s and ws
 * both or neither given, an unknown want or option), KMP_ERR_NOMEM, KMP_ERR_CANCELLED;
 * on any error *out is left empty. opt.min_chunk is not used.
 */
KMP_API kmp_status kmp_batch_search(const kmp_searcher *s, const kmp_wordset *ws, const char *const *paths,
                                    size_t n, uint64_t max_size, int want, const kmp_options *opt,
                                    kmp_batch_result *out);
/* The same with the paths laid end to end in bytes[0..size), each followed by a NUL (one
 * buffer instead of n pointers: what a binding has). KMP_ERR_INVALID unless the buffer
 * holds exactly n paths (a path with a NUL in it cannot be given). */
KMP_API kmp_status kmp_batch_search_packed(const kmp_searcher *s, const kmp_wordset *ws, const char *bytes,
                                           size_t size, size_t n, uint64_t max_size, int want,
                                           const kmp_options *opt, kmp_batch_result *out);

/* --- messages --------------------------------------------------------------------------------- */

/* A static English message for a status (never NULL). */
KMP_API const char *kmp_strerror(kmp_status status);
/* "0.1.0" */
KMP_API const char *kmp_version(void);
/* The SIMD level a call with opt->simd == level would use here: "avx2", "sse2" or "scalar". */
KMP_API const char *kmp_simd_name(int level);

#ifdef __cplusplus
}
#endif

#endif /* KMP_H */
