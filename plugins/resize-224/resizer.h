/*
 * resizer.h — one resize configuration applied to images of any input size.
 *
 * Keeps the per-size plans of the last few input sizes, so a stream of
 * same-sized images computes its weights once and allocates nothing per
 * image.  Independent of the engine: the plugin and the tests both use it.
 */
#ifndef FLOWRUN_RESIZE_RESIZER_H
#define FLOWRUN_RESIZE_RESIZER_H

#include <stddef.h>
#include <stdint.h>

typedef struct resizer resizer;

/* filter: a name accepted by the plugin's `filter` key ("bilinear",
 * "stb-catmullrom", …); edge ("clamp", "reflect", "wrap", "zero") and
 * colorspace ("linear", "srgb") apply to the stb filters only.  Returns a
 * resizer owned by the caller (resizer_free), or NULL with err set. */
resizer *resizer_new(const char *filter, const char *edge, const char *colorspace, uint32_t out_w,
                     uint32_t out_h, char *err, size_t err_size);
void resizer_free(resizer *r);

/* Resizes in (in_h × in_w × 3) into out (out_h × out_w × 3), both borrowed.
 * Returns 0, or -1 with err set (out of memory for a new input size). */
int resizer_run(resizer *r, const uint8_t *in, uint32_t in_w, uint32_t in_h, uint8_t *out,
                char *err, size_t err_size);

#endif
