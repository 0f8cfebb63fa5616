/*
 * online-scaler — standardises tensor/f32[n] rows as Spark ML's or
 * scikit-learn's StandardScaler, fitted on the stream itself.
 *
 * fit: batch   every row waits in a spill file (not in RAM) until the end of
 *              the stream; then the scaler is fitted on all rows and every
 *              row is emitted scaled with it (the prototype).
 * fit: stream  the same every refit_every rows: a row is scaled by the first
 *              model fitted after it arrived, stamped with its version.
 * fit: none    applies the scaler saved in `model`.
 * replicas: N  the replicas of the stage in one process merge their
 *              statistics at every refit (stats_group), so they all scale
 *              with the model of all rows, as one replica would; with fit:
 *              stream each replica gives its rows to a round after
 *              refit_every / N of them and goes on taking rows; a round
 *              closes when every replica has given (timing decides how many
 *              rows it holds beyond that).
 *              Replicas on different hosts do not merge (yet).
 * The statistics and their merge live in plugins/lib/stats.
 */
#include <flowrun/plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

typedef struct scaler_state {
    stats_flavor flavor;
    int with_mean, with_std;
    stats_fit fit;
    const char *model_path, *spill_dir; /* owned by the engine */
    uint64_t refit_every;
    stats_fitter *fitter; /* owned; created at the first row (fit: batch|stream) */
    uint32_t dim;         /* 0 until known */
    stats_scaler scaler;  /* the current model */
    uint64_t version;     /* of the current model */
    stats_group *group;   /* owned; replicas > 1 and fit: batch|stream */
    /* Owned, grown as needed: a record's attributes for the spill, and
     * for an emitted record. */
    fr_stage *st;
} scaler_state;

/* with_mean, with_std: one of SWITCH_CHOICES, in this order. */
enum scaler_switch { SWITCH_FLAVOR, SWITCH_TRUE, SWITCH_FALSE };
#define SWITCH_CHOICES "flavor|true|false"

