# The compiled word set as a Python object (WordSet, made by compile_words) and its search:
# the chunk plan over the source, the jobs (_words_scan.pxi) on the runner's threads, the
# result as the search's Want says; a FileBatch's file (words_file) and results. The set
# itself: _words_build.pxi.

ctypedef struct WBatch:
    # one worker of a word set's FileBatch search (batch_main): its job, the template of
    # every file's, keeps the matches of all its files
    Worker w
    WJob job


cdef int words_file(void *arg, Py_ssize_t i, int fd, int64_t size) noexcept nogil:
    """File ``i`` of a batch (a batch_file_fn): its one window (every start owned) read with
    ``wjob_read`` into the worker's buffer; "each" counts straight into the file's row."""
    cdef WBatch *wb = <WBatch *> arg
    cdef WJob *job = &wb.job
    cdef Batch *b = wb.w.b
    cdef size_t first = job.nm
    cdef uint8_t *buf
    job.fd = fd
    job.wstart = 0
    job.oend = size
    job.wend = size
    job.count = 0
    job.err = 0
    if job.want == WANT_EACH:
        job.counts = b.counts + <size_t> i * <size_t> job.w.nwords
    buf = worker_buffer(&wb.w, wjob_buffer(job))
    if buf == NULL:
        return 0
    wjob_read(job, buf)
    if job.err == CANCELLED or job.err == ENOMEM:
        wb.w.err = job.err
        return 0
    if job.err:
        job.nm = first
        if job.want == WANT_EACH:
            memset(job.counts, 0, <size_t> job.w.nwords * sizeof(int64_t))
        return job.err
    if job.want == WANT_COUNT:
        b.counts[i] = job.count
    elif job.want >= WANT_OFFSETS:
        b.nfound[i] = <int64_t> (job.nm - first)
        b.first[i] = <int64_t> first
        b.owner[i] = wb.w.me
    return 0


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
        cdef bint teddy = ws_teddy(&self.w, ws_level(&self.w, self.w.level))
        return {"form": "dense" if self.w.dense else "compact", "states": self.w.nstates,
                "classes": self.w.C, "k": self.w.k, "longest": self.w.L, "shortest": self.w.S,
                "filter": "teddy" if teddy else "bitmap", "teddy_pass": self.w.teddy_pass,
                "filter_bits": self.w.fbits, "hashes": self.w.hashes,
                "segment": self.w.segment}

    def __repr__(self):
        return (f"<kmpsearch._kmp_cython.WordSet of {self.w.nwords} words, "
                f"{'dense' if self.w.dense else 'compact'} automaton of {self.w.nstates} states>")

    cdef object run(self, const Source *src, int want, object options, const Semantics *sem):
        """Search ``src`` (checked by ``search``) for ``want`` (a Want) with ``options``; with
        ``sem.on``, for the matches chosen of every occurrence (``_choose.pxi``)."""
        cdef unsigned char[::1] keep = flag_view(options.cancel)   # alive until the search ends
        cdef const unsigned char *flag = &keep[0] if keep is not None else NULL
        cdef Settings s
        cdef bint teddy
        cdef Py_ssize_t k, i
        cdef int64_t n = src.n, m
        cdef int err = 0
        cdef WJob *jobs
        cdef Choice c
        read_options(options, &s)
        choice_start(&c, sem, src, self.w.wlen, flag, NULL)
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
            jobs[i].want = WANT_PAIRS if sem.on else want
            jobs[i].fast = s.fast
            jobs[i].level = s.level
            jobs[i].teddy = teddy
            jobs[i].cancel = flag
            jobs[i].choice = &c if sem.on else NULL
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
            if sem.on:
                return words_chosen(want, &self.w, &c, jobs, k)
            return words_result(want, self.w.nwords, jobs, k)
        finally:
            with nogil:  # big blocks: unmapped without holding up other threads
                for i in range(k):
                    free(jobs[i].ms)
                    free(jobs[i].counts)
                free(jobs)

    cdef object batch(self, object source, int want, object options):
        """Search a ``FileBatch`` (``source``, checked here) for ``want`` with ``options``:
        ``(status, found)`` as the core contract says."""
        cdef unsigned char[::1] keep = flag_view(options.cancel)   # alive until the search ends
        cdef Settings s
        cdef Batch b
        cdef WBatch *ws = NULL
        cdef Py_ssize_t k = 0, i
        cdef int err = 0
        cdef int64_t total, limit
        cdef bint teddy
        read_options(options, &s)
        s.level = ws_level(&self.w, self.w.level if s.level < 0 else s.level)
        teddy = ws_teddy(&self.w, s.level)
        memset(&b, 0, sizeof(Batch))
        try:
            paths, status, found = batch_start(source, want, self.w.nwords, &b)
            b.search_file = words_file
            b.cancel = &keep[0] if keep is not None else NULL
            k = b.n if b.n < s.threads else <Py_ssize_t> s.threads
            if k == 0:
                return status, (found if want <= WANT_EACH else words_batch_found(want, found, 0, NULL, &b))
            ws = <WBatch *> calloc(<size_t> k, sizeof(WBatch))
            if ws == NULL:
                raise MemoryError()
            # the most a file's window needs: min(block + L - 1, max_size - 1)
            limit = s.block + self.w.L - 1
            if limit > b.max_size - 1:
                limit = b.max_size - 1
            for i in range(k):
                ws[i].w.b = &b
                ws[i].w.me = <int32_t> i
                ws[i].w.limit = limit
                ws[i].job.w = &self.w
                ws[i].job.block = s.block
                ws[i].job.want = want
                ws[i].job.fast = s.fast
                ws[i].job.level = s.level
                ws[i].job.teddy = teddy
                ws[i].job.cancel = b.cancel
            with nogil:
                run_jobs(batch_main, <char *> ws, sizeof(WBatch), k)
            for i in range(k):
                if ws[i].w.err:
                    err = ws[i].w.err
                    if err != ENOMEM:
                        break
            if err:
                raise_err(err)
            if want <= WANT_EACH:
                return status, found
            with nogil:
                total = batch_bounds(b.nfound - 1, b.n)
            return status, words_batch_found(want, found, total, ws, &b)
        finally:
            if ws != NULL:
                for i in range(k):
                    free(ws[i].w.buf)
                    free(ws[i].job.ms)
                free(ws)
            batch_free(&b)

    def search(self, source, want, options):
        """The matches of the words in ``source`` as ``want`` says, searched with ``options``
        (kmpsearch._contract): ``"count"`` an int, ``"each"`` array('q') of the matches of
        each word, ``"offsets"`` array('q') of their starts, ``"pairs"`` those with
        array('i') of the word indices, sorted by start, then word index; for a
        ``FileBatch``, ``(status, found)``."""
        cdef Source src
        cdef Semantics sem
        cdef int w = check_want(want)
        cdef const unsigned char[::1] chars = read_semantics(options, source, &sem)   # alive until the end
        if is_batch(source):
            return self.batch(source, w, options)
        cdef const unsigned char[::1] view = read_source(source, &src)   # alive until the end
        return self.run(&src, w, options, &sem)


