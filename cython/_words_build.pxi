# Compiling a word set (many words in one pass: README, "Many words in one pass"): the
# Aho-Corasick automaton of both scans and the start filters of the fast scan, built in C
# memory without the GIL, phase by phase (the same phases as the C core's
# c/src/wordset_build.c); ws_build runs them in this order:
#
#   build_trie        the (case-folded) words sorted; the trie over them in DFS preorder
#                     (each word adds the nodes past its common prefix with the previous one)
#   bfs_order         a stable counting sort by depth renumbers the nodes in BFS order, in
#                     which the children of a node are consecutive and sorted by byte, and
#                     every failure link and dictionary link points to a smaller id
#   byte_classes      each byte of a word its own class, all others class 0
#   choose_form       the dense DFA over the classes while it fits DENSE_MAX_BYTES, else the
#                     compact form; how many states get full rows (all of them when dense)
#   failure_links     failure links in BFS order, the full rows of the first R states built
#                     as they go (they make the failure walks short)
#   collect_outputs   dictionary (output) links and output counts
#   build_dense       the dense DFA: transitions with the failures resolved, output states
#     or build_compact  numbered last; or the compact form: the full rows of the first R
#                     states (ROW_BYTES), and for the others a node record (first child,
#                     child count, failure link) over the sorted child labels
#   build_start_filter  the hashed bitmap filter (a blocked Bloom filter, two bits in one
#                     32-bit word, keyed by the first k = min(shortest, 4) bytes at a start,
#                     checked 8 starts at a time with AVX2 gathers: kc_filter), and the exact
#                     hash table from the k-byte prefix to the group of words that start
#                     with it (ascending word index), which verifies a candidate start
#   build_teddy       for at most TEDDY_MAX_WORDS words: the Teddy nibble masks (kc_teddy)
#                     and the share of starts estimated to pass them
#   choose_filter     Teddy or the bitmap filter for the fast scan
#
# The scans: _words_scan.pxi; the WordSet object: _words.pxi.

cdef enum:
    # the compact automaton's full rows (over the byte classes) take at most this
    ROW_BYTES = 1 << 20


cdef extern from *:
    """
    #define KC_HASH_TABLE 0x2545F491u   /* the prefix table's multiplicative hash */
    """
    const uint32_t HASH_TABLE "KC_HASH_TABLE"


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
    bint teddy_chosen    # choose_filter: the Teddy filter (kc_teddy), else the bitmap one
    uint8_t tmasks[192]
    double teddy_pass    # the estimated share of starts that pass the Teddy masks (1: none)
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
    # what the phases pass on and do not keep (freed by ws_build whatever happens)
    WRec *recs           # the words, sorted
    uint32_t *d_par      # the trie in DFS preorder: parent, label, depth, word ending there
    uint8_t *d_lab
    uint32_t *d_dep
    int32_t *d_term
    uint32_t *path
    uint32_t *cnt
    uint32_t *bfs
    uint32_t *par        # BFS order: parent, label (kept by the compact form)
    uint8_t *lab
    uint32_t *first      # first child, child count
    uint32_t *nch
    uint32_t ccls[256]   # byte -> class (unfolded: bytes of the folded words)
    uint32_t R           # states with full rows
    uint32_t *fail
    uint32_t *rows       # R x C transitions (kept by the compact form)
    uint32_t *newid


cdef int ws_build(WS *w, int form, int64_t rows_wanted, int64_t fbits_per_word,
                  int64_t fbits_max) noexcept nogil:
    """Build the automaton and the filters from w.arena/woff/wlen, phase by phase.
    0, -1 (no memory) or -2 (a duplicate word). Kept arrays go to w at once (ws_free)."""
    cdef Tmp t
    cdef int rc
    memset(&t, 0, sizeof(Tmp))
    rc = build_trie(w, &t)
    if rc == 0:
        rc = bfs_order(w, &t)
    if rc == 0:
        byte_classes(w, &t)
        choose_form(w, &t, form, rows_wanted)
        rc = failure_links(w, &t)
    if rc == 0:
        rc = collect_outputs(w, &t)
    if rc == 0:
        rc = build_dense(w, &t) if w.dense else build_compact(w, &t)
    if rc == 0:
        rc = build_start_filter(w, &t, fbits_per_word, fbits_max)
    if rc == 0:
        w.teddy_pass = 1
        if w.nwords <= TEDDY_MAX_WORDS:
            build_teddy(w, t.recs)   # also when not chosen: tests force Teddy (_teddy)
        w.teddy_chosen = choose_filter(w)
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


