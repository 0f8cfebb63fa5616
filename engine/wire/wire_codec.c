#include "wire_codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Little-endian stores and loads: plain copies on little-endian hosts, byte
 * by byte elsewhere, so the format is the same everywhere. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define DEFINE_LE(bits)                                                                            \
    static void put_u##bits(uint8_t *p, uint##bits##_t v)                                          \
    {                                                                                              \
        memcpy(p, &v, sizeof v);                                                                   \
    }                                                                                              \
    static uint##bits##_t get_u##bits(const uint8_t *p)                                            \
    {                                                                                              \
        uint##bits##_t v;                                                                          \
        memcpy(&v, p, sizeof v);                                                                   \
        return v;                                                                                  \
    }
#else
#define DEFINE_LE(bits)                                                                            \
    static void put_u##bits(uint8_t *p, uint##bits##_t v)                                          \
    {                                                                                              \
        for (size_t i = 0; i < sizeof v; i++)                                                      \
            p[i] = (uint8_t)(v >> (8 * i));                                                        \
    }                                                                                              \
    static uint##bits##_t get_u##bits(const uint8_t *p)                                            \
    {                                                                                              \
        uint##bits##_t v = 0;                                                                      \
        for (size_t i = 0; i < sizeof v; i++)                                                      \
            v |= (uint##bits##_t)p[i] << (8 * i);                                                  \
        return v;                                                                                  \
    }
#endif
DEFINE_LE(16)
DEFINE_LE(32)
DEFINE_LE(64)

static size_t len_of(const char *s)
{
    return s ? strlen(s) : 0;
}

size_t wire_header_size(const fr_record *rec)
{
    size_t n = FR_WIRE_FIXED_SIZE + 4 * (4 + 2 * (size_t)rec->n_attrs);
    n += len_of(rec->id) + len_of(rec->key) + len_of(rec->label) + len_of(rec->payload.media);
    for (uint32_t i = 0; i < rec->n_attrs; i++)
        n += len_of(rec->attrs[i].name) + len_of(rec->attrs[i].value);
    return n;
}

static uint8_t *put_str(uint8_t *p, const char *s)
{
    size_t n = len_of(s);
    put_u32(p, (uint32_t)n);
    if (n)
        memcpy(p + 4, s, n);
    return p + 4 + n;
}

size_t wire_encode(const fr_record *rec, enum fr_wire_type type, uint8_t *out)
{
    memset(out, 0, FR_WIRE_FIXED_SIZE);
    out[0] = FR_WIRE_MAGIC0;
    out[1] = FR_WIRE_MAGIC1;
    out[2] = FR_WIRE_MAJOR;
    out[3] = FR_WIRE_MINOR;
    put_u16(out + 4, FR_WIRE_FIXED_SIZE);
    out[6] = (uint8_t)type;
    out[7] = (uint8_t)rec->payload.kind;
    out[8] = (uint8_t)rec->payload.rank;
    for (int i = 0; i < FR_MAX_RANK; i++)
        put_u32(out + 12 + 4 * i, rec->payload.dims[i]);
    put_u64(out + 28, rec->model_version);
    put_u32(out + 36, rec->n_attrs);
    uint8_t *p = out + FR_WIRE_FIXED_SIZE;
    p = put_str(p, rec->id);
    p = put_str(p, rec->key);
    p = put_str(p, rec->label);
    p = put_str(p, rec->payload.media);
    for (uint32_t i = 0; i < rec->n_attrs; i++) {
        p = put_str(p, rec->attrs[i].name);
        p = put_str(p, rec->attrs[i].value);
    }
    return (size_t)(p - out);
}

static int check_fixed(const uint8_t *f, size_t size, char *err, size_t err_size)
{
    if (size < FR_WIRE_FIXED_SIZE || f[0] != FR_WIRE_MAGIC0 || f[1] != FR_WIRE_MAGIC1) {
        snprintf(err, err_size, "not a flowrun message (%zu bytes, bad magic)", size);
        return -1;
    }
    if (f[2] != FR_WIRE_MAJOR) {
        snprintf(err, err_size, "wire format %u.%u, this flowrun speaks %d.x", f[2], f[3],
                 FR_WIRE_MAJOR);
        return -1;
    }
    uint16_t fixed = get_u16(f + 4);
    if (fixed < FR_WIRE_FIXED_SIZE || fixed > size || f[8] > FR_MAX_RANK) {
        snprintf(err, err_size, "corrupt header (fixed size %u, rank %u)", fixed, f[8]);
        return -1;
    }
    if (f[6] != FR_WIRE_DATA && f[6] != FR_WIRE_EOS) {
        snprintf(err, err_size, "unknown message type %u", f[6]);
        return -1;
    }
    return 0;
}

/* Copies the next length-prefixed string to *arena; NULL if it overruns. */
static const char *take_str(const uint8_t **p, const uint8_t *end, char **arena)
{
    if (end - *p < 4)
        return NULL;
    uint32_t n = get_u32(*p);
    if ((size_t)(end - *p - 4) < n)
        return NULL;
    char *s = *arena;
    memcpy(s, *p + 4, n);
    s[n] = '\0';
    *arena += n + 1;
    *p += 4 + n;
    return s;
}

/* Grows *buf to at least need bytes, keeping it when it is large enough. */
static int reserve(void **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    void *grown = realloc(*buf, need);
    if (!grown)
        return -1;
    *buf = grown;
    *cap = need;
    return 0;
}

int wire_decode(const uint8_t *f, size_t size, wire_decoded *out, char *err, size_t err_size)
{
    memset(&out->rec, 0, sizeof out->rec);
    if (check_fixed(f, size, err, err_size) != 0)
        return -1;
    uint32_t n_attrs = get_u32(f + 36);
    const uint8_t *p = f + get_u16(f + 4), *end = f + size;
    if (n_attrs > (size_t)(end - p) / 8) {
        snprintf(err, err_size, "corrupt header (%u attributes in %zu bytes)", n_attrs, size);
        return -1;
    }
    /* Every string fits in the frame, so frame size + terminators bounds the arena. */
    if (reserve((void **)&out->arena, &out->arena_cap, size + 4 + 2 * (size_t)n_attrs) != 0 ||
        reserve((void **)&out->attrs, &out->attrs_cap, (n_attrs ? n_attrs : 1) * sizeof(fr_attr))) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    out->type = (enum fr_wire_type)f[6];
    fr_record *r = &out->rec;
    r->payload.kind = (fr_kind)f[7];
    r->payload.rank = f[8];
    for (uint32_t i = 0; i < r->payload.rank; i++) /* dims past the rank stay 0 */
        r->payload.dims[i] = get_u32(f + 12 + 4 * i);
    r->model_version = get_u64(f + 28);
    char *arena = out->arena;
    const char *media;
    r->id = take_str(&p, end, &arena);
    r->key = take_str(&p, end, &arena);
    r->label = take_str(&p, end, &arena);
    media = take_str(&p, end, &arena);
    int ok = r->id && r->key && r->label && media && strlen(media) < FR_MEDIA_MAX;
    for (uint32_t i = 0; ok && i < n_attrs; i++) {
        out->attrs[i].name = take_str(&p, end, &arena);
        out->attrs[i].value = take_str(&p, end, &arena);
        ok = out->attrs[i].name && out->attrs[i].value;
    }
    if (!ok) {
        snprintf(err, err_size, "corrupt header (string table overruns the frame)");
        return -1;
    }
    strcpy(r->payload.media, media);
    r->attrs = n_attrs ? out->attrs : NULL;
    r->n_attrs = n_attrs;
    return 0;
}

void wire_decoded_free(wire_decoded *d)
{
    free(d->arena);
    free(d->attrs);
    memset(d, 0, sizeof *d);
}
