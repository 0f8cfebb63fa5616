/* codec.c — page compression through libzstd and libsnappy (see codec.h). */
#include "codec.h"

#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <zstd.h>

struct pq_compressor {
    pq_codec codec;
    int zstd_level;
    ZSTD_CCtx *zstd; /* reused for every page: creating one costs ~100 KiB */
};

pq_compressor *pq_compressor_new(pq_codec codec, int zstd_level, char *err, size_t err_size)
{
    pq_compressor *c = calloc(1, sizeof *c);
    if (!c)
        goto fail;
    c->codec = codec;
    c->zstd_level = zstd_level ? zstd_level : 3;
    if (codec == PQ_CODEC_ZSTD && !(c->zstd = ZSTD_createCCtx()))
        goto fail;
    return c;
fail:
    free(c);
    snprintf(err, err_size, "parquet: out of memory creating the compressor");
    return NULL;
}

void pq_compressor_free(pq_compressor *c)
{
    if (!c)
        return;
    ZSTD_freeCCtx(c->zstd);
    free(c);
}

int pq_codec_thrift(pq_codec codec)
{
    switch (codec) {
    case PQ_CODEC_SNAPPY:
        return 1;
    case PQ_CODEC_ZSTD:
        return 6;
    default:
        return 0;
    }
}

int pq_compress(pq_compressor *c, const void *in, size_t n, pq_buf *out, char *err, size_t err_size)
{
    size_t bound =
        c->codec == PQ_CODEC_ZSTD ? ZSTD_compressBound(n) : snappy_max_compressed_length(n);
    out->len = 0;
    if (pq_buf_reserve(out, bound) != 0) {
        snprintf(err, err_size, "parquet: out of memory compressing a %zu-byte page", n);
        return -1;
    }
    if (c->codec == PQ_CODEC_ZSTD) {
        size_t r = ZSTD_compressCCtx(c->zstd, out->data, bound, in, n, c->zstd_level);
        if (ZSTD_isError(r)) {
            snprintf(err, err_size, "parquet: zstd: %s", ZSTD_getErrorName(r));
            return -1;
        }
        out->len = r;
        return 0;
    }
    size_t len = bound;
    if (snappy_compress(in, n, (char *)out->data, &len) != SNAPPY_OK) {
        snprintf(err, err_size, "parquet: snappy failed on a %zu-byte page", n);
        return -1;
    }
    out->len = len;
    return 0;
}