static const fr_param scaler_params[] = {
    {"flavor", FR_PARAM_ENUM, "spark", 0, 0, STATS_FLAVOR_CHOICES,
     "spark: Spark ML StandardScaler (defaults with_mean false, with_std true, n-1 std, "
     "zero-variance columns output 0); sklearn: scikit-learn StandardScaler (centred, "
     "population std, zero-variance columns keep scale 1)"},
    {"with_mean", FR_PARAM_ENUM, "flavor", 0, 0, SWITCH_CHOICES,
     "subtract the column means (flavor: the flavor's default)"},
    {"with_std", FR_PARAM_ENUM, "flavor", 0, 0, SWITCH_CHOICES,
     "divide by the column standard deviations (flavor: the flavor's default)"},
    {"fit", FR_PARAM_ENUM, "batch", 0, 0, STATS_FIT_CHOICES,
     "batch: fit on all rows, then emit them (rows wait on disk); stream: refit every "
     "refit_every rows, rows stamped with the model version; none: apply `model`. With "
     "replicas, those of one process merge their statistics and share each model (replicas "
     "on different hosts do not)"},
    {"refit_every", FR_PARAM_INT, "1000", 1, FR_NO_MAX, NULL, "fit: stream: rows between refits"},
    {"model", FR_PARAM_INPUT_FILE, "", 0, 0, "fit=none",
     "fit: none: the model file to apply (required); otherwise where to save each fitted model"},
    {"spill_dir", FR_PARAM_PATH, "", 0, 0, NULL,
     "directory of the spill file of waiting rows (unnamed, never left behind); default "
     "$TMPDIR, else /var/tmp"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

/* stats_group_sync's stop: the run is stopping. */
static int scaler_stopping(void *st)
{
    return fr_stopping(st) ? (int)FR_STOP : 0;
}

/* The replicas of this stage in this process: one group to merge in. */
static fr_status scaler_join(scaler_state *s, fr_stage *st)
{
    char name[512], err[512];
    uint32_t n = fr_replicas(st);
    if (n < 2 || s->fit == STATS_FIT_NONE)
        return FR_OK;
    snprintf(name, sizeof name, "%s/%s", fr_pipeline_name(st), fr_stage_name(st));
    if (!(s->group = stats_group_join(name, n, &stats_group_moments, err, sizeof err)))
        return fr_fail(st, FR_FATAL, "%s", err);
    /* A round holds about refit_every rows of all replicas together. */
    s->refit_every = (s->refit_every + n - 1) / n;
    return FR_OK;
}

static int scaler_choice(fr_stage *st, const char *key, int flavor_default)
{
    int v = fr_config_enum(st, key);
    return v == SWITCH_FLAVOR ? flavor_default : v == SWITCH_TRUE;
}

/* fit: none: the saved statistics give the scaler, with this stage's
 * flavor and switches. */
static fr_status scaler_load(scaler_state *s, fr_stage *st)
{
    char err[512];
    stats_moments *m = NULL;
    if (!s->model_path[0])
        return fr_fail(st, FR_FATAL, "fit: none needs `model`, the file of a fitted scaler");
    if (stats_load(s->model_path, &m, NULL, &s->version, err, sizeof err) < 0 ||
        stats_scaler_fit(&s->scaler, m, s->flavor, s->with_mean, s->with_std, err, sizeof err) <
            0) {
        stats_moments_free(m);
        return fr_fail(st, FR_FATAL, "model: %s", err);
    }
    s->dim = stats_moments_dim(m);
    stats_moments_free(m);
    return FR_OK;
}

static fr_status scaler_init(fr_stage *st, void **state)
{
    scaler_state *s = calloc(1, sizeof *s);
    if (!s)
        return fr_fail(st, FR_FATAL, "out of memory");
    s->st = st;
    s->flavor = (stats_flavor)fr_config_enum(st, "flavor");
    s->with_mean = scaler_choice(st, "with_mean", s->flavor == STATS_SKLEARN);
    s->with_std = scaler_choice(st, "with_std", 1);
    s->fit = (stats_fit)fr_config_enum(st, "fit");
    s->model_path = fr_config_string(st, "model");
    s->spill_dir = stats_spill_dir(fr_config_string(st, "spill_dir"));
    s->refit_every = s->fit == STATS_FIT_STREAM ? (uint64_t)fr_config_int(st, "refit_every") : 0;
    fr_status rc = s->fit == STATS_FIT_NONE ? scaler_load(s, st) : scaler_join(s, st);
    if (rc != FR_OK) {
        stats_scaler_clear(&s->scaler);
        free(s);
        return rc;
    }
    *state = s;
    return FR_OK;
}

/* Builds and emits one output record: in's strings, the scaled row. */
static fr_status scaler_emit_row(scaler_state *s, const float *row, const char *id, const char *key,
                                 const char *label, const fr_attr *attrs, uint32_t n_attrs,
                                 uint64_t version)
{
    fr_record out = {.id = id,
                     .key = key,
                     .label = label,
                     .model_version = version,
                     .attrs = attrs,
                     .n_attrs = n_attrs};
    fr_status rc = fr_payload_alloc(s->st, &out.payload, FR_KIND_TENSOR, 1, &s->dim);
    if (rc != FR_OK)
        return rc;
    stats_scaler_apply(&s->scaler, row, out.payload.data);
    return fr_emit(s->st, &out);
}

/* stats_fitter_ops: the model from the moments, saved when asked to. */
static int scaler_refit(void *ctx, stats_fitter *f, stats_moments *m, uint64_t version, char *err,
                        size_t err_size)
{
    scaler_state *s = ctx;
    s->version = version;
    if (stats_scaler_fit(&s->scaler, m, s->flavor, s->with_mean, s->with_std, err, err_size) < 0)
        return -1;
    fr_metric_add(s->st, "refits", 1);
    return s->model_path[0] ? stats_save(s->model_path, m, NULL, version, err, err_size) : 0;
}

static int scaler_emit(void *ctx, const stats_spill_block *blk, uint64_t version, char *err,
                       size_t err_size)
{
    scaler_state *s = ctx;
    for (size_t i = 0; i < blk->n; i++) {
        const char *const *str = blk->strings + 3 * i;
        const fr_attr *attrs = blk->attrs + blk->attr_first[i];
        uint32_t n_attrs = blk->attr_first[i + 1] - blk->attr_first[i];
        fr_status rc = scaler_emit_row(s, blk->rows + i * s->dim, str[0], str[1], str[2], attrs,
                                       n_attrs, version);
        if (rc != FR_OK)
            return (int)rc; /* the fitter passes it up to process/flush */
    }
    return 0;
}

static const stats_fitter_ops scaler_ops = {.refit = scaler_refit, .emit = scaler_emit};

static fr_status scaler_process(void *state, fr_stage *st, const fr_record *in)
{
    scaler_state *s = state;
    const fr_payload *p = &in->payload;
    char err[512];
    if (p->kind != FR_KIND_TENSOR || p->rank != 1 || !p->data || p->dims[0] == 0 ||
        p->size != (size_t)p->dims[0] * sizeof(float) || (s->dim && p->dims[0] != s->dim))
        return fr_fail(st, FR_REJECT,
                       "expected a tensor/f32[%u] payload, got kind %d, rank %u, "
                       "%u values",
                       s->dim, (int)p->kind, p->rank, p->dims[0]);
    if (s->fit == STATS_FIT_NONE)
        return scaler_emit_row(s, p->data, in->id, in->key, in->label, in->attrs, in->n_attrs,
                               s->version);
    if (!s->fitter) {
        s->dim = p->dims[0];
        s->fitter = stats_fitter_new(s->spill_dir, s->dim, 0, s->refit_every, &scaler_ops, s, err,
                                     sizeof err);
        if (!s->fitter)
            return fr_fail(st, FR_FATAL, "%s", err);
        if (s->group)
            stats_fitter_join(s->fitter, s->group, scaler_stopping, st);
    }
    int rc = stats_fitter_add(s->fitter, p->data, in->id, in->key, in->label, in->attrs,
                              in->n_attrs, err, sizeof err);
    return rc < 0 ? fr_fail(st, FR_FATAL, "%s", err) : (fr_status)rc;
}

static fr_status scaler_flush(void *state, fr_stage *st)
{
    scaler_state *s = state;
    char err[512];
    if (!s->fitter) /* no rows here: the other replicas' last round goes on without */
        return s->group && stats_group_sync(s->group, NULL, 1, NULL, NULL, NULL, NULL, err,
                                            sizeof err) < 0
                   ? fr_fail(st, FR_FATAL, "%s", err)
                   : FR_OK;
    int rc = stats_fitter_finish(s->fitter, err, sizeof err);
    return rc < 0 ? fr_fail(st, FR_FATAL, "%s", err) : (fr_status)rc;
}

static void scaler_fini(void *state, fr_stage *st)
{
    scaler_state *s = state;
    stats_fitter_free(s->fitter);
    stats_group_leave(s->group);
    stats_scaler_clear(&s->scaler);
    free(s);
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
    .process = scaler_process,
    .flush = scaler_flush,
    .fini = scaler_fini,
};
