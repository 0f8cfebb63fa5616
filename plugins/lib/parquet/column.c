/* column.c — values, data pages and the column chunk of one leaf column (see column.h). */
#include "column.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "rle.h"

enum { ENC_PLAIN = 0, ENC_RLE = 3, ENC_RLE_DICTIONARY = 8 };
enum { PAGE_DATA = 0, PAGE_DICTIONARY = 2 };

void pq_column_init(pq_column *c, const char *const *path, int path_len, pq_type type,
                    pq_shape shape, uint32_t list_width, int dictionary)
{
    *c = (pq_column){.path_len = path_len,
                     .type = type,
                     .shape = shape,
                     .list_width = list_width,
                     .dictionary = dictionary};
    for (int i = 0; i < path_len; i++)
        c->path[i] = path[i];
}

void pq_column_free(pq_column *c)
{
    pq_buf_free(&c->values);
    pq_buf_free(&c->defs);
    pq_buf_free(&c->pages);
    pq_buf_free(&c->dict);
    pq_buf_free(&c->smin);
    pq_buf_free(&c->smax);
    free(c->slots);
    free(c->entry);
}

void pq_column_put_floats(pq_column *c, const float *v, size_t n)
{
    pq_buf_append(&c->values, v, n * sizeof *v); /* PLAIN is little-endian IEEE */
    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i]))
            continue; /* NaN has no place in min/max ordering */
        if (!c->has_minmax) {
            c->fmin = c->fmax = v[i];
            c->has_minmax = 1;
        } else if (v[i] < c->fmin) {
            c->fmin = v[i];
        } else if (v[i] > c->fmax) {
            c->fmax = v[i];
        }
    }
    c->page_values += (uint32_t)n;
}

static int bytes_less(const void *a, size_t na, const void *b, size_t nb)
{
    int r = na && nb ? memcmp(a, b, na < nb ? na : nb) : 0; /* an empty value may be NULL */
    return r < 0 || (r == 0 && na < nb);
}

static void set_bytes(pq_buf *b, const void *p, uint32_t n)
{
    b->len = 0;
    pq_buf_append(b, p, n);
}

void pq_column_put_bytes(pq_column *c, const void *p, uint32_t n)
{
    if (c->dictionary) {
        uint32_t index = pq_dict_index(c, p, n);
        pq_buf_append(&c->values, &index, sizeof index);
    } else {
        pq_buf_u32le(&c->values, n);
        pq_buf_append(&c->values, p, n);
    }
    /* Parquet orders BYTE_ARRAY statistics as unsigned bytes. */
    if (!c->has_minmax || bytes_less(p, n, c->smin.data, c->smin.len))
        set_bytes(&c->smin, p, n);
    if (!c->has_minmax || bytes_less(c->smax.data, c->smax.len, p, n))
        set_bytes(&c->smax, p, n);
    c->has_minmax = 1;
    c->page_values++;
}

void pq_column_put_int64(pq_column *c, int has_value, int64_t v)
{
    uint32_t def = has_value ? 1 : 0;
    pq_buf_append(&c->defs, &def, sizeof def);
    c->page_values++;
    if (!has_value) {
        c->null_count++;
        return;
    }
    uint8_t le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)((uint64_t)v >> (8 * i));
    pq_buf_append(&c->values, le, sizeof le);
    if (!c->has_minmax || v < c->imin)
        c->imin = v;
    if (!c->has_minmax || v > c->imax)
        c->imax = v;
    c->has_minmax = 1;
}

