# Scanning a word set (the compiled set: _words_build.pxi): the automaton (both forms, four
# interleaved streams), and the fast scan: a start filter (Teddy or the hashed bitmap) with
# exact verification through the prefix table, falling back to the automaton when
# verification costs too much. The matches are counted, counted per word, or kept (with
# their word index) as the search's Want says.
#
# Scanning a window: the matches reported are those that START in the window's own range and
# END inside the window (the chunk plan of kmpsearch._plan with m = min(longest, n)).

cdef enum:
    # the longest run of automaton segments after repeated fallbacks
    MAX_BACKOFF = 64
    # owned starts per automaton run when keeping matches (bounds the sort's scratch memory)
    SORT_SPAN = 1 << 20
    # filter candidates in flight (their table slots prefetched): a power of two
    PIPELINE = 8
    # an automaton run over fewer than 4 x this owned starts is one stream (ac_dense, ac_compact)
    SPLIT_MIN = 4096


ctypedef struct Match:
    int64_t start
    int64_t id


cdef enum:
    # a Match in int64_t: the step from one start (or id) to the next (choose_chunk, choose_order)
    MATCH_STEP = 2


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
    const Choice *choice # memory, with match semantics: each block's matches go through
                         # choose_chunk (NULL: none)
    # output
    int64_t count
    int64_t *counts      # WANT_EACH: one per word
    Match *ms            # WANT_OFFSETS, WANT_PAIRS
    size_t nm
    size_t cap
    int err


# --- reporting ----------------------------------------------------------------------------

cdef int ms_grow(WJob *job) noexcept nogil:
    cdef size_t cap = FIRST_MATCHES if job.cap == 0 else job.cap * 2
    cdef Match *grown = <Match *> kmpc_regrow(job.ms, job.nm * sizeof(Match), cap * sizeof(Match),
                                              HUGE_FROM)
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
    dependent loads (cython/README.md, "Tuning": the automaton's streams)."""
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
    four interleaved streams, as ac_dense, written out one by one rather than as a loop over
    an array of states (cython/README.md, "Tuning": the automaton's streams)."""
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


cdef void wjob_read(WJob *job, uint8_t *buf) noexcept nogil:
    """The job's window of its file, in blocks of owned starts, each read (pread into
    ``buf``, room for ``min(job.block + L - 1, window)`` bytes) with the L - 1 bytes after
    it, which the next block keeps."""
    cdef int64_t L = job.w.L
    cdef int64_t pos, own, need, got, have, keep, buflen
    cdef int err = 0
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


cdef inline int64_t wjob_buffer(const WJob *job) noexcept nogil:
    """The bytes ``wjob_read`` needs in its buffer."""
    cdef int64_t cap = job.block + job.w.L - 1
    return cap if cap < job.wend - job.wstart else job.wend - job.wstart


cdef int keep_chosen(WJob *job, size_t first) noexcept nogil:
    """The matches kept since ``first`` through ``choose_chunk``: those chosen moved to the
    front of them; -1 (job.err) when the cancel flag is set."""
    cdef Py_ssize_t got
    if job.nm == first:
        return 0
    got = choose_chunk(job.choice, &job.ms[first].start, &job.ms[first].id, MATCH_STEP, job.nm - first)
    if got < 0:
        job.err = CANCELLED
        return -1
    job.nm = first + <size_t> got
    return 0


cdef void wjob_run(void *arg) noexcept nogil:
    """One chunk: its window from memory, or from the file (``wjob_read`` into a buffer of
    its own)."""
    cdef WJob *job = <WJob *> arg
    cdef int64_t L = job.w.L
    cdef int64_t pos, own, need
    cdef size_t first
    cdef uint8_t *buf
    if job.want == WANT_EACH:
        job.counts = <int64_t *> calloc(<size_t> job.w.nwords, sizeof(int64_t))
        if job.counts == NULL:
            job.err = ENOMEM
            return
    if job.data != NULL:
        if job.cancel == NULL and job.choice == NULL:
            scan_window(job, job.data + job.wstart, job.wend - job.wstart, job.oend - job.wstart,
                        job.wstart)
            return
        # the owned starts in blocks of job.block, each with the L - 1 bytes after it (and
        # its matches through job.choice while those bytes are in the cache)
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
            first = job.nm
            if scan_window(job, job.data + pos, need, own, pos) < 0:
                return
            if job.choice != NULL and keep_chosen(job, first) < 0:
                return
            pos += own
        return
    buf = <uint8_t *> malloc(<size_t> wjob_buffer(job))
    if buf == NULL:
        job.err = ENOMEM
        return
    wjob_read(job, buf)
    free(buf)
