/*
 * Building a word set (wordset.h): the words sorted once, the trie made from the sorted list
 * in one pass (each word shares its longest common prefix with the one before it), laid out
 * in BFS order, failure links and output records, then the dense DFA or the compact form,
 * then the prefilter. About O(total bytes x log) time; temporary memory a few words per
 * trie state.
 */
#include <stdlib.h>
#include <string.h>

#include "wordset.h"

/* A dense DFA is used while its table is at most this big: larger ones spill out of the
 * L2/L3 caches and the compact form, whose hot states are few, does as well or better. */
#define KMP__DENSE_MAX_BYTES ((size_t)4 << 20)

/* In the compact form a state with at least this many children (or the classes / 8) gets a
 * resolved dense row: such states are few (the top of the trie) and busy. */
#define KMP__ROW_MIN_CHILDREN 8u
/* ... and so does every state this close to the root, while their rows take at most
 * KMP__ROW_SHALLOW_BYTES: in text the automaton falls back to them at almost every byte
 * (measured: 1.2-1.5x faster textbook scans for 1,000 to 100,000 words) */
#define KMP__ROW_MAX_DEPTH 2u
#define KMP__ROW_SHALLOW_BYTES ((uint64_t)4 << 20)

/* the prefilter: stride 2 over 3-byte windows up to this many 4-byte prefixes, and only
 * without ignore case: beyond, or folded (bit 5 of each byte masked: twice the random
 * windows pass), 3-byte windows pass too many random positions -- measured on the
 * benchmark's words, 4,000 words 1.4x slower than stride 1, 1,000 folded 1.8x (the Rust
 * core's rule too) */
#define KMP__STRIDE3_MAX_GROUPS 1024u
/* Teddy up to this many words (5 per bucket): measured faster than the hashed windows up
 * to 40 words of the benchmark's kind (0.24 vs 0.29 s/GiB at 40), slower from 48 on */
#define KMP__TEDDY_MAX_WORDS 40u
#define KMP__FILTER_BITS_PER_ENTRY 256u

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

/* --- the automaton's transitions while building ---------------------------------------------- */

typedef struct builder {
    kmp_wordset *ws;
    uint32_t *child_lo, *fail, *rowi, *rows;
    uint8_t *label;
} builder;

/* the child of s by class c, or KMP__NONE (children are sorted by class) */
static uint32_t child_of(const builder *b, uint32_t s, uint8_t c)
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
static uint32_t delta(const builder *b, uint32_t s, uint8_t c)
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

/* --- the build ----------------------------------------------------------------------------- */

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

