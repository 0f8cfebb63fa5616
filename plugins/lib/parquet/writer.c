/* writer.c — pq_writer: rows in, row groups and the footer out (see parquet.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "column.h"
#include "footer.h"
#include "parquet.h"
#include "utf8.h"

/* PLAIN values are copied from memory as they are: little-endian hosts only. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the Parquet writer needs little-endian");

enum { COL_KEY = 0, COL_LABEL = 1, COL_FEATURES = 2 };

struct pq_writer {
    pq_write_fn write;
    void *ctx; /* borrowed */
    uint32_t width;
    pq_layout layout;
    int model_version;
    int source_version; /* the "version" column, last */
    size_t row_group_bytes;

    char **names; /* owned: feature column names (columns) or the list's name */
    size_t n_names;
    pq_column *columns; /* key, label, features..., [model_version], [version] */
    size_t n_columns;
    pq_page_ctx page;

    uint64_t offset, rows, group_rows, group_bytes;
    pq_buf group_columns; /* scratch: ColumnChunk structs of the row group */
    pq_buf row_groups;    /* RowGroup structs written so far */
    uint32_t n_row_groups;
    pq_buf metadata;
    uint32_t n_metadata;
    char *created_by;
    utf8_buf utf8; /* scratch: a key or label made valid UTF-8 */
    int failed;
};

static const char *const key_path[] = {"key"};
static const char *const label_path[] = {"label"};
static const char *const version_path[] = {"model_version"};
static const char *const source_version_path[] = {"version"};

static int make_names(pq_writer *w, const char *prefix)
{
    w->n_names = w->layout == PQ_LAYOUT_LIST ? 1 : w->width;
    if (!(w->names = calloc(w->n_names, sizeof *w->names)))
        return -1;
    size_t size = strlen(prefix) + 24; /* room for any index */
    for (size_t i = 0; i < w->n_names; i++) {
        if (!(w->names[i] = malloc(size)))
            return -1;
        if (w->layout == PQ_LAYOUT_LIST)
            snprintf(w->names[i], size, "%s", prefix);
        else
            snprintf(w->names[i], size, "%s%zu", prefix, i);
    }
    return 0;
}

static int make_columns(pq_writer *w)
{
    size_t n_features = w->layout == PQ_LAYOUT_LIST ? 1 : w->width;
    w->n_columns = 2 + n_features + (w->model_version ? 1 : 0) + (w->source_version ? 1 : 0);
    if (!(w->columns = calloc(w->n_columns, sizeof *w->columns)))
        return -1;
    pq_column_init(&w->columns[COL_KEY], key_path, 1, PQ_TYPE_BYTE_ARRAY, PQ_SHAPE_REQUIRED, 0, 0);
    pq_column_init(&w->columns[COL_LABEL], label_path, 1, PQ_TYPE_BYTE_ARRAY, PQ_SHAPE_REQUIRED, 0,
                   1);
    for (size_t i = 0; i < n_features; i++) {
        const char *list_path[] = {w->names[i], "list", "element"};
        if (w->layout == PQ_LAYOUT_LIST)
            pq_column_init(&w->columns[COL_FEATURES], list_path, 3, PQ_TYPE_FLOAT, PQ_SHAPE_LIST,
                           w->width, 0);
        else
            pq_column_init(&w->columns[COL_FEATURES + i], list_path, 1, PQ_TYPE_FLOAT,
                           PQ_SHAPE_REQUIRED, 0, 0);
    }
    if (w->model_version)
        pq_column_init(&w->columns[2 + n_features], version_path, 1, PQ_TYPE_INT64,
                       PQ_SHAPE_OPTIONAL, 0, 0);
    if (w->source_version)
        pq_column_init(&w->columns[w->n_columns - 1], source_version_path, 1, PQ_TYPE_BYTE_ARRAY,
                       PQ_SHAPE_REQUIRED, 0, 0);
    return 0;
}

