/*
 * jpeg-decode — JPEG bytes to RGB pixels (libjpeg-turbo).
 *
 * The plugin is glue: configuration, payload checks and emission.  Reading
 * and refusing files is jpeg_reader.c's concern.
 */
#include <flowrun/plugin.h>
#include <stdlib.h>
#include <string.h>

#include "jpeg_reader.h"

static const fr_param decode_params[] = {
    {"max_pixels", FR_PARAM_INT, "50000000", 1, 1e12, NULL,
     "refuse images with more pixels than this (read from the header, before any allocation)"},
    {"warnings", FR_PARAM_ENUM, "reject", 0, 0, "reject|pass",
     "libjpeg's recoverable warnings (premature end of data, corrupt entropy data): reject the "
     "file, or pass the image libjpeg recovered (grey where data is missing)"},
    {"dct", FR_PARAM_ENUM, "islow", 0, 0, "islow|ifast",
     "inverse DCT: islow is libjpeg's and Pillow's default (bit-equal to Pillow's "
     "convert(\"RGB\")), ifast is quicker and slightly less accurate"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static fr_status decode_init(fr_stage *st, void **state)
{
    jpeg_reader_opts opts = {
        .max_pixels = (uint64_t)fr_config_int(st, "max_pixels"),
        .pass_warnings = strcmp(fr_config_string(st, "warnings"), "pass") == 0,
        .fast_dct = strcmp(fr_config_string(st, "dct"), "ifast") == 0,
    };
    char err[256];
    jpeg_reader *r = jpeg_reader_new(&opts, err, sizeof err);
    if (!r)
        return fr_fail(st, FR_FATAL, "%s", err);
    *state = r;
    return FR_OK;
}

static fr_status decode_process(void *state, fr_stage *st, const fr_record *in)
{
    jpeg_reader *r = state;
    const fr_payload *p = &in->payload;
    if (p->kind != FR_KIND_BYTES && !(p->kind == FR_KIND_NONE && p->size == 0))
        return fr_fail(st, FR_REJECT, "expected bytes/jpeg, got a payload of kind %d",
                       (int)p->kind);
    char err[256];
    jpeg_info info;
    if (jpeg_reader_header(r, p->data, p->size, &info, err, sizeof err) != 0)
        return fr_fail(st, FR_REJECT, "%s", err);
    /* The output keeps the input's id, key, label and attributes. */
    fr_record out = *in;
    const uint32_t dims[3] = {info.height, info.width, 3};
    fr_status rc = fr_payload_alloc(st, &out.payload, FR_KIND_IMAGE, 3, dims);
    if (rc != FR_OK)
        return rc;
    int warned;
    if (jpeg_reader_decode(r, p->data, p->size, &info, out.payload.data, &warned, err,
                           sizeof err) != 0) {
        fr_buffer_unref(st, out.payload.buffer);
        return fr_fail(st, FR_REJECT, "%s", err);
    }
    if (warned) {
        fr_metric_add(st, "warnings_passed", 1);
        fr_log(st, FR_LOG_WARN, "%s: passed with a libjpeg warning", in->key);
    }
    return fr_emit(st, &out);
}

static void decode_fini(void *state, fr_stage *st)
{
    jpeg_reader_free(state);
}

FR_PLUGIN_EXPORT const fr_plugin flowrun_plugin = {
    FR_PLUGIN_HEADER,
    .name = "jpeg-decode",
    .summary = "Decode JPEG bytes to RGB pixels (libjpeg-turbo), refusing bad files with a reason",
    .version = "1",
    .input = "bytes/jpeg",
    .output = "image/u8[h,w,3]",
    .params = decode_params,
    .init = decode_init,
    .process = decode_process,
    .fini = decode_fini,
};
