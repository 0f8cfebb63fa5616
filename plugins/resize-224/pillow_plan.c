/*
 * pillow_plan.c — what a Pillow-exact resize precomputes per input size.
 *
 * The weights follow Pillow 9.4's precompute_coeffs/normalize_coeffs_8bpc
 * operation for operation, in double precision and in the same order, so
 * the rounded Q22 weights are the same integers Pillow uses.  This file is
 * compiled with -ffp-contract=off (see CMakeLists.txt): a fused multiply-add
 * would change the last bit of a weight and, through rounding, a pixel.
 */
#include "pillow.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PIL_PRECISION_BITS 22 /* 32 - 8 - 2, as in Pillow's 8-bit path */

static double pil_bilinear(double x)
{
    if (x < 0.0)
        x = -x;
    if (x < 1.0)
        return 1.0 - x;
    return 0.0;
}

/* Keys' cubic with a = -0.5, written exactly as Pillow evaluates it. */
static double pil_bicubic(double x)
{
    const double a = -0.5;
    if (x < 0.0)
        x = -x;
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0)
        return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

static int32_t pil_fixed(double w)
{
    if (w < 0)
        return (int32_t)(-0.5 + w * (1 << PIL_PRECISION_BITS));
    return (int32_t)(0.5 + w * (1 << PIL_PRECISION_BITS));
}

/* Weights of output index i into w[0..n), normalised; returns the first
 * input index.  scale, fscale and support as in Pillow. */
static int32_t pil_axis_weights(const pil_axis *ax, pil_filter filter, uint32_t i, double *w,
                                uint32_t *n)
{
    double (*f)(double) = filter == PIL_BICUBIC ? pil_bicubic : pil_bilinear;
    double scale = (double)ax->in / ax->out;
    double fscale = scale < 1.0 ? 1.0 : scale;
    double support = (filter == PIL_BICUBIC ? 2.0 : 1.0) * fscale;
    double center = (i + 0.5) * scale;
    double ss = 1.0 / fscale;
    int lo = (int)(center - support + 0.5);
    int hi = (int)(center + support + 0.5);
    if (lo < 0)
        lo = 0;
    if (hi > (int)ax->in)
        hi = (int)ax->in;
    double sum = 0.0;
    for (int x = 0; x < hi - lo; x++) {
        w[x] = f((x + lo - center + 0.5) * ss);
        sum += w[x];
    }
    for (int x = 0; x < hi - lo; x++)
        if (sum != 0.0)
            w[x] /= sum;
    *n = (uint32_t)(hi - lo);
    return lo;
}

static int pil_axis_init(pil_axis *ax, pil_filter filter, uint32_t in, uint32_t out)
{
    double scale = (double)in / out;
    double support = (filter == PIL_BICUBIC ? 2.0 : 1.0) * (scale < 1.0 ? 1.0 : scale);
    *ax = (pil_axis){.in = in, .out = out, .ksize = (uint32_t)ceil(support) * 2 + 1};
    ax->bounds = calloc((size_t)out * 2, sizeof *ax->bounds);
    ax->k = calloc((size_t)out * ax->ksize, sizeof *ax->k);
    double *w = calloc(ax->ksize, sizeof *w);
    if (!ax->bounds || !ax->k || !w) {
        free(w);
        return -1; /* the plan frees the axis */
    }
    for (uint32_t i = 0; i < out; i++) {
        uint32_t n;
        ax->bounds[2 * i] = pil_axis_weights(ax, filter, i, w, &n);
        ax->bounds[2 * i + 1] = (int32_t)n;
        for (uint32_t x = 0; x < n; x++)
            ax->k[(size_t)i * ax->ksize + x] = pil_fixed(w[x]);
    }
    free(w);
    return 0;
}

/* Gives every output index of the axis the same number of taps,
 * min(ksize, in), by widening its window with zero weights (moved left where
 * it would run past the last input sample).  Adding zero terms leaves every
 * integer sum as it was, so the result stays Pillow's, and a pass with a
 * fixed tap count compiles to straight-line code. */
