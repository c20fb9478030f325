# The chunk plan, the POSIX-threads runner, pread, and what the compiled pattern and the
# compiled word set share of ``search(source, want, options)``: the wants, the checks of
# the source and the options, the errors, and the workers of a FileBatch.

cdef extern from "<pthread.h>" nogil:
    ctypedef struct pthread_t:
        pass
    ctypedef struct pthread_attr_t:
        pass
    int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                       void *(*start_routine)(void *) noexcept nogil, void *arg)
    int pthread_join(pthread_t thread, void **retval)
    int pthread_attr_init(pthread_attr_t *attr)
    int pthread_attr_setstacksize(pthread_attr_t *attr, size_t stacksize)
    int pthread_attr_destroy(pthread_attr_t *attr)


cdef enum:
    # stack of a worker thread: the kernels need a few hundred bytes (default: 8 MiB)
    WORKER_STACK = 256 << 10
    # bytes a file kernel reads per step, per chunk, unless told otherwise (tests)
    DEFAULT_BLOCK = 1 << 20



cdef extern from *:
    """
    /* whether the caller asked the search to stop: a relaxed atomic load (the flag carries
     * no data; another thread sets it while the search runs) */
    static inline int kmpc_cancelled(const unsigned char *flag)
    {
        return flag != NULL && __atomic_load_n(flag, __ATOMIC_RELAXED) != 0;
    }
    """
    int kmpc_cancelled(const unsigned char *flag) noexcept nogil


cdef extern from *:
    """
    /*
     * Result arrays on transparent huge pages. A big result array is written once from
     * start to end, and with 4 KiB pages the first touch of each page costs more than the
     * scan that fills it (cython/README.md, "Tuning"); THP in "madvise" mode (the usual
     * default) uses 2 MiB pages only where asked.
     * kmpc_advise_huge asks for [p, p + bytes) (its whole 2 MiB pages; advice only).
     * kmpc_regrow: a block of `bytes` holding the first `keep` bytes of `old` (freed), or
     * NULL (old untouched); from `huge_from` bytes up (the callers pass HUGE_FROM,
     * _tuning.pxi) a 2 MiB-aligned block so advised, grown by copy (madvise splits the
     * allocator's mapping, so realloc could not move it in place; old and new are held at
     * once while it moves); below, realloc in place, so small and middling results use
     * what they need.
     */
    #if defined(__linux__)
    #  include <sys/mman.h>
    #endif
    #include <stdint.h>
    #include <stdlib.h>
    #include <string.h>
    #define KMPC_HUGE ((size_t)2 << 20)
    static void kmpc_advise_huge(void *p, size_t bytes)
    {
    #if defined(__linux__) && defined(MADV_HUGEPAGE)
        uintptr_t lo = ((uintptr_t)p + KMPC_HUGE - 1) & ~(uintptr_t)(KMPC_HUGE - 1);
        uintptr_t hi = ((uintptr_t)p + bytes) & ~(uintptr_t)(KMPC_HUGE - 1);
        if (bytes >= KMPC_HUGE && hi > lo)
            (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
    #else
        (void)p;
        (void)bytes;
    #endif
    }
    static void *kmpc_regrow(void *old, size_t keep, size_t bytes, size_t huge_from)
    {
    #if defined(__linux__) && defined(MADV_HUGEPAGE)
        if (bytes >= huge_from) {
            if (bytes > SIZE_MAX - KMPC_HUGE)
                return NULL;
            bytes = (bytes + KMPC_HUGE - 1) & ~(KMPC_HUGE - 1);
            void *p = aligned_alloc(KMPC_HUGE, bytes);
            if (p == NULL)
                return NULL;
            kmpc_advise_huge(p, bytes);
            if (keep)
                memcpy(p, old, keep);
            free(old);
            return p;
        }
    #endif
        (void)keep;
        (void)huge_from;
        return realloc(old, bytes);
    }
    """
    void kmpc_advise_huge(void *p, size_t bytes) noexcept nogil
    void *kmpc_regrow(void *old, size_t keep, size_t bytes, size_t huge_from) noexcept nogil


