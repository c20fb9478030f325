# The few small pieces of the Cython core written in C (inside this module, not linked from
# c/): the SIMD pair search of the fast scan, a SIMD byte count, and inline helpers (loads,
# ASCII case folding, bit tricks) that compile to single instructions.
#
# x86-64 with GCC or Clang: SSE2 (baseline) and AVX2 versions built with target attributes;
# the level is chosen per compiled object from __builtin_cpu_supports (a read of what the
# compiler runtime detected at load time: no state of ours). Elsewhere: portable C.
#
# A search may force a level (the private ``simd`` argument: "scalar", "sse2", "avx2";
# check_simd in _runner.pxi), capped at what the CPU has (kc_simd_cap). Which kernel each
# level runs: the pair search (kc_pair) and the byte count (kc_count_byte) have all three;
# the word filters (kc_filter, kc_teddy) have AVX2 and portable C only, so "sse2" runs their
# portable C version (and the automatic Teddy choice needs AVX2, as with "auto"). What no
# level controls: libc's memchr (the scalar pair search, the one-byte offsets, a block's
# last bytes) picks its own SIMD inside glibc.

cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    #if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
    #  define KC_X86 1
    #  include <immintrin.h>
    #else
    #  define KC_X86 0
    #endif

    /* the best level this CPU runs: 0 scalar, 1 SSE2, 2 AVX2 (what simd="auto" uses) */
    static int kc_simd_level(void)
    {
    #if KC_X86
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx2"))
            return 2;
        return 1;
    #else
        return 0;
    #endif
    }

    /* the level a search forced to `want` (0 scalar, 1 SSE2, 2 AVX2) runs: `want` capped at
       what the CPU has, as the C library's kmp__simd_level does (AVX2 on a CPU without it
       runs SSE2, the x86-64 baseline; off x86-64 every level is the portable C one) */
    static int kc_simd_cap(int want)
    {
        int best = kc_simd_level();
        return want < best ? want : best;
    }

    static inline unsigned kc_ctz32(uint32_t x) { return (unsigned)__builtin_ctz(x); }
    static inline unsigned kc_ctz64(uint64_t x) { return (unsigned)__builtin_ctzll(x); }

    /* little-endian loads (one mov on x86-64) */
    static inline uint32_t kc_load32(const uint8_t *p)
    {
        uint32_t x;
        memcpy(&x, p, 4);
    #if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        x = __builtin_bswap32(x);
    #endif
        return x;
    }
    static inline uint64_t kc_load64(const uint8_t *p)
    {
        uint64_t x;
        memcpy(&x, p, 8);
    #if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        x = __builtin_bswap64(x);
    #endif
        return x;
    }
    /* the first len (< 8) bytes at p, little-endian, zero-padded: never reads past p + len */
    static inline uint64_t kc_load_short(const uint8_t *p, size_t len)
    {
        uint64_t x = 0;
        for (size_t i = 0; i < len; i++)
            x |= (uint64_t)p[i] << (8 * i);
        return x;
    }
    /* ASCII case folding of every byte of a word: A-Z -> a-z, nothing else changes */
    static inline uint64_t kc_fold64(uint64_t x)
    {
        const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
        uint64_t low7 = x & ~high;
        uint64_t ge_a = low7 + ones * (0x80 - 'A');        /* bit 7: low7 >= 'A' */
        uint64_t gt_z = low7 + ones * (0x80 - 'Z' - 1);    /* bit 7: low7 > 'Z' */
        uint64_t upper = ge_a & ~gt_z & ~x & high;          /* and the byte itself < 0x80 */
        return x | (upper >> 2);
    }
    static inline uint32_t kc_fold32(uint32_t x) { return (uint32_t)kc_fold64(x); }

    /* --- the pair search: first j in [i, lim) with s[j] == a and s[j + d] == b, else lim.
       The caller guarantees lim + d <= the bytes available (every s[j + d] is readable). */
    static size_t kc_pair_scalar(const uint8_t *s, size_t i, size_t lim, size_t d, uint8_t a, uint8_t b)
    {
        while (i < lim) {
            const uint8_t *hit = (const uint8_t *)memchr(s + i, a, lim - i);
            if (hit == NULL)
                return lim;
            size_t j = (size_t)(hit - s);
            if (s[j + d] == b)
                return j;
            i = j + 1;
        }
        return lim;
    }

    #if KC_X86
    __attribute__((target("sse2")))
    static size_t kc_pair_sse2(const uint8_t *s, size_t i, size_t lim, size_t d, uint8_t a, uint8_t b)
    {
        const __m128i va = _mm_set1_epi8((char)a), vb = _mm_set1_epi8((char)b);
        while (lim - i >= 32) {
            __m128i m0 = _mm_and_si128(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(s + i)), va),
                                       _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(s + i + d)), vb));
            __m128i m1 = _mm_and_si128(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(s + i + 16)), va),
                                       _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(s + i + 16 + d)), vb));
            uint32_t k = (uint32_t)_mm_movemask_epi8(m0) | ((uint32_t)_mm_movemask_epi8(m1) << 16);
            if (k)
                return i + kc_ctz32(k);
            i += 32;
        }
        if (lim - i >= 16) {
            uint32_t k = (uint32_t)_mm_movemask_epi8(
                _mm_and_si128(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(s + i)), va),
                              _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(s + i + d)), vb)));
            if (k)
                return i + kc_ctz32(k);
            i += 16;
        }
        for (; i < lim; i++)
            if (s[i] == a && s[i + d] == b)
                return i;
        return lim;
    }

    __attribute__((target("avx2")))
    static size_t kc_pair_avx2(const uint8_t *s, size_t i, size_t lim, size_t d, uint8_t a, uint8_t b)
    {
        const __m256i va = _mm256_set1_epi8((char)a), vb = _mm256_set1_epi8((char)b);
        while (lim - i >= 64) {
            __m256i m0 = _mm256_and_si256(
                _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(s + i)), va),
                _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(s + i + d)), vb));
            __m256i m1 = _mm256_and_si256(
                _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(s + i + 32)), va),
                _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(s + i + 32 + d)), vb));
            __m256i any = _mm256_or_si256(m0, m1);
            if (!_mm256_testz_si256(any, any)) {
                uint64_t k = (uint64_t)(uint32_t)_mm256_movemask_epi8(m0)
                           | ((uint64_t)(uint32_t)_mm256_movemask_epi8(m1) << 32);
                return i + kc_ctz64(k);
            }
            i += 64;
        }
        if (lim - i >= 32) {
            uint32_t k = (uint32_t)_mm256_movemask_epi8(_mm256_and_si256(
                _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(s + i)), va),
                _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(s + i + d)), vb)));
            if (k)
                return i + kc_ctz32(k);
            i += 32;
        }
        return kc_pair_sse2(s, i, lim, d, a, b);
    }
    #endif

    static size_t kc_pair(int level, const uint8_t *s, size_t i, size_t lim, size_t d, uint8_t a, uint8_t b)
    {
    #if KC_X86
        if (level >= 2)
            return kc_pair_avx2(s, i, lim, d, a, b);
        if (level == 1)
            return kc_pair_sse2(s, i, lim, d, a, b);
    #endif
        return kc_pair_scalar(s, i, lim, d, a, b);
    }

    /* --- occurrences of byte a in s[0, n) */
    static uint64_t kc_count_byte_scalar(const uint8_t *s, size_t n, uint8_t a)
    {
        uint64_t c = 0;
        for (size_t i = 0; i < n; i++)
            c += s[i] == a;
        return c;
    }

    #if KC_X86
    __attribute__((target("sse2")))
    static uint64_t kc_count_byte_sse2(const uint8_t *s, size_t n, uint8_t a)
    {
        const __m128i va = _mm_set1_epi8((char)a), zero = _mm_setzero_si128();
        __m128i total = zero;
        size_t i = 0;
        while (n - i >= 16) {
            size_t rounds = (n - i) / 16;
            if (rounds > 255)
                rounds = 255;       /* per-byte counters hold at most 255 */
            __m128i acc = zero;
            for (size_t r = 0; r < rounds; r++, i += 16)
                acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(s + i)), va));
            total = _mm_add_epi64(total, _mm_sad_epu8(acc, zero));
        }
        uint64_t lanes[2];
        _mm_storeu_si128((__m128i *)lanes, total);
        return lanes[0] + lanes[1] + kc_count_byte_scalar(s + i, n - i, a);
    }

    __attribute__((target("avx2")))
    static uint64_t kc_count_byte_avx2(const uint8_t *s, size_t n, uint8_t a)
    {
        const __m256i va = _mm256_set1_epi8((char)a), zero = _mm256_setzero_si256();
        __m256i total = zero;
        size_t i = 0;
        while (n - i >= 64) {
            size_t rounds = (n - i) / 64;
            if (rounds > 255)
                rounds = 255;
            __m256i acc0 = zero, acc1 = zero;
            for (size_t r = 0; r < rounds; r++, i += 64) {
                acc0 = _mm256_sub_epi8(acc0, _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(s + i)), va));
                acc1 = _mm256_sub_epi8(acc1, _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(s + i + 32)), va));
            }
            total = _mm256_add_epi64(total, _mm256_sad_epu8(acc0, zero));
            total = _mm256_add_epi64(total, _mm256_sad_epu8(acc1, zero));
        }
        uint64_t lanes[4];
        _mm256_storeu_si256((__m256i *)lanes, total);
        return lanes[0] + lanes[1] + lanes[2] + lanes[3] + kc_count_byte_sse2(s + i, n - i, a);
    }
    #endif

    static uint64_t kc_count_byte(int level, const uint8_t *s, size_t n, uint8_t a)
    {
    #if KC_X86
        if (level >= 2)
            return kc_count_byte_avx2(s, n, a);
        if (level == 1)
            return kc_count_byte_sse2(s, n, a);
    #endif
        return kc_count_byte_scalar(s, n, a);
    }

    /* --- the word filter, a blocked Bloom filter: the 32-bit word (bm) that h1 = x * mult1
       picks (its top bits) must have the two bits h2 = x * mult2 picks (its top 5 bits and
       the next 5; the same bit twice for a one-bit filter: b2shift == 27), where x is the
       start's 4-byte little-endian load & fmask. kc_filter returns the first start j in
       [i, end) that passes, else end; 4 bytes are readable at every start below end. */
    #define KC_MULT1 0x9E3779B1u
    #define KC_MULT2 0x85EBCA77u

    static inline uint32_t kc_filter_pass(const uint32_t *bm, uint32_t x, uint32_t wshift, uint32_t b2shift)
    {
        uint32_t h2 = x * KC_MULT2;
        uint32_t word = bm[(x * KC_MULT1) >> wshift];
        return (word >> (h2 >> 27)) & (word >> ((h2 >> b2shift) & 31)) & 1;
    }

    static inline void kc_filter_set(uint32_t *bm, uint32_t x, uint32_t wshift, uint32_t b2shift)
    {
        uint32_t h2 = x * KC_MULT2;
        uint32_t *word = &bm[(x * KC_MULT1) >> wshift];
        *word |= (1u << (h2 >> 27)) | (1u << ((h2 >> b2shift) & 31));
    }

    static inline void kc_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

    static size_t kc_filter_scalar(const uint8_t *s, size_t i, size_t end, const uint32_t *bm,
                                   uint32_t fmask, uint32_t wshift, uint32_t b2shift)
    {
        for (; i + 4 <= end; i += 4) {
            uint32_t hits = kc_filter_pass(bm, kc_load32(s + i) & fmask, wshift, b2shift)
                          | kc_filter_pass(bm, kc_load32(s + i + 1) & fmask, wshift, b2shift) << 1
                          | kc_filter_pass(bm, kc_load32(s + i + 2) & fmask, wshift, b2shift) << 2
                          | kc_filter_pass(bm, kc_load32(s + i + 3) & fmask, wshift, b2shift) << 3;
            if (hits)
                return i + kc_ctz32(hits);
        }
        for (; i < end; i++)
            if (kc_filter_pass(bm, kc_load32(s + i) & fmask, wshift, b2shift))
                return i;
        return end;
    }

    #if KC_X86
    __attribute__((target("avx2")))
    static inline uint32_t kc_filter8_avx2(const uint8_t *p, __m256i ctl, __m256i vmask, __m128i vwshift,
                                           __m128i vb2shift, const int *bm)
    {
        __m256i raw = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)p));
        __m256i x = _mm256_and_si256(_mm256_shuffle_epi8(raw, ctl), vmask);
        __m256i h1 = _mm256_mullo_epi32(x, _mm256_set1_epi32((int)KC_MULT1));
        __m256i h2 = _mm256_mullo_epi32(x, _mm256_set1_epi32((int)KC_MULT2));
        __m256i word = _mm256_i32gather_epi32(bm, _mm256_srl_epi32(h1, vwshift), 4);
        __m256i b1 = _mm256_srli_epi32(h2, 27);
        __m256i b2 = _mm256_and_si256(_mm256_srl_epi32(h2, vb2shift), _mm256_set1_epi32(31));
        __m256i both = _mm256_and_si256(_mm256_srlv_epi32(word, b1), _mm256_srlv_epi32(word, b2));
        return (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_slli_epi32(both, 31)));
    }

    __attribute__((target("avx2")))
    static size_t kc_filter_avx2(const uint8_t *s, size_t i, size_t end, size_t avail, const uint32_t *bm,
                                 uint32_t fmask, uint32_t wshift, uint32_t b2shift)
    {
        /* eight 4-byte windows from one 16-byte load: lane 0 starts 0-3, lane 1 starts 4-7 */
        const __m256i ctl = _mm256_setr_epi8(0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6,
                                             4, 5, 6, 7, 5, 6, 7, 8, 6, 7, 8, 9, 7, 8, 9, 10);
        const __m256i vmask = _mm256_set1_epi32((int)fmask);
        const __m128i vwshift = _mm_cvtsi32_si128((int)wshift), vb2shift = _mm_cvtsi32_si128((int)b2shift);
        const int *bm32 = (const int *)bm;
        /* a step of 16 starts reads s[i, i + 24) */
        while (i + 16 <= end && i + 24 <= avail) {
            uint32_t k = kc_filter8_avx2(s + i, ctl, vmask, vwshift, vb2shift, bm32)
                       | kc_filter8_avx2(s + i + 8, ctl, vmask, vwshift, vb2shift, bm32) << 8;
            if (k)
                return i + kc_ctz32(k);
            i += 16;
        }
        return kc_filter_scalar(s, i, end, bm, fmask, wshift, b2shift);
    }
    #endif

    /* --- Teddy (small word sets): the first start j in [i, end) where, for some bucket b,
       every byte s[j + t] (t < 3) has bit b in lo[t][byte & 15] & hi[t][byte >> 4]; masks
       holds lo[0], hi[0], lo[1], hi[1], lo[2], hi[2], 32 bytes each (one 16-byte table
       twice, for the two lanes of pshufb). 3 bytes are readable at every start below end. */
    static inline int kc_teddy_pass(const uint8_t *masks, const uint8_t *p)
    {
        uint8_t r = 0xff;
        for (int t = 0; t < 3; t++)
            r &= masks[64 * t + (p[t] & 15)] & masks[64 * t + 32 + (p[t] >> 4)];
        return r != 0;
    }

    static size_t kc_teddy_scalar(const uint8_t *s, size_t i, size_t end, const uint8_t *masks)
    {
        for (; i < end; i++)
            if (kc_teddy_pass(masks, s + i))
                return i;
        return end;
    }

    #if KC_X86
    __attribute__((target("avx2")))
    static size_t kc_teddy_avx2(const uint8_t *s, size_t i, size_t end, size_t avail, const uint8_t *masks)
    {
        const __m256i nib = _mm256_set1_epi8(0x0f), zero = _mm256_setzero_si256();
        const __m256i lo0 = _mm256_loadu_si256((const __m256i *)(masks + 0));
        const __m256i hi0 = _mm256_loadu_si256((const __m256i *)(masks + 32));
        const __m256i lo1 = _mm256_loadu_si256((const __m256i *)(masks + 64));
        const __m256i hi1 = _mm256_loadu_si256((const __m256i *)(masks + 96));
        const __m256i lo2 = _mm256_loadu_si256((const __m256i *)(masks + 128));
        const __m256i hi2 = _mm256_loadu_si256((const __m256i *)(masks + 160));
        /* a step reads s[i, i + 34) */
        while (i + 32 <= end && i + 34 <= avail) {
            __m256i x0 = _mm256_loadu_si256((const __m256i *)(s + i));
            __m256i x1 = _mm256_loadu_si256((const __m256i *)(s + i + 1));
            __m256i x2 = _mm256_loadu_si256((const __m256i *)(s + i + 2));
            __m256i r = _mm256_and_si256(
                _mm256_shuffle_epi8(lo0, _mm256_and_si256(x0, nib)),
                _mm256_shuffle_epi8(hi0, _mm256_and_si256(_mm256_srli_epi16(x0, 4), nib)));
            r = _mm256_and_si256(r, _mm256_and_si256(
                _mm256_shuffle_epi8(lo1, _mm256_and_si256(x1, nib)),
                _mm256_shuffle_epi8(hi1, _mm256_and_si256(_mm256_srli_epi16(x1, 4), nib))));
            r = _mm256_and_si256(r, _mm256_and_si256(
                _mm256_shuffle_epi8(lo2, _mm256_and_si256(x2, nib)),
                _mm256_shuffle_epi8(hi2, _mm256_and_si256(_mm256_srli_epi16(x2, 4), nib))));
            uint32_t k = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(r, zero));
            if (k)
                return i + kc_ctz32(k);
            i += 32;
        }
        return kc_teddy_scalar(s, i, end, masks);
    }
    #endif

    static size_t kc_teddy(int level, const uint8_t *s, size_t i, size_t end, size_t avail,
                           const uint8_t *masks)
    {
    #if KC_X86
        if (level >= 2)
            return kc_teddy_avx2(s, i, end, avail, masks);
    #endif
        (void)avail;
        return kc_teddy_scalar(s, i, end, masks);
    }

    static size_t kc_filter(int level, const uint8_t *s, size_t i, size_t end, size_t avail,
                            const uint32_t *bm, uint32_t fmask, uint32_t wshift, uint32_t b2shift)
    {
    #if KC_X86
        if (level >= 2)
            return kc_filter_avx2(s, i, end, avail, bm, fmask, wshift, b2shift);
    #endif
        (void)avail;
        return kc_filter_scalar(s, i, end, bm, fmask, wshift, b2shift);
    }
    """
    int kc_simd_level() nogil
    int kc_simd_cap(int want) nogil
    unsigned kc_ctz64(uint64_t x) nogil
    uint32_t kc_load32(const uint8_t *p) nogil
    uint64_t kc_load64(const uint8_t *p) nogil
    uint64_t kc_load_short(const uint8_t *p, size_t n) nogil
    uint32_t kc_fold32(uint32_t x) nogil
    uint64_t kc_fold64(uint64_t x) nogil
    size_t kc_pair(int level, const uint8_t *s, size_t i, size_t lim, size_t d,
                   uint8_t a, uint8_t b) nogil
    uint64_t kc_count_byte(int level, const uint8_t *s, size_t n, uint8_t a) nogil
    size_t kc_filter(int level, const uint8_t *s, size_t i, size_t end, size_t avail,
                     const uint32_t *bm, uint32_t fmask, uint32_t wshift, uint32_t b2shift) nogil
    uint32_t kc_filter_pass(const uint32_t *bm, uint32_t x, uint32_t wshift, uint32_t b2shift) nogil
    void kc_filter_set(uint32_t *bm, uint32_t x, uint32_t wshift, uint32_t b2shift) nogil
    void kc_prefetch(const void *p) nogil
    size_t kc_teddy(int level, const uint8_t *s, size_t i, size_t end, size_t avail,
                    const uint8_t *masks) nogil
