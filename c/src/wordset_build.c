/*
 * Building a word set (wordset.h). kmp_wordset_new checks the words, then runs the phases
 * in order, each a function below:
 *   fold_words, byte_classes   the words folded (ignore case) end to end; the byte classes
 *   build_trie                 the words sorted once, the trie made from the sorted list in
 *                              one pass (each word shares its longest common prefix with the
 *                              one before it)
 *   bfs_order                  the trie in BFS order: a state's children are consecutive
 *   failure_links              failure links, and resolved rows for the busy states
 *   collect_outputs            the output records (counts, words, dictionary links)
 *   choose_form                the dense DFA (build_dense) or the compact form (build_compact)
 *   build_start_filter         the exact table of the words' prefixes and the hashed bitmap
 *   choose_filter              whether the fast scan uses Teddy (build_teddy) or the bitmap
 * The build state carries what a later phase needs; a phase frees what it alone used, and
 * the driver frees the rest on every path. About O(total bytes x log) time; temporary
 * memory a few words per trie state.
 */
#include <stdlib.h>
#include <string.h>

#include "tuning.h"
#include "wordset.h"

/* In the compact form a state with at least this many children (or the classes / 8) gets a
 * resolved dense row: such states are few (the top of the trie) and busy. */
#define KMP__ROW_MIN_CHILDREN 8u
/* ... and so does every state this close to the root, while their rows take at most
 * KMP__ROW_SHALLOW_BYTES: in text the automaton falls back to them at almost every byte
 * (see c/README.md, Tuning) */
#define KMP__ROW_MAX_DEPTH 2u
#define KMP__ROW_SHALLOW_BYTES ((uint64_t)4 << 20)

/* --- allocation: every block the set keeps is recorded (freed together) and counted -------- */

static void *keep_alloc(kmp_wordset *ws, size_t count, size_t size)
{
    if (count != 0 && size > SIZE_MAX / count)
        return NULL;
    if (ws->nblocks == sizeof ws->blocks / sizeof ws->blocks[0])
        return NULL; /* a bug, not a condition: every block is listed in this file */
    size_t bytes = count * size;
    void *p = malloc(bytes ? bytes : 1);
    if (p == NULL)
        return NULL;
    ws->blocks[ws->nblocks++] = p;
    ws->memory += bytes;
    return p;
}

/* make a temporary array part of the set (the caller checked there is room in blocks) */
static void adopt(kmp_wordset *ws, void *p, size_t bytes)
{
    ws->blocks[ws->nblocks++] = p;
    ws->memory += bytes;
}

/* checked temporary arrays */
static void *temp_alloc(size_t count, size_t size)
{
    if (count != 0 && size > SIZE_MAX / count)
        return NULL;
    size_t bytes = count * size;
    return malloc(bytes ? bytes : 1);
}

void kmp_wordset_free(kmp_wordset *ws)
{
    if (ws == NULL)
        return;
    for (size_t i = 0; i < ws->nblocks; i++)
        free(ws->blocks[i]);
    free(ws);
}

size_t kmp_wordset_len(const kmp_wordset *ws) { return ws ? ws->n : 0; }
size_t kmp_wordset_memory(const kmp_wordset *ws) { return ws ? ws->memory : 0; }
size_t kmp_wordset_longest(const kmp_wordset *ws) { return ws ? ws->maxlen : 0; }

/* --- sorting the words ------------------------------------------------------------------- */

typedef struct word_ref {
    const uint8_t *p;
    size_t len;
    uint32_t id;
} word_ref;

static int cmp_words(const void *va, const void *vb)
{
    const word_ref *a = va, *b = vb;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->p, b->p, n);
    if (c != 0)
        return c;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id; /* duplicates: ascending ids */
}

static int cmp_u32(const void *va, const void *vb)
{
    uint32_t a = *(const uint32_t *)va, b = *(const uint32_t *)vb;
    return a < b ? -1 : a > b;
}

static unsigned ceil_log2(uint64_t x)
{
    unsigned b = 0;
    while (b < 63 && ((uint64_t)1 << b) < x)
        b++;
    return b;
}


/* --- the build state ------------------------------------------------------------------------- */

