/*
 * brightness-filter — a third-party flowrun stage, built only against the
 * installed SDK (find_package(flowrun) or pkg-config flowrun-plugin).
 *
 * Passes RGB images whose mean luma (ITU-R BT.601: 0.299 R + 0.587 G +
 * 0.114 B, the weights of Pillow's convert("L")) lies in [min, max] and
 * REJECTs the others with a reason, so over- and under-exposed images end in
 * the dead letters instead of the training set.  Passed images are forwarded
 * zero-copy: the output shares the input's pixel buffer (fr_buffer_ref), and
 * carry one more attribute, mean_luma.
 */
#include <flowrun/plugin.h>
#include <stdio.h>
#include <stdlib.h>

static const fr_param brightness_params[] = {
    {"min", FR_PARAM_FLOAT, "40", 0, 255, NULL,
     "images with a mean luma below this (0..255) are rejected as under-exposed"},
    {"max", FR_PARAM_FLOAT, "215", 0, 255, NULL,
     "images with a mean luma above this (0..255) are rejected as over-exposed"},
    {NULL},
};

/* One instance's state: the bounds and a scratch attribute list, grown as
 * records with more attributes arrive (no per-record malloc). */
typedef struct brightness {
    double min, max;
    fr_attr *attrs; /* owned; attrs of the record being emitted */
    uint32_t cap;
    uint64_t passed, too_dark, too_bright;
} brightness;

static fr_status brightness_init(fr_stage *st, void **state)
{
    double min = fr_config_double(st, "min"), max = fr_config_double(st, "max");
    if (min > max)
        return fr_fail(st, FR_FATAL,
                       "min (%g) is greater than max (%g): every image would be "
                       "rejected",
                       min, max);
    brightness *b = calloc(1, sizeof *b);
    if (!b)
        return fr_fail(st, FR_FATAL, "out of memory");
    b->min = min;
    b->max = max;
    *state = b;
    return FR_OK;
}

/* Mean of 0.299 R + 0.587 G + 0.114 B over h*w pixels, summed exactly in
 * integers (weights times 1000). */
static double brightness_mean_luma(const uint8_t *px, size_t pixels)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < pixels; i++, px += 3)
        sum += 299u * px[0] + 587u * px[1] + 114u * px[2];
    return pixels ? (double)sum / (1000.0 * (double)pixels) : 0.0;
}

/* The input's attributes plus mean_luma, in the state's scratch list. */
static const fr_attr *brightness_attrs(brightness *b, const fr_record *in, const char *luma)
{
    if (in->n_attrs + 1 > b->cap) {
        fr_attr *grown = realloc(b->attrs, (in->n_attrs + 1) * sizeof *grown);
        if (!grown)
            return NULL;
        b->attrs = grown;
        b->cap = in->n_attrs + 1;
    }
    for (uint32_t i = 0; i < in->n_attrs; i++)
        b->attrs[i] = in->attrs[i];
    b->attrs[in->n_attrs] = (fr_attr){"mean_luma", luma};
    return b->attrs;
}

static fr_status brightness_process(void *state, fr_stage *st, const fr_record *in)
{
    brightness *b = state;
    const fr_payload *p = &in->payload;
    if (p->kind != FR_KIND_IMAGE || p->rank != 3 || p->dims[2] != 3 ||
        p->size != (size_t)p->dims[0] * p->dims[1] * 3)
        return fr_fail(st, FR_REJECT, "not an RGB image (kind %d, rank %u, %zu bytes)", p->kind,
                       p->rank, p->size);
    double luma = brightness_mean_luma(p->data, (size_t)p->dims[0] * p->dims[1]);
    if (luma < b->min) {
        b->too_dark++;
        fr_metric_add(st, "too_dark", 1);
        return fr_fail(st, FR_REJECT, "under-exposed: mean luma %.1f is below min %g", luma,
                       b->min);
    }
    if (luma > b->max) {
        b->too_bright++;
        fr_metric_add(st, "too_bright", 1);
        return fr_fail(st, FR_REJECT, "over-exposed: mean luma %.1f is above max %g", luma, b->max);
    }

    char text[32];
    snprintf(text, sizeof text, "%.1f", luma);
    fr_record out = *in; /* strings borrowed: fr_emit copies them */
    if (!(out.attrs = brightness_attrs(b, in, text)))
        return fr_fail(st, FR_FATAL, "out of memory");
    out.n_attrs = in->n_attrs + 1;
    /* Zero-copy: a new reference to the input's buffer, given to fr_emit.
     * Without a buffer (never from the engine), fr_emit copies data. */
    out.payload.buffer = p->buffer ? fr_buffer_ref(st, p->buffer) : NULL;
    fr_status s = fr_emit(st, &out);
    if (s == FR_OK) {
        b->passed++;
        fr_metric_add(st, "passed", 1);
    }
    return s; /* FR_STOP: the run is stopping, pass it up */
}

/* End of stream: nothing is held; summarise this instance's decisions. */
static fr_status brightness_flush(void *state, fr_stage *st)
{
    brightness *b = state;
    char json[160];
    snprintf(json, sizeof json, "{\"passed\": %llu, \"too_dark\": %llu, \"too_bright\": %llu}",
             (unsigned long long)b->passed, (unsigned long long)b->too_dark,
             (unsigned long long)b->too_bright);
    fr_report(st, "decisions", json);
    return FR_OK;
}

static void brightness_fini(void *state, fr_stage *st)
{
    (void)st;
    brightness *b = state;
    free(b->attrs);
    free(b);
}

FR_PLUGIN_EXPORT const fr_plugin flowrun_plugin = {
    FR_PLUGIN_HEADER,
    .name = "brightness-filter",
    .summary = "Reject over- and under-exposed RGB images (mean luma outside [min, max]); pass "
               "the rest unchanged, zero-copy",
    .version = "1.0",
    .input = "image/u8[h,w,3]",
    .output = "image/u8[h,w,3]",
    .params = brightness_params,
    .init = brightness_init,
    .process = brightness_process,
    .flush = brightness_flush,
    .fini = brightness_fini,
};
