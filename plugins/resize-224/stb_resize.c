/*
 * stb_resize.c — stb_image_resize (libstb-dev) behind the resizer.
 *
 * stb allocates its working memory with one STBIR_MALLOC per call; routing
 * that to a scratch block kept in the stb_resize state means a stream of
 * same-sized images allocates once, not once per image.
 */
#include "stb_resize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STBIR_MALLOC(size, ctx) image_scratch_get(&((stb_resize *)(ctx))->scratch, (size))
#define STBIR_FREE(ptr, ctx)    ((void)(ptr), (void)(ctx)) /* the scratch is kept */
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_STATIC
/* Third-party code: not held to the project's warning flags. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb/stb_image_resize.h>
#pragma GCC diagnostic pop

typedef struct stb_name {
    const char *name;
    int value;
} stb_name;

static const stb_name stb_filters[] = {
    {"stb-box", STBIR_FILTER_BOX},
    {"stb-triangle", STBIR_FILTER_TRIANGLE},
    {"stb-cubicbspline", STBIR_FILTER_CUBICBSPLINE},
    {"stb-catmullrom", STBIR_FILTER_CATMULLROM},
    {"stb-mitchell", STBIR_FILTER_MITCHELL},
    {NULL, 0},
};
static const stb_name stb_edges[] = {
    {"clamp", STBIR_EDGE_CLAMP},
    {"reflect", STBIR_EDGE_REFLECT},
    {"wrap", STBIR_EDGE_WRAP},
    {"zero", STBIR_EDGE_ZERO},
    {NULL, 0},
};
static const stb_name stb_spaces[] = {
    {"linear", STBIR_COLORSPACE_LINEAR},
    {"srgb", STBIR_COLORSPACE_SRGB},
    {NULL, 0},
};

static int stb_lookup(const stb_name *table, const char *what, const char *name, int *value,
                      char *err, size_t err_size)
{
    for (; table->name; table++)
        if (strcmp(table->name, name) == 0) {
            *value = table->value;
            return 0;
        }
    snprintf(err, err_size, "unknown %s \"%s\"", what, name);
    return -1;
}

int stb_resize_init(stb_resize *s, const char *filter, const char *edge, const char *colorspace,
                    char *err, size_t err_size)
{
    *s = (stb_resize){0};
    if (stb_lookup(stb_filters, "filter", filter, &s->filter, err, err_size) != 0 ||
        stb_lookup(stb_edges, "edge mode", edge, &s->edge, err, err_size) != 0 ||
        stb_lookup(stb_spaces, "colour space", colorspace, &s->colorspace, err, err_size) != 0)
        return -1;
    return 0;
}

void stb_resize_fini(stb_resize *s)
{
    image_scratch_free(&s->scratch);
    *s = (stb_resize){0};
}

int stb_resize_run(stb_resize *s, const uint8_t *in, uint32_t in_w, uint32_t in_h, uint8_t *out,
                   uint32_t out_w, uint32_t out_h, char *err, size_t err_size)
{
    int ok = stbir_resize(in, (int)in_w, (int)in_h, 0, out, (int)out_w, (int)out_h, 0,
                          STBIR_TYPE_UINT8, 3, STBIR_ALPHA_CHANNEL_NONE, 0, s->edge, s->edge,
                          s->filter, s->filter, s->colorspace, s);
    if (!ok) {
        snprintf(err, err_size, "out of memory resizing %ux%u -> %ux%u", in_w, in_h, out_w, out_h);
        return -1;
    }
    return 0;
}
