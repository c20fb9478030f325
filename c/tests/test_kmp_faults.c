/*
 * Fault injection for libkmpsearch's file search, run by ctest where the linker can wrap
 * symbols (GNU ld, lld): the library's pread is replaced (-Wl,--wrap=pread64,--wrap=pread)
 * by one that fails with EIO at offsets at or past a threshold.
 *
 * What it checks: when one chunk finds the end of the file early (KMP_ERR_TRUNCATED) and a
 * later chunk's read fails (KMP_ERR_IO), the search reports the I/O error and its errno,
 * not "truncated" (which the Python binding treats as "here is what was found").
 */
#define _POSIX_C_SOURCE 200809L
#define _FILE_OFFSET_BITS 64

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "kmp.h"

static off_t fail_from = -1; /* reads at offsets >= this fail with EIO; -1: none */

ssize_t __real_pread64(int fd, void *buf, size_t n, off_t off);
ssize_t __wrap_pread64(int fd, void *buf, size_t n, off_t off);
ssize_t __real_pread(int fd, void *buf, size_t n, off_t off);
ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off);

ssize_t __wrap_pread64(int fd, void *buf, size_t n, off_t off)
{
    if (fail_from >= 0 && off >= fail_from) {
        errno = EIO;
        return -1;
    }
    return __real_pread64(fd, buf, n, off);
}

ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off)
{
    if (fail_from >= 0 && off >= fail_from) {
        errno = EIO;
        return -1;
    }
    return __real_pread(fd, buf, n, off);
}

static int failures = 0;
#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            failures++;                                                                    \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond);       \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fputc('\n', stderr);                                                           \
        }                                                                                  \
    } while (0)

int main(void)
{
    char path[] = "/tmp/kmp-faults-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("mkstemp");
        return 2;
    }
    unlink(path);
    if (write(fd, "abcabcabcabc", 12) != 12) {
        perror("write");
        return 2;
    }
    kmp_searcher *s = NULL;
    if (kmp_searcher_new("abc", 3, &s) != KMP_OK) {
        fprintf(stderr, "kmp_searcher_new failed\n");
        return 2;
    }
    kmp_options opt = KMP_OPTIONS_INIT;
    opt.threads = 2;
    opt.min_chunk = 1;
    uint64_t count = 0;
    int err = 0;

    /* without faults: a range past the end of the 12-byte file is TRUNCATED, 4 matches */
    kmp_status st = kmp_count_fd_range(s, fd, 0, 2000, &opt, &count, &err);
    CHECK(st == KMP_ERR_TRUNCATED && count == 4 && err == 0, "no faults: %s, %llu, errno %d",
          kmp_strerror(st), (unsigned long long)count, err);

    /* chunk 0 (from offset 0) hits the end of the file at 12; chunk 1 (from offset ~999)
     * gets EIO */
    fail_from = 900;
    st = kmp_count_fd_range(s, fd, 0, 2000, &opt, &count, &err);
    CHECK(st == KMP_ERR_IO && err == EIO, "truncated + EIO: %s, errno %d", kmp_strerror(st), err);
    kmp_matches m = {0};
    st = kmp_find_all_fd_range(s, fd, 0, 2000, &opt, &m, &err);
    CHECK(st == KMP_ERR_IO && err == EIO, "find_all, truncated + EIO: %s, errno %d", kmp_strerror(st), err);
    kmp_matches_free(&m);

    /* one chunk, EIO only */
    opt.threads = 1;
    st = kmp_count_fd_range(s, fd, 1000, 2000, &opt, &count, &err);
    CHECK(st == KMP_ERR_IO && err == EIO, "EIO only: %s, errno %d", kmp_strerror(st), err);

    kmp_searcher_free(s);
    close(fd);
    if (failures == 0)
        printf("faults: all checks passed\n");
    return failures == 0 ? 0 : 1;
}
