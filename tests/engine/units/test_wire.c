/* The header frame of wire.h: round trip, byte layout, and corrupt input. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "wire_check.h"
#include "wire_codec.h"

static void round_trip(void)
{
    fr_attr attrs[] = {{"etag", "\"abc\""}, {"size", "5120"}};
    fr_record rec = {.id = "images:Training/Apple Braeburn/1_100.jpg",
                     .key = "Training/Apple Braeburn/1_100.jpg",
                     .label = "Apple Braeburn",
                     .model_version = 0x0102030405060708ull,
                     .attrs = attrs,
                     .n_attrs = 2};
    rec.payload.kind = FR_KIND_IMAGE;
    rec.payload.rank = 3;
    rec.payload.dims[0] = 224;
    rec.payload.dims[1] = 224;
    rec.payload.dims[2] = 3;
    strcpy(rec.payload.media, "raw");
    size_t size = wire_header_size(&rec);
    uint8_t *frame = malloc(size);
    CHECK_INT(wire_encode(&rec, FR_WIRE_DATA, frame), size);
    /* The documented layout: magic, versions, fixed size, little-endian fields. */
    CHECK(frame[0] == 'F' && frame[1] == 'R' && frame[2] == 1 && frame[3] == 0);
    CHECK_INT(frame[4] | frame[5] << 8, FR_WIRE_FIXED_SIZE);
    CHECK_INT(frame[6], FR_WIRE_DATA);
    CHECK_INT(frame[7], FR_KIND_IMAGE);
    CHECK_INT(frame[12] | frame[13] << 8, 224);
    CHECK_INT(frame[28], 0x08);
    CHECK_INT(frame[35], 0x01);
    wire_decoded d = {0};
    char err[256];
    REQUIRE_VOID(wire_decode(frame, size, &d, err, sizeof err) == 0);
    CHECK_INT(d.type, FR_WIRE_DATA);
    CHECK_STR(d.rec.id, rec.id);
    CHECK_STR(d.rec.key, rec.key);
    CHECK_STR(d.rec.label, rec.label);
    CHECK_STR(d.rec.payload.media, "raw");
    CHECK(d.rec.model_version == rec.model_version);
    CHECK_INT(d.rec.payload.rank, 3);
    CHECK_INT(d.rec.payload.dims[1], 224);
    CHECK_INT(d.rec.n_attrs, 2);
    CHECK_STR(fr_record_attr(&d.rec, "etag"), "\"abc\"");
    CHECK_STR(fr_record_attr(&d.rec, "size"), "5120");
    wire_decoded_free(&d);

    /* Every truncation of the frame is refused, never read past. */
    for (size_t cut = 0; cut < size; cut++) { /* d's memory is reused across decodes */
        uint8_t *part = malloc(cut ? cut : 1);
        memcpy(part, frame, cut);
        CHECK(wire_decode(part, cut, &d, err, sizeof err) != 0);
        free(part);
    }
    frame[2] = 2;
    CHECK(wire_decode(frame, size, &d, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "wire format 2.0");
    wire_decoded_free(&d);
    free(frame);
}

static void newer_minor_is_read(void)
{
    /* A 1.1 writer that appended 8 bytes of fixed fields: a 1.0 reader skips them. */
    fr_record rec = {.id = "i", .key = "k", .label = "l"};
    size_t size = wire_header_size(&rec);
    uint8_t frame[256], newer[264];
    wire_encode(&rec, FR_WIRE_EOS, frame);
    memcpy(newer, frame, FR_WIRE_FIXED_SIZE);
    memset(newer + FR_WIRE_FIXED_SIZE, 0xee, 8);
    memcpy(newer + FR_WIRE_FIXED_SIZE + 8, frame + FR_WIRE_FIXED_SIZE, size - FR_WIRE_FIXED_SIZE);
    newer[3] = 1;
    newer[4] = FR_WIRE_FIXED_SIZE + 8;
    wire_decoded d = {0};
    char err[256];
    REQUIRE_VOID(wire_decode(newer, size + 8, &d, err, sizeof err) == 0);
    CHECK_INT(d.type, FR_WIRE_EOS);
    CHECK_STR(d.rec.key, "k");
    wire_decoded_free(&d);
}

static int payload_ok(fr_kind kind, uint32_t rank, uint32_t d0, uint32_t d1, uint32_t d2,
                      size_t size, char *err, size_t err_size)
{
    fr_payload p = {.kind = kind, .rank = rank, .dims = {d0, d1, d2}};
    return wire_check_payload(&p, size, err, err_size) == 0;
}

static void payload_size_matches_dims(void)
{
    char err[256] = "";
    CHECK(payload_ok(FR_KIND_IMAGE, 3, 224, 224, 3, 150528, err, sizeof err));
    CHECK(!payload_ok(FR_KIND_IMAGE, 3, 224, 224, 3, 16, err, sizeof err));
    CHECK_STR(err, "image 224x224x3 needs 150528 bytes, the payload has 16");
    CHECK(!payload_ok(FR_KIND_IMAGE, 3, 224, 224, 3, 150529, err, sizeof err));
    CHECK(!payload_ok(FR_KIND_IMAGE, 2, 4, 4, 0, 16, err, sizeof err));
    CHECK_STR(err, "image of rank 2");
    CHECK(!payload_ok(FR_KIND_IMAGE, 3, 0, 4, 3, 0, err, sizeof err));
    CHECK_STR(err, "image 0x4x3 declares zero bytes");
    CHECK(!payload_ok(FR_KIND_IMAGE, 3, UINT32_MAX, UINT32_MAX, UINT32_MAX, 1, err, sizeof err));
    CHECK_CONTAINS(err, "more than 2^64");
    CHECK(payload_ok(FR_KIND_TENSOR, 1, 2048, 0, 0, 8192, err, sizeof err));
    CHECK(!payload_ok(FR_KIND_TENSOR, 1, 2048, 0, 0, 2048, err, sizeof err));
    CHECK(!payload_ok(FR_KIND_TENSOR, 0, 0, 0, 0, 0, err, sizeof err));
    CHECK(payload_ok(FR_KIND_BYTES, 0, 0, 0, 0, 12345, err, sizeof err));
    CHECK(payload_ok(FR_KIND_NONE, 0, 0, 0, 0, 0, err, sizeof err));
    CHECK(!payload_ok(FR_KIND_NONE, 0, 0, 0, 0, 1, err, sizeof err));
    CHECK(!payload_ok((fr_kind)9, 0, 0, 0, 0, 0, err, sizeof err));
    CHECK_STR(err, "unknown payload kind 9");
}

int main(void)
{
    round_trip();
    newer_minor_is_read();
    payload_size_matches_dims();
    return check_exit();
}