cdef int build_trie(WS *w, Tmp *t) noexcept nogil:
    """The words sorted by their (folded) bytes (t.recs; w.L, w.S), and the trie over them
    in DFS preorder (t.d_par, d_lab, d_dep, d_term; w.nstates): each word adds the nodes
    past its common prefix with the previous one. 0, -1 (no memory) or -2 (a duplicate)."""
    cdef Py_ssize_t N = w.nwords, i
    cdef int64_t total = 0, l, dd, mx
    cdef uint32_t nn
    cdef const WRec *prev
    cdef WRec *recs
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
    return 0


cdef int bfs_order(WS *w, Tmp *t) noexcept nogil:
    """BFS ids: a stable counting sort of the DFS preorder by depth (t.par, t.lab, w.term);
    then each state's children, consecutive ids sorted by byte (t.first, t.nch). Frees the
    preorder. 0 or -1 (no memory)."""
    cdef uint32_t nn = w.nstates, v, x, p
    cdef int64_t dd
    cdef uint8_t *lab
    cdef int32_t *term
    cdef uint32_t *first
    cdef uint32_t *nch
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
    first = t.first = <uint32_t *> calloc(<size_t> nn, 4)
    nch = t.nch = <uint32_t *> calloc(<size_t> nn, 4)
    if first == NULL or nch == NULL:
        return -1
    for v in range(1, nn):
        p = t.par[v]
        if nch[p] == 0:
            first[p] = v
        nch[p] += 1
    return 0


cdef void byte_classes(WS *w, Tmp *t) noexcept nogil:
    """Every byte of a (folded) word a class of its own, in byte order, the others class 0
    (t.ccls); w.cls maps a haystack byte (folded first when ic) to its class."""
    cdef uint32_t v, c, C
    cdef bint used[256]
    for c in range(256):
        used[c] = False
    for v in range(1, w.nstates):
        used[t.lab[v]] = True
    C = 1
    for c in range(256):
        if used[c]:
            t.ccls[c] = C
            C += 1
        else:
            t.ccls[c] = 0
    for c in range(256):
        w.cls[c] = <uint8_t> t.ccls[w.fold[c]]
    w.C = C
    w.stride = C + 1


cdef void choose_form(WS *w, Tmp *t, int form, int64_t rows_wanted) noexcept nogil:
    """The automaton's form (w.dense): ``form`` 1 dense, 2 compact, 0 the dense DFA while
    its states x (classes + 1) x 4 bytes stay at most DENSE_MAX_BYTES (and its codes fit
    32 bits), else compact. And the states with full rows (t.R): every one when dense, else
    ``rows_wanted`` (tests) or as many as ROW_BYTES hold."""
    cdef uint32_t nn = w.nstates, C = w.C
    cdef uint32_t R
    w.dense = form == 1 or (form == 0 and <uint64_t> nn * (C + 1) * 4 <= DENSE_MAX_BYTES)
    if w.dense and <uint64_t> nn * (C + 1) >= 0xffffffffULL:
        w.dense = False      # codes are 32-bit
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
    t.R = R


cdef int failure_links(WS *w, Tmp *t) noexcept nogil:
    """Failure links in BFS order (t.fail), with the full rows of the first t.R states
    (t.rows, resolved transitions over the classes: a row is its failure state's row with
    its own children written over), which the failure walks of the later states end in.
    0 or -1 (no memory)."""
    cdef uint32_t nn = w.nstates, C = w.C, R = t.R
    cdef uint32_t v, p, f, x, ch
    cdef uint8_t b
    cdef const uint32_t *first = t.first
    cdef const uint32_t *nch = t.nch
    cdef const uint8_t *lab = t.lab
    cdef const uint32_t *ccls = &t.ccls[0]
    cdef uint32_t *fail
    cdef uint32_t *rows
    fail = t.fail = <uint32_t *> malloc(<size_t> nn * 4)
    rows = t.rows = <uint32_t *> malloc(<size_t> R * C * 4)
    if fail == NULL or rows == NULL:
        return -1
    fail[0] = 0
    for x in range(C):
        rows[x] = 0
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
    return 0


cdef int collect_outputs(WS *w, Tmp *t) noexcept nogil:
    """Dictionary links (w.dlink: the next state on the failure chain where a word ends)
    and output counts (w.outn: the words ending at a state or on its failure chain).
    0 or -1 (no memory)."""
    cdef uint32_t nn = w.nstates, v, f
    cdef const int32_t *term = w.term
    w.dlink = <uint32_t *> track(w, <size_t> nn * 4)
    w.outn = <uint32_t *> track(w, <size_t> nn * 4)
    if w.dlink == NULL or w.outn == NULL:
        return -1
    w.dlink[0] = 0
    w.outn[0] = 0
    for v in range(1, nn):
        f = t.fail[v]
        w.dlink[v] = f if term[f] >= 0 else w.dlink[f]
        w.outn[v] = (1 if term[v] >= 0 else 0) + w.outn[f]
    return 0


