/*
 * The skip kernels of the single-pattern fast scan: find the next place the pattern's pair
 * of bytes occurs (find_pair: its first byte and the one d bytes further, see searcher.c),
 * count or collect one byte (one-byte patterns),
 * and skip a run of one byte (skip_run: a state that loops on that byte, see searcher.c).
 *
 * x86-64 (GCC or Clang): SSE2 (baseline) and AVX2 versions built with target attributes,
 * chosen at each call with __builtin_cpu_supports (a read of what libgcc/compiler-rt
 * detected at load time: no state of ours). Elsewhere: portable C over memchr.
 */
#include <string.h>

#include "simd.h"

#if KMP_X86_SIMD
#  include <immintrin.h>
#endif

/* --- portable ------------------------------------------------------------------------ */

/*
 * pair_scan(p, i, lim, d, a, b), i < lim: the first j in [i, lim) with p[j] == a and
 * p[j + d] == b, else lim (the caller has the bytes up to lim - 1 + d). find_pair (simd.h)
 * is one scan with the pattern's pair over the positions whose byte at offset d is in the
 * block, then one with (a at 0, c at 1) over the rest but the last, then the last byte.
 */
typedef size_t (*pair_scan_fn)(const uint8_t *p, size_t i, size_t lim, size_t d, uint8_t a, uint8_t b);

KMP_INLINE size_t find_pair_with(pair_scan_fn scan, const uint8_t *p, size_t i, size_t len, kmp_pair pr)
{
    const size_t lim = len > pr.d ? len - pr.d : 0;
    if (i < lim) {
        size_t j = scan(p, i, lim, pr.d, pr.a, pr.b);
        if (j < lim)
            return j;
        i = lim;
    }
    if (pr.d > 1 && i < len - 1) {
        size_t j = scan(p, i, len - 1, 1, pr.a, pr.c);
        if (j < len - 1)
            return j;
    }
    /* here every position before len - 1 was ruled out */
    return p[len - 1] == pr.a ? len - 1 : len;
}

static size_t pair_scan_scalar(const uint8_t *p, size_t i, size_t lim, size_t d, uint8_t a, uint8_t b)
{
    while (i < lim) {
        const uint8_t *hit = memchr(p + i, a, lim - i);
        if (hit == NULL)
            return lim;
        size_t j = (size_t)(hit - p);
        if (p[j + d] == b)
            return j;
        i = j + 1;
    }
    return lim;
}

static size_t find_pair_scalar(const uint8_t *p, size_t i, size_t len, kmp_pair pr)
{
    return find_pair_with(pair_scan_scalar, p, i, len, pr);
}

static uint64_t count_byte_scalar(const uint8_t *p, size_t len, uint8_t a)
{
    uint64_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += p[i] == a;
    return n;
}

static size_t skip_run_scalar(const uint8_t *p, size_t i, size_t len, uint8_t a)
{
    while (i < len && p[i] == a)
        i++;
    return i;
}

static int collect_byte_scalar(const uint8_t *p, size_t len, uint8_t a, int64_t base, kmp_matches *out)
{
    size_t i = 0;
    while (i < len) {
        const uint8_t *hit = memchr(p + i, a, len - i);
        if (hit == NULL)
            break;
        i = (size_t)(hit - p);
        if (out->len == out->cap && kmp__matches_reserve_more(out, 1) != 0)
            return -1;
        out->offsets[out->len++] = base + (int64_t)i;
        i++;
    }
    return 0;
}

#if KMP_X86_SIMD

static inline unsigned ctz32(uint32_t x) { return (unsigned)__builtin_ctz(x); }

/* --- SSE2 ----------------------------------------------------------------------------- */

__attribute__((target("sse2")))
static size_t pair_scan_sse2(const uint8_t *p, size_t i, size_t lim, size_t d, uint8_t a, uint8_t b)
{
    const __m128i va = _mm_set1_epi8((char)a), vb = _mm_set1_epi8((char)b);
    /* a vector at i compares p[i..i+16) with a and p[i+d..i+d+16) with b: needs i + 16 <= lim */
    while (lim - i >= 32) {
        __m128i m0 = _mm_and_si128(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + i)), va),
                                   _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + i + d)), vb));
        __m128i m1 = _mm_and_si128(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + i + 16)), va),
                                   _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + i + 16 + d)), vb));
        uint32_t k = (uint32_t)_mm_movemask_epi8(m0) | ((uint32_t)_mm_movemask_epi8(m1) << 16);
        if (k)
            return i + ctz32(k);
        i += 32;
    }
    if (lim - i >= 16) {
        __m128i m0 = _mm_and_si128(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + i)), va),
                                   _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + i + d)), vb));
        uint32_t k = (uint32_t)_mm_movemask_epi8(m0);
        if (k)
            return i + ctz32(k);
        i += 16;
    }
    for (; i < lim; i++)
        if (p[i] == a && p[i + d] == b)
            return i;
    return lim;
}

