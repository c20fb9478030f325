# One pattern: the KMP automaton (failure function built once, in the compiled object), the
# textbook scan, the fast scan (SIMD pair search while no match is pending), the memory
# and file kernels, and a FileBatch's file (pattern_file).

ctypedef struct PJob:
    # input: the window [start, end) of one chunk, from memory (data) or from a file (fd)
    const uint8_t *data          # the whole haystack (memory kernels), NULL for files
    int fd
    int64_t start
    int64_t end
    int64_t block                # bytes per pread (files)
    const uint8_t *pat
    Py_ssize_t m
    Py_ssize_t d                 # offset of the pair's second byte (fast scan)
    const Py_ssize_t *fail
    int level                    # SIMD level of the pair search and byte count (kc_pair)
    bint fast
    int want                     # a Want: WANT_OFFSETS and up keep the offsets
    const unsigned char *cancel  # the caller's flag (NULL: none); looked at before each block
    const Choice *choice         # memory, with match semantics: each block's matches go
                                 # through choose_chunk (NULL: none)
    # output
    int64_t count
    int64_t *offs
    Py_ssize_t noffs
    Py_ssize_t cap
    int err                      # 0, ENOMEM or the errno of a failed read


cdef void build_failure(const uint8_t *pat, Py_ssize_t m, Py_ssize_t *fail) noexcept nogil:
    """``fail[i]``: length of the longest proper border of ``pat[:i + 1]``."""
    cdef Py_ssize_t i, k = 0
    cdef uint8_t c
    fail[0] = 0
    for i in range(1, m):
        c = pat[i]
        while k > 0 and pat[k] != c:
            k = fail[k - 1]
        if pat[k] == c:
            k += 1
        fail[i] = k


cdef Py_ssize_t pair_offset(const uint8_t *pat, Py_ssize_t m) noexcept nogil:
    """The second byte of the fast scan's pair: the last needle byte that differs from the
    first one (so a run of the first byte, the classic worst case, never passes the test),
    else the last byte. 0 for one-byte needles."""
    cdef Py_ssize_t j = m - 1
    while j > 0 and pat[j] == pat[0]:
        j -= 1
    return j if j > 0 else m - 1


cdef int push(PJob *job, int64_t off) noexcept nogil:
    cdef Py_ssize_t cap
    cdef int64_t *grown
    if job.noffs == job.cap:
        cap = FIRST_MATCHES if job.cap == 0 else job.cap * 2
        grown = <int64_t *> kmpc_regrow(job.offs, <size_t> job.noffs * sizeof(int64_t),
                                        <size_t> cap * sizeof(int64_t), HUGE_FROM)
        if grown == NULL:
            job.err = ENOMEM
            return -1
        job.offs = grown
        job.cap = cap
    job.offs[job.noffs] = off
    job.noffs += 1
    return 0


cdef Py_ssize_t scan_textbook(PJob *job, const uint8_t *s, Py_ssize_t n, int64_t base,
                              Py_ssize_t k) noexcept nogil:
    """The textbook automaton from state ``k`` over ``s[:n]`` (byte 0 at offset ``base``):
    every byte goes through it. Returns the state after the last byte, -1 on ENOMEM."""
    cdef const uint8_t *pat = job.pat
    cdef const Py_ssize_t *fail = job.fail
    cdef Py_ssize_t last = job.m - 1
    cdef Py_ssize_t i = 0
    cdef uint8_t c
    cdef bint collect = job.want >= WANT_OFFSETS
    cdef int64_t count = 0
    # the automaton step written out here, not shared with the fast scan nor put in an
    # inline function (cython/README.md, "Tuning": the textbook scan's loop)
    while i < n:
        c = s[i]
        while k > 0 and pat[k] != c:
            k = fail[k - 1]
        if pat[k] == c:
            if k == last:
                count += 1
                if collect and push(job, base + i - last) < 0:
                    k = -1
                    break
                k = fail[last]
            else:
                k += 1
        i += 1
    job.count += count
    return k