cdef int build_dense(WS *w, Tmp *t) noexcept nogil:
    """The dense DFA (w.dfa) from the full rows of every state: codes are row offsets
    (stride C + 1), the output states numbered last (one compare flags them: w.out_start);
    column C holds the state's id. 0 or -1 (no memory)."""
    cdef uint32_t nn = w.nstates, C = w.C, v, c, row, nout
    cdef const uint32_t *rows = t.rows
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
    return 0


cdef int build_compact(WS *w, Tmp *t) noexcept nogil:
    """The compact automaton: the full rows of the first t.R states (w.rows, each entry
    (state << 1) | (state has output)), the edge labels (w.label) and a node record per
    state (w.nodes). Takes over t.rows and t.lab. 0 or -1 (no memory)."""
    cdef uint32_t nn = w.nstates, R = t.R, C = w.C, v, x
    cdef uint32_t *rows = t.rows
    cdef const uint32_t *first = t.first
    cdef const uint32_t *nch = t.nch
    cdef const uint8_t *lab = t.lab
    w.nodes = <CNode *> track(w, <size_t> nn * sizeof(CNode))
    if w.nodes == NULL:
        return -1
    w.label = t.lab
    t.lab = NULL
    w.memory += nn
    w.R = R
    w.rows = rows
    t.rows = NULL
    w.memory += <size_t> R * C * 4
    for x in range(R * C):
        rows[x] = (rows[x] << 1) | (1 if w.outn[rows[x]] else 0)
    for v in range(nn):
        w.nodes[v].first = first[v]
        w.nodes[v].fail = t.fail[v]
        w.nodes[v].nchild = <uint16_t> nch[v]
        w.nodes[v].lab0 = lab[first[v]] if nch[v] else 0
        w.nodes[v].out = 1 if w.outn[v] else 0
    return 0


cdef int build_start_filter(WS *w, Tmp *t, int64_t fbits_per_word, int64_t fbits_max) noexcept nogil:
    """The hashed bitmap filter on starts (w.bitmap: ``fbits_per_word`` bits per word, at
    most 2**``fbits_max``, from 2**12) keyed by the first k = min(shortest, 4) bytes, and the
    exact prefix table (w.table, w.members) that verifies a start: a group is a run of
    sorted words with the same first k bytes, its members in ascending word index. Built
    for every set: the fast scan verifies with the table whichever filter it runs, and the
    bitmap also filters a window's last starts and runs below AVX2. 0 or -1 (no memory)."""
    cdef Py_ssize_t N = w.nwords, i, j, g
    cdef const WRec *recs = t.recs
    cdef uint64_t want
    cdef uint32_t fbits, tbits, ngroups, key, slot
    cdef int64_t dd
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
    return 0


cdef void build_teddy(WS *w, const WRec *recs) noexcept nogil:
    """The Teddy filter's nibble masks (w.tmasks): the words, in sorted order, cut into 8
    runs (buckets) of neighbours (which share leading bytes, so the masks stay selective);
    bucket b allows at position t (< 3) the nibbles of its words' byte t, both cases of a
    letter when ic, and every byte past a word's end. And the share of starts estimated to
    pass them (w.teddy_pass): for text of uniformly drawn printable ASCII and whitespace,
    the share of 3-byte windows that pass some bucket's masks."""
    cdef Py_ssize_t N = w.nwords, i
    cdef int t, b, v
    cdef uint8_t c, bit
    cdef double share = 0, part
    cdef int npass, ntext
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


cdef bint choose_filter(const WS *w) noexcept nogil:
    """The start filter of the fast scan, the same rule in every core: Teddy iff the set has
    at most TEDDY_MAX_WORDS words and the estimated share of starts that pass its masks
    (build_teddy) is at most TEDDY_MAX_PASS; otherwise the hashed bitmap filter
    (build_start_filter). Teddy runs where pshufb is AVX2 (ws_teddy)."""
    return w.nwords <= TEDDY_MAX_WORDS and w.teddy_pass <= TEDDY_MAX_PASS


cdef inline int ws_level(const WS *w, int level) noexcept nogil:
    """The filter's SIMD level for a search at ``level``: 0 when the set was compiled with
    ``_simd=False`` (tests)."""
    return level if w.simd else 0


cdef inline bint ws_teddy(const WS *w, int level) noexcept nogil:
    """Whether a fast scan at filter level ``level`` uses the Teddy filter: by default
    where choose_filter chose it and pshufb is AVX2 (level 2; below, the bitmap filter);
    ``_teddy`` (tests) forces it on (any level: the portable C Teddy below AVX2) or off."""
    if w.teddy_mode == 0:
        return w.teddy_chosen and level >= 2
    return w.teddy_mode == 1 and w.nwords <= TEDDY_MAX_WORDS


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
