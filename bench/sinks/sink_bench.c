/*
 * bench-sink — times a sink plugin (loaded through the harness) writing ROWS
 * rows of WIDTH float32 features: process() for every row plus flush, i.e.
 * formatting, compression, the write and the atomic commit.  The rows are
 * generated before the clock starts: N(0,1) floats (as PCA or embedding
 * outputs are), seeded, keys "Training/<label>/<n>.jpg", 100 labels.
 * Prints one JSON line: {"seconds":…,"cpu_seconds":…,"rows":…}.
 *     bench-sink PLUGIN ROWS WIDTH key value [key value ...]
 */
#include <flowrun/harness.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x9e3779b97f4a7c15u;

static double uniform(void) /* xorshift64*, (0, 1) */
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return ((double)((rng * 2685821657736338717u) >> 11) + 0.5) / 9007199254740992.0;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc % 2) {
        fprintf(stderr, "usage: bench-sink PLUGIN ROWS WIDTH [key value]...\n");
        return 2;
    }
    size_t rows = strtoull(argv[2], NULL, 10);
    uint32_t width = (uint32_t)atoi(argv[3]);
    float *f = malloc(rows * width * sizeof *f);
    if (!f)
        return 1;
    for (size_t i = 0; i < rows * width; i += 2) { /* Box-Muller */
        double r = sqrt(-2 * log(uniform())), a = 6.283185307179586 * uniform();
        f[i] = (float)(r * cos(a));
        if (i + 1 < rows * width)
            f[i + 1] = (float)(r * sin(a));
    }
    char *err = NULL;
    fr_harness *h = fr_harness_new(argv[1], (const char *const *)argv + 4, &err);
    if (!h) {
        fprintf(stderr, "bench-sink: %s\n", err);
        free(err);
        free(f);
        return 1;
    }
    fr_status rc = fr_harness_start(h);
    double t0 = seconds(CLOCK_MONOTONIC), c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
    for (size_t r = 0; rc == FR_OK && r < rows; r++) {
        char key[96], label[32], id[32];
        snprintf(label, sizeof label, "Fruit %zu", r % 100);
        snprintf(key, sizeof key, "Training/%s/%zu.jpg", label, r);
        snprintf(id, sizeof id, "bench:%zu", r);
        fr_record rec = {.id = id,
                         .key = key,
                         .label = label,
                         .payload = {.kind = FR_KIND_TENSOR,
                                     .rank = 1,
                                     .dims = {width},
                                     .data = f + r * width,
                                     .size = width * sizeof *f}};
        rc = fr_harness_push(h, &rec);
    }
    if (rc == FR_OK)
        rc = fr_harness_flush(h);
    double t1 = seconds(CLOCK_MONOTONIC), c1 = seconds(CLOCK_PROCESS_CPUTIME_ID);
    if (rc != FR_OK)
        fprintf(stderr, "bench-sink: status %d: %s\n", rc, fr_harness_reason(h));
    else
        printf("{\"seconds\":%.6f,\"cpu_seconds\":%.6f,\"rows\":%zu}\n", t1 - t0, c1 - c0, rows);
    fr_harness_free(h);
    free(f);
    return rc == FR_OK ? 0 : 1;
}
