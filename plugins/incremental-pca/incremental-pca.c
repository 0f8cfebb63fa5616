/*
 * incremental-pca — projects tensor/f32[n] rows on their top principal
 * components, fitted on the stream from mergeable statistics.
 *
 * A thin plugin on the fitted-transform base (plugins/lib/fitted: fit
 * batch|stream|none, model files, spill and its checkpoint, replicas'
 * merge); the statistics live in plugins/lib/stats.  Here: the components
 * and their signs, and the run summary's "pca".
 *
 * Signs: fit: batch follows scikit-learn 1.2's svd_flip (every fitted row's
 * centred scores are at hand in the spill; replicas merge their extreme
 * scores); fit: stream makes the largest loading positive (the rows of
 * earlier versions are gone).  flavor: spark projects the raw rows
 * (PCAModel.transform); sklearn centres first.  Both fit the centred
 * covariance.  Explained variance and ratio go to the run summary ("pca")
 * and the model file.
 */
#include <flowrun/plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fitted.h"
#include "stats.h"

typedef struct pca {
    fr_stage *st;
    uint32_t k;
    int centre; /* flavor sklearn */
    stats_pca model;
    /* Owned, from start: scores and centred rows of one block
     * (STATS_REPLAY_ROWS x k and x dim), the extreme score per component. */
    float *scores, *centred, *extreme;
    uint64_t extremes_seen;
    stats_group *extremes_group; /* fit: batch with replicas; owned by the base */
} pca;

