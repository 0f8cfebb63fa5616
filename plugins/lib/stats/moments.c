/*
 * moments.c — count, column sums and cross-product, mergeable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "internal.h"

stats_moments *stats_moments_new(uint32_t dim, int cross, char *err, size_t err_size)
{
    stats_moments *m = calloc(1, sizeof *m);
    if (!m || dim == 0)
        goto fail;
    m->dim = dim;
    m->shift = calloc(dim, sizeof(double));
    m->sum = calloc(dim, sizeof(double));
    m->sq = calloc(dim, sizeof(double));
    if (!m->shift || !m->sum || !m->sq)
        goto fail;
    if (cross) {
        if (stats_blas_load(err, err_size) < 0) {
            stats_moments_free(m);
            return NULL;
        }
        m->cross = calloc((size_t)dim * dim, sizeof(double));
        m->block = malloc((size_t)STATS_BLOCK_ROWS * dim * sizeof(double));
        if (!m->cross || !m->block)
            goto fail;
    }
    return m;
fail:
    snprintf(err, err_size, "statistics for %u columns: %s", dim,
             dim ? "out of memory" : "no columns");
    stats_moments_free(m);
    return NULL;
}

void stats_moments_free(stats_moments *m)
{
    if (!m)
        return;
    free(m->block);
    free(m->cross);
    free(m->sq);
    free(m->sum);
    free(m->shift);
    free(m);
}

void stats_moments_reset(stats_moments *m)
{
    size_t d = m->dim;
    memset(m->shift, 0, d * sizeof(double));
    memset(m->sum, 0, d * sizeof(double));
    memset(m->sq, 0, d * sizeof(double));
    if (m->cross)
        memset(m->cross, 0, d * d * sizeof(double));
    m->has_shift = 0;
    m->count = 0;
    m->pending = 0;
}

uint32_t stats_moments_dim(const stats_moments *m)
{
    return m->dim;
}
int stats_moments_has_cross(const stats_moments *m)
{
    return m->cross != NULL;
}
uint64_t stats_moments_count(const stats_moments *m)
{
    return m->count;
}

/* Adds the pending block's products into the cross-product (dsyrk, beta 1). */
void moments_settle(stats_moments *m)
{
    int d = (int)m->dim;
    if (!m->cross || m->pending == 0)
        return;
    stats_blas.dsyrk(CblasRowMajor, CblasUpper, CblasTrans, d, (int)m->pending, 1.0, m->block, d,
                     1.0, m->cross, d);
    m->pending = 0;
}

void stats_moments_add(stats_moments *m, const float *row)
{
    uint32_t d = m->dim;
    if (!m->has_shift) {
        for (uint32_t j = 0; j < d; j++)
            m->shift[j] = row[j];
        m->has_shift = 1;
    }
    double *b = m->cross ? m->block + (size_t)m->pending * d : NULL;
    for (uint32_t j = 0; j < d; j++) {
        double x = (double)row[j] - m->shift[j];
        m->sum[j] += x;
        m->sq[j] += x * x;
        if (b)
            b[j] = x;
    }
    m->count++;
    if (b && ++m->pending == STATS_BLOCK_ROWS)
        moments_settle(m);
}

/* Re-expresses `from`'s sums about into's shift: with delta = t - s,
 * sum_s = sum_t + n delta and cross_s = cross_t + delta sum_t^T +
 * sum_t delta^T + n delta delta^T (sq is its diagonal). */
int stats_moments_merge(stats_moments *into, stats_moments *from, char *err, size_t err_size)
{
    uint32_t d = into->dim;
    if (from->dim != d || !from->cross != !into->cross) {
        snprintf(err, err_size, "merging statistics of %u%s columns into %u%s", from->dim,
                 from->cross ? "x" : "", d, into->cross ? "x" : "");
        return -1;
    }
    if (from->count == 0)
        return 0;
    moments_settle(into);
    moments_settle(from);
    if (!into->has_shift) {
        memcpy(into->shift, from->shift, d * sizeof(double));
        into->has_shift = 1;
    }
    double n = (double)from->count;
    for (size_t i = 0; i < d; i++) {
        double di = from->shift[i] - into->shift[i];
        for (size_t j = i; into->cross && j < d; j++) {
            double dj = from->shift[j] - into->shift[j];
            into->cross[i * d + j] +=
                from->cross[i * d + j] + di * from->sum[j] + from->sum[i] * dj + n * di * dj;
        }
        into->sq[i] += from->sq[i] + 2 * di * from->sum[i] + n * di * di;
        into->sum[i] += from->sum[i] + n * di;
    }
    into->count += from->count;
    return 0;
}

void stats_moments_mean(stats_moments *m, double *mean)
{
    double n = m->count ? (double)m->count : 1;
    for (uint32_t j = 0; j < m->dim; j++)
        mean[j] = m->shift[j] + m->sum[j] / n;
}

/* The centred sum of squares sq - sum^2/n: exact up to rounding, and small
 * cancellation because the sums are already about a row of the data. */
void stats_moments_var(stats_moments *m, int ddof, double *var)
{
    double n = (double)m->count, den = n - ddof;
    for (uint32_t j = 0; j < m->dim; j++) {
        double ss = n > 0 ? m->sq[j] - m->sum[j] * m->sum[j] / n : 0;
        var[j] = den > 0 && ss > 0 ? ss / den : 0;
    }
}

int stats_moments_cov(stats_moments *m, double *cov, char *err, size_t err_size)
{
    size_t d = m->dim;
    double n = (double)m->count;
    if (!m->cross || m->count < 2) {
        snprintf(err, err_size, "covariance needs %s",
                 m->cross ? "at least 2 rows" : "the cross-product");
        return -1;
    }
    moments_settle(m);
    for (size_t i = 0; i < d; i++)
        for (size_t j = i; j < d; j++) {
            double c = (m->cross[i * d + j] - m->sum[i] * m->sum[j] / n) / (n - 1);
            cov[i * d + j] = cov[j * d + i] = c;
        }
    return 0;
}
