/*
 * parquet.h — flowrun's small Parquet writer for feature tables.
 *
 * No C Parquet library exists in Debian, so flowrun writes the format itself,
 * kept to what a sink of feature rows needs: one fixed schema
 *
 *     key            required binary (UTF8)              PLAIN
 *     label          required binary (UTF8)              RLE_DICTIONARY
 *     <prefix>0..n-1 required float        (layout columns) PLAIN
 *   | <prefix>       required LIST<required float> (layout list, 3-level)
 *     model_version  optional int64 (0 = null, when asked for)
 *
 * data page v1, column statistics (min/max/null count), row groups cut by
 * uncompressed size, zstd/snappy/none, created_by and key/value metadata.
 *
 * Bytes go out through a write callback (pq_write_fn) so the same writer
 * serves a local temporary file or an S3 multipart upload.  The writer never
 * seeks: it appends the magic, then each row group as it fills, then the
 * footer on close.
 */
#ifndef FLOWRUN_PARQUET_H
#define FLOWRUN_PARQUET_H

#include <stddef.h>
#include <stdint.h>

/* Appends n bytes to the output.  Returns 0, or -1 with a one-line reason
 * (naming the file or URL) in err.  data is borrowed for the call. */
typedef int (*pq_write_fn)(void *ctx, const void *data, size_t n, char *err, size_t err_size);

typedef enum pq_layout {
    PQ_LAYOUT_COLUMNS = 0, /* one FLOAT column per component */
    PQ_LAYOUT_LIST = 1,    /* one LIST<FLOAT> column */
} pq_layout;

typedef enum pq_codec {
    PQ_CODEC_NONE = 0,
    PQ_CODEC_SNAPPY = 1,
    PQ_CODEC_ZSTD = 2,
} pq_codec;

typedef struct pq_kv {
    const char *key;
    const char *value;
} pq_kv;

typedef struct pq_options {
    uint32_t width; /* features per row, >= 1 */
    pq_layout layout;
    /* columns: "<prefix><i>"; list: the column's name.  NULL: "c" / "features". */
    const char *feature_prefix;
    int model_version;  /* nonzero: add the optional model_version column */
    int source_version; /* nonzero: add the string column "version" after it */
    pq_codec codec;
    int zstd_level;         /* 0: 3 */
    size_t row_group_bytes; /* uncompressed bytes per row group; 0: 64 MiB */
    size_t page_bytes;      /* uncompressed value bytes per data page; 0: 1 MiB */
    const char *created_by; /* NULL: "flowrun parquet writer" */
    const pq_kv *metadata;  /* file key/value metadata, copied at open */
    size_t n_metadata;
} pq_options;

typedef struct pq_writer pq_writer;

/* Writes the leading magic through write(ctx, ...) and returns a writer
 * (owned by the caller, freed with pq_writer_free), or NULL with err set.
 * opt is borrowed; ctx is borrowed until pq_writer_free. */
pq_writer *pq_writer_open(const pq_options *opt, pq_write_fn write, void *ctx, char *err,
                          size_t err_size);

/* Adds one row.  Strings and features (opt.width floats) are borrowed and
 * copied.  model_version 0 is written as null.  A full row group is written
 * out before return.  After a failure the writer can only be freed. */
int pq_writer_add_row(pq_writer *w, const char *key, const char *label, const float *features,
                      uint64_t model_version, char *err, size_t err_size);

/* The same with the row's source version (borrowed, copied; "" for none),
 * written when opt.source_version is set. */
int pq_writer_add_versioned_row(pq_writer *w, const char *key, const char *label,
                                const float *features, uint64_t model_version, const char *version,
                                char *err, size_t err_size);

/* Writes the last row group and the footer: the file is complete (and valid
 * with 0 rows).  Does not free. */
int pq_writer_close(pq_writer *w, char *err, size_t err_size);

/* Rows added so far. */
uint64_t pq_writer_rows(const pq_writer *w);
/* Bytes written through the callback plus the rows held for the current row
 * group (uncompressed): what the file would hold if closed now, roughly. */
uint64_t pq_writer_bytes(const pq_writer *w);

void pq_writer_free(pq_writer *w);

#endif /* FLOWRUN_PARQUET_H */
