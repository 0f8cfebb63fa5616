/*
 * pillow_resize.c — the per-image passes of a Pillow-exact resize.
 *
 * Integer only: the weights are Q22 and every pass rounds to uint8 exactly
 * where Pillow does (after the horizontal pass, then after the vertical
 * one), so the result does not depend on the order of the additions and
 * the loops are free to be vectorised.
 */
#include "pillow.h"

#include <string.h>

#include "cpu.h"

/* Half of 2^22: Pillow rounds the Q22 sum to nearest by adding it first.
 * Overridable only so that a test can build a resampler with a deliberate
 * rounding bug and show the Pillow comparison catches it. */
#ifndef PIL_ROUND_BIAS
#define PIL_ROUND_BIAS (1 << 21)
#endif

static inline uint8_t pil_clip8(int32_t v)
{
    v >>= 22; /* arithmetic shift, as in Pillow */
    return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v;
}

#if defined(__SSE4_1__)
#include <smmintrin.h>

/* The 4 bytes at p (a pixel and the next one's first byte) as 4 int32. */
static inline __m128i pil_load_px(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return _mm_cvtepu8_epi32(_mm_cvtsi32_si128(v));
}

/* One row of the horizontal pass, a pixel's 3 channels (and a 4th lane
 * that is thrown away) in one vector.  row must have 1 readable byte after
 * its last pixel.  Inlined with a constant `taps` so the tap loop unrolls. */
static inline __attribute__((always_inline)) void
pil_horizontal_row(const pil_axis *ax, const uint8_t *row, uint8_t *out, int32_t taps)
{
    const int32_t *bounds = ax->bounds, *kk = ax->k;
    uint32_t ksize = ax->ksize;
    const __m128i bias = _mm_set1_epi32(PIL_ROUND_BIAS);
    for (uint32_t x = 0; x < ax->out; x++) {
        const uint8_t *p = row + (size_t)bounds[2 * x] * 3;
        const int32_t *k = kk + (size_t)x * ksize;
        __m128i acc = bias;
        for (int32_t j = 0; j < taps; j++)
            acc = _mm_add_epi32(acc, _mm_mullo_epi32(pil_load_px(p + 3 * j), _mm_set1_epi32(k[j])));
        /* >> 22 (arithmetic), then int32 -> int16 -> uint8 with saturation:
         * together exactly clamp(v, 0, 255). */
        __m128i v = _mm_srai_epi32(acc, 22);
        v = _mm_packus_epi16(_mm_packs_epi32(v, v), v);
        int32_t px = _mm_cvtsi128_si32(v);
        if (x + 1 < ax->out)
            memcpy(out + 3 * x, &px, 4); /* the 4th byte is the next pixel's, rewritten next */
        else
            memcpy(out + 3 * x, &px, 3);
    }
}
#else
/* One row of the horizontal pass, portable.  Inlined with a constant `taps`
 * so the tap loop unrolls into straight-line code. */
static inline __attribute__((always_inline)) void
pil_horizontal_row(const pil_axis *ax, const uint8_t *row, uint8_t *out, int32_t taps)
{
    const int32_t *bounds = ax->bounds, *kk = ax->k;
    uint32_t ksize = ax->ksize;
    for (uint32_t x = 0; x < ax->out; x++) {
        const uint8_t *p = row + (size_t)bounds[2 * x] * 3;
        const int32_t *k = kk + (size_t)x * ksize;
        int32_t r = PIL_ROUND_BIAS, g = PIL_ROUND_BIAS, b = PIL_ROUND_BIAS;
        for (int32_t j = 0; j < taps; j++) {
            r += p[3 * j] * k[j];
            g += p[3 * j + 1] * k[j];
            b += p[3 * j + 2] * k[j];
        }
        out[3 * x] = pil_clip8(r);
        out[3 * x + 1] = pil_clip8(g);
        out[3 * x + 2] = pil_clip8(b);
    }
}
#endif

/* rows rows of src (width ax->in) → dst (width ax->out).  The last row is
 * read from a copy in pad, which has slack after it (pil_load_px reads one
 * byte past a pixel). */
static inline __attribute__((always_inline)) void pil_horizontal_rows(const pil_axis *ax,
                                                                      const uint8_t *src,
                                                                      uint8_t *dst, uint32_t rows,
                                                                      uint8_t *pad, int32_t taps)
{
    size_t in_stride = (size_t)ax->in * 3, out_stride = (size_t)ax->out * 3;
    for (uint32_t y = 0; y < rows; y++) {
        const uint8_t *row = src + y * in_stride;
        if (y + 1 == rows) {
            memcpy(pad, row, in_stride);
            row = pad;
        }
        pil_horizontal_row(ax, row, dst + y * out_stride, taps);
    }
}

#define PIL_HORIZONTAL_FIXED(n)                                                                    \
    CPU_CLONES static void pil_horizontal_##n(const pil_axis *ax, const uint8_t *src,              \
                                              uint8_t *dst, uint32_t rows, uint8_t *pad)           \
    {                                                                                              \
        pil_horizontal_rows(ax, src, dst, rows, pad, n);                                           \
    }
PIL_HORIZONTAL_FIXED(1)
PIL_HORIZONTAL_FIXED(2)
PIL_HORIZONTAL_FIXED(3)
PIL_HORIZONTAL_FIXED(4)
PIL_HORIZONTAL_FIXED(5)
PIL_HORIZONTAL_FIXED(6)
PIL_HORIZONTAL_FIXED(7)

/* rows rows of src (width ax->in) → dst (width ax->out).  Every output
 * column has the same number of taps (pil_axis_pad): upsampling and mild
 * shrinking take a specialised loop, strong shrinking the general one. */