typedef struct build {
    kmp_wordset *ws;         /* the set being built (ws->n words, ws->flags) */
    const size_t *lens;      /* the caller's word lengths */
    size_t total;            /* their sum */
    int icase;
    /* fold_words: word i, folded, is bytes[off[i] .. off[i + 1]) */
    uint8_t *bytes;
    size_t *off;
    /* build_trie: the trie in DFS order (node 0 the root, children in ascending class order);
     * bfs_order replaces it. The words ending at node v are term_words[term_lo[v] ..
     * term_lo[v] + term_n[v]) (by DFS id, then by BFS id). */
    uint32_t nodes;
    uint32_t *first_child, *next_sib;
    uint8_t *dlabel;
    uint32_t *term_lo, *term_n;
    /* bfs_order: the children of s are the states child_lo[s] .. child_lo[s + 1]; label[v]
     * is the class of the edge into v, depth[v] its distance from the root */
    uint32_t *child_lo;
    uint8_t *label;
    uint32_t *depth;
    /* failure_links: rowi[s] is s's resolved row in rows (nrows rows of nclasses), or KMP__NONE */
    uint32_t *fail, *rowi, *rows;
    uint32_t nrows;
    /* collect_outputs: state -> its output record, or KMP__NONE */
    uint32_t *renum;
    /* choose_filter: Teddy's masks (build_teddy installs them) */
    unsigned teddy_m;
    uint8_t teddy_lo[4][16];
    uint8_t teddy_hi[4][16];
} build;

static void build_free(build *b)
{
    free(b->bytes);
    free(b->off);
    free(b->first_child);
    free(b->next_sib);
    free(b->dlabel);
    free(b->term_lo);
    free(b->term_n);
    free(b->child_lo);
    free(b->label);
    free(b->depth);
    free(b->fail);
    free(b->rowi);
    free(b->rows);
    free(b->renum);
}

/* --- the automaton's transitions while building ---------------------------------------------- */

/* the child of s by class c, or KMP__NONE (children are sorted by class) */
static uint32_t child_of(const build *b, uint32_t s, uint8_t c)
{
    uint32_t lo = b->child_lo[s], hi = b->child_lo[s + 1];
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (b->label[mid] < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < b->child_lo[s + 1] && b->label[lo] == c ? lo : KMP__NONE;
}

/* the automaton's transition from s by c, following failure links (the root has a row) */
static uint32_t delta(const build *b, uint32_t s, uint8_t c)
{
    for (;;) {
        if (b->rowi[s] != KMP__NONE)
            return b->rows[(size_t)b->rowi[s] * b->ws->nclasses + c];
        uint32_t t = child_of(b, s, c);
        if (t != KMP__NONE)
            return t;
        s = b->fail[s];
    }
}

/* --- the phases ----------------------------------------------------------------------------- */

/* the words, folded (the verification records keep what the scans need of them) */
static int fold_words(build *b, const void *const *words)
{
    const size_t n = b->ws->n;
    b->bytes = temp_alloc(b->total, 1);
    b->off = temp_alloc(n + 1, sizeof(size_t));
    if (b->bytes == NULL || b->off == NULL)
        return -1;
    b->off[0] = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *w = words[i];
        for (size_t j = 0; j < b->lens[i]; j++)
            b->bytes[b->off[i] + j] = b->ws->fold[w[j]];
        b->off[i + 1] = b->off[i] + b->lens[i];
    }
    return 0;
}

/* byte classes, in byte order (so sorting by bytes sorts by classes) */
static void byte_classes(build *b)
{
    kmp_wordset *ws = b->ws;
    uint8_t used[256] = {0};
    for (size_t i = 0; i < b->total; i++)
        used[b->bytes[i]] = 1;
    unsigned nused = 0;
    for (unsigned c = 0; c < 256; c++)
        nused += used[c];
    unsigned next = nused < 256 ? 1 : 0; /* class 0: the bytes in no word, if any */
    for (unsigned c = 0; c < 256; c++)
        ws->cls[c] = used[c] ? (uint8_t)next++ : 0;
    for (unsigned c = 0; c < 256; c++)
        ws->cls[c] = ws->cls[ws->fold[c]];
    ws->nclasses = nused < 256 ? nused + 1 : 256;
}

/* the words sorted (ascending ids among duplicates): the set's terminal lists
 * (ws->term_words) and, returned, the sorted references the trie is made from */
