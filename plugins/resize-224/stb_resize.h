/*
 * stb_resize.h — stb_image_resize's filters, with edge mode and colour
 * space always stated (never the library's defaults).
 */
#ifndef FLOWRUN_RESIZE_STB_H
#define FLOWRUN_RESIZE_STB_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"

typedef struct stb_resize {
    int filter, edge, colorspace; /* stbir_filter, stbir_edge, stbir_colorspace */
    image_scratch scratch;        /* owned: stb's working memory, grown once per size */
} stb_resize;

/* filter: "stb-box", "stb-triangle", "stb-cubicbspline", "stb-catmullrom",
 * "stb-mitchell".  Returns 0, or -1 with err set for an unknown name. */
int stb_resize_init(stb_resize *s, const char *filter, const char *edge, const char *colorspace,
                    char *err, size_t err_size);
void stb_resize_fini(stb_resize *s);

/* Resizes in (in_h × in_w × 3) into out (out_h × out_w × 3), both borrowed.
 * Returns 0, or -1 with err set. */
int stb_resize_run(stb_resize *s, const uint8_t *in, uint32_t in_w, uint32_t in_h, uint8_t *out,
                   uint32_t out_w, uint32_t out_h, char *err, size_t err_size);

#endif