__attribute__((target("sse2")))
static size_t find_pair_sse2(const uint8_t *p, size_t i, size_t len, kmp_pair pr)
{
    return find_pair_with(pair_scan_sse2, p, i, len, pr);
}

__attribute__((target("sse2")))
static uint64_t count_byte_sse2(const uint8_t *p, size_t len, uint8_t a)
{
    const __m128i va = _mm_set1_epi8((char)a), zero = _mm_setzero_si128();
    __m128i total = zero; /* two 64-bit lanes */
    size_t i = 0;
    while (len - i >= 16) {
        /* per-byte counters: at most 255 rounds before they are folded into total */
        size_t rounds = (len - i) / 16;
        if (rounds > 255)
            rounds = 255;
        __m128i acc = zero;
        for (size_t r = 0; r < rounds; r++, i += 16)
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + i)), va));
        total = _mm_add_epi64(total, _mm_sad_epu8(acc, zero));
    }
    uint64_t lanes[2];
    _mm_storeu_si128((__m128i *)lanes, total);
    return lanes[0] + lanes[1] + count_byte_scalar(p + i, len - i, a);
}

__attribute__((target("sse2")))
static size_t skip_run_sse2(const uint8_t *p, size_t i, size_t len, uint8_t a)
{
    const __m128i va = _mm_set1_epi8((char)a);
    for (; len - i >= 16; i += 16) {
        uint32_t k = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + i)), va));
        if (k != 0xffff)
            return i + ctz32(~k);
    }
    return skip_run_scalar(p, i, len, a);
}

/* every set bit of mask: an offset base + i + bit (room for 32 was made by the caller) */
#define KMP_PUSH_BITS(out, mask, base, i)                                                  \
    do {                                                                                  \
        uint32_t bits_ = (mask);                                                          \
        while (bits_) {                                                                   \
            (out)->offsets[(out)->len++] = (base) + (int64_t)((i) + ctz32(bits_));        \
            bits_ &= bits_ - 1;                                                           \
        }                                                                                 \
    } while (0)

__attribute__((target("sse2")))
static int collect_byte_sse2(const uint8_t *p, size_t len, uint8_t a, int64_t base, kmp_matches *out)
{
    const __m128i va = _mm_set1_epi8((char)a);
    size_t i = 0;
    for (; len - i >= 16; i += 16) {
        uint32_t k = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + i)), va));
        if (k) {
            if (out->cap - out->len < 16 && kmp__matches_reserve_more(out, 16) != 0)
                return -1;
            KMP_PUSH_BITS(out, k, base, i);
        }
    }
    return collect_byte_scalar(p + i, len - i, a, base + (int64_t)i, out);
}

/* --- AVX2 ----------------------------------------------------------------------------- */

__attribute__((target("avx2")))
static size_t pair_scan_avx2(const uint8_t *p, size_t i, size_t lim, size_t d, uint8_t a, uint8_t b)
{
    const __m256i va = _mm256_set1_epi8((char)a), vb = _mm256_set1_epi8((char)b);
    while (lim - i >= 64) {
        __m256i m0 = _mm256_and_si256(
            _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(p + i)), va),
            _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(p + i + d)), vb));
        __m256i m1 = _mm256_and_si256(
            _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(p + i + 32)), va),
            _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(p + i + 32 + d)), vb));
        if (!_mm256_testz_si256(_mm256_or_si256(m0, m1), _mm256_or_si256(m0, m1))) {
            uint32_t k0 = (uint32_t)_mm256_movemask_epi8(m0);
            if (k0)
                return i + ctz32(k0);
            return i + 32 + ctz32((uint32_t)_mm256_movemask_epi8(m1));
        }
        i += 64;
    }
    if (lim - i >= 32) {
        __m256i m0 = _mm256_and_si256(
            _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(p + i)), va),
            _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(p + i + d)), vb));
        uint32_t k = (uint32_t)_mm256_movemask_epi8(m0);
        if (k)
            return i + ctz32(k);
        i += 32;
    }
    return i < lim ? pair_scan_sse2(p, i, lim, d, a, b) : lim; /* the last 0..31 positions */
}

