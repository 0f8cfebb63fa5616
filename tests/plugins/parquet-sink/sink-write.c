/*
 * sink-write — pushes testdata.h's rows through a sink plugin loaded by the
 * real loader (harness), then flushes; checks every id was committed.
 *     sink-write PLUGIN ROWS WIDTH key value [key value ...]
 */
#include <flowrun/harness.h>
#include <stdio.h>
#include <stdlib.h>

#include "testdata.h"

int main(int argc, char **argv)
{
    if (argc < 4 || argc % 2) {
        fprintf(stderr, "usage: sink-write PLUGIN ROWS WIDTH [key value]...\n");
        return 2;
    }
    char *err = NULL;
    fr_harness *h = fr_harness_new(argv[1], (const char *const *)argv + 4, &err);
    if (!h) {
        fprintf(stderr, "sink-write: %s\n", err);
        free(err);
        return 1;
    }
    unsigned long long rows = strtoull(argv[2], NULL, 10);
    uint32_t width = (uint32_t)atoi(argv[3]);
    float *f = malloc(width * sizeof *f);
    char key[128], label[64], id[64];
    fr_status rc = f ? fr_harness_start(h) : FR_FATAL;
    for (unsigned long long r = 0; rc == FR_OK && r < rows; r++) {
        testdata_features(r, f, width);
        testdata_key(r, key, sizeof key);
        testdata_label(r, label, sizeof label);
        snprintf(id, sizeof id, "src:%llu", r);
        fr_record rec = {.id = id,
                         .key = key,
                         .label = label,
                         .model_version = testdata_version(r),
                         .payload = {.kind = FR_KIND_TENSOR,
                                     .rank = 1,
                                     .dims = {width},
                                     .data = f,
                                     .size = width * sizeof *f}};
        rc = fr_harness_push(h, &rec);
    }
    if (rc == FR_OK)
        rc = fr_harness_flush(h);
    int status = rc == FR_OK && fr_harness_commit_count(h) == rows ? 0 : 1;
    if (status)
        fprintf(stderr, "sink-write: status %d (%s), %zu commits for %llu rows\n", rc,
                fr_harness_reason(h), fr_harness_commit_count(h), rows);
    free(f);
    fr_harness_free(h);
    return status;
}
