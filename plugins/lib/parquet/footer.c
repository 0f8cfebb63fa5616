/* footer.c — FileMetaData serialization (see footer.h). */
#include "footer.h"

enum { REQUIRED = 0, OPTIONAL = 1, REPEATED = 2 };
enum { CONVERTED_UTF8 = 0, CONVERTED_LIST = 3 };
enum { LOGICAL_STRING = 1, LOGICAL_LIST = 3 };

/* A group or leaf SchemaElement.  type < 0: a group of `children`. */
static void element(pq_thrift *t, const char *name, int type, int repetition, int children,
                    int converted, int logical)
{
    pq_thrift_struct_begin(t);
    if (type >= 0)
        pq_thrift_i32(t, 1, type);
    pq_thrift_i32(t, 3, repetition);
    pq_thrift_string(t, 4, name);
    if (type < 0)
        pq_thrift_i32(t, 5, children);
    if (converted >= 0)
        pq_thrift_i32(t, 6, converted);
    if (logical > 0) { /* LogicalType union: an empty struct in the chosen field */
        pq_thrift_field_struct(t, 10);
        pq_thrift_field_struct(t, (int16_t)logical);
        pq_thrift_struct_end(t);
        pq_thrift_struct_end(t);
    }
    pq_thrift_struct_end(t);
}

static void column_elements(pq_thrift *t, const pq_column *c)
{
    if (c->shape == PQ_SHAPE_LIST) { /* the 3-level LIST of the spec */
        element(t, c->path[0], -1, REQUIRED, 1, CONVERTED_LIST, LOGICAL_LIST);
        element(t, c->path[1], -1, REPEATED, 1, -1, 0);
        element(t, c->path[2], c->type, REQUIRED, 0, -1, 0);
        return;
    }
    int utf8 = c->type == PQ_TYPE_BYTE_ARRAY;
    element(t, c->path[0], c->type, c->shape == PQ_SHAPE_OPTIONAL ? OPTIONAL : REQUIRED, 0,
            utf8 ? CONVERTED_UTF8 : -1, utf8 ? LOGICAL_STRING : 0);
}

static uint32_t schema_size(const pq_footer *f)
{
    uint32_t n = 1; /* the root */
    for (size_t i = 0; i < f->n_columns; i++)
        n += f->columns[i].shape == PQ_SHAPE_LIST ? 3 : 1;
    return n;
}

void pq_footer_build(pq_buf *out, const pq_footer *f)
{
    pq_thrift t;
    pq_thrift_init(&t, out);
    pq_thrift_struct_begin(&t);
    pq_thrift_i32(&t, 1, 1); /* format version 1: readable by every reader */
    pq_thrift_list(&t, 2, PQ_TT_STRUCT, schema_size(f));
    element(&t, "schema", -1, REQUIRED, (int)f->n_columns, -1, 0);
    for (size_t i = 0; i < f->n_columns; i++)
        column_elements(&t, &f->columns[i]);
    pq_thrift_i64(&t, 3, (int64_t)f->rows);
    pq_thrift_list(&t, 4, PQ_TT_STRUCT, f->n_row_groups);
    pq_buf_append(out, f->row_groups->data, f->row_groups->len);
    if (f->n_metadata) {
        pq_thrift_list(&t, 5, PQ_TT_STRUCT, f->n_metadata);
        pq_buf_append(out, f->metadata->data, f->metadata->len);
    }
    pq_thrift_string(&t, 6, f->created_by);
    /* Column orders say min_value/max_value follow each type's own order. */
    pq_thrift_list(&t, 7, PQ_TT_STRUCT, (uint32_t)f->n_columns);
    for (size_t i = 0; i < f->n_columns; i++) {
        pq_thrift_struct_begin(&t);
        pq_thrift_field_struct(&t, 1);
        pq_thrift_struct_end(&t);
        pq_thrift_struct_end(&t);
    }
    pq_thrift_struct_end(&t);
}

void pq_footer_kv(pq_buf *out, const char *key, const char *value)
{
    pq_thrift t;
    pq_thrift_init(&t, out);
    pq_thrift_struct_begin(&t);
    pq_thrift_string(&t, 1, key);
    pq_thrift_string(&t, 2, value ? value : "");
    pq_thrift_struct_end(&t);
}
