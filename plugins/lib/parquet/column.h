/*
 * column.h — one leaf column of the Parquet writer: it collects values into
 * data pages (v1) as rows arrive, keeps the column chunk's statistics and
 * dictionary, and writes the chunk with its ColumnChunk metadata when the
 * row group is cut.
 */
#ifndef FLOWRUN_PQ_COLUMN_H
#define FLOWRUN_PQ_COLUMN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "codec.h"
#include "parquet.h"
#include "thrift.h"

/* Thrift `Type` values of the physical types used. */
typedef enum pq_type {
    PQ_TYPE_INT64 = 2,
    PQ_TYPE_FLOAT = 4,
    PQ_TYPE_BYTE_ARRAY = 6,
} pq_type;

typedef enum pq_shape {
    PQ_SHAPE_REQUIRED = 0, /* no levels */
    PQ_SHAPE_OPTIONAL = 1, /* definition level 0/1 per value */
    PQ_SHAPE_LIST = 2,     /* required list of required elements: levels follow from the width */
} pq_shape;

/* What every column of one writer shares: compression and scratch space. */
typedef struct pq_page_ctx {
    pq_codec codec;
    pq_compressor *compressor; /* NULL for PQ_CODEC_NONE */
    size_t page_bytes;
    pq_buf body;       /* a page before compression */
    pq_buf compressed; /* after */
    pq_buf header;     /* its PageHeader */
    pq_buf dict_page;  /* a chunk's dictionary page, header included */
} pq_page_ctx;

typedef struct pq_column {
    const char *path[3]; /* path in the schema, borrowed from the writer */
    int path_len;
    pq_type type;
    pq_shape shape;
    uint32_t list_width; /* PQ_SHAPE_LIST: elements per row */
    int dictionary;      /* BYTE_ARRAY with RLE_DICTIONARY data pages */

    /* The data page being filled. */
    pq_buf values; /* PLAIN values, or uint32 dictionary indices */
    pq_buf defs;   /* PQ_SHAPE_OPTIONAL: uint32 definition levels */
    uint32_t page_values, page_rows;

    /* The column chunk of the current row group. */
    pq_buf pages; /* data pages, headers included */
    uint64_t chunk_values, null_count;
    int64_t chunk_uncompressed; /* page headers plus uncompressed bodies */
    pq_buf dict;                /* PLAIN dictionary entries (u32 length + bytes) */
    uint32_t *slots;            /* open addressing: dictionary index + 1, 0 = empty */
    uint32_t *entry;            /* offset of each dictionary entry in dict */
    uint32_t dict_count, n_slots;
    int has_minmax;
    float fmin, fmax;
    int64_t imin, imax;
    pq_buf smin, smax;
} pq_column;

/* path elements are borrowed until pq_column_free. */
void pq_column_init(pq_column *c, const char *const *path, int path_len, pq_type type,
                    pq_shape shape, uint32_t list_width, int dictionary);
void pq_column_free(pq_column *c);

/* Values of the current row (the writer calls the one matching the type). */
void pq_column_put_floats(pq_column *c, const float *v, size_t n);
void pq_column_put_bytes(pq_column *c, const void *p, uint32_t n);
void pq_column_put_int64(pq_column *c, int has_value, int64_t v);

/* Ends the current row; starts a new data page when this one is full.
 * 0, or -1 with err (compression failure, out of memory). */
int pq_column_end_row(pq_column *c, pq_page_ctx *ctx, char *err, size_t err_size);

/* Uncompressed bytes of values held for the current row group. */
uint64_t pq_column_pending_bytes(const pq_column *c);

/* Writes the column chunk at file offset *offset through write(ctx), appends
 * its ColumnChunk struct to t (as a list element), advances *offset, adds the
 * sizes to *uncompressed / *compressed and resets the chunk. */
int pq_column_write_chunk(pq_column *c, pq_page_ctx *ctx, pq_write_fn write, void *wctx,
                          uint64_t *offset, pq_thrift *t, int64_t *uncompressed,
                          int64_t *compressed, char *err, size_t err_size);

#endif
