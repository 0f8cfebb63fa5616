/*
 * test_plugin — the jpeg-decode plugin wrapper through the real loader and
 * harness: schema checks, the declared output type, metadata carried from
 * input to output, wrong payloads refused with a reason, and a good file
 * decoding after a refused one.
 */
#include <flowrun/harness.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "check.h"

/* A w×h baseline JPEG of a colour ramp; tjAlloc'd into *jpeg (tjFree). */
static int encode(int w, int h, unsigned char **jpeg, unsigned long *size)
{
    unsigned char *px = malloc((size_t)w * h * 3);
    tjhandle tj = tjInitCompress();
    int rc = -1;
    if (px && tj) {
        for (int i = 0; i < w * h * 3; i++)
            px[i] = (unsigned char)(i * 5);
        *jpeg = NULL;
        rc = tjCompress2(tj, px, w, 0, h, TJPF_RGB, jpeg, size, TJSAMP_420, 90, 0);
    }
    if (tj)
        tjDestroy(tj);
    free(px);
    return rc;
}

static void check_config_errors(void)
{
    const char *bad_max[] = {"max_pixels", "0", NULL};
    char *err = NULL;
    fr_harness *h = fr_harness_new("jpeg-decode", bad_max, &err);
    CHECK(h == NULL);
    CHECK_CONTAINS(err, "max_pixels");
    free(err);
    err = NULL;
    const char *bad_dct[] = {"dct", "float", NULL};
    h = fr_harness_new("jpeg-decode", bad_dct, &err);
    CHECK(h == NULL);
    CHECK_CONTAINS(err, "dct");
    free(err);
}

/* jpeg with an APP1 segment holding app1[0..n) inserted after SOI, in a
 * malloc'd buffer (caller frees).  seg_len is the length field to write
 * (n + 2 for a well-formed segment). */
static uint8_t *with_app1(const unsigned char *jpeg, unsigned long size, const uint8_t *app1,
                          size_t n, size_t seg_len, size_t *out_size)
{
    uint8_t *b = malloc(size + 4 + n);
    if (!b)
        return NULL;
    memcpy(b, jpeg, 2);
    b[2] = 0xff;
    b[3] = 0xe1;
    b[4] = (uint8_t)(seg_len >> 8);
    b[5] = (uint8_t)seg_len;
    memcpy(b + 6, app1, n);
    memcpy(b + 6 + n, jpeg + 2, size - 2);
    *out_size = size + 4 + n;
    return b;
}

/* orientation: exif on well-formed and malformed EXIF blocks: the image
 * turns (6: rotated, width and height swap) or decodes as stored, and no
 * malformed block is read out of bounds (ASan). */
static void check_exif(const unsigned char *jpeg, unsigned long size)
{
    /* Big-endian TIFF, IFD0 at 8 with one entry: Orientation SHORT 1 = 6. */
    const uint8_t good[] = {'E',  'x',  'i', 'f', 0, 0, 'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1,
                            0x01, 0x12, 0,   3,   0, 0, 0,   1,   0, 6,  0, 0, 0, 0, 0, 0};
    uint8_t ifd_far[sizeof good], count_big[sizeof good], bad_value[sizeof good];
    memcpy(ifd_far, good, sizeof good);
    ifd_far[13] = 0xf0; /* IFD0 offset past the block */
    memcpy(count_big, good, sizeof good);
    count_big[14] = 0xff; /* 65535 entries claimed */
    count_big[15] = 0xff;
    count_big[17] = 0x13; /* and not the orientation tag */
    memcpy(bad_value, good, sizeof good);
    bad_value[25] = 9; /* orientation 9 does not exist */
    const struct {
        const uint8_t *app1;
        size_t n, seg_len;
        uint32_t h, w;
    } cases[] = {
        {good, sizeof good, sizeof good + 2, 40, 30},
        {good, 20, 20 + 2, 30, 40}, /* block cut inside the entry */
        {ifd_far, sizeof good, sizeof good + 2, 30, 40},
        {count_big, sizeof good, sizeof good + 2, 30, 40},
        {bad_value, sizeof good, sizeof good + 2, 30, 40},
        {good, 4, 4 + 2, 30, 40},            /* "Exif" without the TIFF block */
        {good, sizeof good, 0xfff0, 30, 40}, /* segment length past the file */
    };
    const char *config[] = {"orientation", "exif", "warnings", "pass", NULL};
    char *err = NULL;
    fr_harness *h = fr_harness_new("jpeg-decode", config, &err);
    REQUIRE_VOID(h != NULL);
    REQUIRE_VOID(fr_harness_start(h) == FR_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n;
        uint8_t *b = with_app1(jpeg, size, cases[i].app1, cases[i].n, cases[i].seg_len, &n);
        REQUIRE_VOID(b != NULL);
        fr_record in = {.id = "s:k", .key = "k", .label = ""};
        in.payload = (fr_payload){.kind = FR_KIND_BYTES, .media = "jpeg", .data = b, .size = n};
        fr_harness_clear_outputs(h);
        fr_status st = fr_harness_push(h, &in);
        free(b);
        if (cases[i].seg_len == 0xfff0) {
            /* The segment claims the rest of the file, frame header and scan
             * included: a decoder that honours segment lengths finds no image
             * after it (libjpeg: no SOF; Pillow: "Truncated File Read").
             * Rejected with the reason, never guessed. */
            CHECK_INT(st, FR_REJECT);
            CHECK_CONTAINS(fr_harness_reason(h), "no frame header");
            CHECK_INT(fr_harness_output_count(h), 0);
            continue;
        }
        CHECK_INT(st, FR_OK);
        CHECK_INT(fr_harness_output_count(h), 1);
        if (fr_harness_output_count(h) != 1)
            continue;
        const fr_record *out = fr_harness_output(h, 0);
        CHECK_INT(out->payload.dims[0], cases[i].h);
        CHECK_INT(out->payload.dims[1], cases[i].w);
    }
    fr_harness_free(h);
}

