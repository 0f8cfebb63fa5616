/*
 * bench_pca.c — flowrun's scaler -> PCA fit: batch path on a float32 matrix
 * file, as the two stages run it (plugins/lib/stats: moments, spill files,
 * fitters), without the engine's record passing.  Rows are streamed from
 * the file, so the peak RSS is the stages' own.
 *
 *   bench-pca IN ROWS DIM K FLAVOR OUT
 *
 * Prints one JSON line: seconds (total, and split before the PCA's fit),
 * peak RSS, the BLAS kernel family.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats.h"

typedef struct bench {
    stats_flavor flavor;
    uint32_t dim, k;
    stats_scaler scaler;
    stats_pca pca;
    stats_fitter *pca_fitter;
    float *scaled, *scores, *centred, *extreme;
    uint64_t seen;
    FILE *out;
} bench;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Peak RSS in MiB: VmHWM, which starts afresh at exec (getrusage's
 * ru_maxrss keeps the forking parent's, e.g. a big Python process). */
static double peak_rss_mb(void)
{
    char line[256];
    double kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %lf kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb / 1024.0;
}

static int scaler_refit(void *ctx, stats_fitter *f, stats_moments *m, uint64_t version, char *err,
                        size_t err_size)
{
    bench *b = ctx;
    return stats_scaler_fit(&b->scaler, m, b->flavor, b->flavor == STATS_SKLEARN, 1, err, err_size);
}

/* The scaler's output rows are the PCA stage's input. */
static int scaler_emit(void *ctx, const stats_spill_block *blk, uint64_t version, char *err,
                       size_t err_size)
{
    bench *b = ctx;
    for (size_t i = 0; i < blk->n; i++) {
        const char *const *s = blk->strings + 3 * i;
        stats_scaler_apply(&b->scaler, blk->rows + i * b->dim, b->scaled);
        if (stats_fitter_add(b->pca_fitter, b->scaled, s[0], s[1], s[2], NULL, 0, err, err_size) !=
            0)
            return -1;
    }
    return 0;
}

static int pca_track(void *ctx, const stats_spill_block *blk, char *err, size_t err_size)
{
    bench *b = ctx;
    stats_pca_transform(&b->pca, 1, blk->rows, blk->n, b->scores, b->centred);
    stats_pca_track_extremes(&b->pca, b->scores, blk->n, b->extreme, &b->seen);
    return 0;
}

static int pca_refit(void *ctx, stats_fitter *f, stats_moments *m, uint64_t version, char *err,
                     size_t err_size)
{
    bench *b = ctx;
    if (stats_pca_fit(&b->pca, m, b->k, err, err_size) < 0 ||
        stats_fitter_replay(f, pca_track, b, err, err_size) < 0)
        return -1;
    stats_pca_flip_by_scores(&b->pca, b->extreme);
    return 0;
}

static int pca_emit(void *ctx, const stats_spill_block *blk, uint64_t version, char *err,
                    size_t err_size)
{
    bench *b = ctx;
    stats_pca_transform(&b->pca, b->flavor == STATS_SKLEARN, blk->rows, blk->n, b->scores,
                        b->centred);
    if (fwrite(b->scores, sizeof(float) * b->k, blk->n, b->out) != blk->n) {
        snprintf(err, err_size, "writing scores");
        return -1;
    }
    return 0;
}

static const stats_fitter_ops scaler_ops = {.refit = scaler_refit, .emit = scaler_emit};
static const stats_fitter_ops pca_ops = {.refit = pca_refit, .emit = pca_emit};

/* *split: when the scaler stage had emitted every row (and the PCA stage
 * had accumulated them), before the PCA's fit and emission. */
static int run(bench *b, FILE *in, size_t rows, double *split, char *err, size_t err_size)
{
    const char *dir = stats_spill_dir("");
    stats_fitter *scaler = stats_fitter_new(dir, b->dim, 0, 0, &scaler_ops, b, err, err_size);
    b->pca_fitter = stats_fitter_new(dir, b->dim, 1, 0, &pca_ops, b, err, err_size);
    int rc = scaler && b->pca_fitter ? 0 : -1;
    for (size_t r = 0; rc == 0 && r < rows; r++) {
        if (fread(b->scaled, sizeof(float), b->dim, in) != b->dim) {
            snprintf(err, err_size, "input: short read at row %zu", r);
            rc = -1;
        } else {
            rc = stats_fitter_add(scaler, b->scaled, "", "", "", NULL, 0, err, err_size);
        }
    }
    if (rc == 0)
        rc = stats_fitter_finish(scaler, err, err_size);
    *split = now();
    if (rc == 0)
        rc = stats_fitter_finish(b->pca_fitter, err, err_size);
    stats_fitter_free(b->pca_fitter);
    stats_fitter_free(scaler);
    return rc;
}

int main(int argc, char **argv)
{
    char err[512];
    if (argc != 7) {
        fprintf(stderr, "usage: %s IN ROWS DIM K FLAVOR OUT\n", argv[0]);
        return 2;
    }
    size_t rows = (size_t)atol(argv[2]);
    bench b = {.dim = (uint32_t)atoi(argv[3]),
               .k = (uint32_t)atoi(argv[4]),
               .flavor = strcmp(argv[5], "sklearn") == 0 ? STATS_SKLEARN : STATS_SPARK};
    FILE *in = fopen(argv[1], "rb");
    b.out = fopen(argv[6], "wb");
    b.scaled = malloc(b.dim * sizeof(float));
    b.scores = malloc((size_t)STATS_REPLAY_ROWS * b.k * sizeof(float));
    b.centred = malloc((size_t)STATS_REPLAY_ROWS * b.dim * sizeof(float));
    b.extreme = malloc(b.k * sizeof(float));
    if (!in || !b.out || !b.scaled || !b.scores || !b.centred || !b.extreme) {
        fprintf(stderr, "bench-pca: cannot open %s or %s\n", argv[1], argv[6]);
        return 2;
    }
    double t0 = now(), split = 0;
    int rc = run(&b, in, rows, &split, err, sizeof err);
    double t1 = now();
    if (rc != 0 || fclose(b.out) != 0) {
        fprintf(stderr, "bench-pca: %s\n", rc ? err : "writing scores");
        return 1;
    }
    printf("{\"seconds\":%.3f,\"scaler_and_moments_seconds\":%.3f,"
           "\"pca_fit_and_emit_seconds\":%.3f,\"peak_rss_mb\":%.1f,\"blas_core\":\"%s\"}\n",
           t1 - t0, split - t0, t1 - split, peak_rss_mb(), stats_blas_core());
    fclose(in);
    stats_pca_clear(&b.pca);
    stats_scaler_clear(&b.scaler);
    free(b.extreme);
    free(b.centred);
    free(b.scores);
    free(b.scaled);
    return 0;
}
