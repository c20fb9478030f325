# Many words in one pass (the design: README, "Many words in one pass"): Aho-Corasick for the textbook scan, and for the
# fast scan a filter on word starts with exact verification, falling back to the automaton
# when verification costs too much.
#
# Compiling (all nogil, in C memory):
#   1. the (case-folded) words are sorted; the trie is built from the sorted list in DFS
#      preorder (each word adds the nodes past its common prefix with the previous one);
#   2. a stable counting sort by depth renumbers the nodes in BFS order, in which the
#      children of a node are consecutive and sorted by byte, and every failure link and
#      dictionary link points to a smaller id;
#   3. byte classes (each byte of a word its own class, all others class 0); failure links
#      in BFS order, with full rows over the classes for the first R states built as they go
#      (they make the failure walks short), dictionary (output) links, output counts;
#   4. the automaton the scans use: a dense DFA over the classes (transitions with the
#      failures resolved, output states numbered last) when it is small, else the compact
#      form: the full rows of the first R states (ROW_BYTES), and for the others a node
#      record (first child, child count, failure link) over the sorted child labels;
#   5. the filter of the fast scan: a blocked Bloom filter (two bits in one 32-bit word)
#      keyed by the first k = min(shortest, 4) bytes at a start, checked 8 starts at a time
#      with AVX2 gathers (kc_filter), or for a few words the Teddy nibble masks (kc_teddy);
#      and an exact hash table from the k-byte prefix to the group of words that start with
#      it (ascending word index), for verification.
#
# Scanning a window: the matches reported are those that START in the window's own range and
# END inside the window (the chunk plan of kmpsearch._plan with m = min(longest, n)).

cdef enum:
    # the compact automaton's full rows (over the byte classes) take at most this
    ROW_BYTES = 1 << 20
    # the dense DFA is used while states x (classes + 1) x 4 bytes stay under this
    DENSE_LIMIT = 2 << 20
    # owned starts per segment of the fast scan (the unit of its budget and fallback)
    SEGMENT = 64 << 10
    # the longest run of automaton segments after repeated fallbacks
    MAX_BACKOFF = 64
    # owned starts per automaton run when keeping matches (bounds the sort's scratch memory)
    SORT_SPAN = 1 << 20
    # filter candidates in flight (their table slots prefetched): a power of two
    PIPELINE = 8
    # the most words the Teddy filter takes (8 buckets)
    TEDDY_MAX = 64
    # an automaton run over fewer than 4 x this owned starts is one stream (ac_dense, ac_compact)
    SPLIT_MIN = 4096


cdef extern from *:
    """
    #define KC_HASH_TABLE 0x2545F491u   /* the prefix table's multiplicative hash */
    /* Teddy is used while its estimated pass rate stays under this (teddy_masks; measured on
       the corpus: 14.8 GB/s per thread at 10 words, 4.7 at 24 words (0.2 %), break-even with
       the bitmap filter's ~2 GB/s at 32 words (0.5 %)) */
    #define KC_TEDDY_PASS 0.003
    """
    const uint32_t HASH_TABLE "KC_HASH_TABLE"
    const double TEDDY_PASS "KC_TEDDY_PASS"


ctypedef struct Member:
    # one word in its prefix group (verification record)
    uint64_t tail        # folded bytes [k, k + 8) of the word, zero-padded
    uint32_t id          # word index
    uint32_t len


ctypedef struct Slot:
    # a slot of the exact prefix table (open addressing, linear probing): 32 bytes
    uint32_t key         # the k-byte prefix (folded when ic), little-endian
    uint32_t count       # its group: members[start:start + count]; 0: an empty slot
    uint32_t start
    uint32_t pad
    Member first         # members[start], here so that a group of one costs one cache line


ctypedef struct CNode:
    # a state of the compact automaton
    uint32_t first       # id of the first child (children are consecutive, by byte)
    uint32_t fail
    uint16_t nchild
    uint8_t lab0         # byte of the first child
    uint8_t out          # 1 when a word ends here or on the failure chain


ctypedef struct WS:
    # the compiled word set (immutable once built)
    Py_ssize_t nwords
    bint ic
    int64_t L            # longest word
    int64_t S            # shortest word
    int64_t k            # filter prefix length: min(S, 4)
    const uint8_t *arena # the words, folded when ic, concatenated
    int64_t *woff
    int64_t *wlen
    uint8_t fold[256]
    # the automaton: states in BFS order; root 0
    uint32_t nstates
    int32_t *term        # word ending at the state, -1 if none
    uint32_t *dlink      # next state on the failure chain where a word ends, 0: none
    uint32_t *outn       # words ending at the state or on its failure chain
    bint dense
    # dense DFA: entries are codes (row offsets, stride C + 1); column C holds the state id
    uint32_t C
    uint32_t stride
    uint8_t cls[256]
    uint32_t *dfa
    uint32_t out_start   # codes >= out_start: states with output
    # compact form
    CNode *nodes
    uint8_t *label       # byte of the edge into each state
    uint32_t R
    uint32_t *rows       # R x C resolved transitions (byte classes): (state << 1) | has output
    # filter
    uint32_t kmask       # the first k bytes of a little-endian 32-bit load
    uint32_t fmask       # kmask, & 0xDF.. when ic (letters of both cases hash alike)
    uint32_t *bitmap     # blocked Bloom filter (kc_filter_pass): 2**fbits bits
    uint32_t fbits
    uint32_t wshift      # 32 - (fbits - 5): picks the 32-bit word
    uint32_t b2shift     # 22: two bits per start; 27: one
    int hashes
    int level            # the best SIMD level of this CPU (kc_simd_level; simd="auto")
    bint teddy           # at that level: the Teddy filter (kc_teddy) instead of the bitmap
    uint8_t tmasks[192]
    double teddy_pass    # the estimated share of starts that pass the Teddy masks
    int teddy_mode       # 0 auto, 1 on, 2 off (tests)
    bint simd            # use the SIMD filter (tests turn it off)
    # exact prefix table
    uint32_t tmask
    uint32_t tshift
    Slot *table
    Member *members
    # knobs (tests)
    int64_t segment
    int64_t budget       # verification work allowed per owned start of a segment
    int64_t split_min
    size_t memory


ctypedef struct Match:
    int64_t start
    int64_t id


ctypedef struct WJob:
    const WS *w
    const uint8_t *data  # the haystack (memory), NULL for a file
    int fd
    int64_t wstart       # the window [wstart, wend) ...
    int64_t wend
    int64_t oend         # ... owns the starts [wstart, oend)
    int64_t block
    int want             # a Want: WANT_OFFSETS and up keep every match (ms)
    bint fast
    int level            # SIMD level of the filter (ws_level)
    bint teddy           # the Teddy filter at that level (ws_teddy), else the bitmap one
    const unsigned char *cancel  # the caller's flag (NULL: none); looked at before each block
    # output
    int64_t count
    int64_t *counts      # WANT_EACH: one per word
    Match *ms            # WANT_OFFSETS, WANT_PAIRS
    size_t nm
    size_t cap
    int err


# --- compiling ----------------------------------------------------------------------------

ctypedef struct WRec:
    const uint8_t *p
    int64_t len
    uint32_t id
    uint32_t pad


