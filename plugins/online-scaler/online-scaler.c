/*
 * online-scaler — standardises tensor/f32[n] rows as Spark ML's or
 * scikit-learn's StandardScaler, fitted on the stream itself.
 *
 * A thin plugin on the fitted-transform base (plugins/lib/fitted: fit
 * batch|stream|none, model files, spill and its checkpoint, replicas'
 * merge); the statistics live in plugins/lib/stats.  Here: the flavor and
 * its switches, and the scaler made from the moments.
 */
#include <flowrun/plugin.h>
#include <stdlib.h>
#include <string.h>

#include "fitted.h"
#include "stats.h"

typedef struct scaler {
    stats_flavor flavor;
    int with_mean, with_std;
    stats_scaler model; /* the current one */
} scaler;

/* with_mean, with_std: one of SWITCH_CHOICES, in this order. */
enum scaler_switch { SWITCH_FLAVOR, SWITCH_TRUE, SWITCH_FALSE };
#define SWITCH_CHOICES "flavor|true|false"

static const fr_param scaler_params[] = {
    FITTED_STAGE_PARAMS("1000"),
    {"flavor", FR_PARAM_ENUM, "spark", 0, 0, STATS_FLAVOR_CHOICES,
     "spark: Spark ML StandardScaler (defaults with_mean false, with_std true, n-1 std, "
     "zero-variance columns output 0); sklearn: scikit-learn StandardScaler (centred, "
     "population std, zero-variance columns keep scale 1)"},
    {"with_mean", FR_PARAM_ENUM, "flavor", 0, 0, SWITCH_CHOICES,
     "subtract the column means (flavor: the flavor's default)"},
    {"with_std", FR_PARAM_ENUM, "flavor", 0, 0, SWITCH_CHOICES,
     "divide by the column standard deviations (flavor: the flavor's default)"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static int scaler_fit(void *ctx, fitted_stage *f, stats_moments *m, uint64_t version, char *err,
                      size_t err_size)
{
    scaler *s = ctx;
    (void)f;
    (void)version;
    return stats_scaler_fit(&s->model, m, s->flavor, s->with_mean, s->with_std, err, err_size);
}

/* fit: none: the saved statistics give the scaler, with this stage's
 * flavor and switches. */
static int scaler_load(void *ctx, const char *path, uint32_t *dim, uint64_t *version, char *err,
                       size_t err_size)
{
    stats_moments *m = NULL;
    int rc = stats_load(path, &m, NULL, version, err, err_size);
    if (rc == 0)
        rc = scaler_fit(ctx, NULL, m, *version, err, err_size);
    if (rc == 0)
        *dim = stats_moments_dim(m);
    stats_moments_free(m);
    return rc;
}

static int scaler_start(void *ctx, uint32_t dim, uint32_t *out_dim, char *err, size_t err_size)
{
    (void)ctx;
    (void)err;
    (void)err_size;
    *out_dim = dim;
    return 0;
}

static int scaler_save(void *ctx, const char *path, stats_moments *m, uint64_t version, char *err,
                       size_t err_size)
{
    (void)ctx;
    return stats_save(path, m, NULL, version, err, err_size);
}

static void scaler_transform(void *ctx, const float *rows, size_t n, float *out)
{
    scaler *s = ctx;
    for (size_t i = 0; i < n; i++)
        stats_scaler_apply(&s->model, rows + i * s->model.dim, out + i * s->model.dim);
}

static void scaler_free(void *ctx)
{
    scaler *s = ctx;
    stats_scaler_clear(&s->model);
    free(s);
}

static const fitted_ops scaler_ops = {.cross = 0,
                                      .load = scaler_load,
                                      .start = scaler_start,
                                      .fit = scaler_fit,
                                      .save = scaler_save,
                                      .transform = scaler_transform,
                                      .free = scaler_free};

static int scaler_choice(fr_stage *st, const char *key, int flavor_default)
{
    int v = fr_config_enum(st, key);
    return v == SWITCH_FLAVOR ? flavor_default : v == SWITCH_TRUE;
}

static fr_status scaler_init(fr_stage *st, void **state)
{
    scaler *s = calloc(1, sizeof *s);
    if (!s)
        return fr_fail(st, FR_FATAL, "out of memory");
    s->flavor = (stats_flavor)fr_config_enum(st, "flavor");
    s->with_mean = scaler_choice(st, "with_mean", s->flavor == STATS_SKLEARN);
    s->with_std = scaler_choice(st, "with_std", 1);
    return fitted_stage_init(st, &scaler_ops, s, state);
}

FR_PLUGIN_EXPORT const fr_plugin flowrun_plugin = {
    FR_PLUGIN_HEADER,
    .name = "online-scaler",
    .summary = "Standardise tensor rows as Spark ML's or scikit-learn's StandardScaler, fitted "
               "on the stream (batch, stream or saved model)",
    .version = "1",
    .input = "tensor/f32[n]",
    .output = "tensor/f32[n]",
    .params = scaler_params,
    .init = scaler_init,
    .process = fitted_stage_process,
    .flush = fitted_stage_flush,
    .fini = fitted_stage_fini,
};
