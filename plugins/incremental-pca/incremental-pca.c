/*
 * incremental-pca — projects tensor/f32[n] rows on their top principal
 * components, fitted on the stream from mergeable statistics.
 *
 * fit: batch   every row waits in a spill file (not in RAM: the RAM is the
 *              n x n statistics) until the end of the stream; then the PCA
 *              is fitted on all rows and every row is emitted projected
 *              (the prototype).  Signs follow scikit-learn 1.2's svd_flip.
 * fit: stream  refits every refit_every rows; a row is projected by the
 *              first model fitted after it arrived, stamped with its
 *              version.  Signs: largest loading positive (the rows of the
 *              earlier versions are gone).
 * fit: none    applies the PCA saved in `model`.
 * replicas: N  the replicas of the stage in one process merge their
 *              statistics at every refit (stats_group) and, in fit: batch,
 *              their extreme scores for the sign rule, so they all project
 *              with the model of all rows, as one replica would; with fit:
 *              stream each replica gives its rows to a round after
 *              refit_every / N of them and goes on taking rows; a round
 *              closes when every replica has given (timing decides how many
 *              rows it holds beyond that).
 *              Replicas on different hosts do not merge (yet).
 * flavor: spark projects the raw rows (PCAModel.transform); sklearn centres
 * first.  Both fit the centred covariance.  Explained variance and ratio go
 * to the run summary ("pca") and the model file.
 */
#include <flowrun/plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

typedef struct pca_state {
    int centre; /* flavor sklearn */
    int batch;  /* fit: batch */
    stats_fit fit;
    const char *model_path, *spill_dir; /* owned by the engine */
    uint32_t k, dim;                    /* dim 0 until known */
    uint64_t refit_every, version;
    stats_fitter *fitter; /* owned; fit: batch|stream, from the first row */
    stats_pca pca;        /* the current model */
    /* Owned, from the first row: scores and centred rows of one block
     * (STATS_REPLAY_ROWS x k and x dim), the extreme score per component. */
    float *scores, *centred, *extreme;
    uint64_t extremes_seen;
    /* Owned; replicas > 1 and fit: batch|stream: the moments, and in fit:
     * batch the extreme scores, of the replicas of this process. */
    stats_group *group, *extremes_group;
    /* Owned, grown as needed: a record's attributes for the spill, and
     * for an emitted record. */
    fr_stage *st;
} pca_state;