cdef Py_ssize_t scan_fast(PJob *job, const uint8_t *s, Py_ssize_t n, int64_t base,
                          Py_ssize_t k, bint final) noexcept nogil:
    """The fast scan from state ``k`` over ``s[:n]`` (byte 0 at offset ``base``).

    In state 0 (no match pending) jump with the SIMD pair search to the next start ``j``
    where ``s[j] == pat[0]`` and ``s[j + d] == pat[d]``; on a mismatch, fall back through
    the borders skipping those whose start fails the same pair test (a byte not read yet).
    Both only drop starts that cannot match, so the states are KMP's own, and each step
    either reads a byte or moves the candidate start forward: linear in ``n``.
    ``final``: ``s[:n]`` ends the window (no byte follows): starts whose pair byte would
    lie past the end cannot match; otherwise (a file block) they stay candidates.
    Returns the state after the last byte, -1 on ENOMEM.
    """
    cdef const uint8_t *pat = job.pat
    cdef const Py_ssize_t *fail = job.fail
    cdef Py_ssize_t last = job.m - 1
    cdef Py_ssize_t d = job.d
    cdef int level = job.level
    cdef uint8_t c0 = pat[0]
    cdef uint8_t cd = pat[d]
    cdef Py_ssize_t lim = n - d if n > d else 0   # starts below lim have their pair byte here
    cdef Py_ssize_t i = 0, j
    cdef uint8_t c
    cdef const uint8_t *hit
    cdef bint collect = job.want >= WANT_OFFSETS
    cdef int64_t count = 0
    while i < n:
        if k == 0:
            if i < lim:
                j = <Py_ssize_t> kc_pair(level, s, <size_t> i, <size_t> lim, <size_t> d, c0, cd)
                if j < lim:
                    i = j + 1
                    k = 1
                    continue
                i = lim
            if final:
                break
            # the block's last d bytes: the pair byte is in the next block
            hit = <const uint8_t *> memchr(s + i, c0, <size_t> (n - i))
            if hit == NULL:
                break
            i = (hit - s) + 1
            k = 1
            continue
        c = s[i]
        if pat[k] == c:
            if k == last:
                count += 1
                if collect and push(job, base + i - last) < 0:
                    k = -1
                    break
                k = fail[last]
            else:
                k += 1
            i += 1
            continue
        # mismatch in state k > 0: the next border whose start i - k may still match
        k = fail[k - 1]
        while k > 0:
            if pat[k] == c and (k >= d or i - k + d >= n or s[i - k + d] == cd):
                break
            k = fail[k - 1]
        if k > 0:
            k += 1          # k + 1 <= last here: no match ends on a fallback
            i += 1
        # else state 0: byte i is looked at again by the pair search
    job.count += count
    return k


cdef Py_ssize_t scan_one_byte(PJob *job, const uint8_t *s, Py_ssize_t n, int64_t base) noexcept nogil:
    """The fast scan of a one-byte needle: a SIMD count, or memchr for the offsets."""
    cdef uint8_t c0 = job.pat[0]
    cdef const uint8_t *hit
    cdef Py_ssize_t i = 0
    if job.want < WANT_OFFSETS:
        job.count += <int64_t> kc_count_byte(job.level, s, <size_t> n, c0)
        return 0
    while i < n:
        hit = <const uint8_t *> memchr(s + i, c0, <size_t> (n - i))
        if hit == NULL:
            break
        i = hit - s
        job.count += 1
        if push(job, base + i) < 0:
            return -1
        i += 1
    return 0


cdef inline Py_ssize_t scan_block(PJob *job, const uint8_t *s, Py_ssize_t n, int64_t base,
                                  Py_ssize_t k, bint final) noexcept nogil:
    if not job.fast:
        return scan_textbook(job, s, n, base, k)
    if job.m == 1:
        return scan_one_byte(job, s, n, base)
    return scan_fast(job, s, n, base, k, final)


cdef void pjob_read(PJob *job, uint8_t *block) noexcept nogil:
    """Search the job's window of its file: pread in blocks of ``job.block`` bytes into
    ``block`` (room for ``min(job.block, window)`` bytes), the automaton's state carried
    from block to block."""
    cdef int64_t pos, step, got
    cdef Py_ssize_t k = 0
    cdef int err = 0
    pos = job.start
    while pos < job.end:
        step = job.end - pos
        if step > job.block:
            step = job.block
        if kmpc_cancelled(job.cancel):
            job.err = CANCELLED
            break
        got = read_full(job.fd, block, step, pos, &err)
        if got < 0:
            job.err = err
            break
        # a short read: the file ended (it shrank since its size was taken): the last block
        k = scan_block(job, block, <Py_ssize_t> got, pos, k, got < step or pos + got == job.end)
        if k < 0 or got < step:
            break
        pos += got