kmp_status kmp_wordset_new(const void *const *words, const size_t *lens, size_t n, unsigned flags, kmp_wordset **out)
{
    if (out == NULL)
        return KMP_ERR_INVALID;
    *out = NULL;
    const unsigned known = KMP_IGNORE_CASE | KMP_WORDSET_DENSE | KMP_WORDSET_COMPACT;
    if (words == NULL || lens == NULL || n == 0 || (flags & ~known) != 0 ||
        (flags & (KMP_WORDSET_DENSE | KMP_WORDSET_COMPACT)) == (KMP_WORDSET_DENSE | KMP_WORDSET_COMPACT))
        return KMP_ERR_INVALID;
    size_t total = 0, minlen = SIZE_MAX, maxlen = 0;
    for (size_t i = 0; i < n; i++) {
        if (words[i] == NULL || lens[i] == 0)
            return KMP_ERR_INVALID;
        if (lens[i] > SIZE_MAX - total)
            return KMP_ERR_NOMEM;
        total += lens[i];
        minlen = lens[i] < minlen ? lens[i] : minlen;
        maxlen = lens[i] > maxlen ? lens[i] : maxlen;
    }
    /* word indices, state ids and record counts are 32-bit (KMP__NONE reserved) */
    if (n > ((size_t)1 << 31) || total >= (size_t)UINT32_MAX - 1)
        return KMP_ERR_NOMEM;

    kmp_wordset *ws = calloc(1, sizeof *ws);
    if (ws == NULL)
        return KMP_ERR_NOMEM;
    ws->memory = sizeof *ws;
    ws->n = n;
    ws->flags = flags;
    ws->minlen = minlen;
    ws->maxlen = maxlen;
    const int icase = (flags & KMP_IGNORE_CASE) != 0;
    for (unsigned c = 0; c < 256; c++)
        ws->fold[c] = (uint8_t)(icase && c >= 'A' && c <= 'Z' ? c + 32 : c);

    kmp_status st = KMP_ERR_NOMEM;
    word_ref *refs = NULL;
    uint32_t *first_child = NULL, *next_sib = NULL, *last_child = NULL, *term_lo = NULL, *term_n = NULL;
    uint32_t *path = NULL, *order = NULL, *depth = NULL, *outcnt = NULL, *termlink = NULL;
    uint32_t *renum = NULL, *fail = NULL, *rowi = NULL, *rows = NULL, *child_lo = NULL;
    uint8_t *dlabel = NULL, *label = NULL, *bytes = NULL;
    size_t *off = NULL;
    uint32_t *group_ids = NULL;
    builder b = {ws, NULL, NULL, NULL, NULL, NULL};

    /* the words, folded (the verification records keep what the scans need of them) */
    bytes = temp_alloc(total, 1);
    off = temp_alloc(n + 1, sizeof(size_t));
    if (bytes == NULL || off == NULL)
        goto done;
    off[0] = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *w = words[i];
        for (size_t j = 0; j < lens[i]; j++)
            bytes[off[i] + j] = ws->fold[w[j]];
        off[i + 1] = off[i] + lens[i];
    }

    /* byte classes, in byte order (so sorting by bytes sorts by classes) */
    {
        uint8_t used[256] = {0};
        for (size_t i = 0; i < total; i++)
            used[bytes[i]] = 1;
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

    /* the words sorted (ascending ids among duplicates): the terminal lists, and the trie */
    refs = temp_alloc(n, sizeof *refs);
    uint32_t *sorted = keep_alloc(ws, n, sizeof(uint32_t));
    if (refs == NULL || sorted == NULL)
        goto done;
    for (size_t i = 0; i < n; i++)
        refs[i] = (word_ref){bytes + off[i], lens[i], (uint32_t)i};
    qsort(refs, n, sizeof *refs, cmp_words);
    for (size_t i = 0; i < n; i++)
        sorted[i] = refs[i].id;
    ws->term_words = sorted;

    /* the trie in DFS order: node 0 is the root; children come in ascending class order */
    size_t cap = total + 1;
    first_child = temp_alloc(cap, sizeof(uint32_t));
    next_sib = temp_alloc(cap, sizeof(uint32_t));
    last_child = temp_alloc(cap, sizeof(uint32_t));
    term_lo = temp_alloc(cap, sizeof(uint32_t));
    term_n = temp_alloc(cap, sizeof(uint32_t));
    dlabel = temp_alloc(cap, 1);
    path = temp_alloc(maxlen + 1, sizeof(uint32_t));
    if (!first_child || !next_sib || !last_child || !term_lo || !term_n || !dlabel || !path)
        goto done;
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
            dlabel[v] = ws->cls[refs[i].p[d]];
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
    free(last_child);
    last_child = NULL;
    free(path);
    path = NULL;
    free(refs);
    refs = NULL;
    ws->nstates = nodes;

    /* BFS order: the children of each state are consecutive */
    order = temp_alloc(nodes, sizeof(uint32_t));
    child_lo = temp_alloc((size_t)nodes + 1, sizeof(uint32_t));
    label = temp_alloc(nodes, 1);
    depth = temp_alloc(nodes, sizeof(uint32_t));
    if (order == NULL || child_lo == NULL || label == NULL || depth == NULL)
        goto done;
    {
        uint32_t head = 0, tail = 1;
        order[0] = 0;
        depth[0] = 0;
        label[0] = 0;
        while (head < tail) {
            uint32_t s = head++, node = order[s];
            child_lo[s] = tail;
            for (uint32_t v = first_child[node]; v != KMP__NONE; v = next_sib[v]) {
                depth[tail] = depth[s] + 1;
                label[tail] = dlabel[v];
                order[tail++] = v;
            }
        }
        child_lo[nodes] = nodes;
    }
    free(first_child);
    free(next_sib);
    free(dlabel);
    first_child = next_sib = NULL;
    dlabel = NULL;
    /* terminal ranges by BFS id (reusing the DFS arrays' storage order: permute) */
    {
        uint32_t *tl = temp_alloc(nodes, sizeof(uint32_t)), *tn = temp_alloc(nodes, sizeof(uint32_t));
        if (tl == NULL || tn == NULL) {
            free(tl);
            free(tn);
            goto done;
        }
        for (uint32_t s = 0; s < nodes; s++) {
            tl[s] = term_lo[order[s]];
            tn[s] = term_n[order[s]];
        }
        free(term_lo);
        free(term_n);
        term_lo = tl;
        term_n = tn;
    }
    free(order);
    order = NULL;

    /* resolved rows: the root and the states with many children */
    const unsigned nc = ws->nclasses;
    const uint32_t row_min = nc / 8 > KMP__ROW_MIN_CHILDREN ? nc / 8 : KMP__ROW_MIN_CHILDREN;
    fail = temp_alloc(nodes, sizeof(uint32_t));
    rowi = temp_alloc(nodes, sizeof(uint32_t));
    if (fail == NULL || rowi == NULL)
        goto done;
    uint32_t nrows = 0, shallow = 0;
    for (uint32_t s = 0; s < nodes; s++)
        shallow += depth[s] <= KMP__ROW_MAX_DEPTH;
    const uint32_t row_depth = (uint64_t)shallow * nc * sizeof(uint32_t) <= KMP__ROW_SHALLOW_BYTES ? KMP__ROW_MAX_DEPTH : 0;
    for (uint32_t s = 0; s < nodes; s++)
        rowi[s] = (depth[s] <= row_depth || child_lo[s + 1] - child_lo[s] >= row_min) ? nrows++ : KMP__NONE;
    rows = temp_alloc((size_t)nrows * nc, sizeof(uint32_t));
    if (rows == NULL)
        goto done;
    b.child_lo = child_lo;
    b.label = label;
    b.fail = fail;
    b.rowi = rowi;
    b.rows = rows;

    /* failure links and rows in BFS order: fail[s] is shallower, so done before s */
    fail[0] = 0;
    for (uint32_t s = 0; s < nodes; s++) {
        if (rowi[s] != KMP__NONE) {
            uint32_t *row = rows + (size_t)rowi[s] * nc;
            for (unsigned c = 0; c < nc; c++) {
                uint32_t t = child_of(&b, s, (uint8_t)c);
                row[c] = t != KMP__NONE ? t : s == 0 ? 0 : delta(&b, fail[s], (uint8_t)c);
            }
        }
        for (uint32_t v = child_lo[s]; v < child_lo[s + 1]; v++)
            fail[v] = s == 0 ? 0 : delta(&b, fail[s], label[v]);
    }

    /* outputs: counts along the suffix chain, the nearest state with words along it */
    outcnt = temp_alloc(nodes, sizeof(uint32_t));
    termlink = temp_alloc(nodes, sizeof(uint32_t));
    if (outcnt == NULL || termlink == NULL)
        goto done;
    outcnt[0] = 0;
    termlink[0] = KMP__NONE;
    uint32_t nmatch = 0;
    for (uint32_t s = 1; s < nodes; s++) {
        uint32_t f = fail[s];
        outcnt[s] = term_n[s] + outcnt[f];
        termlink[s] = term_n[f] ? f : termlink[f];
        nmatch += outcnt[s] != 0;
    }

    /* choose the form */
    /* dense ids are premultiplied by the number of classes (no padding to a power of 2:
     * the table is the smaller for it, and the division that recovers a state's index is
     * only done when it reports a match) */
    int dense_ok = (uint64_t)nodes * nc <= UINT32_MAX;
    size_t dense_bytes = dense_ok ? (size_t)nodes * nc * sizeof(uint32_t) : SIZE_MAX;
    if (flags & KMP_WORDSET_DENSE) {
        if (!dense_ok)
            goto done; /* KMP_ERR_NOMEM: cannot be represented */
        ws->dense = 1;
    } else if (flags & KMP_WORDSET_COMPACT) {
        ws->dense = 0;
    } else {
        ws->dense = dense_ok && dense_bytes <= KMP__DENSE_MAX_BYTES;
    }

    /* the records, numbered as the form numbers its states */
    kmp__outrec *recs = keep_alloc(ws, nmatch, sizeof *recs);
    renum = temp_alloc(nodes, sizeof(uint32_t)); /* state -> record index (or new id when dense) */
    if (recs == NULL || renum == NULL)
        goto done;
    {
        uint32_t r = 0;
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
            o->depth = term_n[s] ? depth[s] : 0;
            o->next = termlink[s] == KMP__NONE ? KMP__NONE : renum[termlink[s]];
        }
    }
    ws->out = recs;

    if (ws->dense) {
        /* new ids: states without records first (BFS order), then those with records */
        uint32_t *newid = temp_alloc(nodes, sizeof(uint32_t));
        uint32_t *trans = keep_alloc(ws, (size_t)nodes * nc, sizeof(uint32_t));
        if (newid == NULL || trans == NULL) {
            free(newid);
            goto done;
        }
        uint32_t plain = 0;
        for (uint32_t s = 0; s < nodes; s++)
            plain += renum[s] == KMP__NONE;
        for (uint32_t s = 0, a = 0; s < nodes; s++)
            newid[s] = renum[s] == KMP__NONE ? a++ : plain + renum[s];
        /* rows in BFS order: a missing edge goes where the failure state's row goes */
        for (uint32_t s = 0; s < nodes; s++) {
            uint32_t *row = trans + (size_t)newid[s] * nc;
            const uint32_t *frow = trans + (size_t)newid[fail[s]] * nc;
            for (unsigned c = 0; c < nc; c++)
                row[c] = s == 0 ? 0 : frow[c];
            for (uint32_t v = child_lo[s]; v < child_lo[s + 1]; v++)
                row[label[v]] = newid[v] * nc;
        }
        uint32_t *ndepth = keep_alloc(ws, nodes, sizeof(uint32_t));
        if (ndepth == NULL) {
            free(newid);
            goto done;
        }
        for (uint32_t s = 0; s < nodes; s++)
            ndepth[newid[s]] = depth[s];
        ws->depth = ndepth;
        free(newid);
        ws->trans = trans;
        ws->first_match = plain * nc;
    } else {
        /* what a step reads of a state in one 16-byte record (one cache line, mostly) */
        kmp__cstate *cs = keep_alloc(ws, (size_t)nodes + 1, sizeof *cs);
        if (cs == NULL || ws->nblocks + 4 > sizeof ws->blocks / sizeof ws->blocks[0])
            goto done; /* (the second: a bug, not a condition: blocks has room for every array) */
        for (uint32_t s = 0; s < nodes; s++)
            cs[s] = (kmp__cstate){child_lo[s], fail[s], rowi[s], renum[s]};
        cs[nodes] = (kmp__cstate){nodes, 0, KMP__NONE, KMP__NONE};
        /* the build's other arrays are the rest of the compact form: the set adopts them */
        adopt(ws, label, nodes);
        adopt(ws, rows, (size_t)nrows * nc * sizeof(uint32_t));
        adopt(ws, depth, (size_t)nodes * sizeof(uint32_t));
        ws->cstates = cs;
        ws->depth = depth;
        ws->label = label;
        ws->rows = rows;
        rows = depth = NULL;
        label = NULL;
    }

    /* the prefilter. The exact table groups the words by their k-byte prefix (the sorted
     * words keep each group together). The bitmap holds hashed w-byte windows: with
     * stride 1 the window at each start (w = k); with stride 2 the scan looks at every
     * other position only, so each word enters two windows, at its offsets 0 and 1
     * (w + 1 <= shortest word): half the hashing per byte. Stride 2 takes w = 4 when the
     * words have 5 bytes or more, w = 3 for 4-byte words while the set is small and exact
     * (3-byte windows of large or folded sets pass too many random positions). */
    {
        unsigned k = minlen < 4 ? (unsigned)minlen : 4u;
        ws->k = k;
        ws->kmask = k == 4 ? 0xFFFFFFFFu : (((uint32_t)1 << (8 * k)) - 1);
        size_t groups = 0;
        uint32_t prev = 0;
        for (size_t i = 0; i < n; i++) {
            uint32_t key = kmp__load_prefix(bytes + off[sorted[i]], k);
            groups += i == 0 || key != prev;
            prev = key;
        }
        unsigned stride = 1, w = k;
        if (minlen >= 5) {
            stride = 2;
            w = 4;
        } else if (minlen == 4 && !icase && groups <= KMP__STRIDE3_MAX_GROUPS) {
            stride = 2;
            w = 3;
        }
        ws->stride = stride;
        ws->wmask = w == 4 ? 0xFFFFFFFFu : (((uint32_t)1 << (8 * w)) - 1);
        ws->fmask = icase ? ws->wmask & 0xDFDFDFDFu : ws->wmask;
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
            goto done;
        uint32_t *vrec = keep_alloc(ws, rec_words, sizeof(uint32_t));
        group_ids = temp_alloc(n, sizeof(uint32_t));
        if (!bitmap || !vslot || !vrec || !group_ids)
            goto done;
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
        ws->fbits = fbits;
        ws->bitmap = bitmap;
        ws->vbits = vbits;
        ws->vslot = vslot;
        ws->vrec = vrec;
    }
    /* Teddy: the sorted words cut into 8 runs (words sharing first bytes share a bucket,
     * so the masks stay tight); with ignore case both cases of a letter pass */
    if (n <= KMP__TEDDY_MAX_WORDS) {
        unsigned m = minlen < 4 ? (unsigned)minlen : 4u;
        ws->teddy_m = m;
        for (size_t i = 0; i < n; i++) {
            const uint8_t bucket = (uint8_t)(1u << (i * 8 / n));
            const uint8_t *wp = bytes + off[sorted[i]];
            for (unsigned j = 0; j < m; j++) {
                uint8_t c = wp[j];
                ws->teddy_lo[j][c & 15] |= bucket;
                ws->teddy_hi[j][c >> 4] |= bucket;
                if (icase && c >= 'a' && c <= 'z') {
                    ws->teddy_lo[j][(c - 32) & 15] |= bucket;
                    ws->teddy_hi[j][(c - 32) >> 4] |= bucket;
                }
            }
        }
    }
    st = KMP_OK;

done:
    free(refs);
    free(first_child);
    free(next_sib);
    free(last_child);
    free(term_lo);
    free(term_n);
    free(dlabel);
    free(path);
    free(order);
    free(depth);
    free(outcnt);
    free(termlink);
    free(renum);
    free(fail);
    free(rowi);
    free(rows);
    free(child_lo);
    free(label);
    free(bytes);
    free(off);
    free(group_ids);
    if (st != KMP_OK) {
        kmp_wordset_free(ws);
        return st;
    }
    *out = ws;
    return KMP_OK;
}
