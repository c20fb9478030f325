/* What the C test programs share: CHECK, a seeded generator, temporary files. */
#ifndef KMP_TESTUTIL_H
#define KMP_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static long failures = 0;
static long checks = 0;

#define CHECK(cond, ...)                                                         \
    do {                                                                         \
        checks++;                                                                \
        if (!(cond)) {                                                           \
            failures++;                                                          \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                        \
            fputc('\n', stderr);                                                 \
            if (failures > 20) {                                                 \
                fprintf(stderr, "too many failures\n");                          \
                exit(1);                                                         \
            }                                                                    \
        }                                                                        \
    } while (0)

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

typedef struct rng { uint64_t s; } rng;
static inline uint64_t next_u64(rng *r)  /* splitmix64 */
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static inline size_t below(rng *r, size_t n) { return n ? (size_t)(next_u64(r) % n) : 0; }

static char tmpdir[4096];

static void init_tmpdir(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s", t && *t ? t : "/tmp");
}

/* a new file holding data[0..n) (its path in path), open read-write */
static int temp_file(const uint8_t *data, size_t n, char *path, size_t cap)
{
    snprintf(path, cap, "%s/kmp-test-XXXXXX", tmpdir);
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("mkstemp");
        exit(1);
    }
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, data + done, n - done);
        if (w <= 0) {
            perror("write");
            exit(1);
        }
        done += (size_t)w;
    }
    return fd;
}

#endif /* KMP_TESTUTIL_H */