static word_ref *sort_words(build *b)
{
    kmp_wordset *ws = b->ws;
    const size_t n = ws->n;
    word_ref *refs = temp_alloc(n, sizeof *refs);
    uint32_t *sorted = keep_alloc(ws, n, sizeof(uint32_t));
    if (refs == NULL || sorted == NULL) {
        free(refs);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        refs[i] = (word_ref){b->bytes + b->off[i], b->lens[i], (uint32_t)i};
    qsort(refs, n, sizeof *refs, cmp_words);
    for (size_t i = 0; i < n; i++)
        sorted[i] = refs[i].id;
    ws->term_words = sorted;
    return refs;
}

/* the trie in DFS order: node 0 is the root; children come in ascending class order */
static int build_trie(build *b)
{
    const size_t n = b->ws->n, cap = b->total + 1;
    word_ref *refs = sort_words(b);
    b->first_child = temp_alloc(cap, sizeof(uint32_t));
    b->next_sib = temp_alloc(cap, sizeof(uint32_t));
    b->term_lo = temp_alloc(cap, sizeof(uint32_t));
    b->term_n = temp_alloc(cap, sizeof(uint32_t));
    b->dlabel = temp_alloc(cap, 1);
    uint32_t *last_child = temp_alloc(cap, sizeof(uint32_t));
    uint32_t *path = temp_alloc(b->ws->maxlen + 1, sizeof(uint32_t));
    int ok = refs && b->first_child && b->next_sib && b->term_lo && b->term_n && b->dlabel && last_child && path;
    if (ok) {
        uint32_t *first_child = b->first_child, *next_sib = b->next_sib, *term_lo = b->term_lo, *term_n = b->term_n;
        uint8_t *dlabel = b->dlabel;
        uint32_t nodes = 1;
        first_child[0] = next_sib[0] = last_child[0] = KMP__NONE;
        term_lo[0] = term_n[0] = 0;
        dlabel[0] = 0;
        path[0] = 0;
        for (size_t i = 0; i < n; i++) {
            size_t lcp = 0;
            if (i > 0) {
                size_t lim = refs[i].len < refs[i - 1].len ? refs[i].len : refs[i - 1].len;
                while (lcp < lim && refs[i].p[lcp] == refs[i - 1].p[lcp])
                    lcp++;
            }
            for (size_t d = lcp; d < refs[i].len; d++) {
                uint32_t parent = path[d], v = nodes++;
                first_child[v] = next_sib[v] = last_child[v] = KMP__NONE;
                term_n[v] = 0;
                dlabel[v] = b->ws->cls[refs[i].p[d]];
                if (last_child[parent] == KMP__NONE)
                    first_child[parent] = v;
                else
                    next_sib[last_child[parent]] = v;
                last_child[parent] = v;
                path[d + 1] = v;
            }
            uint32_t t = path[refs[i].len];
            if (term_n[t]++ == 0)
                term_lo[t] = (uint32_t)i;
        }
        b->nodes = nodes;
        b->ws->nstates = nodes;
    }
    free(last_child);
    free(path);
    free(refs);
    return ok ? 0 : -1;
}

/* BFS order: the children of each state are consecutive; the terminal ranges follow the
 * states to their BFS ids; the DFS trie is dropped */
static int bfs_order(build *b)
{
    const uint32_t nodes = b->nodes;
    uint32_t *order = temp_alloc(nodes, sizeof(uint32_t));
    b->child_lo = temp_alloc((size_t)nodes + 1, sizeof(uint32_t));
    b->label = temp_alloc(nodes, 1);
    b->depth = temp_alloc(nodes, sizeof(uint32_t));
    if (order == NULL || b->child_lo == NULL || b->label == NULL || b->depth == NULL) {
        free(order);
        return -1;
    }
    uint32_t *child_lo = b->child_lo, *depth = b->depth;
    uint8_t *label = b->label;
    uint32_t head = 0, tail = 1;
    order[0] = 0;
    depth[0] = 0;
    label[0] = 0;
    while (head < tail) {
        uint32_t s = head++, node = order[s];
        child_lo[s] = tail;
        for (uint32_t v = b->first_child[node]; v != KMP__NONE; v = b->next_sib[v]) {
            depth[tail] = depth[s] + 1;
            label[tail] = b->dlabel[v];
            order[tail++] = v;
        }
    }
    child_lo[nodes] = nodes;
    free(b->first_child);
    free(b->next_sib);
    free(b->dlabel);
    b->first_child = b->next_sib = NULL;
    b->dlabel = NULL;
    /* terminal ranges by BFS id (the DFS arrays permuted) */
    uint32_t *tl = temp_alloc(nodes, sizeof(uint32_t)), *tn = temp_alloc(nodes, sizeof(uint32_t));
    if (tl != NULL && tn != NULL) {
        for (uint32_t s = 0; s < nodes; s++) {
            tl[s] = b->term_lo[order[s]];
            tn[s] = b->term_n[order[s]];
        }
        free(b->term_lo);
        free(b->term_n);
        b->term_lo = tl;
        b->term_n = tn;
        tl = tn = NULL;
    }
    free(order);
    int ok = tl == NULL && tn == NULL;
    free(tl);
    free(tn);
    return ok ? 0 : -1;
}

/* which states get a resolved row: the root, the states with many children, and while
 * their rows stay small the shallow ones (rowi, nrows, and rows allocated) */
static int choose_rows(build *b)
{
    const uint32_t nodes = b->nodes;
    const unsigned nc = b->ws->nclasses;
    const uint32_t row_min = nc / 8 > KMP__ROW_MIN_CHILDREN ? nc / 8 : KMP__ROW_MIN_CHILDREN;
    b->rowi = temp_alloc(nodes, sizeof(uint32_t));
    if (b->rowi == NULL)
        return -1;
    uint32_t nrows = 0, shallow = 0;
    for (uint32_t s = 0; s < nodes; s++)
        shallow += b->depth[s] <= KMP__ROW_MAX_DEPTH;
    const uint32_t row_depth = (uint64_t)shallow * nc * sizeof(uint32_t) <= KMP__ROW_SHALLOW_BYTES ? KMP__ROW_MAX_DEPTH : 0;
    for (uint32_t s = 0; s < nodes; s++)
        b->rowi[s] = (b->depth[s] <= row_depth || b->child_lo[s + 1] - b->child_lo[s] >= row_min) ? nrows++ : KMP__NONE;
    b->nrows = nrows;
    b->rows = temp_alloc((size_t)nrows * nc, sizeof(uint32_t));
    return b->rows == NULL ? -1 : 0;
}

/* failure links and rows in BFS order: fail[s] is shallower, so done before s */
static int failure_links(build *b)
{
    const uint32_t nodes = b->nodes;
    const unsigned nc = b->ws->nclasses;
    b->fail = temp_alloc(nodes, sizeof(uint32_t));
    if (b->fail == NULL || choose_rows(b) != 0)
        return -1;
    uint32_t *fail = b->fail;
    fail[0] = 0;
    for (uint32_t s = 0; s < nodes; s++) {
        if (b->rowi[s] != KMP__NONE) {
            uint32_t *row = b->rows + (size_t)b->rowi[s] * nc;
            for (unsigned c = 0; c < nc; c++) {
                uint32_t t = child_of(b, s, (uint8_t)c);
                row[c] = t != KMP__NONE ? t : s == 0 ? 0 : delta(b, fail[s], (uint8_t)c);
            }
        }
        for (uint32_t v = b->child_lo[s]; v < b->child_lo[s + 1]; v++)
            fail[v] = s == 0 ? 0 : delta(b, fail[s], b->label[v]);
    }
    return 0;
}

/* the output records: for each state that reports anything, the count along its suffix
 * chain, the words ending there, and the nearest state with words along the chain; numbered
 * in BFS order (renum), as both forms number them */
static int collect_outputs(build *b)
{
    kmp_wordset *ws = b->ws;
    const uint32_t nodes = b->nodes;
    const uint32_t *fail = b->fail, *term_lo = b->term_lo, *term_n = b->term_n;
    uint32_t *outcnt = temp_alloc(nodes, sizeof(uint32_t));
    uint32_t *termlink = temp_alloc(nodes, sizeof(uint32_t));
    b->renum = temp_alloc(nodes, sizeof(uint32_t));
    kmp__outrec *recs = NULL;
    if (outcnt != NULL && termlink != NULL && b->renum != NULL) {
        outcnt[0] = 0;
        termlink[0] = KMP__NONE;
        uint32_t nmatch = 0;
        for (uint32_t s = 1; s < nodes; s++) {
            uint32_t f = fail[s];
            outcnt[s] = term_n[s] + outcnt[f];
            termlink[s] = term_n[f] ? f : termlink[f];
            nmatch += outcnt[s] != 0;
        }
        recs = keep_alloc(ws, nmatch, sizeof *recs);
    }
    if (recs != NULL) {
        uint32_t *renum = b->renum, r = 0;
        for (uint32_t s = 0; s < nodes; s++)
            renum[s] = outcnt[s] ? r++ : KMP__NONE;
        for (uint32_t s = 0; s < nodes; s++) {
            if (renum[s] == KMP__NONE)
                continue;
            kmp__outrec *o = &recs[renum[s]];
            o->count = outcnt[s];
            o->lo = term_lo[s];
            o->hi = term_lo[s] + term_n[s];
            if (term_n[s] == 0)
                o->lo = o->hi = 0;
            o->depth = term_n[s] ? b->depth[s] : 0;
            o->next = termlink[s] == KMP__NONE ? KMP__NONE : renum[termlink[s]];
        }
        ws->out = recs;
    }
    free(outcnt);
    free(termlink);
    return recs == NULL ? -1 : 0;
}

/* Dense or compact (ws->dense): as the flags say, else dense while its table is small.
 * Dense ids are premultiplied by the number of classes (no padding to a power of 2: the
 * table is the smaller for it, and the division that recovers a state's index is only done
 * when it reports a match). -1: dense was asked for and cannot be represented. */
static int choose_form(build *b)
{
    kmp_wordset *ws = b->ws;
    const int dense_ok = (uint64_t)b->nodes * ws->nclasses <= UINT32_MAX;
    const size_t dense_bytes = dense_ok ? (size_t)b->nodes * ws->nclasses * sizeof(uint32_t) : SIZE_MAX;
    if (ws->flags & KMP_WORDSET_DENSE) {
        if (!dense_ok)
            return -1;
        ws->dense = 1;
    } else if (ws->flags & KMP_WORDSET_COMPACT) {
        ws->dense = 0;
    } else {
        ws->dense = dense_ok && dense_bytes <= KMP__DENSE_MAX_BYTES;
    }
    return 0;
}

/* the dense DFA: new ids, states without records first (BFS order), then those with
 * records; rows in BFS order, a missing edge going where the failure state's row goes */
static int build_dense(build *b)
{
    kmp_wordset *ws = b->ws;
    const uint32_t nodes = b->nodes;
    const unsigned nc = ws->nclasses;
    const uint32_t *renum = b->renum;
    uint32_t *newid = temp_alloc(nodes, sizeof(uint32_t));
    uint32_t *trans = keep_alloc(ws, (size_t)nodes * nc, sizeof(uint32_t));
    uint32_t *ndepth = newid && trans ? keep_alloc(ws, nodes, sizeof(uint32_t)) : NULL;
    if (ndepth == NULL) {
        free(newid);
        return -1;
    }
    uint32_t plain = 0;
    for (uint32_t s = 0; s < nodes; s++)
        plain += renum[s] == KMP__NONE;
    for (uint32_t s = 0, a = 0; s < nodes; s++)
        newid[s] = renum[s] == KMP__NONE ? a++ : plain + renum[s];
    for (uint32_t s = 0; s < nodes; s++) {
        uint32_t *row = trans + (size_t)newid[s] * nc;
        const uint32_t *frow = trans + (size_t)newid[b->fail[s]] * nc;
        for (unsigned c = 0; c < nc; c++)
            row[c] = s == 0 ? 0 : frow[c];
        for (uint32_t v = b->child_lo[s]; v < b->child_lo[s + 1]; v++)
            row[b->label[v]] = newid[v] * nc;
    }
    for (uint32_t s = 0; s < nodes; s++)
        ndepth[newid[s]] = b->depth[s];
    free(newid);
    ws->depth = ndepth;
    ws->trans = trans;
    ws->first_match = plain * nc;
    return 0;
}

/* the compact form: what a step reads of a state in one 16-byte record (one cache line,
 * mostly); the build's label, rows and depth arrays are the rest of it: the set adopts them */
static int build_compact(build *b)
{
    kmp_wordset *ws = b->ws;
    const uint32_t nodes = b->nodes;
    kmp__cstate *cs = keep_alloc(ws, (size_t)nodes + 1, sizeof *cs);
    if (cs == NULL || ws->nblocks + 4 > sizeof ws->blocks / sizeof ws->blocks[0])
        return -1; /* (the second: a bug, not a condition: blocks has room for every array) */
    for (uint32_t s = 0; s < nodes; s++)
        cs[s] = (kmp__cstate){b->child_lo[s], b->fail[s], b->rowi[s], b->renum[s]};
    cs[nodes] = (kmp__cstate){nodes, 0, KMP__NONE, KMP__NONE};
    adopt(ws, b->label, nodes);
    adopt(ws, b->rows, (size_t)b->nrows * ws->nclasses * sizeof(uint32_t));
    adopt(ws, b->depth, (size_t)nodes * sizeof(uint32_t));
    ws->cstates = cs;
    ws->depth = b->depth;
    ws->label = b->label;
    ws->rows = b->rows;
    b->rows = b->depth = NULL;
    b->label = NULL;
    return 0;
}

/* the number of distinct k-byte prefixes: the exact table's groups (the sorted words keep
 * each group together) */
static size_t prefix_groups(const build *b, unsigned k)
{
    const uint32_t *sorted = b->ws->term_words;
    size_t groups = 0;
    uint32_t prev = 0;
    for (size_t i = 0; i < b->ws->n; i++) {
        uint32_t key = kmp__load_prefix(b->bytes + b->off[sorted[i]], k);
        groups += i == 0 || key != prev;
        prev = key;
    }
    return groups;
}

/* the windows the bitmap holds (ws->stride, wmask, fmask); returns their width w */
static unsigned choose_windows(build *b, size_t groups)
{
    kmp_wordset *ws = b->ws;
    unsigned stride = 1, w = ws->k;
    if (ws->minlen >= 5) {
        stride = 2;
        w = 4;
    } else if (ws->minlen == 4 && !b->icase && groups <= KMP__STRIDE3_MAX_GROUPS) {
        stride = 2;
        w = 3;
    }
    ws->stride = stride;
    ws->wmask = w == 4 ? 0xFFFFFFFFu : (((uint32_t)1 << (8 * w)) - 1);
    ws->fmask = b->icase ? ws->wmask & 0xDFDFDFDFu : ws->wmask;
    return w;
}

/*
 * The prefilter's tables, built for every set: the exact table is what verifies a candidate
 * start (whichever filter found it), and the bitmap is the filter wherever Teddy is not used
 * (not chosen, or no pshufb at the search's SIMD level).
 *
 * The exact table groups the words by their k-byte prefix (the sorted words keep each group
 * together). The bitmap holds hashed w-byte windows: with stride 1 the window at each start
 * (w = k); with stride 2 the scan looks at every other position only, so each word enters two
 * windows, at its offsets 0 and 1 (w + 1 <= shortest word): half the hashing per byte.
 * Stride 2 takes w = 4 when the words have 5 bytes or more, w = 3 for 4-byte words while the
 * set is small and exact (3-byte windows of large or folded sets pass too many random
 * positions).
 */
static int build_start_filter(build *b)
{
    kmp_wordset *ws = b->ws;
    const size_t n = ws->n;
    const uint32_t *sorted = ws->term_words;
    const uint8_t *bytes = b->bytes;
    const size_t *off = b->off, *lens = b->lens;
    const unsigned k = ws->minlen < 4 ? (unsigned)ws->minlen : 4u;
    ws->k = k;
    ws->kmask = k == 4 ? 0xFFFFFFFFu : (((uint32_t)1 << (8 * k)) - 1);
    const size_t groups = prefix_groups(b, k);
    const unsigned w = choose_windows(b, groups), stride = ws->stride;
    /* 64 bitmap bits per window entry (about 0.1% false positives) while the bitmap stays
     * within half of L1 (16 KiB), 32 bits (0.5%) beyond, at most 512 KiB (L2) */
    const uint64_t entries = (uint64_t)groups * stride;
    unsigned fbits = ceil_log2(entries * 64);
    if (fbits > 17) {
        fbits = ceil_log2(entries * 32);
        fbits = fbits < 17 ? 17 : fbits > 22 ? 22 : fbits;
    }
    fbits = fbits < 12 ? 12 : fbits;
    uint32_t *bitmap = keep_alloc(ws, ((size_t)1 << fbits) / 32, sizeof(uint32_t));
    unsigned vbits = ceil_log2((uint64_t)groups * 2);
    vbits = vbits < 4 ? 4 : vbits;
    uint32_t *vslot = keep_alloc(ws, (size_t)2 << vbits, sizeof(uint32_t));
    /* records: a count per group, id + length + the padded rest of each word */
    size_t rec_words = groups;
    for (size_t i = 0; i < n; i++)
        rec_words += 2 + (lens[i] - k + 3) / 4;
    if (rec_words >= UINT32_MAX)
        return -1;
    uint32_t *vrec = keep_alloc(ws, rec_words, sizeof(uint32_t));
    uint32_t *group_ids = temp_alloc(n, sizeof(uint32_t));
    if (!bitmap || !vslot || !vrec || !group_ids) {
        free(group_ids);
        return -1;
    }
    memset(bitmap, 0, ((size_t)1 << fbits) / 8);
    memset(vslot, 0xff, ((size_t)2 << vbits) * sizeof(uint32_t));
    memset(vrec, 0, rec_words * sizeof(uint32_t));
    const uint32_t vmask = (uint32_t)(((uint64_t)1 << vbits) - 1);
    size_t rpos = 0;
    for (size_t i = 0; i < n;) {
        uint32_t key = kmp__load_prefix(bytes + off[sorted[i]], k);
        size_t j = i;
        while (j < n && kmp__load_prefix(bytes + off[sorted[j]], k) == key)
            j++;
        memcpy(group_ids, sorted + i, (j - i) * sizeof(uint32_t));
        qsort(group_ids, j - i, sizeof(uint32_t), cmp_u32);
        uint32_t slot = (key * KMP__VERIFY_MULT) >> (32 - vbits);
        while (vslot[2 * slot + 1] != KMP__NONE)
            slot = (slot + 1) & vmask;
        vslot[2 * slot] = key;
        vslot[2 * slot + 1] = (uint32_t)rpos;
        vrec[rpos++] = (uint32_t)(j - i);
        for (size_t q = 0; q < j - i; q++) {
            uint32_t id = group_ids[q];
            const uint8_t *wp = bytes + off[id];
            size_t wl = lens[id];
            vrec[rpos++] = id;
            vrec[rpos++] = (uint32_t)wl;
            memcpy(vrec + rpos, wp + k, wl - k);
            rpos += (wl - k + 3) / 4;
            for (unsigned o = 0; o < stride; o++) { /* its windows in the bitmap */
                uint32_t h = kmp__filter_hash(kmp__load_prefix(wp + o, w) & ws->fmask);
                bitmap[KMP__FWORD(h, fbits)] |= (1u << KMP__FBIT1(h, fbits)) | (1u << KMP__FBIT2(h, fbits));
            }
        }
        i = j;
    }
    free(group_ids);
    ws->fbits = fbits;
    ws->bitmap = bitmap;
    ws->vbits = vbits;
    ws->vslot = vslot;
    ws->vrec = vrec;
    return 0;
}

/* Teddy's masks: the sorted words cut into 8 runs (words sharing first bytes share a
 * bucket, so the masks stay tight) over their first m = min(shortest, 4) bytes; with ignore
 * case both cases of a letter pass */
static void teddy_masks(build *b)
{
    const kmp_wordset *ws = b->ws;
    const size_t n = ws->n;
    const unsigned m = ws->minlen < 4 ? (unsigned)ws->minlen : 4u;
    b->teddy_m = m;
    memset(b->teddy_lo, 0, sizeof b->teddy_lo);
    memset(b->teddy_hi, 0, sizeof b->teddy_hi);
    for (size_t i = 0; i < n; i++) {
        const uint8_t bucket = (uint8_t)(1u << (i * 8 / n));
        const uint8_t *wp = b->bytes + b->off[ws->term_words[i]];
        for (unsigned j = 0; j < m; j++) {
            uint8_t c = wp[j];
            b->teddy_lo[j][c & 15] |= bucket;
            b->teddy_hi[j][c >> 4] |= bucket;
            if (b->icase && c >= 'a' && c <= 'z') {
                b->teddy_lo[j][(c - 32) & 15] |= bucket;
                b->teddy_hi[j][(c - 32) >> 4] |= bucket;
            }
        }
    }
}

/* The share of starts that pass Teddy's masks in text (the Cython core's estimate): for each
 * bucket, the product over the m positions of the share of text bytes -- printable ASCII and
 * whitespace (9-13, 32-126), uniformly drawn -- whose two nibbles both allow the bucket;
 * summed over the buckets, at most 1. */
static double teddy_pass(const build *b)
{
    double share = 0;
    for (unsigned bucket = 0; bucket < 8; bucket++) {
        double part = 1;
        for (unsigned j = 0; j < b->teddy_m; j++) {
            unsigned npass = 0, ntext = 0;
            for (unsigned v = 9; v < 127; v++) {
                if (v >= 14 && v < 32)
                    continue;
                ntext++;
                npass += ((b->teddy_lo[j][v & 15] & b->teddy_hi[j][v >> 4]) >> bucket) & 1u;
            }
            part *= (double)npass / ntext;
        }
        share += part;
    }
    return share < 1 ? share : 1;
}

/* Whether the fast scan uses Teddy, else the bitmap (the rule of every core): Teddy iff the
 * set has at most KMP__TEDDY_MAX_WORDS words and its masks pass at most KMP__TEDDY_MAX_PASS
 * of the starts (teddy_pass) -- twice that with ignore case, where the bitmap's folded
 * windows (bit 5 of each letter masked) pass about twice as many starts as exact ones.
 * Computes the masks build_teddy installs. */
static int choose_filter(build *b)
{
    if (b->ws->n > KMP__TEDDY_MAX_WORDS)
        return 0;
    teddy_masks(b);
    return teddy_pass(b) <= (b->icase ? 2 : 1) * KMP__TEDDY_MAX_PASS;
}

/* Teddy for the set: the masks choose_filter made */
static void build_teddy(build *b)
{
    kmp_wordset *ws = b->ws;
    ws->teddy_m = b->teddy_m;
    memcpy(ws->teddy_lo, b->teddy_lo, sizeof ws->teddy_lo);
    memcpy(ws->teddy_hi, b->teddy_hi, sizeof ws->teddy_hi);
}

/* --- the public entry points ----------------------------------------------------------------- */

kmp_status kmp_wordset_new_packed(const void *bytes, const size_t *lens, size_t n, unsigned flags, kmp_wordset **out)
{
    if (out == NULL)
        return KMP_ERR_INVALID;
    *out = NULL;
    if (bytes == NULL || lens == NULL || n == 0)
        return KMP_ERR_INVALID;
    if (n > ((size_t)1 << 31))
        return KMP_ERR_NOMEM; /* as kmp_wordset_new */
    const void **words = malloc(n * sizeof *words);
    if (words == NULL)
        return KMP_ERR_NOMEM;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (lens[i] > SIZE_MAX - at) {
            free(words);
            return KMP_ERR_NOMEM;
        }
        words[i] = (const uint8_t *)bytes + at;
        at += lens[i];
    }
    kmp_status st = kmp_wordset_new(words, lens, n, flags, out);
    free(words);
    return st;
}