static int setup(pq_writer *w, const pq_options *opt, char *err, size_t err_size)
{
    const char *prefix = opt->feature_prefix             ? opt->feature_prefix
                         : opt->layout == PQ_LAYOUT_LIST ? "features"
                                                         : "c";
    if (make_names(w, prefix) || make_columns(w) ||
        !(w->created_by = strdup(opt->created_by ? opt->created_by : "flowrun parquet writer"))) {
        snprintf(err, err_size, "parquet: out of memory creating a writer");
        return -1;
    }
    if (opt->codec != PQ_CODEC_NONE &&
        !(w->page.compressor = pq_compressor_new(opt->codec, opt->zstd_level, err, err_size)))
        return -1;
    for (size_t i = 0; i < opt->n_metadata; i++)
        pq_footer_kv(&w->metadata, opt->metadata[i].key, opt->metadata[i].value);
    w->n_metadata = (uint32_t)opt->n_metadata;
    return 0;
}

pq_writer *pq_writer_open(const pq_options *opt, pq_write_fn write, void *ctx, char *err,
                          size_t err_size)
{
    if (opt->width == 0) {
        snprintf(err, err_size, "parquet: a row needs at least one feature");
        return NULL;
    }
    pq_writer *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, err_size, "parquet: out of memory creating a writer");
        return NULL;
    }
    *w = (pq_writer){
        .write = write,
        .ctx = ctx,
        .width = opt->width,
        .layout = opt->layout,
        .model_version = opt->model_version,
        .source_version = opt->source_version,
        .row_group_bytes = opt->row_group_bytes ? opt->row_group_bytes : 64u << 20,
        .page = {.codec = opt->codec, .page_bytes = opt->page_bytes ? opt->page_bytes : 1u << 20}};
    if (setup(w, opt, err, err_size) || write(ctx, "PAR1", 4, err, err_size)) {
        pq_writer_free(w);
        return NULL;
    }
    w->offset = 4;
    return w;
}

/* Writes the columns of the current row group and records its RowGroup. */
static int write_row_group(pq_writer *w, char *err, size_t err_size)
{
    uint64_t start = w->offset;
    int64_t uncompressed = 0, compressed = 0;
    pq_thrift t;
    w->group_columns.len = 0;
    pq_thrift_init(&t, &w->group_columns);
    for (size_t i = 0; i < w->n_columns; i++)
        if (pq_column_write_chunk(&w->columns[i], &w->page, w->write, w->ctx, &w->offset, &t,
                                  &uncompressed, &compressed, err, err_size))
            return -1;
    pq_thrift_init(&t, &w->row_groups);
    pq_thrift_struct_begin(&t);
    pq_thrift_list(&t, 1, PQ_TT_STRUCT, (uint32_t)w->n_columns);
    pq_buf_append(&w->row_groups, w->group_columns.data, w->group_columns.len);
    pq_thrift_i64(&t, 2, uncompressed);
    pq_thrift_i64(&t, 3, (int64_t)w->group_rows);
    pq_thrift_i64(&t, 5, (int64_t)start);
    pq_thrift_i64(&t, 6, compressed);
    pq_thrift_struct_end(&t);
    if (w->row_groups.failed || w->group_columns.failed) {
        snprintf(err, err_size, "parquet: out of memory writing row group metadata");
        return -1;
    }
    w->n_row_groups++;
    w->group_rows = w->group_bytes = 0;
    return 0;
}

static void put_features(pq_writer *w, const float *features)
{
    if (w->layout == PQ_LAYOUT_LIST) {
        pq_column_put_floats(&w->columns[COL_FEATURES], features, w->width);
        return;
    }
    for (uint32_t i = 0; i < w->width; i++)
        pq_column_put_floats(&w->columns[COL_FEATURES + i], &features[i], 1);
}

int pq_writer_add_row(pq_writer *w, const char *key, const char *label, const float *features,
                      uint64_t model_version, char *err, size_t err_size)
{
    return pq_writer_add_versioned_row(w, key, label, features, model_version, "", err, err_size);
}