static void pil_axis_pad(pil_axis *ax)
{
    int32_t taps = (int32_t)(ax->ksize < ax->in ? ax->ksize : ax->in);
    for (uint32_t i = 0; i < ax->out; i++) {
        int32_t lo = ax->bounds[2 * i], n = ax->bounds[2 * i + 1];
        int32_t start = lo < (int32_t)ax->in - taps ? lo : (int32_t)ax->in - taps;
        int32_t *k = ax->k + (size_t)i * ax->ksize;
        memmove(k + (lo - start), k, (size_t)n * sizeof *k);
        for (int32_t x = 0; x < taps; x++)
            if (x < lo - start || x >= lo - start + n)
                k[x] = 0;
        ax->bounds[2 * i] = start;
        ax->bounds[2 * i + 1] = taps;
    }
}

static void pil_axis_free(pil_axis *ax)
{
    free(ax->k);
    free(ax->bounds);
}

/* Pillow resizes with NEAREST through its affine "scale" transform, which
 * walks the source coordinate by repeated addition: the same floating-point
 * sum, not (i + 0.5) * scale, decides which pixel a border output takes. */
static uint32_t *pil_nearest_map(uint32_t in, uint32_t out)
{
    uint32_t *map = malloc((size_t)out * sizeof *map);
    if (!map)
        return NULL;
    double step = (double)in / out;
    double pos = step * 0.5;
    for (uint32_t i = 0; i < out; i++) {
        uint32_t src = (uint32_t)pos;
        map[i] = src < in ? src : in - 1;
        pos += step;
    }
    return map;
}

static int pil_plan_separable(pil_plan *p)
{
    if (pil_axis_init(&p->horiz, p->filter, p->in_w, p->out_w) != 0)
        return -1;
    pil_axis_pad(&p->horiz);
    if (pil_axis_init(&p->vert, p->filter, p->in_h, p->out_h) != 0)
        return -1;
    /* Like Pillow, run the horizontal pass only over the rows the vertical
     * pass reads (a crop of the input when shrinking with a small support). */
    int32_t *vb = p->vert.bounds;
    p->row0 = (uint32_t)vb[0];
    p->rows = (uint32_t)(vb[2 * (p->out_h - 1)] + vb[2 * (p->out_h - 1) + 1]) - p->row0;
    for (uint32_t i = 0; i < p->out_h; i++)
        vb[2 * i] -= (int32_t)p->row0; /* the vertical pass starts at row0 */
    p->tmp = malloc((size_t)p->rows * p->out_w * 3);
    p->pad = calloc((size_t)p->in_w * 3 + 4, 1);
    return p->tmp && p->pad ? 0 : -1;
}

int pil_plan_init(pil_plan *plan, pil_filter filter, uint32_t in_w, uint32_t in_h, uint32_t out_w,
                  uint32_t out_h, char *err, size_t err_size)
{
    *plan =
        (pil_plan){.filter = filter, .in_w = in_w, .in_h = in_h, .out_w = out_w, .out_h = out_h};
    int rc;
    if (filter == PIL_NEAREST) {
        plan->xmap = pil_nearest_map(in_w, out_w);
        plan->ymap = pil_nearest_map(in_h, out_h);
        rc = plan->xmap && plan->ymap ? 0 : -1;
    } else {
        rc = pil_plan_separable(plan);
    }
    if (rc != 0) {
        pil_plan_free(plan);
        snprintf(err, err_size, "out of memory planning a %ux%u -> %ux%u resize", in_w, in_h, out_w,
                 out_h);
    }
    return rc;
}

void pil_plan_free(pil_plan *plan)
{
    free(plan->ymap);
    free(plan->xmap);
    free(plan->pad);
    free(plan->tmp);
    pil_axis_free(&plan->vert);
    pil_axis_free(&plan->horiz);
    *plan = (pil_plan){0};
}
