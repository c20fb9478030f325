/*
 * wordbench: time libkmpsearch's word-set count (and build) on a corpus, in C alone, for
 * quick iteration on the library (`make bench SCENARIO=words` makes the reported table, with
 * the other backends and the peers; its word lists are bench/corpus/words-*.txt).
 *
 *   wordbench CORPUS WORDS.txt [threads] [scan: fast|textbook] [runs] [flags]
 *
 * WORDS.txt: one word per line (as `kmpsearch -f` reads it; no empty words).
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kmp.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s CORPUS WORDS.txt [threads] [fast|textbook] [runs] [flags]\n", argv[0]);
        return 2;
    }
    unsigned threads = argc > 3 ? (unsigned)atoi(argv[3]) : 1;
    int scan = argc > 4 && strcmp(argv[4], "textbook") == 0 ? KMP_SCAN_TEXTBOOK : KMP_SCAN_FAST;
    int runs = argc > 5 ? atoi(argv[5]) : 3;
    unsigned flags = argc > 6 ? (unsigned)atoi(argv[6]) : 0;
    int fd = open(argv[1], O_RDONLY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        perror(argv[1]);
        return 1;
    }
    const unsigned char *text = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (text == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    FILE *f = fopen(argv[2], "rb");
    if (f == NULL) {
        perror(argv[2]);
        return 1;
    }
    size_t cap = 1024, n = 0;
    void **words = malloc(cap * sizeof *words);
    size_t *lens = malloc(cap * sizeof *lens);
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t got;
    if (words == NULL || lens == NULL)
        return 1;
    while ((got = getline(&line, &line_cap, f)) != -1) {
        size_t len = (size_t)got;
        if (len && line[len - 1] == '\n')
            len--;
        if (len == 0)
            continue;
        if (n == cap) {
            cap *= 2;
            words = realloc(words, cap * sizeof *words);
            lens = realloc(lens, cap * sizeof *lens);
            if (words == NULL || lens == NULL)
                return 1;
        }
        if ((words[n] = malloc(len)) == NULL)
            return 1;
        memcpy(words[n], line, len);
        lens[n++] = len;
    }
    free(line);
    fclose(f);
    double t0 = now();
    kmp_wordset *ws;
    kmp_status st = kmp_wordset_new((const void *const *)words, lens, n, flags, &ws);
    double built = now() - t0;
    if (st != KMP_OK) {
        fprintf(stderr, "kmp_wordset_new: %s\n", kmp_strerror(st));
        return 1;
    }
    kmp_options opt = KMP_OPTIONS_INIT;
    opt.threads = threads;
    opt.scan = scan;
    double times[64], cpus[64];
    uint64_t count = 0;
    runs = runs < 1 ? 1 : runs > 64 ? 64 : runs;
    for (int r = 0; r < runs; r++) {
        t0 = now();
        double c0 = cpu();
        st = kmp_wordset_count(ws, text, (size_t)sb.st_size, &opt, &count);
        times[r] = now() - t0;
        cpus[r] = cpu() - c0;
    }
    qsort(times, (size_t)runs, sizeof times[0], cmp_double);
    qsort(cpus, (size_t)runs, sizeof cpus[0], cmp_double);
    printf("N=%zu threads=%u scan=%s: count %llu, median %.3f s (min %.3f, cpu %.3f s) for %.2f GiB; build %.3f s, %zu bytes (%.0f B/word)\n",
           n, threads, scan ? "textbook" : "fast", (unsigned long long)count, times[runs / 2], times[0], cpus[runs / 2],
           (double)sb.st_size / (1 << 30), built, kmp_wordset_memory(ws), (double)kmp_wordset_memory(ws) / (double)n);
    kmp_wordset_free(ws);
    return st == KMP_OK ? 0 : 1;
}