cdef object words_result(int want, Py_ssize_t nwords, const WJob *jobs, Py_ssize_t k):
    """A word-set search's result from its ``k`` jobs: the counts summed, or each job's
    matches straight into the arrays (advised for huge pages), in chunk order, looking at
    the cancel flag every ``RESULT_SLICE`` matches (a set flag: KeyboardInterrupt)."""
    cdef carray.array offs, ids, each
    cdef Py_ssize_t i, j
    cdef int64_t total = 0
    cdef size_t nall = 0, x
    cdef bint stopped = False
    cdef const unsigned char *cancel = jobs[0].cancel if k else NULL
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
                    if nall % RESULT_SLICE == 0 and nall and kmpc_cancelled(cancel):
                        stopped = True
                        break
                    offs.data.as_longlongs[nall] = jobs[i].ms[x].start
                    nall += 1
                if stopped:
                    break
        if stopped:
            raise_err(CANCELLED)
        return offs
    ids = carray.clone(carray.array("i"), <Py_ssize_t> nall, False)
    kmpc_advise_huge(ids.data.as_voidptr, nall * sizeof(int))
    nall = 0
    with nogil:
        for i in range(k):
            for x in range(jobs[i].nm):
                if nall % RESULT_SLICE == 0 and nall and kmpc_cancelled(cancel):
                    stopped = True
                    break
                offs.data.as_longlongs[nall] = jobs[i].ms[x].start
                ids.data.as_ints[nall] = <int> jobs[i].ms[x].id
                nall += 1
            if stopped:
                break
    if stopped:
        raise_err(CANCELLED)
    return offs, ids


