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