int main(void)
{
    check_config_errors();

    unsigned char *jpeg = NULL;
    unsigned long jpeg_size = 0;
    REQUIRE(encode(40, 30, &jpeg, &jpeg_size) == 0);

    const char *config[] = {NULL};
    char *err = NULL;
    fr_harness *h = fr_harness_new("jpeg-decode", config, &err);
    REQUIRE(h != NULL);
    REQUIRE(fr_harness_start(h) == FR_OK);
    CHECK_STR(fr_harness_output_type(h), "image/u8[h,w,3]");

    const fr_attr attrs[] = {{"etag", "abc"}, {"source", "test"}};
    fr_record in = {.id = "src:Training/Lemon/1_100.jpg",
                    .key = "Training/Lemon/1_100.jpg",
                    .label = "Lemon",
                    .model_version = 7,
                    .attrs = attrs,
                    .n_attrs = 2};
    in.payload =
        (fr_payload){.kind = FR_KIND_BYTES, .media = "jpeg", .data = jpeg, .size = jpeg_size};
    CHECK_INT(fr_harness_push(h, &in), FR_OK);
    REQUIRE(fr_harness_output_count(h) == 1);
    const fr_record *out = fr_harness_output(h, 0);
    CHECK_STR(out->id, in.id);
    CHECK_STR(out->key, in.key);
    CHECK_STR(out->label, in.label);
    CHECK_INT(out->model_version, 7);
    CHECK_INT(out->n_attrs, 2);
    CHECK_STR(fr_record_attr(out, "etag"), "abc");
    CHECK_STR(fr_record_attr(out, "source"), "test");
    CHECK_INT(out->payload.kind, FR_KIND_IMAGE);
    CHECK_INT(out->payload.rank, 3);
    CHECK_INT(out->payload.dims[0], 30);
    CHECK_INT(out->payload.dims[1], 40);
    CHECK_INT(out->payload.dims[2], 3);
    CHECK_INT(out->payload.size, 30 * 40 * 3);
    fr_harness_clear_outputs(h);

    /* An image payload is not JPEG bytes. */
    uint8_t px[2 * 2 * 3] = {0};
    fr_record wrong = in;
    wrong.payload = (fr_payload){
        .kind = FR_KIND_IMAGE, .rank = 3, .dims = {2, 2, 3}, .data = px, .size = sizeof px};
    CHECK_INT(fr_harness_push(h, &wrong), FR_REJECT);
    CHECK_CONTAINS(fr_harness_reason(h), "expected bytes/jpeg");
    /* A record without payload is an empty object. */
    fr_record empty = in;
    empty.payload = (fr_payload){.kind = FR_KIND_NONE};
    CHECK_INT(fr_harness_push(h, &empty), FR_REJECT);
    CHECK_CONTAINS(fr_harness_reason(h), "empty object");
    /* Truncated data, then the good file again: the reader recovered. */
    fr_record cut = in;
    cut.payload.size = jpeg_size / 2;
    CHECK_INT(fr_harness_push(h, &cut), FR_REJECT);
    CHECK_CONTAINS(fr_harness_reason(h), "corrupt JPEG data");
    CHECK_INT(fr_harness_output_count(h), 0);
    CHECK_INT(fr_harness_push(h, &in), FR_OK);
    CHECK_INT(fr_harness_output_count(h), 1);

    fr_harness_free(h);
    check_exif(jpeg, jpeg_size);
    tjFree(jpeg);

    /* max_pixels is checked from the header: 40×30 = 1200 > 1000. */
    const char *small[] = {"max_pixels", "1000", NULL};
    h = fr_harness_new("jpeg-decode", small, &err);
    REQUIRE(h != NULL);
    REQUIRE(fr_harness_start(h) == FR_OK);
    REQUIRE(encode(40, 30, &jpeg, &jpeg_size) == 0);
    in.payload.data = jpeg;
    in.payload.size = jpeg_size;
    CHECK_INT(fr_harness_push(h, &in), FR_REJECT);
    CHECK_CONTAINS(fr_harness_reason(h), "image too large: 40x30");
    fr_harness_free(h);
    tjFree(jpeg);
    return check_exit();
}
