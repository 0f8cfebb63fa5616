/*
 * test_plugin — the resize-224 plugin wrapper through the real loader and
 * harness: schema checks, the output type from width/height, metadata
 * carried from input to output, wrong payloads refused with a reason, and
 * images of changing sizes in one stream.
 */
#include <flowrun/harness.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static void check_config_errors(void)
{
    const char *bad_filter[] = {"filter", "lanczos", NULL};
    char *err = NULL;
    fr_harness *h = fr_harness_new("resize-224", bad_filter, &err);
    CHECK(h == NULL);
    CHECK_CONTAINS(err, "filter");
    free(err);
    err = NULL;
    const char *bad_width[] = {"width", "0", NULL};
    h = fr_harness_new("resize-224", bad_width, &err);
    CHECK(h == NULL);
    CHECK_CONTAINS(err, "width");
    free(err);
}

static fr_record image_record(uint8_t *px, uint32_t h, uint32_t w, const fr_attr *attrs)
{
    fr_record r = {.id = "src:Test/Banana/3_100.jpg",
                   .key = "Test/Banana/3_100.jpg",
                   .label = "Banana",
                   .model_version = 3,
                   .attrs = attrs,
                   .n_attrs = 1};
    r.payload = (fr_payload){
        .kind = FR_KIND_IMAGE, .rank = 3, .dims = {h, w, 3}, .data = px, .size = (size_t)h * w * 3};
    return r;
}

/* nearest on a constant image must give the same constant, whatever the
 * sizes; the output is h×w×3. */
static void check_output(fr_harness *h, uint32_t out_h, uint32_t out_w, uint8_t value)
{
    REQUIRE_VOID(fr_harness_output_count(h) == 1);
    const fr_record *out = fr_harness_output(h, 0);
    CHECK_STR(out->id, "src:Test/Banana/3_100.jpg");
    CHECK_STR(out->key, "Test/Banana/3_100.jpg");
    CHECK_STR(out->label, "Banana");
    CHECK_INT(out->model_version, 3);
    CHECK_STR(fr_record_attr(out, "etag"), "x1");
    CHECK_INT(out->payload.kind, FR_KIND_IMAGE);
    CHECK_INT(out->payload.rank, 3);
    CHECK_INT(out->payload.dims[0], out_h);
    CHECK_INT(out->payload.dims[1], out_w);
    CHECK_INT(out->payload.dims[2], 3);
    REQUIRE_VOID(out->payload.size == (size_t)out_h * out_w * 3);
    size_t same = 0;
    const uint8_t *px = out->payload.data;
    for (size_t i = 0; i < out->payload.size; i++)
        same += px[i] == value;
    CHECK_INT(same, out->payload.size);
}

int main(void)
{
    check_config_errors();

    const char *config[] = {"width", "64", "height", "32", "filter", "nearest", NULL};
    char *err = NULL;
    fr_harness *h = fr_harness_new("resize-224", config, &err);
    REQUIRE(h != NULL);
    fr_harness_set_input_type(h, "image/u8[h,w,3]");
    REQUIRE(fr_harness_start(h) == FR_OK);
    CHECK_STR(fr_harness_output_type(h), "image/u8[32,64,3]");

    const fr_attr attrs[] = {{"etag", "x1"}};
    uint8_t *px = malloc(100 * 100 * 3);
    REQUIRE(px != NULL);
    /* Sizes change within the stream (a new plan each time, then reused). */
    const uint32_t sizes[][2] = {{100, 100}, {7, 13}, {100, 100}, {1, 1}, {80, 3}, {7, 13}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint8_t value = (uint8_t)(40 + 30 * i);
        memset(px, value, 100 * 100 * 3);
        fr_record in = image_record(px, sizes[i][0], sizes[i][1], attrs);
        CHECK_INT(fr_harness_push(h, &in), FR_OK);
        check_output(h, 32, 64, value);
        fr_harness_clear_outputs(h);
    }

    /* Wrong payloads: bytes, RGBA, a size that does not match the dims,
     * a zero dimension, no payload. */
    fr_record bytes = image_record(px, 10, 10, attrs);
    bytes.payload = (fr_payload){.kind = FR_KIND_BYTES, .media = "jpeg", .data = px, .size = 300};
    CHECK_INT(fr_harness_push(h, &bytes), FR_REJECT);
    CHECK_CONTAINS(fr_harness_reason(h), "expected an image/u8[h,w,3] payload, got kind 1");
    fr_record rgba = image_record(px, 10, 10, attrs);
    rgba.payload.dims[2] = 4;
    rgba.payload.size = 400;
    CHECK_INT(fr_harness_push(h, &rgba), FR_REJECT);
    CHECK_CONTAINS(fr_harness_reason(h), "dims [10,10,4]");
    fr_record short_data = image_record(px, 10, 10, attrs);
    short_data.payload.size = 299;
    CHECK_INT(fr_harness_push(h, &short_data), FR_REJECT);
    CHECK_CONTAINS(fr_harness_reason(h), "299 bytes");
    fr_record zero = image_record(px, 0, 10, attrs);
    CHECK_INT(fr_harness_push(h, &zero), FR_REJECT);
    CHECK_CONTAINS(fr_harness_reason(h), "expected an image/u8[h,w,3]");
    fr_record none = image_record(px, 10, 10, attrs);
    none.payload = (fr_payload){.kind = FR_KIND_NONE};
    CHECK_INT(fr_harness_push(h, &none), FR_REJECT);
    CHECK_INT(fr_harness_output_count(h), 0);
    fr_harness_free(h);

    /* The default output is 224×224, for the stb filters too. */
    const char *stb[] = {"filter", "stb-catmullrom", "edge", "clamp", NULL};
    h = fr_harness_new("resize-224", stb, &err);
    REQUIRE(h != NULL);
    REQUIRE(fr_harness_start(h) == FR_OK);
    CHECK_STR(fr_harness_output_type(h), "image/u8[224,224,3]");
    memset(px, 77, 100 * 100 * 3);
    fr_record in = image_record(px, 100, 100, attrs);
    CHECK_INT(fr_harness_push(h, &in), FR_OK);
    check_output(h, 224, 224, 77);
    fr_harness_free(h);
    free(px);
    return check_exit();
}
