/*
 * pca.c — principal components from the moments' covariance.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "internal.h"

void stats_pca_clear(stats_pca *p)
{
    free(p->mean);
    free(p->components);
    free(p->variance);
    *p = (stats_pca){0};
}

int stats_pca_alloc(stats_pca *p, uint32_t dim, uint32_t k)
{
    stats_pca_clear(p);
    p->dim = dim;
    p->k = k;
    p->mean = malloc(dim * sizeof(float));
    p->components = malloc((size_t)dim * k * sizeof(float));
    p->variance = malloc(k * sizeof(double));
    return p->mean && p->components && p->variance ? 0 : -1;
}

/* dsyevr returns ascending eigenvalues: component j is column k-1-j of z.
 * The sign makes each component's largest-magnitude loading positive. */
static void take_components(stats_pca *p, const double *w, const double *z)
{
    uint32_t d = p->dim, k = p->k;
    for (uint32_t j = 0; j < k; j++) {
        uint32_t col = k - 1 - j, big = 0;
        for (uint32_t i = 1; i < d; i++)
            if (fabs(z[(size_t)i * k + col]) > fabs(z[(size_t)big * k + col]))
                big = i;
        double sign = z[(size_t)big * k + col] < 0 ? -1 : 1;
        for (uint32_t i = 0; i < d; i++)
            p->components[(size_t)i * k + j] = (float)(sign * z[(size_t)i * k + col]);
        p->variance[j] = w[col] > 0 ? w[col] : 0; /* rounding can leave -1e-17 */
    }
}

int stats_pca_fit(stats_pca *p, stats_moments *m, uint32_t k, char *err, size_t err_size)
{
    uint32_t d = stats_moments_dim(m);
    int rc = -1;
    double *cov = malloc((size_t)d * d * sizeof(double));
    double *w = malloc(d * sizeof(double)), *z = malloc((size_t)d * k * sizeof(double));
    double *mean = malloc(d * sizeof(double));
    lapack_int *support = malloc(2 * (size_t)k * sizeof(lapack_int)), found = 0;
    if (k == 0 || k > d) {
        snprintf(err, err_size, "components: %u must be between 1 and the %u columns", k, d);
        goto out;
    }
    if (!cov || !w || !z || !mean || !support || stats_pca_alloc(p, d, k) < 0) {
        snprintf(err, err_size, "PCA of %u columns: out of memory", d);
        goto out;
    }
    if (stats_moments_cov(m, cov, err, err_size) < 0)
        goto out;
    p->total_variance = 0;
    for (size_t i = 0; i < d; i++)
        p->total_variance += cov[i * d + i];
    lapack_int info = stats_blas.dsyevr(LAPACK_ROW_MAJOR, 'V', 'I', 'U', (lapack_int)d, cov,
                                        (lapack_int)d, 0, 0, (lapack_int)(d - k + 1), (lapack_int)d,
                                        DBL_MIN, &found, w, z, (lapack_int)k, support);
    if (info != 0 || found != (lapack_int)k) {
        snprintf(err, err_size, "LAPACKE_dsyevr on %ux%u: info %d, %d of %u eigenpairs", d, d,
                 (int)info, (int)found, k);
        goto out;
    }
    take_components(p, w, z);
    stats_moments_mean(m, mean);
    for (uint32_t i = 0; i < d; i++)
        p->mean[i] = (float)mean[i];
    rc = 0;
out:
    free(support);
    free(mean);
    free(z);
    free(w);
    free(cov);
    if (rc < 0)
        stats_pca_clear(p);
    return rc;
}

void stats_pca_transform(const stats_pca *p, int centre, const float *rows, size_t n, float *out,
                         float *scratch)
{
    size_t d = p->dim;
    const float *x = rows;
    if (centre) {
        for (size_t r = 0; r < n; r++)
            for (size_t i = 0; i < d; i++)
                scratch[r * d + i] = rows[r * d + i] - p->mean[i];
        x = scratch;
    }
    stats_blas.sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)p->k, (int)d, 1.0f, x,
                     (int)d, p->components, (int)p->k, 0.0f, out, (int)p->k);
}

void stats_pca_track_extremes(const stats_pca *p, const float *scores, size_t n, float *extreme,
                              uint64_t *seen)
{
    for (size_t r = 0; r < n; r++, (*seen)++)
        for (uint32_t j = 0; j < p->k; j++) {
            float s = scores[r * p->k + j];
            if (*seen == 0 || fabsf(s) > fabsf(extreme[j]))
                extreme[j] = s;
        }
}

void stats_pca_flip_by_scores(stats_pca *p, const float *extreme)
{
    for (uint32_t j = 0; j < p->k; j++) {
        if (extreme[j] >= 0)
            continue;
        for (uint32_t i = 0; i < p->dim; i++)
            p->components[(size_t)i * p->k + j] = -p->components[(size_t)i * p->k + j];
    }
}
