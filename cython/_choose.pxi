# The match semantics of a memory search (options ``whole``, ``kind``, ``word_chars``;
# kmpsearch._contract): the candidates -- every occurrence, sorted by (start, word index),
# as the scans keep them for "pairs" -- are kept or dropped exactly as
# kmpsearch._semantics.Chooser.keep does, in two passes. Each chunk's thread, block by
# block as it scans (choose_chunk), keeps what does not depend on the chunks before: the
# whole words (the characters before and after read as strict UTF-8, looked up in
# word_chars), and of those at one offset the kind's one (leftmost-longest,
# leftmost-first). Then one pass over the chunks in order (choose_order) keeps a kind's
# match only where it starts at or after the end of the last one kept, which carries from
# chunk to chunk. Each chunk's array is compacted in place, so the result is shaped from it
# as for any search.

cdef enum Kind:
    # kmpsearch._semantics.KINDS
    KIND_OVERLAPPING = 0     # every candidate (left by the whole-word filter)
    KIND_LONGEST = 1         # "leftmost-longest"
    KIND_FIRST = 2           # "leftmost-first"


cdef enum:
    # word_chars: one byte per code point
    WORD_CHARS_SIZE = 0x110000
    # choose_chunk and choose_order look at the cancel flag once per this many candidates
    # (a power of two)
    CHOOSE_LOOK = 1 << 22


ctypedef struct Semantics:
    # a search's match semantics, checked (read_semantics)
    bint on                      # whole or a kind other than overlapping: the matches are chosen
    bint whole
    int kind                     # a Kind
    const uint8_t *word_chars    # WORD_CHARS_SIZE bytes, 1 = word character (whole only)


ctypedef struct Choice:
    # what choose_chunk and choose_order read: a search's semantics and memory; and the
    # state of choose_order, chunk after chunk
    Semantics sem
    const uint8_t *data          # the searched memory
    int64_t n                    # its bytes
    const int64_t *lengths       # each word's length in bytes, by word index
    const unsigned char *cancel  # the caller's flag (NULL: none)
    int64_t end                  # the end of the last match kept by a kind (-1: none yet)
    int64_t *each                # NULL, or one counter per word: the matches kept of each


cdef const unsigned char[::1] read_semantics(object options, object source, Semantics *sem):
    """Check a search's ``whole``, ``kind`` and ``word_chars`` (read by attribute name) into
    ``sem``; returns ``word_chars`` as a typed view the caller keeps alive while
    ``sem.word_chars`` is read (None unless ``whole``). Chosen matches come from memory
    only: a ``FileRange`` or ``FileBatch`` source (a tuple) is a ValueError then."""
    cdef const unsigned char[::1] table
    cdef object kind = options.kind
    if isinstance(kind, str) and kind == "overlapping":
        sem.kind = KIND_OVERLAPPING
    elif isinstance(kind, str) and kind == "leftmost-longest":
        sem.kind = KIND_LONGEST
    elif isinstance(kind, str) and kind == "leftmost-first":
        sem.kind = KIND_FIRST
    else:
        raise ValueError(f"kind must be 'overlapping', 'leftmost-longest' or 'leftmost-first', "
                         f"got {kind!r}")
    sem.whole = bool(options.whole)
    sem.on = sem.whole or sem.kind != KIND_OVERLAPPING
    sem.word_chars = NULL
    if sem.on and isinstance(source, tuple):
        raise ValueError("whole words and match kinds are chosen in memory only "
                         "(not a FileRange or FileBatch)")
    if not sem.whole:
        return None
    chars = options.word_chars
    if chars is None:
        raise ValueError("whole=True needs word_chars (kmpsearch._wordchars.TABLE)")
    table = chars
    if table.shape[0] != WORD_CHARS_SIZE:
        raise ValueError(f"word_chars must be {WORD_CHARS_SIZE} bytes, got {table.shape[0]}")
    sem.word_chars = &table[0]
    return table


cdef void choice_start(Choice *c, const Semantics *sem, const Source *src, const int64_t *lengths,
                       const unsigned char *cancel, int64_t *each) noexcept nogil:
    """``sem`` as choose passes over the memory ``src`` (no match kept yet)."""
    c.sem = sem[0]
    c.data = src.data
    c.n = src.n
    c.lengths = lengths
    c.cancel = cancel
    c.end = -1
    c.each = each


cdef inline int utf8_len(uint8_t lead) noexcept nogil:
    """The bytes of the UTF-8 character that ``lead`` starts (0: not a lead byte)."""
    if lead < 0x80:
        return 1
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    if 0xF0 <= lead <= 0xF4:
        return 4
    return 0


