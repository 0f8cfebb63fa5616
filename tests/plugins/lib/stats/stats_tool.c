/*
 * stats_tool.c — runs the stats library's scaler → PCA on a float32 matrix
 * file, for test_reference.py to compare with scikit-learn and numpy.
 *
 *   test-stats-tool FLAVOR K PARTS ROWS DIM IN OUT_SCALED OUT_SCORES OUT_VAR
 *
 * FLAVOR spark|sklearn.  The rows are split into PARTS consecutive partial
 * states that are merged before fitting (PARTS 1: a single pass).  Scores
 * get scikit-learn 1.2's sign rule.  Outputs are float32 (scores) and
 * float64 (explained variance then ratio, 2K values).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

static char err[512];

static float *read_matrix(const char *path, size_t n)
{
    FILE *f = fopen(path, "rb");
    float *x = malloc(n * sizeof(float));
    if (!f || !x || fread(x, sizeof(float), n, f) != n) {
        fprintf(stderr, "%s: cannot read %zu floats\n", path, n);
        exit(2);
    }
    fclose(f);
    return x;
}

static void write_file(const char *path, const void *data, size_t bytes)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, bytes, f) != bytes || fclose(f) != 0) {
        fprintf(stderr, "%s: cannot write\n", path);
        exit(2);
    }
}

static void must(int rc)
{
    if (rc < 0) {
        fprintf(stderr, "stats: %s\n", err);
        exit(1);
    }
}

/* Moments of rows split into parts partial states, merged into the first. */
static stats_moments *moments_in_parts(const float *x, size_t n, uint32_t d, int cross, int parts)
{
    stats_moments *all = stats_moments_new(d, cross, err, sizeof err);
    must(all ? 0 : -1);
    for (int p = 0; p < parts; p++) {
        stats_moments *part = stats_moments_new(d, cross, err, sizeof err);
        must(part ? 0 : -1);
        for (size_t r = n * p / parts; r < n * (p + 1) / parts; r++)
            stats_moments_add(part, x + r * d);
        must(stats_moments_merge(all, part, err, sizeof err));
        stats_moments_free(part);
    }
    return all;
}

int main(int argc, char **argv)
{
    if (argc != 10) {
        fprintf(stderr, "usage: %s FLAVOR K PARTS ROWS DIM IN SCALED SCORES VAR\n", argv[0]);
        return 2;
    }
    stats_flavor flavor = strcmp(argv[1], "sklearn") == 0 ? STATS_SKLEARN : STATS_SPARK;
    uint32_t k = (uint32_t)atoi(argv[2]), d = (uint32_t)atoi(argv[5]);
    int parts = atoi(argv[3]);
    size_t n = (size_t)atol(argv[4]);
    float *x = read_matrix(argv[6], n * d), *z = malloc(n * d * sizeof(float));
    float *scores = malloc(n * k * sizeof(float)), *scratch = malloc(n * d * sizeof(float));
    float *extreme = malloc(k * sizeof(float));
    double *var = malloc(2 * k * sizeof(double));
    stats_scaler scaler = {0};
    stats_pca pca = {0};
    uint64_t seen = 0;

    stats_moments *m = moments_in_parts(x, n, d, 0, parts);
    must(stats_scaler_fit(&scaler, m, flavor, flavor == STATS_SKLEARN, 1, err, sizeof err));
    for (size_t r = 0; r < n; r++)
        stats_scaler_apply(&scaler, x + r * d, z + r * d);
    stats_moments *mz = moments_in_parts(z, n, d, 1, parts);
    must(stats_pca_fit(&pca, mz, k, err, sizeof err));
    stats_pca_transform(&pca, 1, z, n, scores, scratch);
    stats_pca_track_extremes(&pca, scores, n, extreme, &seen);
    stats_pca_flip_by_scores(&pca, extreme);
    stats_pca_transform(&pca, flavor == STATS_SKLEARN, z, n, scores, scratch);
    for (uint32_t j = 0; j < k; j++) {
        var[j] = pca.variance[j];
        var[k + j] = pca.variance[j] / pca.total_variance;
    }
    write_file(argv[7], z, n * d * sizeof(float));
    write_file(argv[8], scores, n * k * sizeof(float));
    write_file(argv[9], var, 2 * k * sizeof(double));

    stats_pca_clear(&pca);
    stats_scaler_clear(&scaler);
    stats_moments_free(mz);
    stats_moments_free(m);
    free(var);
    free(extreme);
    free(scratch);
    free(scores);
    free(z);
    free(x);
    return 0;
}
