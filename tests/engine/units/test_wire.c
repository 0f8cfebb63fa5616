/* The header frame of wire.h: round trip, byte layout, and corrupt input. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
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

int main(void)
{
    round_trip();
    newer_minor_is_read();
    return check_exit();
}