cdef object words_chosen(int want, const WS *w, Choice *c, WJob *jobs, Py_ssize_t k):
    """A word-set search's result of the matches chosen of its ``k`` jobs' candidates, left
    by each job's ``choose_chunk``: ``choose_order`` (``c``) over them, each job's compacted
    in place."""
    cdef carray.array each = None
    cdef Py_ssize_t i, got = 0
    cdef int64_t total = 0
    if want == WANT_EACH:
        each = carray.clone(carray.array("q"), w.nwords, True)
        c.each = <int64_t *> each.data.as_longlongs
    with nogil:
        for i in range(k):
            got = choose_order(c, &jobs[i].ms[0].start, &jobs[i].ms[0].id, MATCH_STEP,
                               jobs[i].nm) if jobs[i].nm else 0
            if got < 0:
                break
            jobs[i].nm = <size_t> got
            total += got
    if got < 0:
        raise_err(CANCELLED)
    if want == WANT_COUNT:
        return total
    if want == WANT_EACH:
        return each
    return words_result(want, w.nwords, jobs, k)


cdef object words_batch_found(int want, carray.array bounds, int64_t total, const WBatch *ws,
                              const Batch *b):
    """A word-set batch's matches (``total``, ``bounds`` summed): ``(bounds, offsets)`` or
    ``(bounds, offsets, word indices)``, each file's copied from its worker's array in path
    order."""
    cdef carray.array offs, ids
    cdef Py_ssize_t i
    cdef int64_t x, lo
    cdef const Match *ms
    cdef bint pairs = want == WANT_PAIRS
    offs = carray.clone(carray.array("q"), <Py_ssize_t> total, False)
    kmpc_advise_huge(offs.data.as_voidptr, <size_t> total * sizeof(int64_t))
    ids = carray.clone(carray.array("i"), <Py_ssize_t> (total if pairs else 0), False)
    if pairs:
        kmpc_advise_huge(ids.data.as_voidptr, <size_t> total * sizeof(int))
    if total:
        with nogil:
            for i in range(b.n):
                lo = b.nfound[i - 1]
                if b.nfound[i] > lo:
                    ms = ws[b.owner[i]].job.ms + b.first[i]
                    for x in range(b.nfound[i] - lo):
                        offs.data.as_longlongs[lo + x] = ms[x].start
                    if pairs:
                        for x in range(b.nfound[i] - lo):
                            ids.data.as_ints[lo + x] = <int> ms[x].id
    if not pairs:
        return bounds, offs
    return bounds, offs, ids


def compile_words(words, ignore_case, *, _form="auto", _rows=0, _segment=SEGMENT, _budget=4,
                  _filter_bits_per_word=128, _filter_max_bits=22, _hashes=2, _simd=True,
                  _teddy=None, _split_min=SPLIT_MIN):
    """Compile distinct non-empty words (bytes-like) into a ``WordSet``; word ``i`` of a
    match is ``words[i]``. ``ignore_case``: ASCII letters only (A-Z == a-z).

    Private knobs (tests): ``_form`` "auto", "dense" or "compact" (the automaton);
    ``_rows`` full rows of the compact form (0: as many as ROW_BYTES hold); ``_segment``
    owned starts per segment of the fast scan; ``_budget`` verification work per owned
    start before the automaton takes over; ``_filter_bits_per_word``, ``_filter_max_bits``
    and ``_hashes`` the bitmap filter; ``_simd`` False: the portable C filters; ``_teddy``
    True or False: the Teddy filter forced on or off; ``_split_min`` (ac_dense).
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
