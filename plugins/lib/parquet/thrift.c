/* thrift.c — Thrift compact protocol encoder (see thrift.h). */
#include "thrift.h"

#include <string.h>

static uint64_t zigzag64(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static void field_header(pq_thrift *t, int16_t id, uint8_t type)
{
    int16_t delta = (int16_t)(id - t->last_id[t->depth]);
    if (delta > 0 && delta <= 15) {
        pq_buf_byte(t->out, (uint8_t)(delta << 4 | type));
    } else {
        pq_buf_byte(t->out, type);
        pq_buf_varint(t->out, zigzag64(id));
    }
    t->last_id[t->depth] = id;
}

void pq_thrift_struct_begin(pq_thrift *t)
{
    /* Depth is fixed by the Parquet IDL (at most 5 levels); overflowing it
     * is a programming error that the sticky flag turns into a write error. */
    if (t->depth + 1 >= PQ_THRIFT_MAX_DEPTH) {
        t->out->failed = 1;
        return;
    }
    t->last_id[++t->depth] = 0;
}

void pq_thrift_field_struct(pq_thrift *t, int16_t id)
{
    field_header(t, id, PQ_TT_STRUCT);
    pq_thrift_struct_begin(t);
}

void pq_thrift_struct_end(pq_thrift *t)
{
    pq_buf_byte(t->out, 0);
    if (t->depth >= 0)
        t->depth--;
}

void pq_thrift_i32(pq_thrift *t, int16_t id, int32_t v)
{
    field_header(t, id, PQ_TT_I32);
    pq_buf_varint(t->out, zigzag64(v));
}

void pq_thrift_i64(pq_thrift *t, int16_t id, int64_t v)
{
    field_header(t, id, PQ_TT_I64);
    pq_buf_varint(t->out, zigzag64(v));
}

void pq_thrift_bool(pq_thrift *t, int16_t id, int v)
{
    /* Compact protocol folds a bool field's value into its header type. */
    field_header(t, id, v ? PQ_TT_BOOL_TRUE : PQ_TT_BOOL_FALSE);
}

void pq_thrift_binary(pq_thrift *t, int16_t id, const void *p, size_t n)
{
    field_header(t, id, PQ_TT_BINARY);
    pq_buf_varint(t->out, n);
    pq_buf_append(t->out, p, n);
}

void pq_thrift_string(pq_thrift *t, int16_t id, const char *s)
{
    pq_thrift_binary(t, id, s, strlen(s));
}

void pq_thrift_list(pq_thrift *t, int16_t id, uint8_t elem_type, uint32_t n)
{
    field_header(t, id, PQ_TT_LIST);
    if (n < 15) {
        pq_buf_byte(t->out, (uint8_t)(n << 4 | elem_type));
    } else {
        pq_buf_byte(t->out, (uint8_t)(0xf0 | elem_type));
        pq_buf_varint(t->out, n);
    }
}

void pq_thrift_elem_i32(pq_thrift *t, int32_t v)
{
    pq_buf_varint(t->out, zigzag64(v));
}

void pq_thrift_elem_string(pq_thrift *t, const char *s)
{
    size_t n = strlen(s);
    pq_buf_varint(t->out, n);
    pq_buf_append(t->out, s, n);
}
