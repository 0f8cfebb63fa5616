/*
 * rows-source — test-only source: the rows of a float32 matrix file as
 * tensor/f32[d] records, so that a pipeline test can feed chosen numbers
 * (gen-source's byte patterns are not data to fit statistics on).
 *
 * File: u32 n, u32 d (little-endian), then n x d float32, row-major.  Row i
 * is "rec-%06u" with label "class-<i % 3>" and two attributes, "row" (i)
 * and "note" (a string with a comma, a quote and a newline).  Replicas take
 * every replicas-th row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowrun/plugin.h"

static const fr_param rows_params[] = {
    {"path", FR_PARAM_PATH, NULL, 0, 0, NULL, "the matrix file"},
    {0},
};

typedef struct rows {
    FILE *f;
    uint32_t n, d, next, step;
} rows;

static fr_status rows_init(fr_stage *st, void **state)
{
    rows *r = calloc(1, sizeof *r);
    const char *path = fr_config_string(st, "path");
    uint32_t head[2];
    if (!r)
        return fr_fail(st, FR_FATAL, "out of memory");
    if (!(r->f = fopen(path, "rb")) || fread(head, sizeof head, 1, r->f) != 1) {
        if (r->f)
            fclose(r->f);
        free(r);
        return fr_fail(st, FR_FATAL, "path: cannot read %s", path);
    }
    r->n = head[0];
    r->d = head[1];
    r->next = fr_instance(st);
    r->step = fr_replicas(st);
    fr_set_total(st, r->n > r->next ? (r->n - r->next + r->step - 1) / r->step : 0);
    *state = r;
    return FR_OK;
}

static fr_status rows_produce(void *state, fr_stage *st)
{
    rows *r = state;
    for (int i = 0; i < 64; i++, r->next += r->step) {
        if (r->next >= r->n)
            return FR_DONE;
        char key[32], label[32], id[96], row[32];
        snprintf(key, sizeof key, "rec-%06u", r->next);
        snprintf(label, sizeof label, "class-%u", r->next % 3);
        snprintf(id, sizeof id, "%s:%s", fr_stage_name(st), key);
        snprintf(row, sizeof row, "%u", r->next);
        fr_attr attrs[2] = {{"row", row}, {"note", "a, \"b\"\nc"}};
        fr_record rec = {.id = id, .key = key, .label = label, .attrs = attrs, .n_attrs = 2};
        fr_status s = fr_payload_alloc(st, &rec.payload, FR_KIND_TENSOR, 1, &r->d);
        if (s != FR_OK)
            return s;
        if (fseek(r->f, 8 + (long)r->next * r->d * 4, SEEK_SET) != 0 ||
            fread(rec.payload.data, 4, r->d, r->f) != r->d) {
            fr_buffer_unref(st, rec.payload.buffer);
            return fr_fail(st, FR_FATAL, "row %u: short file", r->next);
        }
        if ((s = fr_emit(st, &rec)) != FR_OK)
            return s;
    }
    return FR_OK;
}

static void rows_fini(void *state, fr_stage *st)
{
    rows *r = state;
    (void)st;
    fclose(r->f);
    free(r);
}

FR_PLUGIN_EXPORT const fr_plugin flowrun_plugin = {
    FR_PLUGIN_HEADER,
    .name = "rows-source",
    .summary = "Test source: the rows of a float32 matrix file as tensor records",
    .output = "tensor/f32[n]",
    .params = rows_params,
    .init = rows_init,
    .produce = rows_produce,
    .fini = rows_fini,
};
