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

/* rows rows of src (width in_w) → dst (width out_w). */
static void pil_horizontal(const pil_axis *ax, const uint8_t *src, uint8_t *dst, uint32_t rows)
{
    size_t in_stride = (size_t)ax->in * 3, out_stride = (size_t)ax->out * 3;
    for (uint32_t y = 0; y < rows; y++) {
        const uint8_t *row = src + y * in_stride;
        uint8_t *out = dst + y * out_stride;
        for (uint32_t x = 0; x < ax->out; x++) {
            const uint8_t *p = row + (size_t)ax->bounds[2 * x] * 3;
            const int32_t *k = ax->k + (size_t)x * ax->ksize;
            int32_t n = ax->bounds[2 * x + 1];
            int32_t r = PIL_ROUND_BIAS, g = PIL_ROUND_BIAS, b = PIL_ROUND_BIAS;
            for (int32_t j = 0; j < n; j++) {
                r += p[3 * j] * k[j];
                g += p[3 * j + 1] * k[j];
                b += p[3 * j + 2] * k[j];
            }
            out[3 * x] = pil_clip8(r);
            out[3 * x + 1] = pil_clip8(g);
            out[3 * x + 2] = pil_clip8(b);
        }
    }
}

/* src rows of width w → ax->out rows; row by row so the inner loop runs
 * along contiguous bytes and vectorises. */
static void pil_vertical(const pil_axis *ax, const uint8_t *src, uint32_t w, int32_t *acc,
                         uint8_t *dst)
{
    size_t stride = (size_t)w * 3;
    for (uint32_t y = 0; y < ax->out; y++) {
        const int32_t *k = ax->k + (size_t)y * ax->ksize;
        const uint8_t *first = src + (size_t)ax->bounds[2 * y] * stride;
        int32_t n = ax->bounds[2 * y + 1];
        for (size_t x = 0; x < stride; x++)
            acc[x] = PIL_ROUND_BIAS;
        for (int32_t j = 0; j < n; j++) {
            const uint8_t *row = first + j * stride;
            for (size_t x = 0; x < stride; x++)
                acc[x] += row[x] * k[j];
        }
        uint8_t *out = dst + y * stride;
        for (size_t x = 0; x < stride; x++)
            out[x] = pil_clip8(acc[x]);
    }
}

static void pil_nearest(const pil_plan *p, const uint8_t *in, uint8_t *out)
{
    for (uint32_t y = 0; y < p->out_h; y++) {
        const uint8_t *row = in + (size_t)p->ymap[y] * p->in_w * 3;
        for (uint32_t x = 0; x < p->out_w; x++)
            memcpy(out + ((size_t)y * p->out_w + x) * 3, row + (size_t)p->xmap[x] * 3, 3);
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
        pil_horizontal(&p->horiz, in, out, p->in_h);
    } else if (!need_h) {
        pil_vertical(&p->vert, in + (size_t)p->row0 * p->in_w * 3, p->in_w, p->acc, out);
    } else {
        pil_horizontal(&p->horiz, in + (size_t)p->row0 * p->in_w * 3, p->tmp, p->rows);
        pil_vertical(&p->vert, p->tmp, p->out_w, p->acc, out);
    }
}
