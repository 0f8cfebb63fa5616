/*
 * footer.h — the file footer: Thrift FileMetaData (schema, row groups,
 * key/value metadata, created_by, column orders).
 */
#ifndef FLOWRUN_PQ_FOOTER_H
#define FLOWRUN_PQ_FOOTER_H

#include "column.h"

typedef struct pq_footer {
    const pq_column *columns; /* the leaves, in schema order; borrowed */
    size_t n_columns;
    uint64_t rows;
    const pq_buf *row_groups; /* RowGroup structs, serialized back to back */
    uint32_t n_row_groups;
    const pq_buf *metadata; /* KeyValue structs, serialized back to back */
    uint32_t n_metadata;
    const char *created_by;
} pq_footer;

/* Appends the serialized FileMetaData to out (check out->failed). */
void pq_footer_build(pq_buf *out, const pq_footer *f);

/* Appends one KeyValue struct (for pq_footer.metadata). */
void pq_footer_kv(pq_buf *out, const char *key, const char *value);

#endif
