/*
 * The file reader (reader.c): one window of a file read with pread, in pieces, into one
 * bounded buffer. A pure read interface: it knows nothing of matchers or results; the
 * engine (engine.c) scans each piece it hands back.
 */
#ifndef KMP_READER_H
#define KMP_READER_H

#include "common.h"

/* A read buffer one thread reuses for many windows (a batch's files, one after another):
 * a reader given it grows it when a window needs more and leaves it allocated; its owner
 * frees p. Start it all zero. */
typedef struct kmp__buffer {
    uint8_t *p;
    size_t cap;
} kmp__buffer;

typedef struct kmp__reader {
    /* the current piece: the file's bytes [base, base + len) are buf[0..len), and the starts
     * [base, base + own) are complete (each has its lookahead, or the window ends first) */
    uint8_t *buf;
    size_t len, own;
    uint64_t base;
    /* how the window ended (kmp__reader_next returned 0): KMP_OK, KMP_ERR_TRUNCATED (end of
     * file before the window's end: the pieces hold what was read), KMP_ERR_IO,
     * KMP_ERR_CANCELLED (the flag was set before a read) */
    kmp_status status;
    /* the rest is the reader's */
    int fd;
    uint64_t end, own_end, keep;
    size_t block_size, cap;
    int at_end, started;
    const volatile unsigned char *cancel;
    kmp__buffer *scratch;
} kmp__reader;

/*
 * A reader of fd's bytes [start, end) in reads of block_size (>= 1) bytes, whose pieces
 * together own the starts [start, own_end) (own_end <= end), each with `keep` bytes of
 * lookahead past it where the window has them (keep 0: every piece is handed over whole).
 * cancel: NULL or a flag looked at before each read. scratch: NULL (the reader allocates its
 * buffer and frees it on close) or a buffer to read into, grown when it is too small.
 * KMP_OK, or KMP_ERR_NOMEM (the buffer: about keep + max(block_size, keep) bytes, at most
 * the window's).
 */
kmp_status kmp__reader_open(kmp__reader *r, int fd, uint64_t start, uint64_t own_end, uint64_t end, uint64_t keep,
                            size_t block_size, const volatile unsigned char *cancel, kmp__buffer *scratch);

/* The next piece (1; the one before is consumed), or 0 when the window is done: then
 * r->status says how (KMP_ERR_IO: *os_errno set). */
int kmp__reader_next(kmp__reader *r, int *os_errno);

void kmp__reader_close(kmp__reader *r);

/* path opened read-only, close-on-exec, never as a controlling terminal, and without waiting
 * for a FIFO's writer (O_NONBLOCK; callers fstat it next); retried on EINTR. The descriptor,
 * or -1 with errno set. */
int kmp__open_read(const char *path);

#endif /* KMP_READER_H */