static const fr_param pca_params[] = {
    {"components", FR_PARAM_INT, "200", 1, 65536, NULL, "number of principal components kept"},
    {"flavor", FR_PARAM_ENUM, "spark", 0, 0, STATS_FLAVOR_CHOICES,
     "spark: PCAModel.transform, components^T x without centring (the prototype's CSV); "
     "sklearn: scikit-learn PCA, centred first"},
    {"fit", FR_PARAM_ENUM, "batch", 0, 0, STATS_FIT_CHOICES,
     "batch: fit on all rows, then emit them (rows wait on disk); stream: refit every "
     "refit_every rows, rows stamped with the model version; none: apply `model`. With "
     "replicas, those of one process merge their statistics and share each model (replicas "
     "on different hosts do not)"},
    {"refit_every", FR_PARAM_INT, "10000", 1, FR_NO_MAX, NULL, "fit: stream: rows between refits"},
    {"model", FR_PARAM_INPUT_FILE, "", 0, 0, "fit=none",
     "fit: none: the model file to apply (required); otherwise where to save each fitted model"},
    {"spill_dir", FR_PARAM_PATH, "", 0, 0, NULL,
     "directory of the spill file of waiting rows (unnamed, never left behind); default "
     "$TMPDIR, else /var/tmp"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

/* The per-block buffers, once dim is known. */
static fr_status pca_buffers(pca_state *s, fr_stage *st, uint32_t dim)
{
    s->dim = dim;
    s->scores = malloc((size_t)STATS_REPLAY_ROWS * s->k * sizeof(float));
    s->centred = malloc((size_t)STATS_REPLAY_ROWS * dim * sizeof(float));
    s->extreme = malloc(s->k * sizeof(float));
    if (!s->scores || !s->centred || !s->extreme)
        return fr_fail(st, FR_FATAL, "out of memory for %u x %u blocks", dim, s->k);
    return FR_OK;
}

static fr_status pca_load(pca_state *s, fr_stage *st)
{
    char err[512];
    stats_moments *m = NULL;
    if (!s->model_path[0])
        return fr_fail(st, FR_FATAL, "fit: none needs `model`, the file of a fitted PCA");
    if (stats_load(s->model_path, &m, &s->pca, &s->version, err, sizeof err) < 0)
        return fr_fail(st, FR_FATAL, "model: %s", err);
    uint32_t dim = stats_moments_dim(m);
    stats_moments_free(m);
    if (s->pca.k != s->k)
        return fr_fail(st, FR_FATAL, "model: %s holds %u components, components is %u",
                       s->model_path, s->pca.k, s->k);
    return pca_buffers(s, st, dim);
}

static void pca_free(pca_state *s)
{
    stats_fitter_free(s->fitter);
    stats_group_leave(s->extremes_group);
    stats_group_leave(s->group);
    stats_pca_clear(&s->pca);
    free(s->extreme);
    free(s->centred);
    free(s->scores);
    free(s);
}

/* stats_group_sync's stop: the run is stopping. */
static int pca_stopping(void *st)
{
    return fr_stopping(st) ? (int)FR_STOP : 0;
}

/* The replicas of this stage in this process: the groups to merge in. */
static fr_status pca_join(pca_state *s, fr_stage *st)
{
    char name[512], err[512];
    uint32_t n = fr_replicas(st);
    if (n < 2 || s->fit == STATS_FIT_NONE)
        return FR_OK;
    snprintf(name, sizeof name, "%s/%s", fr_pipeline_name(st), fr_stage_name(st));
    if (!(s->group = stats_group_join(name, n, &stats_group_moments, err, sizeof err)) ||
        (s->batch &&
         !(s->extremes_group = stats_group_join(name, n, &stats_group_extremes, err, sizeof err))))
        return fr_fail(st, FR_FATAL, "%s", err);
    /* A round holds about refit_every rows of all replicas together. */
    s->refit_every = (s->refit_every + n - 1) / n;
    return FR_OK;
}

static fr_status pca_init(fr_stage *st, void **state)
{
    pca_state *s = calloc(1, sizeof *s);
    if (!s)
        return fr_fail(st, FR_FATAL, "out of memory");
    s->st = st;
    s->k = (uint32_t)fr_config_int(st, "components");
    s->centre = fr_config_enum(st, "flavor") == STATS_SKLEARN;
    s->fit = (stats_fit)fr_config_enum(st, "fit");
    s->batch = s->fit == STATS_FIT_BATCH;
    s->model_path = fr_config_string(st, "model");
    s->spill_dir = stats_spill_dir(fr_config_string(st, "spill_dir"));
    s->refit_every = s->fit == STATS_FIT_STREAM ? (uint64_t)fr_config_int(st, "refit_every") : 0;
    fr_status rc = s->fit == STATS_FIT_NONE ? pca_load(s, st) : pca_join(s, st);
    if (rc != FR_OK) {
        pca_free(s);
        return rc;
    }
    *state = s;
    return FR_OK;
}

/* The run summary's "pca": the variances of the current model. */
static void pca_report(pca_state *s, uint64_t rows)
{
    char *json = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&json, &len);
    if (!f)
        return;
    fprintf(f, "{\"components\":%u,\"rows\":%llu,\"model_version\":%llu,\"blas_core\":\"%s\"", s->k,
            (unsigned long long)rows, (unsigned long long)s->version, stats_blas_core());
    for (int ratio = 0; ratio < 2; ratio++) {
        fprintf(f, ",\"explained_variance%s\":[", ratio ? "_ratio" : "");
        for (uint32_t j = 0; j < s->k; j++)
            fprintf(f, "%s%.17g", j ? "," : "",
                    s->pca.variance[j] / (ratio ? s->pca.total_variance : 1));
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
    pca_state *s = ctx;
    stats_pca_transform(&s->pca, 1, blk->rows, blk->n, s->scores, s->centred);
    stats_pca_track_extremes(&s->pca, s->scores, blk->n, s->extreme, &s->extremes_seen);
    return 0;
}

/* fit: batch with replicas: the sign rule over the rows of all of them. */
static int pca_merge_extremes(pca_state *s, char *err, size_t err_size)
{
    stats_extremes mine = {.k = s->k, .seen = s->extremes_seen, .extreme = s->extreme};
    void *all = NULL;
    int rc = stats_group_sync(s->extremes_group, &mine, 1, &all, NULL, pca_stopping, s->st, err,
                              err_size);
    if (rc == 0 && all)
        memcpy(s->extreme, ((stats_extremes *)all)->extreme, s->k * sizeof(float));
    if (all)
        stats_group_extremes.free(all);
    return rc;
}

static int pca_refit(void *ctx, stats_fitter *f, stats_moments *m, uint64_t version, char *err,
                     size_t err_size)
{
    pca_state *s = ctx;
    s->version = version;
    if (stats_pca_fit(&s->pca, m, s->k, err, err_size) < 0)
        return -1;
    if (s->batch) {
        s->extremes_seen = 0;
        if (stats_fitter_replay(f, pca_track, s, err, err_size) < 0)
            return -1;
        int rc = s->extremes_group ? pca_merge_extremes(s, err, err_size) : 0;
        if (rc != 0)
            return rc;
        stats_pca_flip_by_scores(&s->pca, s->extreme);
    }
    fr_metric_add(s->st, "refits", 1);
    pca_report(s, stats_moments_count(m));
    return s->model_path[0] ? stats_save(s->model_path, m, &s->pca, version, err, err_size) : 0;
}

/* Projects n rows and emits them with their strings (3 per row) and attributes. */
static fr_status pca_emit_rows(pca_state *s, const float *rows, size_t n,
                               const char *const *strings, const stats_spill_block *blk,
                               const fr_record *in, uint64_t version)
{
    stats_pca_transform(&s->pca, s->centre, rows, n, s->scores, s->centred);
    for (size_t i = 0; i < n; i++) {
        fr_record out = {.id = strings[3 * i],
                         .key = strings[3 * i + 1],
                         .label = strings[3 * i + 2],
                         .model_version = version};
        if (blk) {
            out.attrs = blk->attrs + blk->attr_first[i];
            out.n_attrs = blk->attr_first[i + 1] - blk->attr_first[i];
        } else {
            out.attrs = in->attrs;
            out.n_attrs = in->n_attrs;
        }
        fr_status rc = fr_payload_alloc(s->st, &out.payload, FR_KIND_TENSOR, 1, &s->k);
        if (rc != FR_OK)
            return rc;
        memcpy(out.payload.data, s->scores + i * s->k, s->k * sizeof(float));
        if ((rc = fr_emit(s->st, &out)) != FR_OK)
            return rc;
    }
    return FR_OK;
}

static int pca_emit(void *ctx, const stats_spill_block *blk, uint64_t version, char *err,
                    size_t err_size)
{
    pca_state *s = ctx;
    /* A status (> 0) the fitter passes up to process/flush. */
    return (int)pca_emit_rows(s, blk->rows, blk->n, blk->strings, blk, NULL, version);
}

static const stats_fitter_ops pca_ops = {.refit = pca_refit, .emit = pca_emit};

static fr_status pca_first_row(pca_state *s, fr_stage *st, uint32_t dim)
{
    char err[512];
    if (s->k > dim)
        return fr_fail(st, FR_FATAL, "components: %u is more than the %u input columns", s->k, dim);
    fr_status rc = pca_buffers(s, st, dim);
    if (rc != FR_OK)
        return rc;
    s->fitter =
        stats_fitter_new(s->spill_dir, dim, 1, s->refit_every, &pca_ops, s, err, sizeof err);
    if (!s->fitter)
        return fr_fail(st, FR_FATAL, "%s", err);
    if (s->group)
        stats_fitter_join(s->fitter, s->group, pca_stopping, st);
    return FR_OK;
}

static fr_status pca_process(void *state, fr_stage *st, const fr_record *in)
{
    pca_state *s = state;
    const fr_payload *p = &in->payload;
    char err[512];
    if (p->kind != FR_KIND_TENSOR || p->rank != 1 || !p->data || p->dims[0] == 0 ||
        p->size != (size_t)p->dims[0] * sizeof(float) || (s->dim && p->dims[0] != s->dim))
        return fr_fail(st, FR_REJECT,
                       "expected a tensor/f32[%u] payload, got kind %d, rank %u, %u values", s->dim,
                       (int)p->kind, p->rank, p->dims[0]);
    if (s->fit == STATS_FIT_NONE) {
        const char *strings[3] = {in->id, in->key, in->label};
        return pca_emit_rows(s, p->data, 1, strings, NULL, in, s->version);
    }
    fr_status rc = s->fitter ? FR_OK : pca_first_row(s, st, p->dims[0]);
    if (rc != FR_OK)
        return rc;
    int added = stats_fitter_add(s->fitter, p->data, in->id, in->key, in->label, in->attrs,
                                 in->n_attrs, err, sizeof err);
    return added < 0 ? fr_fail(st, FR_FATAL, "%s", err) : (fr_status)added;
}

static fr_status pca_flush(void *state, fr_stage *st)
{
    pca_state *s = state;
    char err[512];
    if (!s->fitter) { /* no rows here: the others' last rounds go on without */
        int rc = s->group
                     ? stats_group_sync(s->group, NULL, 1, NULL, NULL, NULL, NULL, err, sizeof err)
                     : 0;
        if (rc == 0 && s->extremes_group)
            rc = stats_group_sync(s->extremes_group, NULL, 1, NULL, NULL, NULL, NULL, err,
                                  sizeof err);
        return rc < 0 ? fr_fail(st, FR_FATAL, "%s", err) : FR_OK;
    }
    int rc = stats_fitter_finish(s->fitter, err, sizeof err);
    return rc < 0 ? fr_fail(st, FR_FATAL, "%s", err) : (fr_status)rc;
}

static void pca_fini(void *state, fr_stage *st)
{
    pca_free(state);
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
    .process = pca_process,
    .flush = pca_flush,
    .fini = pca_fini,
};