/* the arguments checked: KMP_OK with the words' total, shortest and longest length */
static kmp_status check_words(const void *const *words, const size_t *lens, size_t n, unsigned flags, size_t *total,
                              size_t *minlen, size_t *maxlen)
{
    const unsigned known = KMP_IGNORE_CASE | KMP_WORDSET_DENSE | KMP_WORDSET_COMPACT;
    if (words == NULL || lens == NULL || n == 0 || (flags & ~known) != 0 ||
        (flags & (KMP_WORDSET_DENSE | KMP_WORDSET_COMPACT)) == (KMP_WORDSET_DENSE | KMP_WORDSET_COMPACT))
        return KMP_ERR_INVALID;
    *total = 0;
    *minlen = SIZE_MAX;
    *maxlen = 0;
    for (size_t i = 0; i < n; i++) {
        if (words[i] == NULL || lens[i] == 0)
            return KMP_ERR_INVALID;
        if (lens[i] > SIZE_MAX - *total)
            return KMP_ERR_NOMEM;
        *total += lens[i];
        *minlen = lens[i] < *minlen ? lens[i] : *minlen;
        *maxlen = lens[i] > *maxlen ? lens[i] : *maxlen;
    }
    /* word indices, state ids and record counts are 32-bit (KMP__NONE reserved) */
    if (n > ((size_t)1 << 31) || *total >= (size_t)UINT32_MAX - 1)
        return KMP_ERR_NOMEM;
    return KMP_OK;
}

