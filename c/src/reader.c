/*
 * The file reader of the engine: one chunk's window read with pread into one bounded
 * buffer. Nothing is mapped, so a file that shrinks during a search ends the chunk with
 * KMP_ERR_TRUNCATED (and the matches in what was read), never a SIGBUS.
 */
#define _POSIX_C_SOURCE 200809L
#define _FILE_OFFSET_BITS 64

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "engine.h"

/*
 * The buffer holds the file's bytes [b0, b0 + have), read block_size bytes at a time.
 *
 * A stateless matcher (word sets) needs keep = longest - 1 bytes of lookahead past a start
 * to decide it. Once the buffer is full (keep + max(block_size, keep) bytes) the starts
 * whose lookahead is complete are scanned and the last `keep` bytes move to the front for
 * the next round. Every start of the window is so scanned exactly once, whatever the block
 * size; a round scans at least as many starts as it carries over, so no byte is read more
 * than twice even when the words are longer than the blocks.
 *
 * A matcher that carries its state (KMP) takes each block whole (keep = 0), in order.
 */
kmp_status kmp__read_window(const kmp__matcher *mt, int fd, const kmp__window *w, size_t block_size,
                            const volatile unsigned char *cancel, kmp__results *out, int *os_errno)
{
    const uint64_t span = w->end - w->start;
    uint64_t keep = mt->carries_state ? 0 : mt->longest - 1;
    if (keep > span)
        keep = span;
    uint64_t round = block_size > keep ? block_size : keep;
    uint64_t cap64 = keep + round;
    if (cap64 < keep || cap64 > span) /* (cap64 < keep: the sum wrapped) */
        cap64 = span;
    if (cap64 > SIZE_MAX)
        return KMP_ERR_NOMEM;
    const size_t cap = (size_t)cap64;
    uint8_t *buf = malloc(cap ? cap : 1);
    if (buf == NULL)
        return KMP_ERR_NOMEM;

    kmp_status st = KMP_OK;
    uint64_t state = 0;
    uint64_t b0 = w->start;
    size_t have = 0;
    for (;;) {
        /* here have < cap: every round consumes at least one byte */
        int at_end = b0 + have == w->end;
        if (kmp__cancelled(cancel)) {
            st = KMP_ERR_CANCELLED;
            break;
        }
        if (!at_end) {
            size_t want = cap - have < block_size ? cap - have : block_size;
            if ((uint64_t)want > w->end - (b0 + have))
                want = (size_t)(w->end - (b0 + have));
            ssize_t r = pread(fd, buf + have, want, (off_t)(b0 + have));
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                st = KMP_ERR_IO;
                *os_errno = errno;
                break;
            }
            if (r == 0) { /* the end of the file before the window's end: it shrank */
                st = KMP_ERR_TRUNCATED;
                at_end = 1;
            }
            have += (size_t)r;
            at_end |= b0 + have == w->end;
            if (!at_end && have < cap)
                continue; /* fill the buffer first */
        }
        size_t own;
        if (mt->carries_state)
            own = have;
        else if (at_end)
            own = w->own_end - b0 < (uint64_t)have ? (size_t)(w->own_end - b0) : have;
        else /* have == cap > keep */
            own = w->own_end - b0 < (uint64_t)(have - keep) ? (size_t)(w->own_end - b0) : have - (size_t)keep;
        mt->scan(mt->ctx, buf, have, own, (int64_t)b0, &state, out);
        if (out->nomem) {
            st = KMP_ERR_NOMEM;
            break;
        }
        b0 += own;
        if (at_end || (!mt->carries_state && b0 >= w->own_end))
            break; /* a stateless matcher is done once its last start is scanned */
        memmove(buf, buf + own, have - own);
        have -= own;
    }
    free(buf);
    return st;
}