cdef enum:
    # a job's err when the cancel flag stopped it (errno values are positive)
    CANCELLED = -1


cdef enum Want:
    # what a search returns (kmpsearch._contract.WANTS)
    WANT_COUNT = 0       # "count": an int, the number of matches
    WANT_EACH = 1        # "each": array('q'), the matches of each word
    WANT_OFFSETS = 2     # "offsets": array('q'), the start of every match, ascending
    WANT_PAIRS = 3       # "pairs": (array('q') offsets, array('i') word indices)
    # WANT_OFFSETS and up keep every match (the scans test want >= WANT_OFFSETS)


cdef int check_want(object want) except -1:
    """The Want named by ``want`` (str subclasses accepted)."""
    if isinstance(want, str):
        if want == "count":
            return WANT_COUNT
        if want == "each":
            return WANT_EACH
        if want == "offsets":
            return WANT_OFFSETS
        if want == "pairs":
            return WANT_PAIRS
    raise ValueError(f"want must be 'count', 'each', 'offsets' or 'pairs', got {want!r}")


ctypedef struct Source:
    # what a search reads: memory (data, or NULL when empty; fd -1) or a file range
    const uint8_t *data
    int fd
    int64_t n            # bytes
    int64_t base         # a file range's first byte (offsets are file offsets); memory: 0


cdef const unsigned char[::1] read_source(object source, Source *src):
    """Fill ``src`` from a search's ``source``: a ``FileRange(fd, start, size)`` (a tuple),
    or a buffer of bytes, returned as a typed view that the caller keeps alive while
    ``src.data`` is read (None for a file range)."""
    cdef const unsigned char[::1] view
    if isinstance(source, tuple):
        fd, start, size = source
        src.data = NULL
        src.fd = PyNumber_Index(fd)
        src.n = check_size(size)
        src.base = check_range(start, src.n)
        return None
    view = source
    src.n = view.shape[0]
    src.data = &view[0] if src.n else NULL
    src.fd = -1
    src.base = 0
    return view


ctypedef struct Settings:
    # a search's options (kmpsearch._contract.Options), checked
    int64_t threads
    int64_t min_chunk
    int64_t block        # bytes between two looks at the cancel flag (0 given: DEFAULT_BLOCK)
    bint fast            # the fast scan, else the textbook one
    int level            # the SIMD level; -1: "auto" (the compiled object's own)


cdef int read_options(object options, Settings *s) except -1:
    """Check a search's options (read by attribute name) into ``s``; ``options.cancel`` is
    read by the caller (flag_view)."""
    s.threads = check_threads(options.threads)
    s.min_chunk = check_min_chunk(options.min_chunk)
    s.fast = check_scan(options.scan)
    s.level = check_simd(options.simd)
    s.block = check_block(options.block)
    return 0


cdef unsigned char[::1] flag_view(object cancel):
    """The cancel flag as a typed view (None for None): ``&view[0]`` is what the jobs read."""
    cdef unsigned char[::1] view
    if cancel is None:
        return None
    view = cancel
    if view.shape[0] < 1:
        raise ValueError("cancel must be a writable buffer of at least one byte")
    return view


ctypedef void (*job_fn)(void *job) noexcept nogil

ctypedef struct Task:
    job_fn fn
    void *job


cdef void *task_main(void *arg) noexcept nogil:
    cdef Task *t = <Task *> arg
    t.fn(t.job)
    return NULL