kmp_status kmp_wordset_new(const void *const *words, const size_t *lens, size_t n, unsigned flags, kmp_wordset **out)
{
    if (out == NULL)
        return KMP_ERR_INVALID;
    *out = NULL;
    size_t total, minlen, maxlen;
    kmp_status st = check_words(words, lens, n, flags, &total, &minlen, &maxlen);
    if (st != KMP_OK)
        return st;
    kmp_wordset *ws = calloc(1, sizeof *ws);
    if (ws == NULL)
        return KMP_ERR_NOMEM;
    *ws = (kmp_wordset){.n = n, .flags = flags, .minlen = minlen, .maxlen = maxlen, .memory = sizeof *ws};
    const int icase = (flags & KMP_IGNORE_CASE) != 0;
    for (unsigned c = 0; c < 256; c++)
        ws->fold[c] = (uint8_t)(icase && c >= 'A' && c <= 'Z' ? c + 32 : c);

    build b = {.ws = ws, .lens = lens, .total = total, .icase = icase};
    int ok = fold_words(&b, words) == 0;
    if (ok)
        byte_classes(&b);
    ok = ok && build_trie(&b) == 0 && bfs_order(&b) == 0 && failure_links(&b) == 0 && collect_outputs(&b) == 0 &&
         choose_form(&b) == 0 && (ws->dense ? build_dense(&b) : build_compact(&b)) == 0 && build_start_filter(&b) == 0;
    if (ok && choose_filter(&b))
        build_teddy(&b);
    build_free(&b);
    if (!ok) {
        kmp_wordset_free(ws);
        return KMP_ERR_NOMEM;
    }
    *out = ws;
    return KMP_OK;
}