__attribute__((target("avx2")))
static size_t find_pair_avx2(const uint8_t *p, size_t i, size_t len, kmp_pair pr)
{
    return find_pair_with(pair_scan_avx2, p, i, len, pr);
}

__attribute__((target("avx2")))
static uint64_t count_byte_avx2(const uint8_t *p, size_t len, uint8_t a)
{
    const __m256i va = _mm256_set1_epi8((char)a), zero = _mm256_setzero_si256();
    __m256i total = zero; /* four 64-bit lanes */
    size_t i = 0;
    while (len - i >= 32) {
        size_t rounds = (len - i) / 32;
        if (rounds > 255)
            rounds = 255;
        __m256i acc = zero;
        for (size_t r = 0; r < rounds; r++, i += 32)
            acc = _mm256_sub_epi8(acc, _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(p + i)), va));
        total = _mm256_add_epi64(total, _mm256_sad_epu8(acc, zero));
    }
    uint64_t lanes[4];
    _mm256_storeu_si256((__m256i *)lanes, total);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3] + count_byte_sse2(p + i, len - i, a);
}

__attribute__((target("avx2")))
static int collect_byte_avx2(const uint8_t *p, size_t len, uint8_t a, int64_t base, kmp_matches *out)
{
    const __m256i va = _mm256_set1_epi8((char)a);
    size_t i = 0;
    for (; len - i >= 64; i += 64) {
        __m256i e0 = _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(p + i)), va);
        __m256i e1 = _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(p + i + 32)), va);
        if (_mm256_testz_si256(_mm256_or_si256(e0, e1), _mm256_or_si256(e0, e1)))
            continue;
        if (out->cap - out->len < 64 && kmp__matches_reserve_more(out, 64) != 0)
            return -1;
        KMP_PUSH_BITS(out, (uint32_t)_mm256_movemask_epi8(e0), base, i);
        KMP_PUSH_BITS(out, (uint32_t)_mm256_movemask_epi8(e1), base, i + 32);
    }
    return collect_byte_sse2(p + i, len - i, a, base + (int64_t)i, out);
}

__attribute__((target("avx2")))
static size_t skip_run_avx2(const uint8_t *p, size_t i, size_t len, uint8_t a)
{
    const __m256i va = _mm256_set1_epi8((char)a);
    for (; len - i >= 64; i += 64) {
        __m256i e0 = _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(p + i)), va);
        __m256i e1 = _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(p + i + 32)), va);
        uint32_t k0 = (uint32_t)_mm256_movemask_epi8(e0), k1 = (uint32_t)_mm256_movemask_epi8(e1);
        if ((k0 & k1) != 0xffffffffu)
            return i + (k0 != 0xffffffffu ? ctz32(~k0) : 32 + ctz32(~k1));
    }
    return skip_run_sse2(p, i, len, a);
}

#endif /* KMP_X86_SIMD */

/* --- dispatch ------------------------------------------------------------------------- */

int kmp__simd_level(int level)
{
#if KMP_X86_SIMD
    if (level == KMP_SIMD_SCALAR)
        return KMP_SIMD_SCALAR;
    if ((level == KMP_SIMD_AUTO || level >= KMP_SIMD_AVX2) && __builtin_cpu_supports("avx2"))
        return KMP_SIMD_AVX2;
    return KMP_SIMD_SSE2; /* the x86-64 baseline */
#else
    (void)level;
    return KMP_SIMD_SCALAR;
#endif
}

kmp_kernels kmp__kernels(int level)
{
    kmp_kernels k = {find_pair_scalar, count_byte_scalar, collect_byte_scalar, skip_run_scalar, KMP_SIMD_SCALAR};
#if KMP_X86_SIMD
    switch (kmp__simd_level(level)) {
    case KMP_SIMD_AVX2:
        k = (kmp_kernels){find_pair_avx2, count_byte_avx2, collect_byte_avx2, skip_run_avx2, KMP_SIMD_AVX2};
        break;
    case KMP_SIMD_SSE2:
        k = (kmp_kernels){find_pair_sse2, count_byte_sse2, collect_byte_sse2, skip_run_sse2, KMP_SIMD_SSE2};
        break;
    default:
        break;
    }
#else
    (void)level;
#endif
    return k;
}