cdef inline int32_t utf8_char(const uint8_t *p, int size) noexcept nogil:
    """The code point of the ``size`` bytes at ``p`` (``size == utf8_len(p[0]) >= 2``), or
    -1 when they are not one strict UTF-8 character (RFC 3629: a byte that is not a
    continuation, an overlong form, a surrogate, above U+10FFFF)."""
    cdef uint8_t lo = 0x80, hi = 0xBF
    cdef int32_t cp = p[0] & (0x7F >> size)
    cdef int i
    if p[0] == 0xE0:
        lo = 0xA0                # overlong below U+0800
    elif p[0] == 0xED:
        hi = 0x9F                # surrogates U+D800-U+DFFF
    elif p[0] == 0xF0:
        lo = 0x90                # overlong below U+10000
    elif p[0] == 0xF4:
        hi = 0x8F                # above U+10FFFF
    if p[1] < lo or p[1] > hi:
        return -1
    for i in range(1, size):
        if (p[i] & 0xC0) != 0x80:
            return -1
        cp = (cp << 6) | (p[i] & 0x3F)
    return cp


cdef inline bint word_before(const Choice *c, int64_t s) noexcept nogil:
    """Whether the character that ends at ``s`` is a word character: from ``s - 1`` back
    over continuation bytes (while above 0 and above ``s - 4``), the bytes to ``s`` exactly
    one valid character (kmpsearch._semantics._before)."""
    cdef const uint8_t *data = c.data
    cdef int64_t start
    cdef int32_t cp
    if s <= 0:
        return False
    if data[s - 1] < 0x80:
        return c.sem.word_chars[data[s - 1]]
    start = s - 1
    while start > 0 and s - start < 4 and (data[start] & 0xC0) == 0x80:
        start -= 1
    if utf8_len(data[start]) != s - start:
        return False
    cp = utf8_char(data + start, <int> (s - start))
    return cp >= 0 and c.sem.word_chars[cp]


cdef inline bint word_after(const Choice *c, int64_t e) noexcept nogil:
    """Whether the character that starts at ``e`` is a word character: its length from its
    lead byte, whole inside the data and valid (kmpsearch._semantics._after)."""
    cdef int size
    cdef int32_t cp
    if e >= c.n:
        return False
    if c.data[e] < 0x80:
        return c.sem.word_chars[c.data[e]]
    size = utf8_len(c.data[e])
    if size == 0 or size > c.n - e:
        return False
    cp = utf8_char(c.data + e, size)
    return cp >= 0 and c.sem.word_chars[cp]


cdef inline void put(int64_t *starts, int64_t *ids, size_t step, size_t at, int64_t off,
                     int64_t w) noexcept nogil:
    """Candidate ``at`` becomes (``off``, word ``w``)."""
    starts[at * step] = off
    if ids != NULL:
        ids[at * step] = w


cdef Py_ssize_t choose_chunk(const Choice *c, int64_t *starts, int64_t *ids, size_t step,
                             size_t n) noexcept nogil:
    """What a chunk's thread keeps of ``n`` of its candidates -- candidate ``i`` starts at
    ``starts[i * step]`` and is word ``ids[i * step]`` (``ids`` NULL: every one word 0),
    sorted by start, those of one start together: the whole words (``whole``), and of
    those at one start the kind's one (the longest, or the lowest word index; overlapping:
    every one). The ones kept are moved to the front, in order; returns how many, -1 when
    the cancel flag is set."""
    cdef size_t i = 0, kept = 0
    cdef int64_t off, w, best
    cdef bint whole = c.sem.whole, every = c.sem.kind == KIND_OVERLAPPING
    cdef bint longest = c.sem.kind == KIND_LONGEST, blocked = False
    while i < n:
        off = starts[i * step]
        best = -1
        if whole:
            blocked = word_before(c, off)
        while i < n and starts[i * step] == off:      # the candidates that start here
            if (i & (CHOOSE_LOOK - 1)) == 0 and kmpc_cancelled(c.cancel):
                return -1
            w = ids[i * step] if ids != NULL else 0
            i += 1
            if whole and (blocked or word_after(c, off + c.lengths[w])):
                continue
            if every:
                put(starts, ids, step, kept, off, w)
                kept += 1
            elif best < 0 or (c.lengths[w] > c.lengths[best] if longest else w < best):
                best = w
        if best >= 0:
            put(starts, ids, step, kept, off, best)
            kept += 1
    return <Py_ssize_t> kept


cdef Py_ssize_t choose_order(Choice *c, int64_t *starts, int64_t *ids, size_t step,
                             size_t n) noexcept nogil:
    """The kind's rule over ``n`` candidates of a chunk that ``choose_chunk`` kept (laid out
    as there), after the chunks already passed through ``c``: a match is kept when it starts
    at or after the end of the last one kept (overlapping: every one). The ones kept are
    moved to the front, in order, and counted in ``c.each``; returns how many, -1 when the
    cancel flag is set."""
    cdef size_t i, kept = 0
    cdef int64_t off, w, e, end = c.end
    cdef bint every = c.sem.kind == KIND_OVERLAPPING, keep
    for i in range(n):
        if (i & (CHOOSE_LOOK - 1)) == 0 and kmpc_cancelled(c.cancel):
            return -1
        off = starts[i * step]
        w = ids[i * step] if ids != NULL else 0
        keep = every or off >= end
        e = off + c.lengths[w]
        end = e if keep else end                  # written to be branch-free
        put(starts, ids, step, kept, off, w)
        if c.each != NULL:
            c.each[w] += keep
        kept += keep
    c.end = end
    return <Py_ssize_t> kept
