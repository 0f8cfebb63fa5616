/*
 * scaler.c — standardisation as Spark ML's or scikit-learn's StandardScaler.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "stats.h"

/* scikit-learn 1.2's _is_constant_feature: a variance within the rounding
 * error of its own computation is zero, and _handle_zeros_in_scale then
 * keeps the scale at 1.  Spark divides only by a std that is exactly != 0
 * and outputs 0 otherwise. */
static float column_factor(stats_flavor flavor, double var, double mean, double n)
{
    if (flavor == STATS_SKLEARN) {
        double eps = DBL_EPSILON, bound = n * eps * var + (n * mean * eps) * (n * mean * eps);
        return var <= bound ? 1.0f : (float)(1.0 / sqrt(var));
    }
    return var != 0 ? (float)(1.0 / sqrt(var)) : 0.0f;
}

int stats_scaler_fit(stats_scaler *s, stats_moments *m, stats_flavor flavor, int with_mean,
                     int with_std, char *err, size_t err_size)
{
    uint32_t d = stats_moments_dim(m);
    double *mean = malloc(d * sizeof(double)), *var = malloc(d * sizeof(double));
    if (!s->offset || s->dim != d) {
        stats_scaler_clear(s);
        s->offset = malloc(d * sizeof(float));
        s->factor = malloc(d * sizeof(float));
        s->dim = d;
    }
    if (!mean || !var || !s->offset || !s->factor) {
        free(var);
        free(mean);
        stats_scaler_clear(s);
        snprintf(err, err_size, "scaler for %u columns: out of memory", d);
        return -1;
    }
    stats_moments_mean(m, mean);
    stats_moments_var(m, flavor == STATS_SPARK ? 1 : 0, var);
    double n = (double)stats_moments_count(m);
    for (uint32_t j = 0; j < d; j++) {
        s->offset[j] = with_mean ? (float)mean[j] : 0.0f;
        s->factor[j] = with_std ? column_factor(flavor, var[j], mean[j], n) : 1.0f;
    }
    free(var);
    free(mean);
    return 0;
}

void stats_scaler_apply(const stats_scaler *s, const float *in, float *out)
{
    for (uint32_t j = 0; j < s->dim; j++)
        out[j] = (in[j] - s->offset[j]) * s->factor[j];
}

void stats_scaler_clear(stats_scaler *s)
{
    free(s->offset);
    free(s->factor);
    *s = (stats_scaler){0};
}
