# The compiled word set as a Python object (WordSet, made by compile_words) and its search:
# the chunk plan over the source, the jobs (_words_scan.pxi) on the runner's threads, the
# result as the search's Want says. The set itself: _words_build.pxi.

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