/* Levels section of a v1 page: u32 length, then the RLE hybrid. */
static void put_levels(pq_buf *body, const pq_column *c, int repetition)
{
    size_t at = body->len;
    pq_buf_u32le(body, 0);
    if (c->shape == PQ_SHAPE_OPTIONAL) {
        pq_rle_encode(body, (const uint32_t *)(const void *)c->defs.data, c->page_values, 1);
    } else if (!repetition) {
        pq_rle_run(body, 1, c->page_values, 1); /* every element present */
    } else {
        for (uint32_t r = 0; r < c->page_rows; r++) { /* each row: 0 then width-1 ones */
            pq_rle_run(body, 0, 1, 1);
            if (c->list_width > 1)
                pq_rle_run(body, 1, c->list_width - 1, 1);
        }
    }
    if (body->failed)
        return;
    uint32_t n = (uint32_t)(body->len - at - 4);
    uint8_t le[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
    memcpy(body->data + at, le, 4);
}

/* The page's uncompressed body: levels and values. */
static void build_body(pq_buf *body, const pq_column *c)
{
    body->len = 0;
    if (c->shape == PQ_SHAPE_LIST)
        put_levels(body, c, 1);
    if (c->shape != PQ_SHAPE_REQUIRED)
        put_levels(body, c, 0);
    if (!c->dictionary) {
        pq_buf_append(body, c->values.data, c->values.len);
        return;
    }
    int width = pq_bit_width(c->dict_count ? c->dict_count - 1 : 0);
    pq_buf_byte(body, (uint8_t)width);
    pq_rle_encode(body, (const uint32_t *)(const void *)c->values.data, c->page_values, width);
}

/* Appends a page (header then compressed body) to out. */
static int emit_page(pq_column *c, pq_page_ctx *ctx, pq_buf *out, const pq_buf *body,
                     int dictionary_page, uint32_t num_values, int encoding, char *err,
                     size_t err_size)
{
    const pq_buf *stored = body;
    if (ctx->codec != PQ_CODEC_NONE) {
        if (pq_compress(ctx->compressor, body->data, body->len, &ctx->compressed, err, err_size))
            return -1;
        stored = &ctx->compressed;
    }
    pq_thrift t;
    ctx->header.len = 0;
    pq_thrift_init(&t, &ctx->header);
    pq_thrift_struct_begin(&t);
    pq_thrift_i32(&t, 1, dictionary_page ? PAGE_DICTIONARY : PAGE_DATA);
    pq_thrift_i32(&t, 2, (int32_t)body->len);
    pq_thrift_i32(&t, 3, (int32_t)stored->len);
    pq_thrift_field_struct(&t, dictionary_page ? 7 : 5);
    pq_thrift_i32(&t, 1, (int32_t)num_values);
    pq_thrift_i32(&t, 2, encoding);
    if (!dictionary_page) {
        pq_thrift_i32(&t, 3, ENC_RLE); /* definition levels */
        pq_thrift_i32(&t, 4, ENC_RLE); /* repetition levels */
    }
    pq_thrift_struct_end(&t);
    pq_thrift_struct_end(&t);
    pq_buf_append(out, ctx->header.data, ctx->header.len);
    pq_buf_append(out, stored->data, stored->len);
    if (out->failed || ctx->header.failed) {
        snprintf(err, err_size, "parquet: out of memory writing a page of column %s", c->path[0]);
        return -1;
    }
    c->chunk_uncompressed += ctx->header.len + body->len;
    return 0;
}

static int flush_page(pq_column *c, pq_page_ctx *ctx, char *err, size_t err_size)
{
    if (c->page_values == 0)
        return 0;
    if (c->values.failed || c->defs.failed || c->dict.failed) {
        snprintf(err, err_size, "parquet: out of memory in column %s", c->path[0]);
        return -1;
    }
    const pq_buf *body = &c->values;
    if (c->shape != PQ_SHAPE_REQUIRED || c->dictionary) {
        build_body(&ctx->body, c);
        body = &ctx->body;
    }
    if (body->failed || emit_page(c, ctx, &c->pages, body, 0, c->page_values,
                                  c->dictionary ? ENC_RLE_DICTIONARY : ENC_PLAIN, err, err_size)) {
        if (body->failed)
            snprintf(err, err_size, "parquet: out of memory in column %s", c->path[0]);
        return -1;
    }
    c->chunk_values += c->page_values;
    c->page_values = c->page_rows = 0;
    c->values.len = c->defs.len = 0;
    return 0;
}

int pq_column_end_row(pq_column *c, pq_page_ctx *ctx, char *err, size_t err_size)
{
    c->page_rows++;
    if (c->values.len + c->defs.len < ctx->page_bytes)
        return 0;
    return flush_page(c, ctx, err, err_size);
}

uint64_t pq_column_pending_bytes(const pq_column *c)
{
    return c->values.len + c->pages.len;
}

/* Statistics in the chunk metadata: min/max as PLAIN bytes, null count. */
static void put_statistics(const pq_column *c, pq_thrift *t)
{
    uint8_t lo[8], hi[8];
    const void *min = lo, *max = hi;
    size_t n = 0;
    if (c->type == PQ_TYPE_FLOAT) {
        /* Readers cannot tell -0 from +0 in a min/max: widen them (spec). */
        float fmin = c->fmin == 0.0f ? -0.0f : c->fmin, fmax = c->fmax == 0.0f ? 0.0f : c->fmax;
        memcpy(lo, &fmin, 4);
        memcpy(hi, &fmax, 4);
        n = 4;
    } else if (c->type == PQ_TYPE_INT64) {
        memcpy(lo, &c->imin, 8);
        memcpy(hi, &c->imax, 8);
        n = 8;
    }
    pq_thrift_field_struct(t, 12);
    pq_thrift_i64(t, 3, (int64_t)c->null_count);
    if (c->has_minmax) {
        if (c->type == PQ_TYPE_BYTE_ARRAY) {
            pq_thrift_binary(t, 5, c->smax.data, c->smax.len);
            pq_thrift_binary(t, 6, c->smin.data, c->smin.len);
        } else {
            pq_thrift_binary(t, 5, max, n);
            pq_thrift_binary(t, 6, min, n);
        }
    }
    pq_thrift_struct_end(t);
}

static void put_chunk_metadata(const pq_column *c, const pq_page_ctx *ctx, pq_thrift *t,
                               uint64_t start, uint64_t data_offset)
{
    pq_thrift_struct_begin(t);
    pq_thrift_i64(t, 2, (int64_t)start);
    pq_thrift_field_struct(t, 3);
    pq_thrift_i32(t, 1, c->type);
    int levels = c->shape != PQ_SHAPE_REQUIRED;
    pq_thrift_list(t, 2, PQ_TT_I32, 1 + (c->dictionary || levels));
    pq_thrift_elem_i32(t, ENC_PLAIN); /* values, or the dictionary page */
    if (c->dictionary)
        pq_thrift_elem_i32(t, ENC_RLE_DICTIONARY);
    else if (levels)
        pq_thrift_elem_i32(t, ENC_RLE);
    pq_thrift_list(t, 3, PQ_TT_BINARY, (uint32_t)c->path_len);
    for (int i = 0; i < c->path_len; i++)
        pq_thrift_elem_string(t, c->path[i]);
    pq_thrift_i32(t, 4, pq_codec_thrift(ctx->codec));
    pq_thrift_i64(t, 5, (int64_t)c->chunk_values);
    pq_thrift_i64(t, 6, c->chunk_uncompressed);
    pq_thrift_i64(t, 7, (int64_t)(ctx->dict_page.len + c->pages.len));
    pq_thrift_i64(t, 9, (int64_t)data_offset);
    if (c->dictionary)
        pq_thrift_i64(t, 11, (int64_t)start);
    put_statistics(c, t);
    pq_thrift_struct_end(t);
    pq_thrift_struct_end(t);
}

static void reset_chunk(pq_column *c)
{
    c->pages.len = 0;
    c->chunk_values = c->null_count = 0;
    c->chunk_uncompressed = 0;
    c->has_minmax = 0;
    pq_dict_reset(c);
}

int pq_column_write_chunk(pq_column *c, pq_page_ctx *ctx, pq_write_fn write, void *wctx,
                          uint64_t *offset, pq_thrift *t, int64_t *uncompressed,
                          int64_t *compressed, char *err, size_t err_size)
{
    if (flush_page(c, ctx, err, err_size))
        return -1;
    ctx->dict_page.len = 0;
    if (c->dictionary &&
        emit_page(c, ctx, &ctx->dict_page, &c->dict, 1, c->dict_count, ENC_PLAIN, err, err_size))
        return -1;
    uint64_t start = *offset, data_offset = start + ctx->dict_page.len;
    if (write(wctx, ctx->dict_page.data, ctx->dict_page.len, err, err_size) ||
        write(wctx, c->pages.data, c->pages.len, err, err_size))
        return -1;
    put_chunk_metadata(c, ctx, t, start, data_offset);
    *offset = data_offset + c->pages.len;
    *uncompressed += c->chunk_uncompressed;
    *compressed += (int64_t)(ctx->dict_page.len + c->pages.len);
    reset_chunk(c);
    return 0;
}