cdef void run_jobs(job_fn fn, char *jobs, size_t stride, Py_ssize_t k) noexcept nogil:
    """Job 0 on this thread, the others on POSIX threads of their own; wait for all.

    ``jobs`` is an array of ``k`` records of ``stride`` bytes. A job whose thread cannot be
    started (or when the bookkeeping cannot be allocated) runs on this thread after job 0.
    """
    cdef Py_ssize_t i
    cdef pthread_t *tids = NULL
    cdef bint *started = NULL
    cdef Task *tasks = NULL
    cdef pthread_attr_t attr
    cdef bint have_attr = False
    if k > 1:
        tids = <pthread_t *> malloc(<size_t> k * sizeof(pthread_t))
        started = <bint *> calloc(<size_t> k, sizeof(bint))
        tasks = <Task *> malloc(<size_t> k * sizeof(Task))
        if tids != NULL and started != NULL and tasks != NULL:
            have_attr = pthread_attr_init(&attr) == 0
            if have_attr:
                pthread_attr_setstacksize(&attr, WORKER_STACK)   # keeps the default if refused
            for i in range(1, k):
                tasks[i].fn = fn
                tasks[i].job = jobs + <size_t> i * stride
                started[i] = pthread_create(&tids[i], &attr if have_attr else NULL,
                                            task_main, &tasks[i]) == 0
            if have_attr:
                pthread_attr_destroy(&attr)
    fn(jobs)
    for i in range(1, k):
        if started != NULL and tids != NULL and tasks != NULL and started[i]:
            pthread_join(tids[i], NULL)
        else:
            fn(jobs + <size_t> i * stride)
    free(tids)
    free(started)
    free(tasks)


cdef Py_ssize_t plan_count(int64_t n, int64_t m, int64_t threads, int64_t min_chunk) noexcept nogil:
    """How many chunks the plan makes (0 when m > n); see kmpsearch._plan.plan_chunks."""
    cdef int64_t P, k
    if m > n:
        return 0
    P = n - m + 1
    k = P // min_chunk
    if k > threads:
        k = threads
    if k < 1:
        k = 1
    return <Py_ssize_t> k


cdef inline int64_t plan_start(int64_t n, int64_t m, Py_ssize_t k, Py_ssize_t i) noexcept nogil:
    """``P*i//k`` (chunk i's first start), without overflow: P = q*k + r, so
    P*i//k == q*i + r*i//k with r*i < k*k (k <= MAX_THREADS)."""
    cdef int64_t P = n - m + 1
    cdef int64_t q = P // k
    cdef int64_t r = P % k
    return q * i + r * i // k


cdef int64_t check_threads(object threads) except -1:
    cdef object t = PyNumber_Index(threads)
    if not 1 <= t <= MAX_THREADS:
        raise ValueError(f"threads must be in 1..{MAX_THREADS}, got {t}")
    return <int64_t> t


cdef int64_t check_min_chunk(object min_chunk) except -1:
    cdef object c = PyNumber_Index(min_chunk)
    if not 1 <= c <= INT64_MAX:
        raise ValueError(f"min_chunk must be in 1..2**63-1, got {c}")
    return <int64_t> c


cdef bint check_scan(object scan) except -1:
    """True for the fast scan, False for the textbook one (str subclasses accepted)."""
    if isinstance(scan, str) and scan == "fast":
        return True
    if isinstance(scan, str) and scan == "textbook":
        return False
    raise ValueError(f"scan must be 'fast' or 'textbook', got {scan!r}")


cdef int check_simd(object simd) except -2:
    """The SIMD level a search runs (str subclasses accepted): -1 for "auto" (the compiled
    object's own level, the best the CPU has), else "scalar" 0, "sse2" 1, "avx2" 2 capped at
    what the CPU has (kc_simd_cap: a forced level the CPU lacks runs the best one below it,
    as in the C library)."""
    if isinstance(simd, str):
        if simd == "auto":
            return -1
        if simd == "scalar":
            return kc_simd_cap(0)
        if simd == "sse2":
            return kc_simd_cap(1)
        if simd == "avx2":
            return kc_simd_cap(2)
    raise ValueError(f"simd must be 'auto', 'scalar', 'sse2' or 'avx2', got {simd!r}")


cdef int64_t check_size(object size) except -1:
    cdef object s = PyNumber_Index(size)
    if not 0 <= s <= INT64_MAX:
        raise ValueError(f"size must be in 0..2**63-1, got {s}")
    return <int64_t> s