cdef void pjob_run(void *arg) noexcept nogil:
    """Search one chunk's window, from memory or from a file (``pjob_read`` into a block
    buffer of its own)."""
    cdef PJob *job = <PJob *> arg
    cdef int64_t pos, step
    cdef Py_ssize_t k = 0, first, got
    cdef uint8_t *block
    if job.data != NULL:
        if job.cancel == NULL and job.choice == NULL:
            scan_block(job, job.data + job.start, <Py_ssize_t> (job.end - job.start), job.start, 0, True)
            return
        # blocks of job.block bytes, the state carried across (as from a file); each block's
        # matches through job.choice while its bytes are in the cache
        pos = job.start
        while pos < job.end:
            if kmpc_cancelled(job.cancel):
                job.err = CANCELLED
                return
            step = job.end - pos
            if step > job.block:
                step = job.block
            first = job.noffs
            k = scan_block(job, job.data + pos, <Py_ssize_t> step, pos, k, pos + step == job.end)
            if k < 0:
                return
            if job.choice != NULL and job.noffs > first:
                got = choose_chunk(job.choice, job.offs + first, NULL, 1, <size_t> (job.noffs - first))
                if got < 0:
                    job.err = CANCELLED
                    return
                job.noffs = first + got
            pos += step
        return
    step = job.end - job.start
    block = <uint8_t *> malloc(<size_t> (job.block if step > job.block else step))
    if block == NULL:
        job.err = ENOMEM
        return
    pjob_read(job, block)
    free(block)


ctypedef struct PBatch:
    # one worker of a pattern's FileBatch search (batch_main): its job, the template of every
    # file's, keeps the offsets of all its files
    Worker w
    PJob job


cdef int pattern_file(void *arg, Py_ssize_t i, int fd, int64_t size) noexcept nogil:
    """File ``i`` of a batch (a batch_file_fn): its one window read with ``pjob_read`` into
    the worker's buffer; a file shorter than the needle is not read."""
    cdef PBatch *pb = <PBatch *> arg
    cdef PJob *job = &pb.job
    cdef Batch *b = pb.w.b
    cdef Py_ssize_t first = job.noffs
    cdef uint8_t *buf
    if size >= job.m:
        buf = worker_buffer(&pb.w, size if size < job.block else job.block)
        if buf == NULL:
            return 0
        job.fd = fd
        job.start = 0
        job.end = size
        job.count = 0
        job.err = 0
        pjob_read(job, buf)
        if job.err == CANCELLED or job.err == ENOMEM:
            pb.w.err = job.err
            return 0
        if job.err:
            job.noffs = first
            return job.err
        if b.counts != NULL:
            b.counts[i] = job.count
    if b.counts == NULL:
        b.nfound[i] = job.noffs - first
        b.first[i] = first
        b.owner[i] = pb.w.me
    return 0


