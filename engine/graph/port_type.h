/*
 * port_type.h — the typed ports (docs/architecture.md, "The plugin ABI"):
 *     bytes/jpeg (or media "*")   image/u8[h,w,3]   tensor/f32[2048]   *
 * A dim is a number or a name; a name matches any size and is bound by the
 * upstream type, so "tensor/f32[n]" → "tensor/f32[n]" keeps the size.
 */
#ifndef FLOWRUN_PORT_TYPE_H
#define FLOWRUN_PORT_TYPE_H

#include <stddef.h>
#include <stdint.h>

#include "flowrun/record.h"

#define PORT_NAME_MAX 24

typedef struct port_dim {
    int64_t size;             /* > 0, or -1 when named */
    char name[PORT_NAME_MAX]; /* when size == -1 */
} port_dim;

typedef struct port_type {
    int any;                  /* "*" */
    char kind[PORT_NAME_MAX]; /* bytes, image, tensor */
    char sub[PORT_NAME_MAX];  /* jpeg, *, u8, f32 */
    uint32_t rank;
    port_dim dims[FR_MAX_RANK];
} port_type;

/* Parses text.  Returns 0, or -1 with the reason in err. */
int port_type_parse(const char *text, port_type *out, char *err, size_t err_size);

/* Writes t as text ("image/u8[224,224,3]") into buf. */
void port_type_format(const port_type *t, char *buf, size_t size);

/* Can data of type `out` (an upstream's output) flow into a port declared
 * as `in`?  Returns 1, or 0 with the reason in why ("dim 1: 100 vs 224"). */
int port_type_accepts(const port_type *in, const port_type *out, char *why, size_t why_size);

/* The type a stage emits, given its declared input and output patterns and
 * the upstream type it receives: names of the output bound by the input
 * (e.g. n = 2048) are replaced by sizes. */
void port_type_bind(const port_type *in_pattern, const port_type *upstream,
                    const port_type *out_pattern, port_type *result);

/* Does a record's payload fit type t?  Used on received records. */
int port_type_matches_payload(const port_type *t, const fr_payload *p);

/* Replaces each ${key} in pattern by lookup(ctx, key) (a stage's config
 * value).  Returns 0, or -1 with err naming an unknown key. */
int port_type_expand(const char *pattern, const char *(*lookup)(void *ctx, const char *key),
                     void *ctx, char *out, size_t size, char *err, size_t err_size);
#endif
