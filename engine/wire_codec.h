/*
 * wire_codec.h — encodes and decodes the header frame specified in
 * include/flowrun/wire.h.
 */
#ifndef FLOWRUN_WIRE_CODEC_H
#define FLOWRUN_WIRE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "flowrun/record.h"
#include "flowrun/wire.h"

/* Bytes wire_encode needs for rec's header. */
size_t wire_header_size(const fr_record *rec);

/* Writes rec's header (type DATA or EOS) into out, which has room for
 * wire_header_size(rec) bytes.  Returns the bytes written. */
size_t wire_encode(const fr_record *rec, enum fr_wire_type type, uint8_t *out);

/* A decoded header: rec's strings point into arena (NUL-terminated copies),
 * attrs into attrs; both owned by the decoded struct, freed by
 * wire_decoded_free.  rec.payload has kind/rank/dims; data/size/buffer are
 * for the caller to fill from the payload frame. */
typedef struct wire_decoded {
    enum fr_wire_type type;
    fr_record rec;
    fr_attr *attrs;
    char *arena;
} wire_decoded;

/* Parses a header frame.  Returns 0, or -1 with the reason in err. */
int wire_decode(const uint8_t *frame, size_t size, wire_decoded *out, char *err, size_t err_size);
void wire_decoded_free(wire_decoded *d);

#endif
