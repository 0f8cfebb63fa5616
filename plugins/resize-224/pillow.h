/*
 * pillow.h — Pillow-exact 8-bit RGB resampling (nearest, bilinear, bicubic).
 *
 * Reproduces Pillow 9.4's Image.resize((w, h), resample=…) bit for bit on
 * 3-channel uint8 images, downsampling included (the filter support widens
 * with the scale, as in Pillow's Resample.c).  A plan holds everything that
 * depends only on the sizes (bounds, fixed-point weights, nearest index
 * tables, scratch rows), so resizing an image allocates nothing.
 */
#ifndef FLOWRUN_RESIZE_PILLOW_H
#define FLOWRUN_RESIZE_PILLOW_H

#include <stddef.h>
#include <stdint.h>

typedef enum pil_filter {
    PIL_NEAREST,
    PIL_BILINEAR,
    PIL_BICUBIC,
} pil_filter;

/* The weights of one axis: output index i reads n = bounds[2i+1] input
 * samples from bounds[2i] on, weighted by k[i*ksize .. i*ksize+n) in Q22.
 * The horizontal axis is padded with zero weights so that n is the same for
 * every i (min(ksize, in)): its pass then runs with a constant tap count. */
typedef struct pil_axis {
    uint32_t in, out, ksize;
    int32_t *bounds; /* owned by the axis */
    int32_t *k;      /* owned by the axis */
} pil_axis;

typedef struct pil_plan {
    pil_filter filter;
    uint32_t in_w, in_h, out_w, out_h;
    pil_axis horiz, vert; /* bilinear/bicubic; unused by nearest */
    uint32_t row0, rows;  /* input rows the vertical pass reads */
    uint8_t *tmp;         /* rows × out_w × 3: the horizontal pass's output */
    uint8_t *pad;         /* in_w × 3 + 4: the last input row with slack after it, so the
                             horizontal pass may load 4 bytes per pixel everywhere */
    uint32_t *xmap;       /* nearest: input column of each output column */
    uint32_t *ymap;       /* nearest: input row of each output row */
} pil_plan;

/* Fills *plan for resizing in_w×in_h to out_w×out_h (all ≥ 1).  Returns 0,
 * or -1 with err set (out of memory).  The plan owns its arrays until
 * pil_plan_free; on failure nothing is left to free. */
int pil_plan_init(pil_plan *plan, pil_filter filter, uint32_t in_w, uint32_t in_h, uint32_t out_w,
                  uint32_t out_h, char *err, size_t err_size);
void pil_plan_free(pil_plan *plan);

/* Resizes in (in_h × in_w × 3, rows packed) into out (out_h × out_w × 3).
 * Both borrowed; the plan's scratch is overwritten, so one plan serves one
 * thread at a time. */
void pil_resize(pil_plan *plan, const uint8_t *in, uint8_t *out);

#endif
