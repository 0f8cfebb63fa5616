/*
 * thrift.h — the Thrift compact protocol, encoding side only, as Parquet uses
 * it for page headers and the footer.
 *
 * Usage mirrors the IDL: open a struct, write fields by id in increasing
 * order, close it (writes the stop byte).  Field headers are delta-encoded
 * against the previous id of the same struct, so each open struct keeps its
 * own last id on a small stack.  Lists are written by their header followed
 * by the elements (pq_thrift_elem_* or nested structs).
 */
#ifndef FLOWRUN_PQ_THRIFT_H
#define FLOWRUN_PQ_THRIFT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define PQ_THRIFT_MAX_DEPTH 8

/* Compact protocol element types. */
enum {
    PQ_TT_BOOL_TRUE = 1,
    PQ_TT_BOOL_FALSE = 2,
    PQ_TT_I32 = 5,
    PQ_TT_I64 = 6,
    PQ_TT_BINARY = 8,
    PQ_TT_LIST = 9,
    PQ_TT_STRUCT = 12,
};

typedef struct pq_thrift {
    pq_buf *out; /* borrowed */
    int depth;
    int16_t last_id[PQ_THRIFT_MAX_DEPTH];
} pq_thrift;

static inline void pq_thrift_init(pq_thrift *t, pq_buf *out)
{
    *t = (pq_thrift){.out = out, .depth = -1};
}

/* A struct at top level or as a list element (no field header). */
void pq_thrift_struct_begin(pq_thrift *t);
/* A struct as field id of the enclosing struct. */
void pq_thrift_field_struct(pq_thrift *t, int16_t id);
void pq_thrift_struct_end(pq_thrift *t);

void pq_thrift_i32(pq_thrift *t, int16_t id, int32_t v);
void pq_thrift_i64(pq_thrift *t, int16_t id, int64_t v);
void pq_thrift_bool(pq_thrift *t, int16_t id, int v);
void pq_thrift_binary(pq_thrift *t, int16_t id, const void *p, size_t n);
void pq_thrift_string(pq_thrift *t, int16_t id, const char *s);
/* A list field of n elements of elem_type; the elements follow. */
void pq_thrift_list(pq_thrift *t, int16_t id, uint8_t elem_type, uint32_t n);

void pq_thrift_elem_i32(pq_thrift *t, int32_t v);
void pq_thrift_elem_string(pq_thrift *t, const char *s);

#endif
