/* fuzz-wire: the record header decoder (engine/wire/wire_codec.c), which reads
 * frames from other processes and hosts.  A frame that decodes is encoded
 * again and must decode to the same strings. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static wire_decoded first, again; /* reused, as a receive loop does */
    char err[256];
    /* A copy of exactly size bytes, so reading past the frame is caught. */
    uint8_t *frame = malloc(size ? size : 1);
    if (!frame)
        return 0;
    memcpy(frame, data, size);
    if (wire_decode(frame, size, &first, err, sizeof err) == 0) {
        size_t n = wire_header_size(&first.rec);
        uint8_t *out = malloc(n);
        if (out) {
            size_t wrote = wire_encode(&first.rec, first.type, out);
            if (wrote > n || wire_decode(out, wrote, &again, err, sizeof err) != 0 ||
                !same(first.rec.key, again.rec.key) || !same(first.rec.id, again.rec.id) ||
                !same(first.rec.label, again.rec.label))
                abort(); /* the codec does not read back what it writes */
            free(out);
        }
    }
    free(frame);
    return 0;
}
