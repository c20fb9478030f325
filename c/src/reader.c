/*
 * The file reader (reader.h): one window read with pread into one bounded buffer. Nothing is
 * mapped, so a file that shrinks during a search ends the window with KMP_ERR_TRUNCATED (and
 * the pieces read before), never a SIGBUS.
 */
#define _POSIX_C_SOURCE 200809L
#define _FILE_OFFSET_BITS 64

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "reader.h"

#ifndef O_CLOEXEC
#  define O_CLOEXEC 0
#endif
#ifndef O_NOCTTY
#  define O_NOCTTY 0
#endif
#ifndef O_NONBLOCK
#  define O_NONBLOCK 0
#endif

/*
 * The buffer holds the file's bytes [base, base + len), read block_size bytes at a time.
 *
 * With keep bytes of lookahead: once the buffer is full (keep + max(block_size, keep) bytes)
 * the starts whose lookahead is complete are a piece, and the last `keep` bytes move to the
 * front for the next one. Every start of the window is so in exactly one piece, whatever the
 * block size; a piece owns at least as many starts as it carries over, so no byte is read
 * more than twice even when the lookahead is longer than the blocks.
 *
 * Without (keep 0) every block is a piece, in order.
 */
/*
 * Make scratch hold at least need bytes (need <= most). It doubles, up to most (what a window
 * of any size can need with these keep and block_size), so a thread whose files grow one
 * after another reallocates a few times, not at each file. 0, or -1 (scratch unchanged).
 */
static int scratch_reserve(kmp__buffer *scratch, size_t need, uint64_t most)
{
    if (scratch->cap >= need)
        return 0;
    size_t cap = need;
    if (scratch->cap <= SIZE_MAX / 2 && (uint64_t)scratch->cap * 2 > (uint64_t)need)
        cap = (uint64_t)scratch->cap * 2 < most ? scratch->cap * 2 : (size_t)most;
    uint8_t *p = malloc(cap); /* (not realloc: the old bytes are not needed) */
    if (p == NULL)
        return -1;
    free(scratch->p);
    scratch->p = p;
    scratch->cap = cap;
    return 0;
}

kmp_status kmp__reader_open(kmp__reader *r, int fd, uint64_t start, uint64_t own_end, uint64_t end, uint64_t keep,
                            size_t block_size, const volatile unsigned char *cancel, kmp__buffer *scratch)
{
    memset(r, 0, sizeof *r);
    const uint64_t span = end - start;
    if (keep > span)
        keep = span;
    uint64_t round = block_size > keep ? block_size : keep;
    uint64_t cap64 = keep + round;
    const uint64_t most = cap64 < keep ? UINT64_MAX : cap64; /* (cap64 < keep: the sum wrapped) */
    if (cap64 < keep || cap64 > span)
        cap64 = span;
    if (cap64 > SIZE_MAX)
        return KMP_ERR_NOMEM;
    r->cap = (size_t)cap64;
    if (scratch != NULL) {
        if (scratch_reserve(scratch, r->cap ? r->cap : 1, most) != 0)
            return KMP_ERR_NOMEM;
        r->buf = scratch->p;
        r->scratch = scratch;
    } else if ((r->buf = malloc(r->cap ? r->cap : 1)) == NULL) {
        return KMP_ERR_NOMEM;
    }
    r->base = start;
    r->status = KMP_OK;
    r->fd = fd;
    r->end = end;
    r->own_end = own_end;
    r->keep = keep;
    r->block_size = block_size;
    r->cancel = cancel;
    return KMP_OK;
}

int kmp__reader_next(kmp__reader *r, int *os_errno)
{
    if (r->started) { /* the last piece's starts are done */
        r->base += r->own;
        if (r->at_end || r->base >= r->own_end)
            return 0;
        memmove(r->buf, r->buf + r->own, r->len - r->own);
        r->len -= r->own;
    }
    r->started = 1;
    for (;;) {
        /* here len < cap: every piece consumes at least one byte */
        int at_end = r->base + r->len == r->end;
        if (kmp__cancelled(r->cancel)) {
            r->status = KMP_ERR_CANCELLED;
            return 0;
        }
        if (!at_end) {
            size_t want = r->cap - r->len < r->block_size ? r->cap - r->len : r->block_size;
            if ((uint64_t)want > r->end - (r->base + r->len))
                want = (size_t)(r->end - (r->base + r->len));
            ssize_t got = pread(r->fd, r->buf + r->len, want, (off_t)(r->base + r->len));
            if (got < 0) {
                if (errno == EINTR)
                    continue;
                r->status = KMP_ERR_IO;
                *os_errno = errno;
                return 0;
            }
            if (got == 0) { /* the end of the file before the window's end: it shrank */
                r->status = KMP_ERR_TRUNCATED;
                at_end = 1;
            }
            r->len += (size_t)got;
            at_end |= r->base + r->len == r->end;
            if (!at_end && r->len < r->cap)
                continue; /* fill the buffer first */
        }
        r->at_end = at_end;
        const uint64_t owned = r->own_end - r->base;
        if (at_end)
            r->own = owned < (uint64_t)r->len ? (size_t)owned : r->len;
        else /* len == cap > keep */
            r->own = owned < (uint64_t)(r->len - r->keep) ? (size_t)owned : r->len - (size_t)r->keep;
        return 1;
    }
}

void kmp__reader_close(kmp__reader *r)
{
    if (r->scratch == NULL)
        free(r->buf);
    r->buf = NULL;
}

int kmp__open_read(const char *path)
{
    int fd;
    do {
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    } while (fd < 0 && errno == EINTR);
    return fd;
}
