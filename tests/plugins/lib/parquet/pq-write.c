/*
 * pq-write — writes testdata.h's rows with flowrun-parquet, for the reader
 * checks in readback.mjs:
 *     pq-write OUT columns|list none|snappy|zstd ROWS WIDTH ROW_GROUP_BYTES VERSION(0|1) [SKEW]
 * SKEW (a deliberate bug for the checks to catch): row r gets row r+SKEW's features.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parquet.h"
#include "testdata.h"

static int file_write(void *ctx, const void *data, size_t n, char *err, size_t err_size)
{
    if (n && fwrite(data, 1, n, ctx) != n) {
        snprintf(err, err_size, "write: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int write_rows(pq_writer *w, unsigned long long rows, uint32_t width, unsigned skew,
                      char *err, size_t err_size)
{
    float *features = malloc(width * sizeof *features);
    char key[128], label[64];
    int rc = features ? 0 : -1;
    for (unsigned long long r = 0; rc == 0 && r < rows; r++) {
        testdata_features(r + skew, features, width);
        testdata_key(r, key, sizeof key);
        testdata_label(r, label, sizeof label);
        rc = pq_writer_add_row(w, key, label, features, testdata_version(r), err, err_size);
    }
    free(features);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 8 && argc != 9) {
        fprintf(stderr, "usage: pq-write OUT LAYOUT CODEC ROWS WIDTH ROW_GROUP_BYTES VERSION\n");
        return 2;
    }
    pq_kv meta[] = {{"flowrun.pipeline", "test"}, {"flowrun.note", "a \"quoted\" value"}};
    pq_options opt = {
        .width = (uint32_t)atoi(argv[5]),
        .layout = strcmp(argv[2], "list") == 0 ? PQ_LAYOUT_LIST : PQ_LAYOUT_COLUMNS,
        .codec = strcmp(argv[3], "zstd") == 0     ? PQ_CODEC_ZSTD
                 : strcmp(argv[3], "snappy") == 0 ? PQ_CODEC_SNAPPY
                                                  : PQ_CODEC_NONE,
        .row_group_bytes = strtoull(argv[6], NULL, 10),
        .page_bytes = 64 << 10, /* several pages per chunk */
        .model_version = atoi(argv[7]),
        .created_by = "flowrun test",
        .metadata = meta,
        .n_metadata = 2,
    };
    FILE *f = fopen(argv[1], "wb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    char err[256] = "";
    pq_writer *w = pq_writer_open(&opt, file_write, f, err, sizeof err);
    int rc = !w ||
             write_rows(w, strtoull(argv[4], NULL, 10), opt.width,
                        argc == 9 ? (unsigned)atoi(argv[8]) : 0, err, sizeof err) ||
             pq_writer_close(w, err, sizeof err);
    pq_writer_free(w);
    if (fclose(f) != 0)
        rc = 1;
    if (rc)
        fprintf(stderr, "pq-write: %s\n", err);
    return rc;
}