static const fr_param pca_params[] = {
    FITTED_STAGE_PARAMS("10000"),
    {"components", FR_PARAM_INT, "200", 1, 65536, NULL, "number of principal components kept"},
    {"flavor", FR_PARAM_ENUM, "spark", 0, 0, STATS_FLAVOR_CHOICES,
     "spark: PCAModel.transform, components^T x without centring (the prototype's CSV); "
     "sklearn: scikit-learn PCA, centred first"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static int pca_start(void *ctx, uint32_t dim, uint32_t *out_dim, char *err, size_t err_size)
{
    pca *s = ctx;
    if (s->k > dim) {
        snprintf(err, err_size, "components: %u is more than the %u input columns", s->k, dim);
        return -1;
    }
    s->scores = malloc((size_t)STATS_REPLAY_ROWS * s->k * sizeof(float));
    s->centred = malloc((size_t)STATS_REPLAY_ROWS * dim * sizeof(float));
    s->extreme = malloc(s->k * sizeof(float));
    if (!s->scores || !s->centred || !s->extreme) {
        snprintf(err, err_size, "out of memory for %u x %u blocks", dim, s->k);
        return -1;
    }
    *out_dim = s->k;
    return 0;
}

static int pca_load(void *ctx, const char *path, uint32_t *dim, uint64_t *version, char *err,
                    size_t err_size)
{
    pca *s = ctx;
    stats_moments *m = NULL;
    if (stats_load(path, &m, &s->model, version, err, err_size) < 0)
        return -1;
    *dim = stats_moments_dim(m);
    stats_moments_free(m);
    if (s->model.k == s->k)
        return 0;
    snprintf(err, err_size, "model: %s holds %u components, components is %u", path, s->model.k,
             s->k);
    return -1;
}

/* The run summary's "pca": the variances of the current model. */
static void pca_report(pca *s, uint64_t rows, uint64_t version)
{
    char *json = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&json, &len);
    if (!f)
        return;
    fprintf(f, "{\"components\":%u,\"rows\":%llu,\"model_version\":%llu,\"blas_core\":\"%s\"", s->k,
            (unsigned long long)rows, (unsigned long long)version, stats_blas_core());
    for (int ratio = 0; ratio < 2; ratio++) {
        fprintf(f, ",\"explained_variance%s\":[", ratio ? "_ratio" : "");
        for (uint32_t j = 0; j < s->k; j++)
            fprintf(f, "%s%.17g", j ? "," : "",
                    s->model.variance[j] / (ratio ? s->model.total_variance : 1));
        fputc(']', f);
    }
    fputc('}', f);
    if (fclose(f) == 0)
        fr_report(s->st, "pca", json);
    free(json);
}

/* scikit-learn 1.2's sign rule needs the centred scores of every row. */
static int pca_track(void *ctx, const stats_spill_block *blk, char *err, size_t err_size)
{
    pca *s = ctx;
    (void)err;
    (void)err_size;
    stats_pca_transform(&s->model, 1, blk->rows, blk->n, s->scores, s->centred);
    stats_pca_track_extremes(&s->model, s->scores, blk->n, s->extreme, &s->extremes_seen);
    return 0;
}

/* fit: batch: the sign rule over every row (of every replica). */
static int pca_flip(pca *s, fitted_stage *f, char *err, size_t err_size)
{
    s->extremes_seen = 0;
    if (fitted_replay(f, pca_track, s, err, err_size) < 0)
        return -1;
    if (s->extremes_group) {
        stats_extremes mine = {.k = s->k, .seen = s->extremes_seen, .extreme = s->extreme};
        void *all = NULL;
        int rc = fitted_sync(f, s->extremes_group, &mine, &all, err, err_size);
        if (rc == 0 && all)
            memcpy(s->extreme, ((stats_extremes *)all)->extreme, s->k * sizeof(float));
        if (all)
            stats_group_extremes.free(all);
        if (rc != 0)
            return rc;
    }
    stats_pca_flip_by_scores(&s->model, s->extreme);
    return 0;
}

static int pca_fit(void *ctx, fitted_stage *f, stats_moments *m, uint64_t version, char *err,
                   size_t err_size)
{
    pca *s = ctx;
    if (stats_pca_fit(&s->model, m, s->k, err, err_size) < 0)
        return -1;
    int rc = fitted_is_batch(f) ? pca_flip(s, f, err, err_size) : 0;
    if (rc == 0)
        pca_report(s, stats_moments_count(m), version);
    return rc;
}

static int pca_save(void *ctx, const char *path, stats_moments *m, uint64_t version, char *err,
                    size_t err_size)
{
    pca *s = ctx;
    return stats_save(path, m, &s->model, version, err, err_size);
}

static void pca_transform(void *ctx, const float *rows, size_t n, float *out)
{
    pca *s = ctx;
    stats_pca_transform(&s->model, s->centre, rows, n, out, s->centred);
}

static void pca_free(void *ctx)
{
    pca *s = ctx;
    stats_pca_clear(&s->model);
    free(s->extreme);
    free(s->centred);
    free(s->scores);
    free(s);
}

static const fitted_ops pca_ops = {.cross = 1,
                                   .load = pca_load,
                                   .start = pca_start,
                                   .fit = pca_fit,
                                   .save = pca_save,
                                   .transform = pca_transform,
                                   .free = pca_free};

static fr_status pca_init(fr_stage *st, void **state)
{
    char err[512];
    pca *s = calloc(1, sizeof *s);
    if (!s)
        return fr_fail(st, FR_FATAL, "out of memory");
    s->st = st;
    s->k = (uint32_t)fr_config_int(st, "components");
    s->centre = fr_config_enum(st, "flavor") == STATS_SKLEARN;
    fr_status rc = fitted_stage_init(st, &pca_ops, s, state);
    if (rc != FR_OK || fr_config_enum(st, "fit") != STATS_FIT_BATCH)
        return rc;
    s->extremes_group = fitted_join(*state, &stats_group_extremes, err, sizeof err);
    if (!s->extremes_group && err[0]) {
        fitted_stage_fini(*state, st);
        return fr_fail(st, FR_FATAL, "%s", err);
    }
    return FR_OK;
}

FR_PLUGIN_EXPORT const fr_plugin flowrun_plugin = {
    FR_PLUGIN_HEADER,
    .name = "incremental-pca",
    .summary = "Project tensor rows on their top principal components (Spark ML or scikit-learn "
               "semantics), fitted on the stream in flat memory",
    .version = "1",
    .input = "tensor/f32[n]",
    .output = "tensor/f32[${components}]",
    .params = pca_params,
    .init = pca_init,
    .process = fitted_stage_process,
    .flush = fitted_stage_flush,
    .fini = fitted_stage_fini,
};