int pq_writer_add_versioned_row(pq_writer *w, const char *key, const char *label,
                                const float *features, uint64_t model_version, const char *version,
                                char *err, size_t err_size)
{
    if (w->failed) {
        snprintf(err, err_size, "parquet: the writer failed before");
        return -1;
    }
    size_t key_len = strlen(key), label_len = strlen(label);
    if (!(key = utf8_valid(key, &key_len, &w->utf8))) {
        snprintf(err, err_size, "parquet: out of memory");
        goto fail;
    }
    pq_column_put_bytes(&w->columns[COL_KEY], key, (uint32_t)key_len);
    if (!(label = utf8_valid(label, &label_len, &w->utf8))) {
        snprintf(err, err_size, "parquet: out of memory");
        goto fail;
    }
    pq_column_put_bytes(&w->columns[COL_LABEL], label, (uint32_t)label_len);
    put_features(w, features);
    size_t extra = w->layout == PQ_LAYOUT_LIST ? 3 : 2 + (size_t)w->width;
    if (w->model_version)
        pq_column_put_int64(&w->columns[extra], model_version != 0, (int64_t)model_version);
    size_t version_len = strlen(version);
    if (w->source_version) {
        if (!(version = utf8_valid(version, &version_len, &w->utf8))) {
            snprintf(err, err_size, "parquet: out of memory");
            goto fail;
        }
        pq_column_put_bytes(&w->columns[w->n_columns - 1], version, (uint32_t)version_len);
    }
    for (size_t i = 0; i < w->n_columns; i++)
        if (pq_column_end_row(&w->columns[i], &w->page, err, err_size))
            goto fail;
    w->rows++;
    w->group_rows++;
    w->group_bytes += 8 + key_len + label_len + 4 * (uint64_t)w->width + 8 + version_len;
    if (w->group_bytes >= w->row_group_bytes && write_row_group(w, err, err_size))
        goto fail;
    return 0;
fail:
    w->failed = 1;
    return -1;
}

int pq_writer_close(pq_writer *w, char *err, size_t err_size)
{
    if (w->failed || (w->group_rows && write_row_group(w, err, err_size))) {
        if (w->failed)
            snprintf(err, err_size, "parquet: the writer failed before");
        w->failed = 1;
        return -1;
    }
    pq_buf footer = {0};
    pq_footer f = {.columns = w->columns,
                   .n_columns = w->n_columns,
                   .rows = w->rows,
                   .row_groups = &w->row_groups,
                   .n_row_groups = w->n_row_groups,
                   .metadata = &w->metadata,
                   .n_metadata = w->n_metadata,
                   .created_by = w->created_by};
    pq_footer_build(&footer, &f);
    pq_buf_u32le(&footer, (uint32_t)footer.len);
    pq_buf_append(&footer, "PAR1", 4);
    int rc = -1;
    if (footer.failed || w->metadata.failed)
        snprintf(err, err_size, "parquet: out of memory writing the footer");
    else
        rc = w->write(w->ctx, footer.data, footer.len, err, err_size);
    if (rc == 0)
        w->offset += footer.len;
    pq_buf_free(&footer);
    w->failed = rc != 0;
    return rc;
}

uint64_t pq_writer_rows(const pq_writer *w)
{
    return w->rows;
}

uint64_t pq_writer_bytes(const pq_writer *w)
{
    return w->offset + w->group_bytes;
}

void pq_writer_free(pq_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; w->columns && i < w->n_columns; i++)
        pq_column_free(&w->columns[i]);
    free(w->columns);
    for (size_t i = 0; w->names && i < w->n_names; i++)
        free(w->names[i]);
    free(w->names);
    pq_compressor_free(w->page.compressor);
    pq_buf_free(&w->page.body);
    pq_buf_free(&w->page.compressed);
    pq_buf_free(&w->page.header);
    pq_buf_free(&w->page.dict_page);
    pq_buf_free(&w->group_columns);
    pq_buf_free(&w->row_groups);
    pq_buf_free(&w->metadata);
    utf8_buf_free(&w->utf8);
    free(w->created_by);
    free(w);
}