cdef int cmp_wrec(const void *a, const void *b) noexcept nogil:
    cdef const WRec *x = <const WRec *> a
    cdef const WRec *y = <const WRec *> b
    cdef int64_t n = x.len if x.len < y.len else y.len
    cdef int c = memcmp(x.p, y.p, <size_t> n)
    if c:
        return c
    return (x.len > y.len) - (x.len < y.len)


cdef int cmp_member(const void *a, const void *b) noexcept nogil:
    cdef uint32_t x = (<const Member *> a).id
    cdef uint32_t y = (<const Member *> b).id
    return (x > y) - (x < y)


cdef inline void *track(WS *w, size_t size) noexcept nogil:
    """malloc counted in w.memory (kept arrays)."""
    w.memory += size
    return malloc(size if size else 1)


cdef inline uint32_t child_of(const uint32_t *first, const uint32_t *nch,
                              const uint8_t *lab, uint32_t x, uint8_t c) noexcept nogil:
    """The child of ``x`` by byte ``c`` (binary search of the sorted labels), 0 if none."""
    cdef uint32_t lo = first[x]
    cdef uint32_t hi = lo + nch[x]
    cdef uint32_t mid
    while lo < hi:
        mid = (lo + hi) >> 1
        if lab[mid] < c:
            lo = mid + 1
        else:
            hi = mid
    if lo < first[x] + nch[x] and lab[lo] == c:
        return lo
    return 0


ctypedef struct Tmp:
    # the temporaries of a build (freed whatever happens)
    WRec *recs
    uint32_t *d_par
    uint8_t *d_lab
    uint32_t *d_dep
    int32_t *d_term
    uint32_t *path
    uint32_t *cnt
    uint32_t *bfs
    uint32_t *par
    uint8_t *lab
    uint32_t *first
    uint32_t *nch
    uint32_t *fail
    uint32_t *rows
    uint32_t *newid


cdef int ws_build(WS *w, int form, int64_t rows_wanted, int64_t fbits_per_word,
                  int64_t fbits_max) noexcept nogil:
    """Build the automaton and the filter from w.arena/woff/wlen.
    0, -1 (no memory) or -2 (a duplicate word). Kept arrays go to w at once (ws_free)."""
    cdef Tmp t
    cdef int rc
    memset(&t, 0, sizeof(Tmp))
    rc = ws_build_steps(w, &t, form, rows_wanted, fbits_per_word, fbits_max)
    free(t.recs)
    free(t.d_par)
    free(t.d_lab)
    free(t.d_dep)
    free(t.d_term)
    free(t.path)
    free(t.cnt)
    free(t.bfs)
    free(t.par)
    free(t.lab)
    free(t.first)
    free(t.nch)
    free(t.fail)
    free(t.rows)
    free(t.newid)
    return rc


