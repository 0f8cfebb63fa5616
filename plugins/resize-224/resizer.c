/*
 * resizer.c — picks the resampler for a filter name and caches its plans.
 */
#include "resizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pillow.h"
#include "stb_resize.h"

/* Sizes kept: enough for a data set mixing a few image sizes without
 * re-planning on every change; replaced round robin. */
#define RESIZER_PLANS 4

struct resizer {
    int is_stb;
    pil_filter pil;
    stb_resize stb; /* owned; used when is_stb */
    uint32_t out_w, out_h;
    pil_plan plans[RESIZER_PLANS]; /* in_w == 0: empty slot */
    unsigned next;                 /* slot to replace next */
};

static int resizer_pil_filter(const char *name, pil_filter *f)
{
    static const struct {
        const char *name;
        pil_filter filter;
    } names[] = {{"nearest", PIL_NEAREST}, {"bilinear", PIL_BILINEAR}, {"bicubic", PIL_BICUBIC}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i].name) == 0) {
            *f = names[i].filter;
            return 0;
        }
    return -1;
}

resizer *resizer_new(const char *filter, const char *edge, const char *colorspace, uint32_t out_w,
                     uint32_t out_h, char *err, size_t err_size)
{
    resizer *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    r->out_w = out_w;
    r->out_h = out_h;
    if (resizer_pil_filter(filter, &r->pil) == 0)
        return r;
    r->is_stb = 1;
    if (stb_resize_init(&r->stb, filter, edge, colorspace, err, err_size) != 0) {
        free(r);
        return NULL;
    }
    return r;
}

void resizer_free(resizer *r)
{
    if (!r)
        return;
    for (unsigned i = 0; i < RESIZER_PLANS; i++)
        pil_plan_free(&r->plans[i]);
    stb_resize_fini(&r->stb);
    free(r);
}

static pil_plan *resizer_plan(resizer *r, uint32_t in_w, uint32_t in_h, char *err, size_t err_size)
{
    for (unsigned i = 0; i < RESIZER_PLANS; i++)
        if (r->plans[i].in_w == in_w && r->plans[i].in_h == in_h)
            return &r->plans[i];
    pil_plan *p = &r->plans[r->next];
    r->next = (r->next + 1) % RESIZER_PLANS;
    pil_plan_free(p);
    if (pil_plan_init(p, r->pil, in_w, in_h, r->out_w, r->out_h, err, err_size) != 0)
        return NULL;
    return p;
}

int resizer_run(resizer *r, const uint8_t *in, uint32_t in_w, uint32_t in_h, uint8_t *out,
                char *err, size_t err_size)
{
    if (r->is_stb)
        return stb_resize_run(&r->stb, in, in_w, in_h, out, r->out_w, r->out_h, err, err_size);
    pil_plan *p = resizer_plan(r, in_w, in_h, err, err_size);
    if (!p)
        return -1;
    pil_resize(p, in, out);
    return 0;
}