cdef class Pattern:
    """A compiled needle: its bytes and KMP failure table, built once; immutable, so one
    object serves any number of threads at once. Made by ``compile_pattern``."""

    cdef readonly bytes needle
    cdef Py_ssize_t m
    cdef Py_ssize_t d
    cdef Py_ssize_t *fail
    cdef int level               # the best SIMD level of this CPU (simd="auto")

    def __cinit__(self):
        self.fail = NULL

    def __dealloc__(self):
        free(self.fail)

    def __init__(self):
        raise TypeError("use compile_pattern(needle)")

    @property
    def memory_bytes(self):
        """Bytes the compiled pattern holds (needle and failure table)."""
        return self.m + self.m * <Py_ssize_t> sizeof(Py_ssize_t)

    def __len__(self):
        return self.m

    def __repr__(self):
        return f"<kmpsearch._kmp_cython.Pattern of {self.m} bytes>"

    cdef object run(self, const Source *src, int want, object options, const Semantics *sem):
        """Search ``src`` (checked by ``search``) for ``want`` (a Want) with ``options``; with
        ``sem.on``, for the matches chosen of every occurrence (``_choose.pxi``)."""
        cdef unsigned char[::1] keep = flag_view(options.cancel)   # alive until the search ends
        cdef const unsigned char *flag = &keep[0] if keep is not None else NULL
        cdef Settings s
        cdef Py_ssize_t k, i, got = 0
        cdef int64_t n = src.n, total = 0, m = self.m
        cdef int err = 0
        cdef PJob *jobs
        cdef Choice c
        read_options(options, &s)
        choice_start(&c, sem, src, &m, flag, NULL)
        if s.level < 0:
            s.level = self.level
        k = plan_count(n, self.m, s.threads, s.min_chunk)
        if k == 0:
            return pattern_result(want, 0, NULL, 0)
        jobs = <PJob *> calloc(<size_t> k, sizeof(PJob))
        if jobs == NULL:
            raise MemoryError()
        for i in range(k):
            jobs[i].data = src.data
            jobs[i].fd = src.fd
            jobs[i].start = src.base + plan_start(n, self.m, k, i)
            jobs[i].end = src.base + plan_start(n, self.m, k, i + 1) + (self.m - 1)
            jobs[i].block = s.block
            jobs[i].pat = <const uint8_t *> (<char *> self.needle)
            jobs[i].m = self.m
            jobs[i].d = self.d
            jobs[i].fail = self.fail
            jobs[i].level = s.level
            jobs[i].fast = s.fast
            jobs[i].want = WANT_PAIRS if sem.on else want
            jobs[i].cancel = flag
            jobs[i].choice = &c if sem.on else NULL
        try:
            with nogil:
                run_jobs(pjob_run, <char *> jobs, sizeof(PJob), k)
            for i in range(k):
                if jobs[i].err:
                    err = jobs[i].err
                    if err != ENOMEM:
                        break
            if err:
                raise_err(err)
            if sem.on:
                with nogil:
                    for i in range(k):
                        got = choose_order(&c, jobs[i].offs, NULL, 1, <size_t> jobs[i].noffs)
                        if got < 0:
                            break
                        jobs[i].noffs = jobs[i].count = got
                if got < 0:
                    raise_err(CANCELLED)
            for i in range(k):
                total += jobs[i].count
            return pattern_result(want, total, jobs, k)
        finally:
            with nogil:  # big blocks: unmapped without holding up other threads
                for i in range(k):
                    free(jobs[i].offs)
                free(jobs)

    cdef object batch(self, object source, int want, object options):
        """Search a ``FileBatch`` (``source``, checked here) for ``want`` with ``options``:
        ``(status, found)`` as the core contract says."""
        cdef unsigned char[::1] keep = flag_view(options.cancel)   # alive until the search ends
        cdef Settings s
        cdef Batch b
        cdef PBatch *ws = NULL
        cdef Py_ssize_t k = 0, i
        cdef int err = 0
        cdef int64_t total
        read_options(options, &s)
        if s.level < 0:
            s.level = self.level
        memset(&b, 0, sizeof(Batch))
        try:
            paths, status, found = batch_start(source, want, 1, &b)
            b.search_file = pattern_file
            b.cancel = &keep[0] if keep is not None else NULL
            k = b.n if b.n < s.threads else <Py_ssize_t> s.threads
            if k == 0:
                return status, (found if want <= WANT_EACH else pattern_batch_found(want, found, 0, NULL, &b))
            ws = <PBatch *> calloc(<size_t> k, sizeof(PBatch))
            if ws == NULL:
                raise MemoryError()
            for i in range(k):
                ws[i].w.b = &b
                ws[i].w.me = <int32_t> i
                ws[i].w.limit = s.block if s.block < b.max_size - 1 else b.max_size - 1
                ws[i].job.block = s.block
                ws[i].job.pat = <const uint8_t *> (<char *> self.needle)
                ws[i].job.m = self.m
                ws[i].job.d = self.d
                ws[i].job.fail = self.fail
                ws[i].job.level = s.level
                ws[i].job.fast = s.fast
                ws[i].job.want = want
                ws[i].job.cancel = b.cancel
            with nogil:
                run_jobs(batch_main, <char *> ws, sizeof(PBatch), k)
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
            return status, pattern_batch_found(want, found, total, ws, &b)
        finally:
            if ws != NULL:
                for i in range(k):
                    free(ws[i].w.buf)
                    free(ws[i].job.offs)
                free(ws)
            batch_free(&b)

    def search(self, source, want, options):
        """The matches of the needle in ``source`` as ``want`` says, searched with
        ``options`` (kmpsearch._contract): ``"count"`` an int, ``"each"`` array('q') of one
        count, ``"offsets"`` array('q') ascending, ``"pairs"`` those with array('i') of 0s;
        for a ``FileBatch``, ``(status, found)``."""
        cdef Source src
        cdef Semantics sem
        cdef int w = check_want(want)
        cdef const unsigned char[::1] chars = read_semantics(options, source, &sem)   # alive until the end
        if is_batch(source):
            return self.batch(source, w, options)
        cdef const unsigned char[::1] view = read_source(source, &src)   # alive until the end
        return self.run(&src, w, options, &sem)