cdef int64_t check_range(object start, int64_t size) except -1:
    """A file range's first byte: 0..2**63-1 - size (so start + size stays a file offset)."""
    cdef object s = PyNumber_Index(start)
    if not 0 <= s <= INT64_MAX - size:
        raise ValueError(f"start must be in 0..2**63-1 - size, got {s}")
    return <int64_t> s


cdef int64_t check_block(object block) except -1:
    cdef object b = PyNumber_Index(block)
    if b == 0:
        return DEFAULT_BLOCK
    if not 1 <= b <= (1 << 40):
        raise ValueError(f"block must be in 1..2**40 (0: the default), got {b}")
    return <int64_t> b


cdef int64_t read_full(int fd, uint8_t *buf, int64_t want, int64_t pos, int *err) noexcept nogil:
    """pread ``want`` bytes at ``pos``: fewer only at the end of the file; -1 and ``*err``
    set on a read error (EINTR retried)."""
    cdef int64_t got = 0
    cdef ssize_t r
    while got < want:
        r = pread(fd, buf + got, <size_t> (want - got), <off_t> (pos + got))
        if r > 0:
            got += r
        elif r == 0:
            break
        elif errno != EINTR:
            err[0] = errno
            return -1
    return got


cdef enum:
    # result items copied between two looks at the cancel flag when a result array is made
    RESULT_SLICE = 1 << 20


cdef bint copy_sliced(char *dst, const char *src, size_t bytes, size_t item,
                      const unsigned char *cancel) noexcept nogil:
    """``memcpy(dst, src, bytes)`` (``src`` NULL: ``memset(dst, 0, bytes)``), ``RESULT_SLICE``
    items of ``item`` bytes at a time, looking at ``cancel`` before each slice but the first:
    false when the flag stopped it (``dst`` then partly written)."""
    cdef size_t step = <size_t> RESULT_SLICE * item, at = 0, n
    while at < bytes:
        if at and kmpc_cancelled(cancel):
            return False
        n = bytes - at if bytes - at < step else step
        if src == NULL:
            memset(dst + at, 0, n)
        else:
            memcpy(dst + at, src + at, n)
        at += n
    return True


cdef object raise_err(int err):
    if err == CANCELLED:
        raise KeyboardInterrupt("kmpsearch (cython): the search was cancelled")
    if err == ENOMEM:
        raise MemoryError()
    raise OSError(err, strerror(err).decode("utf-8", "replace"))


# --- FileBatch: many small files in one call ------------------------------------------------
#
# ``options.threads`` workers (run_jobs: a worker whose thread cannot start runs on the
# caller) take the files' indices one at a time from an atomic counter. Each opens its file,
# fstats it, and when it is a regular file of 1..max_size - 1 bytes reads it with pread into
# one buffer the worker keeps for all its files, and searches it with the compiled object's
# file kernel (pjob_read, wjob_read: one window, the scan's state carried across blocks).
# Results land in place: the status and count arrays at the file's index; matches in the
# worker's own growing array, the file's share of it (worker, first, number) noted at its
# index and copied out in path order when every worker is done.

cdef extern from *:
    """
    /* the next file index of a batch: a relaxed atomic fetch-and-add (each index is handed
     * out once; run_jobs's join orders the results before they are read) */
    static inline int64_t kmpc_take(int64_t *next)
    {
        return __atomic_fetch_add(next, 1, __ATOMIC_RELAXED);
    }
    /* raise a flag another thread reads with kmpc_cancelled */
    static inline void kmpc_raise(unsigned char *flag)
    {
        __atomic_store_n(flag, 1, __ATOMIC_RELAXED);
    }
    """
    int64_t kmpc_take(int64_t *next) noexcept nogil
    void kmpc_raise(unsigned char *flag) noexcept nogil


