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
 * attrs into attrs; both owned by the decoded struct and reused by the next
 * wire_decode into it (a receive loop allocates nothing per message), freed
 * by wire_decoded_free.  rec.payload has kind/rank/dims; data/size/buffer
 * are for the caller to fill from the payload frame.  Zero it before the
 * first use. */
typedef struct wire_decoded {
    enum fr_wire_type type;
    fr_record rec;
    fr_attr *attrs;
    size_t attrs_cap;
    char *arena;
    size_t arena_cap;
} wire_decoded;

/* Parses a header frame into out (valid until the next decode into it).
 * Returns 0, or -1 with the reason in err. */
int wire_decode(const uint8_t *frame, size_t size, wire_decoded *out, char *err, size_t err_size);
void wire_decoded_free(wire_decoded *d);

#endif