CPU_CLONES static void pil_horizontal(const pil_axis *ax, const uint8_t *src, uint8_t *dst,
                                      uint32_t rows, uint8_t *pad)
{
    int32_t taps = ax->bounds[1];
    switch (taps) {
    case 1:
        pil_horizontal_1(ax, src, dst, rows, pad);
        return;
    case 2:
        pil_horizontal_2(ax, src, dst, rows, pad);
        return;
    case 3:
        pil_horizontal_3(ax, src, dst, rows, pad);
        return;
    case 4:
        pil_horizontal_4(ax, src, dst, rows, pad);
        return;
    case 5:
        pil_horizontal_5(ax, src, dst, rows, pad);
        return;
    case 6:
        pil_horizontal_6(ax, src, dst, rows, pad);
        return;
    case 7:
        pil_horizontal_7(ax, src, dst, rows, pad);
        return;
    default:
        pil_horizontal_rows(ax, src, dst, rows, pad, taps);
        return;
    }
}

#if defined(__AVX2__)
#include <immintrin.h>

/* 32 bytes of one output row: every tap's 32 input bytes widened to int32,
 * multiplied and summed in four vector registers, then rounded, clamped and
 * packed back to bytes in order. */
static inline void pil_vertical_32(const uint8_t *first, size_t stride, const int32_t *k, int32_t n,
                                   uint8_t *out)
{
    __m256i a0 = _mm256_set1_epi32(PIL_ROUND_BIAS), a1 = a0, a2 = a0, a3 = a0;
    for (int32_t j = 0; j < n; j++) {
        const uint8_t *row = first + j * stride;
        __m128i lo = _mm_loadu_si128((const __m128i *)row);
        __m128i hi = _mm_loadu_si128((const __m128i *)(row + 16));
        __m256i kj = _mm256_set1_epi32(k[j]);
        a0 = _mm256_add_epi32(a0, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(lo), kj));
        a1 = _mm256_add_epi32(a1,
                              _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8)), kj));
        a2 = _mm256_add_epi32(a2, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(hi), kj));
        a3 = _mm256_add_epi32(a3,
                              _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8)), kj));
    }
    /* >> 22, then saturating packs (= clamp to 0..255); the packs work per
     * 128-bit lane, and the permutation puts the 4-byte groups back in order. */
    __m256i p01 = _mm256_packs_epi32(_mm256_srai_epi32(a0, 22), _mm256_srai_epi32(a1, 22));
    __m256i p23 = _mm256_packs_epi32(_mm256_srai_epi32(a2, 22), _mm256_srai_epi32(a3, 22));
    __m256i bytes = _mm256_packus_epi16(p01, p23);
    bytes = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)out, bytes);
}
#endif

/* src rows of width w → ax->out rows, along contiguous bytes: 32 at a time
 * in vector registers where AVX2 is there, the rest one by one. */
CPU_CLONES static void pil_vertical(const pil_axis *ax, const uint8_t *src, uint32_t w,
                                    uint8_t *dst)
{
    size_t stride = (size_t)w * 3;
    for (uint32_t y = 0; y < ax->out; y++) {
        const int32_t *k = ax->k + (size_t)y * ax->ksize;
        const uint8_t *first = src + (size_t)ax->bounds[2 * y] * stride;
        int32_t n = ax->bounds[2 * y + 1];
        uint8_t *out = dst + y * stride;
        size_t x = 0;
#if defined(__AVX2__)
        for (; x + 32 <= stride; x += 32)
            pil_vertical_32(first + x, stride, k, n, out + x);
#endif
        for (; x < stride; x++) {
            int32_t acc = PIL_ROUND_BIAS;
            for (int32_t j = 0; j < n; j++)
                acc += first[j * stride + x] * k[j];
            out[x] = pil_clip8(acc);
        }
    }
}

/* Output rows that take the same input row (every row when enlarging by 2
 * or more) are copied from the one already written. */
static void pil_nearest(const pil_plan *p, const uint8_t *in, uint8_t *out)
{
    size_t out_stride = (size_t)p->out_w * 3;
    for (uint32_t y = 0; y < p->out_h; y++) {
        uint8_t *dst = out + y * out_stride;
        if (y > 0 && p->ymap[y] == p->ymap[y - 1]) {
            memcpy(dst, dst - out_stride, out_stride);
            continue;
        }
        const uint8_t *row = in + (size_t)p->ymap[y] * p->in_w * 3;
        for (uint32_t x = 0; x < p->out_w; x++)
            memcpy(dst + (size_t)x * 3, row + (size_t)p->xmap[x] * 3, 3);
    }
}

void pil_resize(pil_plan *p, const uint8_t *in, uint8_t *out)
{
    if (p->filter == PIL_NEAREST) {
        pil_nearest(p, in, out);
        return;
    }
    /* Pillow skips a pass whose size does not change (and copies when
     * neither does); skipping also skips that pass's rounding. */
    int need_h = p->in_w != p->out_w, need_v = p->in_h != p->out_h;
    if (!need_h && !need_v) {
        memcpy(out, in, (size_t)p->in_w * p->in_h * 3);
    } else if (!need_v) {
        pil_horizontal(&p->horiz, in, out, p->in_h, p->pad);
    } else if (!need_h) {
        pil_vertical(&p->vert, in + (size_t)p->row0 * p->in_w * 3, p->in_w, out);
    } else {
        pil_horizontal(&p->horiz, in + (size_t)p->row0 * p->in_w * 3, p->tmp, p->rows, p->pad);
        pil_vertical(&p->vert, p->tmp, p->out_w, out);
    }
}
