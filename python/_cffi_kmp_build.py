"""cffi builder of ``kmpsearch._kmp_cffi`` (out-of-line API mode) over the C library in c/.

CMake runs this at build time to generate the module's C source (cffi's "gen_src" way:
``ffibuilder.emit_c_code``), then compiles it and links it to the static libkmpsearch::

    python python/_cffi_kmp_build.py <build-dir>/_kmp_cffi.c

The declarations below are a subset of c/include/kmp.h; in API mode the C compiler checks
them against the real header (a mismatch is a compile error or warning, not a crash). cffi
releases the GIL around every ``lib`` call.
"""

from __future__ import annotations

import sys

from cffi import FFI

CDEF = """
typedef enum kmp_status {
    KMP_OK = 0, KMP_ERR_INVALID = 1, KMP_ERR_NOMEM = 2, KMP_ERR_IO = 3, KMP_ERR_TRUNCATED = 4
} kmp_status;
typedef enum kmp_scan { KMP_SCAN_FAST = 0, KMP_SCAN_TEXTBOOK = 1 } kmp_scan;
typedef enum kmp_simd { KMP_SIMD_AUTO = 0, KMP_SIMD_SCALAR = 1, KMP_SIMD_SSE2 = 2, KMP_SIMD_AVX2 = 3 } kmp_simd;

#define KMP_DEFAULT_MIN_CHUNK ...
#define KMP_DEFAULT_BLOCK_SIZE ...
#define KMP_MAX_THREADS ...

typedef struct kmp_options {
    unsigned threads;
    uint64_t min_chunk;
    int scan;
    int simd;
    size_t block_size;
} kmp_options;

typedef struct kmp_matches {
    int64_t *offsets;
    size_t len;
    size_t cap;
} kmp_matches;

typedef struct kmp_searcher kmp_searcher;

void kmp_matches_free(kmp_matches *m);
kmp_status kmp_searcher_new(const void *pattern, size_t len, kmp_searcher **out);
void kmp_searcher_free(kmp_searcher *s);
size_t kmp_searcher_len(const kmp_searcher *s);

kmp_status kmp_count(const kmp_searcher *s, const void *haystack, size_t n,
                     const kmp_options *opt, uint64_t *count);
kmp_status kmp_find_all(const kmp_searcher *s, const void *haystack, size_t n,
                        const kmp_options *opt, kmp_matches *out);
kmp_status kmp_count_fd(const kmp_searcher *s, int fd, const kmp_options *opt,
                        uint64_t *count, int *os_errno);
kmp_status kmp_find_all_fd(const kmp_searcher *s, int fd, const kmp_options *opt,
                           kmp_matches *out, int *os_errno);
kmp_status kmp_count_path(const kmp_searcher *s, const char *path, const kmp_options *opt,
                          uint64_t *count, int *os_errno);
kmp_status kmp_find_all_path(const kmp_searcher *s, const char *path, const kmp_options *opt,
                             kmp_matches *out, int *os_errno);

const char *kmp_strerror(kmp_status status);
const char *kmp_version(void);
const char *kmp_simd_name(int level);
"""

ffibuilder = FFI()
ffibuilder.cdef(CDEF)
# the include path and the library come from CMake (target_link_libraries kmpsearch_static)
ffibuilder.set_source("kmpsearch._kmp_cffi", '#include "kmp.h"\n')


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} OUTPUT.c", file=sys.stderr)
        return 2
    ffibuilder.emit_c_code(argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