cdef int ws_build_steps(WS *w, Tmp *t, int form, int64_t rows_wanted, int64_t fbits_per_word,
                        int64_t fbits_max) noexcept nogil:
    cdef Py_ssize_t N = w.nwords
    cdef Py_ssize_t i, j, g
    cdef int64_t total = 0, l, dd, mx
    cdef uint32_t nn, v, p, f, x, c, R, ch, nout, row, C
    cdef uint32_t ngroups, slot, key, tbits, fbits
    cdef uint8_t b
    cdef const WRec *prev
    cdef uint32_t ccls[256]
    cdef bint used[256]
    cdef uint64_t want
    cdef const uint8_t *wp
    cdef WRec *recs
    cdef uint32_t *first
    cdef uint32_t *nch
    cdef uint32_t *fail
    cdef uint32_t *rows
    cdef uint8_t *lab
    cdef int32_t *term

    # 1. sort the words (folded bytes)
    recs = t.recs = <WRec *> malloc(<size_t> N * sizeof(WRec))
    if recs == NULL:
        return -1
    w.L = 0
    w.S = INT64_MAX
    for i in range(N):
        recs[i].p = w.arena + w.woff[i]
        recs[i].len = w.wlen[i]
        recs[i].id = <uint32_t> i
        total += w.wlen[i]
        if w.wlen[i] > w.L:
            w.L = w.wlen[i]
        if w.wlen[i] < w.S:
            w.S = w.wlen[i]
    qsort(recs, <size_t> N, sizeof(WRec), cmp_wrec)
    for i in range(1, N):
        if cmp_wrec(&recs[i - 1], &recs[i]) == 0:
            return -2
    if total + 1 > 0x7ffffff0LL:
        return -1            # more states than 31-bit ids hold

    # 2. the trie in DFS preorder: each word adds the nodes past its common prefix with
    # the previous word
    t.d_par = <uint32_t *> malloc(<size_t> (total + 1) * 4)
    t.d_lab = <uint8_t *> malloc(<size_t> (total + 1))
    t.d_dep = <uint32_t *> malloc(<size_t> (total + 1) * 4)
    t.d_term = <int32_t *> malloc(<size_t> (total + 1) * 4)
    t.path = <uint32_t *> malloc(<size_t> (w.L + 1) * 4)
    if t.d_par == NULL or t.d_lab == NULL or t.d_dep == NULL or t.d_term == NULL or t.path == NULL:
        return -1
    t.d_par[0] = 0
    t.d_lab[0] = 0
    t.d_dep[0] = 0
    t.d_term[0] = -1
    t.path[0] = 0
    nn = 1
    prev = NULL
    for i in range(N):
        l = 0
        if prev != NULL:
            mx = prev.len if prev.len < recs[i].len else recs[i].len
            while l < mx and prev.p[l] == recs[i].p[l]:
                l += 1
        for dd in range(l + 1, recs[i].len + 1):
            t.d_par[nn] = t.path[dd - 1]
            t.d_lab[nn] = recs[i].p[dd - 1]
            t.d_dep[nn] = <uint32_t> dd
            t.d_term[nn] = -1
            t.path[dd] = nn
            nn += 1
        t.d_term[t.path[recs[i].len]] = <int32_t> recs[i].id
        prev = &recs[i]
    w.nstates = nn

    # 3. BFS ids: a stable counting sort of the preorder by depth
    t.cnt = <uint32_t *> calloc(<size_t> (w.L + 2), 4)
    t.bfs = <uint32_t *> malloc(<size_t> nn * 4)
    t.par = <uint32_t *> malloc(<size_t> nn * 4)
    lab = t.lab = <uint8_t *> malloc(<size_t> nn)
    term = w.term = <int32_t *> track(w, <size_t> nn * 4)
    if t.cnt == NULL or t.bfs == NULL or t.par == NULL or lab == NULL or term == NULL:
        return -1
    for v in range(nn):
        t.cnt[t.d_dep[v] + 1] += 1
    for dd in range(1, w.L + 2):
        t.cnt[dd] += t.cnt[dd - 1]
    for v in range(nn):
        t.bfs[v] = t.cnt[t.d_dep[v]]
        t.cnt[t.d_dep[v]] += 1
    for v in range(nn):
        x = t.bfs[v]
        t.par[x] = t.bfs[t.d_par[v]]
        lab[x] = t.d_lab[v]
        term[x] = t.d_term[v]
    free(t.d_par); t.d_par = NULL
    free(t.d_lab); t.d_lab = NULL
    free(t.d_dep); t.d_dep = NULL
    free(t.d_term); t.d_term = NULL
    free(t.bfs); t.bfs = NULL

    # byte classes: every byte of a (folded) word has a class of its own, the others class 0
    for c in range(256):
        used[c] = False
    for v in range(1, nn):
        used[lab[v]] = True
    C = 1
    for c in range(256):
        if used[c]:
            ccls[c] = C
            C += 1
        else:
            ccls[c] = 0
    for c in range(256):
        w.cls[c] = <uint8_t> ccls[w.fold[c]]
    w.C = C
    w.stride = C + 1
    w.dense = form == 1 or (form == 0 and <uint64_t> nn * (C + 1) * 4 <= DENSE_LIMIT)
    if w.dense and <uint64_t> nn * (C + 1) >= 0xffffffffULL:
        w.dense = False      # codes are 32-bit

    # children: consecutive ids, sorted by byte
    first = t.first = <uint32_t *> calloc(<size_t> nn, 4)
    nch = t.nch = <uint32_t *> calloc(<size_t> nn, 4)
    fail = t.fail = <uint32_t *> malloc(<size_t> nn * 4)
    # full rows (over the classes) for the first R states: all of them for the dense DFA
    if w.dense:
        R = nn
    elif rows_wanted > 0:
        R = nn if <int64_t> nn < rows_wanted else <uint32_t> rows_wanted
    else:
        R = <uint32_t> (ROW_BYTES // (4 * C))
        if R > nn:
            R = nn
    if R < 1:
        R = 1
    rows = t.rows = <uint32_t *> malloc(<size_t> R * C * 4)
    w.dlink = <uint32_t *> track(w, <size_t> nn * 4)
    w.outn = <uint32_t *> track(w, <size_t> nn * 4)
    if first == NULL or nch == NULL or fail == NULL or rows == NULL or w.dlink == NULL or w.outn == NULL:
        return -1
    for v in range(1, nn):
        p = t.par[v]
        if nch[p] == 0:
            first[p] = v
        nch[p] += 1

    # 4. failure links in BFS order, with the rows of the first R states (resolved
    # transitions: a row is its failure state's row with its own children written over)
    fail[0] = 0
    for c in range(C):
        rows[c] = 0
    for x in range(nch[0]):
        ch = first[0] + x
        rows[ccls[lab[ch]]] = ch
    for v in range(1, nn):
        p = t.par[v]
        if p == 0:
            f = 0
        else:
            x = fail[p]
            b = lab[v]
            while True:
                if x < R:
                    f = rows[<size_t> x * C + ccls[b]]
                    break
                f = child_of(first, nch, lab, x, b)
                if f != 0:
                    break
                x = fail[x]
        fail[v] = f
        if v < R:
            memcpy(&rows[<size_t> v * C], &rows[<size_t> f * C], C * 4)
            for x in range(nch[v]):
                ch = first[v] + x
                rows[<size_t> v * C + ccls[lab[ch]]] = ch
    # dictionary links and output counts
    w.dlink[0] = 0
    w.outn[0] = 0
    for v in range(1, nn):
        f = fail[v]
        w.dlink[v] = f if term[f] >= 0 else w.dlink[f]
        w.outn[v] = (1 if term[v] >= 0 else 0) + w.outn[f]

    if w.dense:
        # codes: row offsets (stride C + 1), the output states numbered last (one compare
        # flags them); column C holds the state's id
        t.newid = <uint32_t *> malloc(<size_t> nn * 4)
        w.dfa = <uint32_t *> track(w, <size_t> nn * w.stride * 4)
        if t.newid == NULL or w.dfa == NULL:
            return -1
        nout = 0
        for v in range(nn):
            if w.outn[v] == 0:
                t.newid[v] = nout
                nout += 1
        w.out_start = nout * w.stride
        for v in range(nn):
            if w.outn[v] != 0:
                t.newid[v] = nout
                nout += 1
        for v in range(nn):
            row = t.newid[v] * w.stride
            for c in range(C):
                w.dfa[row + c] = t.newid[rows[<size_t> v * C + c]] * w.stride
            w.dfa[row + C] = v
    else:
        w.nodes = <CNode *> track(w, <size_t> nn * sizeof(CNode))
        if w.nodes == NULL:
            return -1
        w.label = lab
        t.lab = NULL
        w.memory += nn
        w.R = R
        w.rows = rows
        t.rows = NULL
        w.memory += <size_t> R * C * 4
        # the scans read a row entry as (state << 1) | (state has output)
        for x in range(R * C):
            rows[x] = (rows[x] << 1) | (1 if w.outn[rows[x]] else 0)
        for v in range(nn):
            w.nodes[v].first = first[v]
            w.nodes[v].fail = fail[v]
            w.nodes[v].nchild = <uint16_t> nch[v]
            w.nodes[v].lab0 = lab[first[v]] if nch[v] else 0
            w.nodes[v].out = 1 if w.outn[v] else 0

    # 5. the filter and the exact prefix table: a group is a run of sorted words with the
    # same first k bytes
    w.k = w.S if w.S < 4 else 4
    w.kmask = 0xffffffffU if w.k == 4 else ((<uint32_t> 1 << (8 * w.k)) - 1)
    w.fmask = w.kmask & (0xdfdfdfdfU if w.ic else 0xffffffffU)
    want = <uint64_t> N * <uint64_t> fbits_per_word
    fbits = 12
    while fbits < fbits_max and (<uint64_t> 1 << fbits) < want:
        fbits += 1
    w.fbits = fbits
    w.wshift = 32 - (fbits - 5)
    w.b2shift = 22 if w.hashes == 2 else 27
    w.bitmap = <uint32_t *> track(w, ((<size_t> 1 << fbits) >> 5) * 4)
    w.members = <Member *> track(w, <size_t> N * sizeof(Member))
    if w.bitmap == NULL or w.members == NULL:
        return -1
    memset(w.bitmap, 0, ((<size_t> 1 << fbits) >> 5) * 4)
    ngroups = 0
    for i in range(N):
        if i == 0 or memcmp(recs[i].p, recs[i - 1].p, <size_t> w.k) != 0:
            ngroups += 1
    tbits = 4
    while (<uint32_t> 1 << tbits) < 2 * ngroups:
        tbits += 1
    w.tmask = (<uint32_t> 1 << tbits) - 1
    w.tshift = 32 - tbits
    w.table = <Slot *> track(w, (<size_t> 1 << tbits) * sizeof(Slot))
    if w.table == NULL:
        return -1
    memset(w.table, 0, (<size_t> 1 << tbits) * sizeof(Slot))
    i = 0
    while i < N:
        j = i + 1
        while j < N and memcmp(recs[j].p, recs[i].p, <size_t> w.k) == 0:
            j += 1
        for g in range(i, j):
            w.members[g].id = recs[g].id
            w.members[g].len = <uint32_t> recs[g].len
            dd = recs[g].len - w.k
            w.members[g].tail = kc_load_short(recs[g].p + w.k, <size_t> (dd if dd < 8 else 8))
        if j - i > 1:
            qsort(&w.members[i], <size_t> (j - i), sizeof(Member), cmp_member)
        key = <uint32_t> kc_load_short(recs[i].p, <size_t> w.k)
        slot = (key * HASH_TABLE) >> w.tshift
        while w.table[slot].count != 0:
            slot = (slot + 1) & w.tmask
        w.table[slot].key = key
        w.table[slot].count = <uint32_t> (j - i)
        w.table[slot].start = <uint32_t> i
        w.table[slot].first = w.members[i]
        kc_filter_set(w.bitmap, key & w.fmask, w.wshift, w.b2shift)
        i = j
    w.teddy_pass = 1
    if N <= TEDDY_MAX:
        teddy_masks(w, recs)
    w.teddy = ws_teddy(w, ws_level(w, w.level))
    return 0


cdef inline int ws_level(const WS *w, int level) noexcept nogil:
    """The filter's SIMD level for a search at ``level``: 0 when the set was compiled with
    ``_simd=False`` (tests)."""
    return level if w.simd else 0


cdef inline bint ws_teddy(const WS *w, int level) noexcept nogil:
    """Whether a fast scan at filter level ``level`` uses the Teddy filter: by default
    where its masks are selective and pshufb is AVX2 (level 2; below, the bitmap filter);
    ``_teddy`` (tests) forces it on (any level: the portable C Teddy below AVX2) or off."""
    if w.teddy_mode == 0:
        return w.teddy_pass <= TEDDY_PASS and level >= 2
    return w.teddy_mode == 1 and w.nwords <= TEDDY_MAX


cdef void teddy_masks(WS *w, const WRec *recs) noexcept nogil:
    """The Teddy filter's nibble masks: the words, in sorted order, cut into 8 runs (buckets)
    of neighbours (which share leading bytes, so the masks stay selective); bucket b allows
    at position t (< 3) the nibbles of its words' byte t, both cases of a letter when ic,
    and every byte past a word's end."""
    cdef Py_ssize_t N = w.nwords, i
    cdef int t, b, v
    cdef uint8_t c, bit
    memset(w.tmasks, 0, sizeof(w.tmasks))
    for i in range(N):
        bit = <uint8_t> (1 << (i * 8 // N))
        for t in range(3):
            if t >= recs[i].len:
                for v in range(16):
                    w.tmasks[64 * t + v] |= bit
                    w.tmasks[64 * t + 32 + v] |= bit
                continue
            for b in range(2 if w.ic else 1):
                c = recs[i].p[t]
                if b == 1:
                    if not (97 <= c <= 122):
                        continue
                    c = c - 32            # the upper case of a (folded) letter
                w.tmasks[64 * t + (c & 15)] |= bit
                w.tmasks[64 * t + 32 + (c >> 4)] |= bit
    for t in range(3):
        memcpy(&w.tmasks[64 * t + 16], &w.tmasks[64 * t], 16)
        memcpy(&w.tmasks[64 * t + 48], &w.tmasks[64 * t + 32], 16)
    # how selective the masks are on text: the share of starts that pass, for text of
    # uniformly drawn printable ASCII and whitespace (the bitmap's rate is data-independent)
    cdef double share = 0, part
    cdef int npass, ntext
    for b in range(8):
        part = 1
        for t in range(3):
            npass = 0
            ntext = 0
            for v in range(9, 127):
                if 14 <= v < 32:
                    continue
                ntext += 1
                npass += \
                    ((w.tmasks[64 * t + (v & 15)] & w.tmasks[64 * t + 32 + (v >> 4)]) >> b) & 1
            part *= npass / <double> ntext
        share += part
    w.teddy_pass = share if share < 1 else 1


cdef void ws_free(WS *w) noexcept nogil:
    free(<void *> w.arena)
    free(w.woff)
    free(w.wlen)
    free(w.term)
    free(w.dlink)
    free(w.outn)
    free(w.dfa)
    free(w.nodes)
    free(w.label)
    free(w.rows)
    free(w.bitmap)
    free(w.table)
    free(w.members)
    memset(w, 0, sizeof(WS))


# --- reporting ----------------------------------------------------------------------------

cdef int ms_grow(WJob *job) noexcept nogil:
    cdef size_t cap = 1024 if job.cap == 0 else job.cap * 2
    cdef Match *grown = <Match *> kmpc_regrow(job.ms, job.nm * sizeof(Match), cap * sizeof(Match))
    if grown == NULL:
        job.err = ENOMEM
        return -1
    job.ms = grown
    job.cap = cap
    return 0


cdef inline int report(WJob *job, int64_t start, uint32_t wid) noexcept nogil:
    """One match (start is absolute)."""
    if job.want == WANT_COUNT:
        job.count += 1
    elif job.want == WANT_EACH:
        job.counts[wid] += 1
    else:
        if job.nm == job.cap and ms_grow(job) < 0:
            return -1
        job.ms[job.nm].start = start
        job.ms[job.nm].id = wid
        job.nm += 1
    return 0


cdef inline bint match_lt(const Match *a, const Match *b) noexcept nogil:
    return a.start < b.start or (a.start == b.start and a.id < b.id)


cdef int sort_matches(WJob *job, size_t lo, size_t hi) noexcept nogil:
    """Sort job.ms[lo:hi] by (start, word index) if it is not sorted already: insertion
    sort of runs of 32, then bottom-up merges."""
    cdef Match *a = job.ms + lo
    cdef size_t n = hi - lo
    cdef size_t i, j, width, l, mid, r, x, y, o
    cdef Match tmp
    cdef Match *buf
    cdef Match *src
    cdef Match *dst
    cdef Match *sw
    for i in range(1, n):
        if match_lt(&a[i], &a[i - 1]):
            break
    else:
        return 0
    i = 0
    while i < n:
        r = i + 32 if n - i > 32 else n
        for j in range(i + 1, r):
            tmp = a[j]
            x = j
            while x > i and match_lt(&tmp, &a[x - 1]):
                a[x] = a[x - 1]
                x -= 1
            a[x] = tmp
        i = r
    if n <= 32:
        return 0
    buf = <Match *> malloc(n * sizeof(Match))
    if buf == NULL:
        job.err = ENOMEM
        return -1
    src = a
    dst = buf
    width = 32
    while width < n:
        l = 0
        while l < n:
            mid = l + width if n - l > width else n
            r = mid + width if n - mid > width else n
            x = l
            y = mid
            o = l
            while x < mid and y < r:
                if match_lt(&src[y], &src[x]):
                    dst[o] = src[y]
                    y += 1
                else:
                    dst[o] = src[x]
                    x += 1
                o += 1
            while x < mid:
                dst[o] = src[x]
                x += 1
                o += 1
            while y < r:
                dst[o] = src[y]
                y += 1
                o += 1
            l = r
        sw = src
        src = dst
        dst = sw
        width *= 2
    if src != a:
        memcpy(a, src, n * sizeof(Match))
    free(buf)
    return 0


# --- the automaton ------------------------------------------------------------------------

cdef int ac_out(WJob *job, uint32_t v, int64_t i, int64_t own, int64_t base) noexcept nogil:
    """The words ending at byte ``i`` in state ``v`` (a state with output): those that
    start before ``own``."""
    cdef const WS *w = job.w
    cdef uint32_t t
    cdef int32_t wid
    cdef int64_t st
    if job.want == WANT_COUNT and i < own:
        job.count += w.outn[v]   # every one of them starts at or before i
        return 0
    t = v if w.term[v] >= 0 else w.dlink[v]
    while t != 0:
        wid = w.term[t]
        st = i + 1 - w.wlen[wid]
        if st < own and report(job, base + st, <uint32_t> wid) < 0:
            return -1
        t = w.dlink[t]
    return 0


cdef int ac_dense_from(WJob *job, const uint8_t *buf, uint32_t code, int64_t a, int64_t to,
                       int64_t own, int64_t base) noexcept nogil:
    """The dense DFA from state ``code`` over buf[a:to]."""
    cdef const WS *w = job.w
    cdef const uint32_t *dfa = w.dfa
    cdef const uint8_t *cls = &w.cls[0]
    cdef uint32_t C = w.C
    cdef uint32_t out_start = w.out_start
    cdef int64_t i
    for i in range(a, to):
        code = dfa[code + cls[buf[i]]]
        if code >= out_start:
            if ac_out(job, dfa[code + C], i, own, base) < 0:
                return -1
    return 0


cdef int ac_dense(WJob *job, const uint8_t *buf, int64_t a, int64_t to, int64_t own,
                  int64_t base) noexcept nogil:
    """The dense DFA from the root over buf[a:to], matches starting in [a, own).

    Four streams in one loop: the owned starts are cut in four quarters, each read by its
    own automaton started from the root at its first start (and reading L - 1 bytes into the
    next quarter), so that four table loads are in flight at once instead of one chain of
    dependent loads (measured: 2 streams 2x, 4 streams up to 3x one stream)."""
    cdef const WS *w = job.w
    cdef const uint32_t *dfa = w.dfa
    cdef const uint8_t *cls = &w.cls[0]
    cdef uint32_t C = w.C
    cdef uint32_t out_start = w.out_start
    cdef uint32_t c0 = 0, c1 = 0, c2 = 0, c3 = 0
    cdef int64_t o0, o1, o2, o3, n4, t, q
    cdef int64_t ends[4]
    cdef uint32_t st[4]
    cdef int x
    if own - a < 4 * w.split_min:
        return ac_dense_from(job, buf, 0, a, to, own, base)
    q = (own - a) // 4
    o0 = a
    o1 = a + q
    o2 = a + 2 * q
    o3 = a + 3 * q
    n4 = q + w.L - 1              # what the first three read; the last one reads more
    if o3 + n4 > to:
        n4 = to - o3
    for t in range(n4):
        c0 = dfa[c0 + cls[buf[o0 + t]]]
        c1 = dfa[c1 + cls[buf[o1 + t]]]
        c2 = dfa[c2 + cls[buf[o2 + t]]]
        c3 = dfa[c3 + cls[buf[o3 + t]]]
        if c0 >= out_start or c1 >= out_start or c2 >= out_start or c3 >= out_start:
            if c0 >= out_start and ac_out(job, dfa[c0 + C], o0 + t, o1, base) < 0:
                return -1
            if c1 >= out_start and ac_out(job, dfa[c1 + C], o1 + t, o2, base) < 0:
                return -1
            if c2 >= out_start and ac_out(job, dfa[c2 + C], o2 + t, o3, base) < 0:
                return -1
            if c3 >= out_start and ac_out(job, dfa[c3 + C], o3 + t, own, base) < 0:
                return -1
    st[0] = c0
    st[1] = c1
    st[2] = c2
    st[3] = c3
    ends[0] = o1
    ends[1] = o2
    ends[2] = o3
    ends[3] = own
    for x in range(4):
        t = ends[x] + w.L - 1 if x < 3 else to
        if t > to:
            t = to
        if ac_dense_from(job, buf, st[x], a + x * q + n4, t, ends[x], base) < 0:
            return -1
    return 0


cdef inline int64_t find_label(const uint8_t *labels, uint32_t n, uint8_t c) noexcept nogil:
    cdef uint32_t lo = 0, hi = n, mid
    if n <= 16:
        for lo in range(n):
            if labels[lo] == c:
                return lo
        return -1
    while lo < hi:
        mid = (lo + hi) >> 1
        if labels[mid] < c:
            lo = mid + 1
        else:
            hi = mid
    if lo < n and labels[lo] == c:
        return lo
    return -1


cdef inline uint32_t cstep(const uint32_t *rows, const CNode *nodes, const uint8_t *label,
                           const uint8_t *fold, const uint8_t *cls, uint32_t R, uint32_t C,
                           uint32_t s, uint8_t b) noexcept nogil:
    """One transition of the compact automaton: (next state << 1) | (it has output)."""
    cdef const CNode *nd
    cdef int64_t j
    cdef uint8_t c
    if s < R:
        return rows[<size_t> s * C + cls[b]]
    c = fold[b]
    while True:
        nd = &nodes[s]
        if nd.nchild == 1:
            if nd.lab0 == c:
                return (nd.first << 1) | nodes[nd.first].out
        elif nd.nchild > 1:
            j = find_label(label + nd.first, nd.nchild, c)
            if j >= 0:
                s = nd.first + <uint32_t> j
                return (s << 1) | nodes[s].out
        s = nd.fail
        if s < R:
            return rows[<size_t> s * C + cls[b]]


cdef int ac_compact_from(WJob *job, const uint8_t *buf, uint32_t s, int64_t a, int64_t to,
                         int64_t own, int64_t base) noexcept nogil:
    """The compact automaton from state ``s`` over buf[a:to]."""
    cdef const WS *w = job.w
    cdef const uint32_t *rows = w.rows
    cdef const CNode *nodes = w.nodes
    cdef const uint8_t *label = w.label
    cdef const uint8_t *fold = &w.fold[0]
    cdef const uint8_t *cls = &w.cls[0]
    cdef uint32_t R = w.R
    cdef uint32_t C = w.C
    cdef uint32_t e
    cdef int64_t i
    for i in range(a, to):
        e = cstep(rows, nodes, label, fold, cls, R, C, s, buf[i])
        s = e >> 1
        if e & 1 and ac_out(job, s, i, own, base) < 0:
            return -1
    return 0


cdef int ac_compact(WJob *job, const uint8_t *buf, int64_t a, int64_t to, int64_t own,
                    int64_t base) noexcept nogil:
    """The compact automaton from the root over buf[a:to], matches starting in [a, own):
    four interleaved streams, as ac_dense (measured: 2.5x one stream at 10,000 words). The
    streams are written out on purpose: a loop over an array of 8 (or 4) states measured
    10-30 % slower than these four."""
    cdef const WS *w = job.w
    cdef const uint32_t *rows = w.rows
    cdef const CNode *nodes = w.nodes
    cdef const uint8_t *label = w.label
    cdef const uint8_t *fold = &w.fold[0]
    cdef const uint8_t *cls = &w.cls[0]
    cdef uint32_t R = w.R
    cdef uint32_t C = w.C
    cdef uint32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, e0, e1, e2, e3
    cdef int64_t o0, o1, o2, o3, o4, n4, t, q
    cdef int64_t ends[4]
    cdef uint32_t st[4]
    cdef int x
    if own - a < 4 * w.split_min:
        return ac_compact_from(job, buf, 0, a, to, own, base)
    q = (own - a) // 4
    o0 = a
    o1 = a + q
    o2 = a + 2 * q
    o3 = a + 3 * q
    o4 = own
    # stream x reads [o_x, min(o_{x+1} + L - 1, to)); the last one is the longest
    n4 = q + w.L - 1
    if o3 + n4 > to:
        n4 = to - o3
    for t in range(n4):
        e0 = cstep(rows, nodes, label, fold, cls, R, C, s0, buf[o0 + t])
        e1 = cstep(rows, nodes, label, fold, cls, R, C, s1, buf[o1 + t])
        e2 = cstep(rows, nodes, label, fold, cls, R, C, s2, buf[o2 + t])
        e3 = cstep(rows, nodes, label, fold, cls, R, C, s3, buf[o3 + t])
        s0 = e0 >> 1
        s1 = e1 >> 1
        s2 = e2 >> 1
        s3 = e3 >> 1
        if (e0 | e1 | e2 | e3) & 1:
            if e0 & 1 and ac_out(job, s0, o0 + t, o1, base) < 0:
                return -1
            if e1 & 1 and ac_out(job, s1, o1 + t, o2, base) < 0:
                return -1
            if e2 & 1 and ac_out(job, s2, o2 + t, o3, base) < 0:
                return -1
            if e3 & 1 and ac_out(job, s3, o3 + t, o4, base) < 0:
                return -1
    st[0] = s0
    st[1] = s1
    st[2] = s2
    st[3] = s3
    ends[0] = o1
    ends[1] = o2
    ends[2] = o3
    ends[3] = o4
    for x in range(4):
        t = ends[x] + w.L - 1 if x < 3 else to
        if t > to:
            t = to
        if ac_compact_from(job, buf, st[x], a + x * q + n4, t, ends[x], base) < 0:
            return -1
    return 0


cdef int ac_run(WJob *job, const uint8_t *buf, int64_t a, int64_t to, int64_t own,
                int64_t base) noexcept nogil:
    """The automaton from the root at ``buf[a]`` over ``buf[a:to]``: reports the matches
    that start in ``[a, own)`` (and end before ``to``). Collected matches come out at their
    ends: each span of owned starts is sorted by (start, word) afterwards."""
    cdef const WS *w = job.w
    cdef int64_t s0, s1, e
    cdef size_t m0
    cdef int rc
    if job.want < WANT_OFFSETS:
        if w.dense:
            return ac_dense(job, buf, a, to, own, base)
        return ac_compact(job, buf, a, to, own, base)
    s0 = a
    while s0 < own:
        s1 = s0 + SORT_SPAN if own - s0 > SORT_SPAN else own
        e = s1 + w.L - 1
        if e > to:
            e = to
        m0 = job.nm
        if w.dense:
            rc = ac_dense(job, buf, s0, e, s1, base)
        else:
            rc = ac_compact(job, buf, s0, e, s1, base)
        if rc < 0 or sort_matches(job, m0, job.nm) < 0:
            return -1
        s0 = s1
    return 0


# --- the fast scan: filter, verification, fallback ----------------------------------------

cdef inline uint32_t start_key(const WS *w, const uint8_t *buf, int64_t buflen, int64_t q) noexcept nogil:
    """The exact (folded) k-byte key at start q (q + k <= buflen)."""
    cdef uint32_t key
    if q + 4 <= buflen:
        key = kc_load32(buf + q) & w.kmask
    else:
        key = (<uint32_t> kc_load_short(buf + q, <size_t> (buflen - q))) & w.kmask
    if w.ic:
        key = kc_fold32(key)
    return key


cdef int64_t verify(WJob *job, const uint8_t *buf, int64_t buflen, int64_t q, uint32_t key,
                    int64_t base) noexcept nogil:
    """Every word starting at ``buf[q]`` (whose k-byte key is ``key``), in word order.
    Returns the work done (table probes + words compared), -1 on ENOMEM."""
    cdef const WS *w = job.w
    cdef uint32_t slot, g, gend
    cdef const Slot *sl
    cdef const Member *mb
    cdef int64_t rest, avail, j
    cdef uint64_t x, tailmask
    cdef const uint8_t *wp
    cdef const uint8_t *fold = &w.fold[0]
    cdef int64_t work = 1
    slot = (key * HASH_TABLE) >> w.tshift
    while True:
        sl = &w.table[slot]
        if sl.count == 0:
            return work
        if sl.key == key:
            break
        slot = (slot + 1) & w.tmask
        work += 1
    avail = buflen - q - w.k            # bytes after the prefix
    if avail >= 8:
        x = kc_load64(buf + q + w.k)
    else:
        x = kc_load_short(buf + q + w.k, <size_t> avail)
    if w.ic:
        x = kc_fold64(x)
    mb = &sl.first
    g = sl.start
    gend = g + sl.count
    while True:
        work += 1
        rest = <int64_t> mb.len - w.k
        if rest > avail:
            pass
        elif rest < 8:
            tailmask = ((<uint64_t> 1) << (8 * rest)) - 1
            if (x ^ mb.tail) & tailmask == 0 and report(job, base + q, mb.id) < 0:
                return -1
        elif x == mb.tail:
            j = 0
            if rest > 8:
                wp = w.arena + w.woff[mb.id] + w.k + 8
                work += (rest - 8) >> 3
                if w.ic:
                    while j < rest - 8 and fold[buf[q + w.k + 8 + j]] == wp[j]:
                        j += 1
                elif memcmp(buf + q + w.k + 8, wp, <size_t> (rest - 8)) == 0:
                    j = rest - 8
            if j == rest - 8 and report(job, base + q, mb.id) < 0:
                return -1
        g += 1
        if g >= gend:
            return work
        mb = &w.members[g]


cdef int scan_words_fast(WJob *job, const uint8_t *buf, int64_t buflen, int64_t own,
                         int64_t base) noexcept nogil:
    """The fast scan of one window: owned starts [0, own) of buf[0:buflen).

    Each start's first 4 bytes (k of them matter) are hashed into the filter bitmap; a start
    whose bit is set is verified exactly (``verify``). Segments of owned starts carry a
    budget of verification work: past it, the automaton finishes the segment and runs the
    next ones (doubling, up to MAX_BACKOFF segments) before the filter is tried again.
    """
    cdef const WS *w = job.w
    cdef int64_t k = w.k
    cdef int64_t L = w.L
    cdef int64_t qend, q4, p, q, seg_end, e, stop, budget, work, r
    cdef int64_t backoff = 0, next_backoff = 1
    cdef const uint32_t *bm = w.bitmap
    cdef uint32_t fmask = w.fmask
    cdef uint32_t wshift = w.wshift
    cdef uint32_t b2shift = w.b2shift
    cdef int level = job.level
    cdef bint teddy = job.teddy
    cdef const uint8_t *tmasks = &w.tmasks[0]
    cdef int64_t ring_q[PIPELINE]
    cdef uint32_t ring_key[PIPELINE]
    cdef int nring, head
    cdef bint over
    cdef uint32_t key, x0
    if buflen < k:
        return 0
    qend = buflen - k + 1              # a word fits only at starts below qend
    if qend > own:
        qend = own
    q4 = buflen - 3 if buflen >= 3 else 0   # starts below q4 have 4 readable bytes
    p = 0
    while p < qend:
        if backoff > 0:
            # the automaton for a few segments, then the filter again
            e = p + backoff * w.segment
            if e > qend or e < p:
                e = qend
            stop = e + L - 1
            if stop > buflen:
                stop = buflen
            if ac_run(job, buf, p, stop, e, base) < 0:
                return -1
            p = e
            backoff = 0
            continue
        seg_end = p + w.segment
        if seg_end > qend:
            seg_end = qend
        budget = w.budget * (seg_end - p) + 256
        work = 0
        q = p
        e = seg_end if seg_end < q4 else q4
        # the next start that passes the filter (SIMD when it can): its table slot is
        # prefetched, and it waits in a ring while the next PIPELINE - 1 are found, so that
        # the slot is in cache when it is verified (in start order)
        nring = 0
        head = 0
        over = False
        while True:
            if q < e:
                if teddy:
                    q = <int64_t> kc_teddy(level, buf, <size_t> q, <size_t> e, <size_t> buflen,
                                           tmasks)
                else:
                    q = <int64_t> kc_filter(level, buf, <size_t> q, <size_t> e, <size_t> buflen,
                                            bm, fmask, wshift, b2shift)
            if q >= e and q < seg_end:
                # the last starts: fewer than 4 bytes left
                while q < seg_end:
                    x0 = (<uint32_t> kc_load_short(buf + q, <size_t> (buflen - q))) & fmask
                    if kc_filter_pass(bm, x0, wshift, b2shift):
                        break
                    q += 1
            if q < seg_end:
                key = start_key(w, buf, buflen, q)
                kc_prefetch(&w.table[(key * HASH_TABLE) >> w.tshift])
                ring_q[(head + nring) & (PIPELINE - 1)] = q
                ring_key[(head + nring) & (PIPELINE - 1)] = key
                nring += 1
            while nring == PIPELINE or (q >= seg_end and nring > 0):
                r = verify(job, buf, buflen, ring_q[head], ring_key[head], base)
                if r < 0:
                    return -1
                work += r
                if work > budget:
                    q = ring_q[head]
                    over = True
                    break
                head = (head + 1) & (PIPELINE - 1)
                nring -= 1
            if over or q >= seg_end:
                break
            q += 1
        if work > budget:
            # too many candidates: the automaton finishes the segment after start q
            stop = seg_end + L - 1
            if stop > buflen:
                stop = buflen
            if ac_run(job, buf, q + 1, stop, seg_end, base) < 0:
                return -1
            backoff = next_backoff
            if next_backoff < MAX_BACKOFF:
                next_backoff *= 2
        else:
            next_backoff = 1
        p = seg_end
    return 0


cdef int scan_window(WJob *job, const uint8_t *buf, int64_t buflen, int64_t own,
                     int64_t base) noexcept nogil:
    """Report every match that starts in [0, own) and ends within buf[0:buflen)."""
    cdef int64_t stop
    if job.fast:
        return scan_words_fast(job, buf, buflen, own, base)
    stop = own + job.w.L - 1
    if stop > buflen:
        stop = buflen
    return ac_run(job, buf, 0, stop, own, base)


cdef void wjob_run(void *arg) noexcept nogil:
    """One chunk: its window from memory, or from the file in blocks of owned starts (each
    block read with the L - 1 bytes after it, which the next block keeps)."""
    cdef WJob *job = <WJob *> arg
    cdef int64_t L = job.w.L
    cdef int64_t cap, pos, own, need, got, have, keep, buflen
    cdef uint8_t *buf
    cdef int err = 0
    if job.want == WANT_EACH:
        job.counts = <int64_t *> calloc(<size_t> job.w.nwords, sizeof(int64_t))
        if job.counts == NULL:
            job.err = ENOMEM
            return
    if job.data != NULL:
        if job.cancel == NULL:
            scan_window(job, job.data + job.wstart, job.wend - job.wstart, job.oend - job.wstart,
                        job.wstart)
            return
        # the owned starts in blocks of job.block, each with the L - 1 bytes after it
        pos = job.wstart
        while pos < job.oend:
            if kmpc_cancelled(job.cancel):
                job.err = CANCELLED
                return
            own = job.oend - pos
            if own > job.block:
                own = job.block
            need = own + L - 1
            if need > job.wend - pos:
                need = job.wend - pos
            if scan_window(job, job.data + pos, need, own, pos) < 0:
                return
            pos += own
        return
    cap = job.block + L - 1
    if cap > job.wend - job.wstart:
        cap = job.wend - job.wstart
    buf = <uint8_t *> malloc(<size_t> cap)
    if buf == NULL:
        job.err = ENOMEM
        return
    pos = job.wstart
    have = 0
    while pos < job.oend:
        own = job.oend - pos
        if own > job.block:
            own = job.block
        need = own + L - 1
        if need > job.wend - pos:
            need = job.wend - pos
        if kmpc_cancelled(job.cancel):
            job.err = CANCELLED
            break
        got = read_full(job.fd, buf + have, need - have, pos + have, &err)
        if got < 0:
            job.err = err
            break
        buflen = have + got
        if buflen < need:
            # the file ended early (it shrank since its size was taken): this block is the
            # last one, and it owns every start it read
            own = buflen if buflen < job.oend - pos else job.oend - pos
            scan_window(job, buf, buflen, own, pos)
            break
        if scan_window(job, buf, buflen, own, pos) < 0:
            break
        keep = buflen - own
        if keep > 0:
            memmove(buf, buf + own, <size_t> keep)
        have = keep
        pos += own
    free(buf)


# --- the Python object --------------------------------------------------------------------

cdef class WordSet:
    """A compiled set of words: Aho-Corasick automaton and start filter, built once;
    immutable, so one object serves any number of threads at once. Made by
    ``compile_words``."""

    cdef WS w

    def __cinit__(self):
        memset(&self.w, 0, sizeof(WS))

    def __dealloc__(self):
        ws_free(&self.w)

    def __init__(self):
        raise TypeError("use compile_words(words, ignore_case)")

    @property
    def memory_bytes(self):
        """Bytes the compiled set holds: words, automaton, filter and prefix table."""
        return self.w.memory

    @property
    def n_words(self):
        return self.w.nwords

    def __len__(self):
        return self.w.nwords

    @property
    def _layout(self):
        """How the set was compiled (tests): automaton form, states, classes, filter k."""
        return {"form": "dense" if self.w.dense else "compact", "states": self.w.nstates,
                "classes": self.w.C, "k": self.w.k, "longest": self.w.L, "shortest": self.w.S,
                "filter": "teddy" if self.w.teddy else "bitmap", "teddy_pass": self.w.teddy_pass,
                "filter_bits": self.w.fbits, "hashes": self.w.hashes,
                "segment": self.w.segment}

    def __repr__(self):
        return (f"<kmpsearch._kmp_cython.WordSet of {self.w.nwords} words, "
                f"{'dense' if self.w.dense else 'compact'} automaton of {self.w.nstates} states>")

    cdef object run(self, const Source *src, int want, object options):
        """Search ``src`` (checked by ``search``) for ``want`` (a Want) with ``options``."""
        cdef unsigned char[::1] keep = flag_view(options.cancel)   # alive until the search ends
        cdef const unsigned char *flag = &keep[0] if keep is not None else NULL
        cdef Settings s
        cdef bint teddy
        cdef Py_ssize_t k, i
        cdef int64_t n = src.n, m
        cdef int err = 0
        cdef WJob *jobs
        read_options(options, &s)
        if n == 0:
            return words_result(want, self.w.nwords, NULL, 0)
        s.level = ws_level(&self.w, self.w.level if s.level < 0 else s.level)
        teddy = ws_teddy(&self.w, s.level)
        m = self.w.L if self.w.L < n else n
        k = plan_count(n, m, s.threads, s.min_chunk)
        jobs = <WJob *> calloc(<size_t> k, sizeof(WJob))
        if jobs == NULL:
            raise MemoryError()
        for i in range(k):
            jobs[i].w = &self.w
            jobs[i].data = src.data
            jobs[i].fd = src.fd
            jobs[i].wstart = src.base + plan_start(n, m, k, i)
            jobs[i].oend = src.base + (plan_start(n, m, k, i + 1) if i < k - 1 else n)
            jobs[i].wend = src.base + plan_start(n, m, k, i + 1) + (m - 1)
            jobs[i].block = s.block
            jobs[i].want = want
            jobs[i].fast = s.fast
            jobs[i].level = s.level
            jobs[i].teddy = teddy
            jobs[i].cancel = flag
        try:
            with nogil:
                run_jobs(wjob_run, <char *> jobs, sizeof(WJob), k)
            for i in range(k):
                if jobs[i].err:
                    err = jobs[i].err
                    if err != ENOMEM:
                        break
            if err:
                raise_err(err)
            return words_result(want, self.w.nwords, jobs, k)
        finally:
            for i in range(k):
                free(jobs[i].ms)
                free(jobs[i].counts)
            free(jobs)

    def search(self, source, want, options):
        """The matches of the words in ``source`` as ``want`` says, searched with ``options``
        (kmpsearch._contract): ``"count"`` an int, ``"each"`` array('q') of the matches of
        each word, ``"offsets"`` array('q') of their starts, ``"pairs"`` those with
        array('i') of the word indices, sorted by start, then word index."""
        cdef Source src
        cdef int w = check_want(want)
        cdef const unsigned char[::1] view = read_source(source, &src)   # alive until the end
        return self.run(&src, w, options)


cdef object words_result(int want, Py_ssize_t nwords, const WJob *jobs, Py_ssize_t k):
    """A word-set search's result from its ``k`` jobs: the counts summed, or each job's
    matches straight into the arrays (advised for huge pages), in chunk order."""
    cdef carray.array offs, ids, each
    cdef Py_ssize_t i, j
    cdef int64_t total = 0
    cdef size_t nall = 0, x
    if want == WANT_COUNT:
        for i in range(k):
            total += jobs[i].count
        return total
    if want == WANT_EACH:
        each = carray.clone(carray.array("q"), nwords, False)
        with nogil:
            memset(each.data.as_voidptr, 0, <size_t> nwords * sizeof(int64_t))
            for i in range(k):
                for j in range(nwords):
                    each.data.as_longlongs[j] += jobs[i].counts[j]
        return each
    for i in range(k):
        nall += jobs[i].nm
    offs = carray.clone(carray.array("q"), <Py_ssize_t> nall, False)
    kmpc_advise_huge(offs.data.as_voidptr, nall * sizeof(int64_t))
    if want == WANT_OFFSETS:
        nall = 0
        with nogil:
            for i in range(k):
                for x in range(jobs[i].nm):
                    offs.data.as_longlongs[nall] = jobs[i].ms[x].start
                    nall += 1
        return offs
    ids = carray.clone(carray.array("i"), <Py_ssize_t> nall, False)
    kmpc_advise_huge(ids.data.as_voidptr, nall * sizeof(int))
    nall = 0
    with nogil:
        for i in range(k):
            for x in range(jobs[i].nm):
                offs.data.as_longlongs[nall] = jobs[i].ms[x].start
                ids.data.as_ints[nall] = <int> jobs[i].ms[x].id
                nall += 1
    return offs, ids


def compile_words(words, ignore_case, *, _form="auto", _rows=0, _segment=SEGMENT, _budget=4,
                  _filter_bits_per_word=128, _filter_max_bits=22, _hashes=2, _simd=True,
                  _teddy=None, _split_min=SPLIT_MIN):
    """Compile distinct non-empty words (bytes-like) into a ``WordSet``; word ``i`` of a
    match is ``words[i]``. ``ignore_case``: ASCII letters only (A-Z == a-z).

    Private knobs (tests): ``_form`` "auto", "dense" or "compact" (the automaton);
    ``_rows`` full rows of the compact form (0: as many as ROW_BYTES hold); ``_segment`` owned starts per segment of the
    fast scan; ``_budget`` verification work per owned start before the automaton takes over.
    """
    cdef list items = list(words)
    cdef Py_ssize_t N = len(items), i, total = 0, off = 0, ln
    cdef WordSet ws
    cdef WS *w
    cdef const unsigned char[::1] view
    cdef uint8_t *arena
    cdef int form, rc
    cdef int64_t rows = PyNumber_Index(_rows)
    cdef Py_ssize_t c
    if N < 1:
        raise ValueError("compile_words needs at least one word")
    if N >= 0x7fffffff:
        raise ValueError("too many words")
    if _form == "auto":
        form = 0
    elif _form == "dense":
        form = 1
    elif _form == "compact":
        form = 2
    else:
        raise ValueError(f"_form must be 'auto', 'dense' or 'compact', got {_form!r}")
    cdef int64_t fbpw = PyNumber_Index(_filter_bits_per_word)
    cdef int64_t fmax = PyNumber_Index(_filter_max_bits)
    if rows < 0 or PyNumber_Index(_segment) < 1 or PyNumber_Index(_budget) < 0:
        raise ValueError("_rows must be >= 0, _segment >= 1, _budget >= 0")
    if not (1 <= fbpw <= 4096 and 12 <= fmax <= 30 and _hashes in (1, 2)):
        raise ValueError("bad filter knobs")
    for i in range(N):
        item = items[i]
        if type(item) is not bytes:
            if isinstance(item, str):
                raise TypeError("words must be bytes-like, not str")
            items[i] = item = bytes(item)
        ln = len(<bytes> item)
        if ln < 1:
            raise ValueError("words must not be empty")
        if ln >= 0xffffffffLL:
            raise ValueError("words must be shorter than 4 GiB")
        total += ln
    ws = WordSet.__new__(WordSet)
    w = &ws.w
    w.nwords = N
    w.ic = bool(ignore_case)
    w.segment = PyNumber_Index(_segment)
    w.budget = PyNumber_Index(_budget)
    w.hashes = _hashes
    w.simd = bool(_simd)
    w.level = kc_simd_level()
    w.teddy_mode = 0 if _teddy is None else (1 if _teddy else 2)
    w.split_min = PyNumber_Index(_split_min)
    if w.split_min < 1:
        raise ValueError("_split_min must be >= 1")
    for c in range(256):
        w.fold[c] = c + 32 if w.ic and 65 <= c <= 90 else c
    arena = <uint8_t *> track(w, <size_t> total)
    w.arena = arena
    w.woff = <int64_t *> track(w, <size_t> N * 8)
    w.wlen = <int64_t *> track(w, <size_t> N * 8)
    if arena == NULL or w.woff == NULL or w.wlen == NULL:
        raise MemoryError()
    for i in range(N):
        item = items[i]
        ln = len(<bytes> item)
        memcpy(arena + off, <char *> (<bytes> item), <size_t> ln)
        w.woff[i] = off
        w.wlen[i] = ln
        off += ln
    with nogil:
        if w.ic:
            for i in range(total):
                arena[i] = w.fold[arena[i]]
        rc = ws_build(w, form, rows, fbpw, fmax)
    if rc == -2:
        raise ValueError("words must be distinct (after case folding when ignore_case)")
    if rc < 0:
        raise MemoryError()
    return ws