cdef enum:
    # a FileBatch file's status (kmpsearch._contract STREAM and BIG; errno values are positive)
    BATCH_STREAM = -1    # not a regular file, or its size reads as 0
    BATCH_BIG = -2       # max_size bytes or more
    # the first read buffer of a batch worker (it doubles as bigger files need more)
    BATCH_FIRST_BUFFER = 64 << 10


# searches file i of the batch, open on fd (size bytes, 0 < size < max_size), with the worker
# ``worker`` (a PBatch or a WBatch): returns 0 (results noted at i) or the errno of a failed
# read (no results); sets the worker's err (CANCELLED, ENOMEM) when the batch must stop
ctypedef int (*batch_file_fn)(void *worker, Py_ssize_t i, int fd, int64_t size) noexcept nogil


ctypedef struct Batch:
    # one FileBatch search, shared by its workers
    const char **paths           # n NUL-terminated paths (the bytes objects' own storage)
    Py_ssize_t n
    int64_t max_size
    batch_file_fn search_file
    const unsigned char *cancel  # the caller's flag (NULL: none)
    # results, filled in place at each file's index (arrays zeroed beforehand)
    int64_t *status              # n
    int64_t *counts              # WANT_COUNT: n counts; WANT_EACH: n x nwords; else NULL
    int64_t *nfound              # WANT_OFFSETS and up: the file's matches (bounds + 1)
    int64_t *first               # ... where they start in its worker's array
    int32_t *owner               # ... and which worker has them
    # shared state
    int64_t next                 # the next file index to take (kmpc_take)
    unsigned char stop           # a worker stopped the batch (CANCELLED, ENOMEM)


ctypedef struct Worker:
    # one worker of a batch: the first member of PBatch (_pattern.pxi) and WBatch (_words.pxi)
    Batch *b
    int32_t me                   # its index among the workers
    uint8_t *buf                 # the read buffer it reuses for all its files
    int64_t cap                  # its bytes
    int64_t limit                # the most a file of the batch can need
    int err                      # CANCELLED or ENOMEM: it stopped, and the batch with it


cdef int batch_open(const char *path, int64_t max_size, int *fd, int64_t *size) noexcept nogil:
    """Open a batch's file (read-only, not waiting for a FIFO's writer) and classify it: 0
    for a regular file of 1..max_size - 1 bytes, left open on ``*fd`` with its size in
    ``*size``; else its status (an errno, EISDIR, BATCH_STREAM or BATCH_BIG), nothing open."""
    cdef struct_stat st
    cdef int f, e
    while True:
        f = c_open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
        if f >= 0:
            break
        e = errno
        if e != EINTR:
            return e if e > 0 else EIO
    if fstat(f, &st) != 0:
        e = errno if errno > 0 else EIO
    elif S_ISDIR(st.st_mode):
        e = EISDIR
    elif not S_ISREG(st.st_mode) or st.st_size <= 0:
        e = BATCH_STREAM
    elif st.st_size >= max_size:
        e = BATCH_BIG
    else:
        fd[0] = f
        size[0] = st.st_size
        return 0
    close(f)
    return e


cdef uint8_t *worker_buffer(Worker *w, int64_t need) noexcept nogil:
    """The worker's read buffer with room for ``need`` bytes, grown when it has less (to
    twice its size at least, at most ``w.limit``; its bytes are not kept); NULL with
    ``w.err`` ENOMEM when memory runs out."""
    cdef int64_t cap
    if need <= w.cap:
        return w.buf
    cap = w.cap * 2 if w.cap else BATCH_FIRST_BUFFER
    if cap > w.limit:
        cap = w.limit
    if cap < need:
        cap = need
    free(w.buf)
    w.buf = <uint8_t *> malloc(<size_t> cap)
    if w.buf == NULL:
        w.cap = 0
        w.err = ENOMEM
        return NULL
    w.cap = cap
    return w.buf


