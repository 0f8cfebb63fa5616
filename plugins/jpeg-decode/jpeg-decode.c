/*
 * jpeg-decode — JPEG bytes to RGB pixels (libjpeg-turbo).
 *
 * The plugin is glue: configuration, payload checks and emission.  Reading
 * and refusing files is jpeg_reader.c's concern.
 */
#include <flowrun/plugin.h>
#include <stdlib.h>
#include <string.h>

#include "exif.h"
#include "image.h"
#include "jpeg_reader.h"

typedef struct decode_state {
    jpeg_reader *r;       /* owned */
    int exif;             /* orientation: exif */
    image_scratch stored; /* owned: the stored pixels of a file to turn upright */
} decode_state;

/* The enum keys' choices, in the order of their index (fr_config_enum). */
enum { WARNINGS_REJECT, WARNINGS_PASS };
enum { DCT_ISLOW, DCT_IFAST };
enum { ORIENTATION_IGNORE, ORIENTATION_EXIF };

static const fr_param decode_params[] = {
    {"max_pixels", FR_PARAM_INT, "50000000", 1, FR_NO_MAX, NULL,
     "refuse images with more pixels than this (read from the header, before any allocation)"},
    {"warnings", FR_PARAM_ENUM, "reject", 0, 0, "reject|pass",
     "libjpeg's recoverable warnings (premature end of data, corrupt entropy data): reject the "
     "file, or pass the image libjpeg recovered (grey where data is missing)"},
    {"dct", FR_PARAM_ENUM, "islow", 0, 0, "islow|ifast",
     "inverse DCT: islow is libjpeg's and Pillow's default (bit-equal to Pillow's "
     "convert(\"RGB\")), ifast is quicker and slightly less accurate"},
    {"orientation", FR_PARAM_ENUM, "ignore", 0, 0, "ignore|exif",
     "ignore: pixels as stored, like Pillow's Image.open().convert(\"RGB\") (and Keras, "
     "torchvision); exif: turned upright by the EXIF Orientation tag, like Pillow's "
     "ImageOps.exif_transpose (orientations 5-8 swap width and height)"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static fr_status decode_init(fr_stage *st, void **state)
{
    jpeg_reader_opts opts = {
        .max_pixels = (uint64_t)fr_config_int(st, "max_pixels"),
        .pass_warnings = fr_config_enum(st, "warnings") == WARNINGS_PASS,
        .fast_dct = fr_config_enum(st, "dct") == DCT_IFAST,
    };
    decode_state *s = calloc(1, sizeof *s);
    if (!s)
        return fr_fail(st, FR_FATAL, "out of memory");
    s->exif = fr_config_enum(st, "orientation") == ORIENTATION_EXIF;
    char err[256];
    s->r = jpeg_reader_new(&opts, err, sizeof err);
    if (!s->r) {
        free(s);
        return fr_fail(st, FR_FATAL, "%s", err);
    }
    *state = s;
    return FR_OK;
}

static fr_status decode_process(void *state, fr_stage *st, const fr_record *in)
{
    decode_state *s = state;
    const fr_payload *p = &in->payload;
    if (p->kind != FR_KIND_BYTES && !(p->kind == FR_KIND_NONE && p->size == 0))
        return fr_fail(st, FR_REJECT, "expected bytes/jpeg, got a payload of kind %d",
                       (int)p->kind);
    char err[256];
    jpeg_info info;
    if (jpeg_reader_header(s->r, p->data, p->size, &info, err, sizeof err) != 0)
        return fr_fail(st, FR_REJECT, "%s", err);
    int orientation = s->exif ? exif_orientation(p->data, p->size) : 1;
    int swap = exif_swaps_axes(orientation);
    /* The output keeps the input's id, key, label and attributes. */
    fr_record out = *in;
    const uint32_t dims[3] = {swap ? info.width : info.height, swap ? info.height : info.width, 3};
    fr_status rc = fr_payload_alloc(st, &out.payload, FR_KIND_IMAGE, 3, dims);
    if (rc != FR_OK)
        return rc;
    /* An upright file decodes straight into the output; a rotated one into
     * the scratch, then turned into the output. */
    uint8_t *pixels = out.payload.data;
    if (orientation != 1 && !(pixels = image_scratch_get(&s->stored, out.payload.size))) {
        fr_buffer_unref(st, out.payload.buffer);
        return fr_fail(st, FR_FATAL, "out of memory decoding %ux%u", info.width, info.height);
    }
    int warned;
    if (jpeg_reader_decode(s->r, p->data, p->size, &info, pixels, &warned, err, sizeof err) != 0) {
        fr_buffer_unref(st, out.payload.buffer);
        return fr_fail(st, FR_REJECT, "%s", err);
    }
    if (orientation != 1)
        exif_apply(orientation, pixels, info.width, info.height, out.payload.data);
    if (warned) {
        fr_metric_add(st, "warnings_passed", 1);
        fr_log(st, FR_LOG_WARN, "%s: passed with a libjpeg warning", in->key);
    }
    return fr_emit(st, &out);
}

static void decode_fini(void *state, fr_stage *st)
{
    decode_state *s = state;
    jpeg_reader_free(s->r);
    image_scratch_free(&s->stored);
    free(s);
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