cdef object pattern_result(int want, int64_t total, const PJob *jobs, Py_ssize_t k):
    """A pattern search's result from its ``k`` jobs (``total`` matches): for the offsets,
    each job's straight into the array (advised for huge pages), in chunk order, looking at
    the cancel flag every ``RESULT_SLICE`` items (a set flag: KeyboardInterrupt)."""
    cdef carray.array offs, ids, each
    cdef Py_ssize_t i
    cdef int64_t at = 0
    cdef bint done = True
    cdef const unsigned char *cancel = jobs[0].cancel if k else NULL
    if want == WANT_COUNT:
        return total
    if want == WANT_EACH:
        each = carray.clone(carray.array("q"), 1, False)
        each.data.as_longlongs[0] = total
        return each
    offs = carray.clone(carray.array("q"), <Py_ssize_t> total, False)
    kmpc_advise_huge(offs.data.as_voidptr, <size_t> total * sizeof(int64_t))
    with nogil:
        for i in range(k):
            if jobs[i].noffs:
                done = copy_sliced(<char *> (offs.data.as_longlongs + at), <const char *> jobs[i].offs,
                                   <size_t> jobs[i].noffs * sizeof(int64_t), sizeof(int64_t), cancel)
                if not done or kmpc_cancelled(cancel):
                    done = False
                    break
            at += jobs[i].noffs
    if not done:
        raise_err(CANCELLED)
    if want == WANT_OFFSETS:
        return offs
    ids = carray.clone(carray.array("i"), <Py_ssize_t> total, False)
    kmpc_advise_huge(ids.data.as_voidptr, <size_t> total * sizeof(int))
    if total:
        with nogil:
            done = copy_sliced(<char *> ids.data.as_voidptr, NULL, <size_t> total * sizeof(int), sizeof(int),
                               cancel)
        if not done:
            raise_err(CANCELLED)
    return offs, ids


cdef object pattern_batch_found(int want, carray.array bounds, int64_t total, const PBatch *ws,
                                const Batch *b):
    """A pattern batch's matches (``total``, ``bounds`` summed): ``(bounds, offsets)`` or
    ``(bounds, offsets, word indices)``, each file's offsets copied from its worker's array
    in path order."""
    cdef carray.array offs, ids
    cdef Py_ssize_t i
    cdef const PJob *job
    cdef int64_t *at
    offs = carray.clone(carray.array("q"), <Py_ssize_t> total, False)
    kmpc_advise_huge(offs.data.as_voidptr, <size_t> total * sizeof(int64_t))
    if total:
        at = <int64_t *> offs.data.as_longlongs
        with nogil:
            for i in range(b.n):
                if b.nfound[i] > b.nfound[i - 1]:
                    job = &ws[b.owner[i]].job
                    memcpy(at + b.nfound[i - 1], job.offs + b.first[i],
                           <size_t> (b.nfound[i] - b.nfound[i - 1]) * sizeof(int64_t))
    if want == WANT_OFFSETS:
        return bounds, offs
    ids = carray.clone(carray.array("i"), <Py_ssize_t> total, False)
    kmpc_advise_huge(ids.data.as_voidptr, <size_t> total * sizeof(int))
    if total:
        with nogil:
            memset(ids.data.as_voidptr, 0, <size_t> total * sizeof(int))
    return bounds, offs, ids


def compile_pattern(needle):
    """Compile a non-empty needle (bytes-like) into a ``Pattern``."""
    cdef bytes data
    cdef Pattern p
    cdef Py_ssize_t m
    cdef const uint8_t *pat
    if isinstance(needle, str):
        raise TypeError("needle must be bytes-like, not str")
    data = needle if type(needle) is bytes else bytes(needle)
    m = len(data)
    if m < 1:
        raise ValueError("needle must not be empty")
    p = Pattern.__new__(Pattern)
    p.needle = data
    p.m = m
    p.fail = <Py_ssize_t *> malloc(<size_t> m * sizeof(Py_ssize_t))
    if p.fail == NULL:
        raise MemoryError()
    pat = <const uint8_t *> (<char *> data)
    with nogil:
        build_failure(pat, m, p.fail)
        p.d = pair_offset(pat, m)
        p.level = kc_simd_level()
    return p