cdef void batch_main(void *arg) noexcept nogil:
    """One worker: take the next file index until none is left or the batch stops; the
    cancel flag is looked at before each file (and by the file kernels before each block)."""
    cdef Worker *w = <Worker *> arg
    cdef Batch *b = w.b
    cdef int64_t i, size = 0
    cdef int st, fd = -1
    while not kmpc_cancelled(&b.stop):
        if kmpc_cancelled(b.cancel):
            w.err = CANCELLED
            break
        i = kmpc_take(&b.next)
        if i >= b.n:
            break
        st = batch_open(b.paths[i], b.max_size, &fd, &size)
        if st == 0:
            st = b.search_file(arg, <Py_ssize_t> i, fd, size)
            close(fd)
        b.status[i] = st
        if w.err:
            break
    if w.err:
        kmpc_raise(&b.stop)


cdef bint is_batch(object source):
    """Whether a search's source is a ``FileBatch(paths, max_size)``: a 2-tuple (a
    ``FileRange`` has three items)."""
    return isinstance(source, tuple) and len(<tuple> source) == 2


cdef tuple batch_start(object source, int want, Py_ssize_t nwords, Batch *b):
    """Check a ``FileBatch(paths, max_size)`` into ``b``: its paths (bytes without NUL) as C
    strings (``b.paths``, and for the matches ``b.first`` and ``b.owner``: malloc'd, freed
    by the caller, NULL on entry), and the result arrays the workers fill in place, zeroed.
    Returns ``(paths, status, found)`` (``found`` for the matches: the bounds only); the
    caller keeps ``paths`` alive while ``b.paths`` is read."""
    cdef object paths, max_size
    cdef Py_ssize_t n, i, ln
    cdef carray.array status, found
    cdef const char *c
    paths, max_size = source
    if not isinstance(paths, tuple):
        paths = tuple(paths)
    n = len(<tuple> paths)
    b.n = n
    b.max_size = check_size(max_size)
    b.next = 0
    b.stop = 0
    b.paths = <const char **> malloc(<size_t> (n + 1) * sizeof(char *))
    if b.paths == NULL:
        raise MemoryError()
    for i in range(n):
        p = (<tuple> paths)[i]
        if not isinstance(p, bytes):
            raise TypeError(f"FileBatch paths must be bytes, got {type(p).__name__}")
        c = PyBytes_AS_STRING(p)
        ln = PyBytes_GET_SIZE(p)
        if memchr(c, 0, <size_t> ln) != NULL:
            raise ValueError("FileBatch paths must not contain NUL bytes")
        b.paths[i] = c
    status = carray.clone(carray.array("q"), n, False)
    b.status = <int64_t *> status.data.as_longlongs
    if want <= WANT_EACH:
        ln = n * nwords if want == WANT_EACH else n
        found = carray.clone(carray.array("q"), ln, False)
        memset(found.data.as_voidptr, 0, <size_t> ln * sizeof(int64_t))
        b.counts = <int64_t *> found.data.as_longlongs
        return paths, status, found
    found = carray.clone(carray.array("q"), n + 1, False)
    memset(found.data.as_voidptr, 0, <size_t> (n + 1) * sizeof(int64_t))
    b.counts = NULL
    b.nfound = (<int64_t *> found.data.as_longlongs) + 1
    b.first = <int64_t *> malloc(<size_t> (n + 1) * sizeof(int64_t))
    b.owner = <int32_t *> malloc(<size_t> (n + 1) * sizeof(int32_t))
    if b.first == NULL or b.owner == NULL:
        raise MemoryError()
    return paths, status, found


cdef int64_t batch_bounds(int64_t *bounds, Py_ssize_t n) noexcept nogil:
    """``bounds[1:]`` (each file's number of matches) summed in place into the CSR bounds
    (``bounds[0]`` is 0); returns the matches of the batch."""
    cdef Py_ssize_t i
    for i in range(n):
        bounds[i + 1] += bounds[i]
    return bounds[n]


cdef void batch_free(Batch *b) noexcept nogil:
    free(b.paths)
    free(b.first)
    free(b.owner)
