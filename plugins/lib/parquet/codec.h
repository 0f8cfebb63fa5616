/*
 * codec.h — page compression: none, snappy (libsnappy), zstd (libzstd).
 */
#ifndef FLOWRUN_PQ_CODEC_H
#define FLOWRUN_PQ_CODEC_H

#include <stddef.h>

#include "buf.h"
#include "parquet.h"

typedef struct pq_compressor pq_compressor;

/* NULL with err set when out of memory.  Owned by the caller. */
pq_compressor *pq_compressor_new(pq_codec codec, int zstd_level, char *err, size_t err_size);
void pq_compressor_free(pq_compressor *c);

/* The Thrift CompressionCodec value written in the column metadata. */
int pq_codec_thrift(pq_codec codec);

/* Replaces out's contents with in[0..n) compressed.  With PQ_CODEC_NONE the
 * caller writes `in` directly and never calls this.  0, or -1 with err. */
int pq_compress(pq_compressor *c, const void *in, size_t n, pq_buf *out, char *err,
                size_t err_size);

#endif
