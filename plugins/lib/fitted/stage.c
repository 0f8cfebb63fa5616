/* stage.c — the fitted-transform base stage (see fitted.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "durable.h"
#include "fitted.h"

enum { MAX_GROUPS = 4 };

struct fitted_stage {
    fr_stage *st;
    const fitted_ops *ops; /* static */
    void *ctx;             /* owned through ops->free */
    stats_fit fit;
    const char *model_path, *spill_dir; /* owned by the engine */
    uint64_t refit_every;
    uint32_t dim, out_dim; /* 0 until known */
    uint64_t version;      /* of the current model */
    stats_fitter *fitter;  /* owned; fit: batch|stream, from the first row (or checkpoint) */
    float *out;            /* owned: STATS_REPLAY_ROWS x out_dim transformed rows */
    /* Owned: the replicas' groups of this process; [0] merges the moments. */
    stats_group *groups[MAX_GROUPS];
    size_t n_groups;
    durable durable; /* fit: batch */
    int durable_on;
};

int fitted_is_batch(const fitted_stage *f)
{
    return f->fit == STATS_FIT_BATCH;
}

fr_stage *fitted_fr_stage(const fitted_stage *f)
{
    return f->st;
}

/* stats_group_sync's stop: the run is stopping. */
static int stopping(void *st)
{
    return fr_stopping(st) ? (int)FR_STOP : 0;
}

stats_group *fitted_join(fitted_stage *f, const stats_group_ops *ops, char *err, size_t err_size)
{
    char name[512];
    uint32_t n = fr_replicas(f->st);
    err[0] = '\0';
    if (n < 2 || f->fit == STATS_FIT_NONE)
        return NULL;
    if (f->n_groups == MAX_GROUPS) {
        snprintf(err, err_size, "more than %d replica groups", MAX_GROUPS);
        return NULL;
    }
    snprintf(name, sizeof name, "%s/%s", fr_pipeline_name(f->st), fr_stage_name(f->st));
    stats_group *g = stats_group_join(name, n, ops, err, err_size);
    if (g)
        f->groups[f->n_groups++] = g;
    return g;
}

int fitted_sync(fitted_stage *f, stats_group *g, void *part, void **result, char *err,
                size_t err_size)
{
    return stats_group_sync(g, part, 1, result, NULL, stopping, f->st, err, err_size);
}

int fitted_replay(fitted_stage *f,
                  int (*fn)(void *ctx, const stats_spill_block *blk, char *err, size_t err_size),
                  void *ctx, char *err, size_t err_size)
{
    return stats_fitter_replay(f->fitter, fn, ctx, err, err_size);
}

/* ---- the fitter's callbacks ------------------------------------------- */

static int refit(void *ctx, stats_fitter *fitter, stats_moments *m, uint64_t version, char *err,
                 size_t err_size)
{
    fitted_stage *f = ctx;
    (void)fitter;
    f->version = version;
    if (f->ops->fit(f->ctx, f, m, version, err, err_size) < 0)
        return -1;
    fr_metric_add(f->st, "refits", 1);
    return f->model_path[0] ? f->ops->save(f->ctx, f->model_path, m, version, err, err_size) : 0;
}

/* Transforms a block of rows and emits each with its record's strings and
 * attributes.  A status (> 0) goes up to process/flush as it is. */
static int emit_block(void *ctx, const stats_spill_block *blk, uint64_t version, char *err,
                      size_t err_size)
{
    fitted_stage *f = ctx;
    (void)err;
    (void)err_size;
    f->ops->transform(f->ctx, blk->rows, blk->n, f->out);
    for (size_t i = 0; i < blk->n; i++) {
        fr_record out = {.id = blk->strings[3 * i],
                         .key = blk->strings[3 * i + 1],
                         .label = blk->strings[3 * i + 2],
                         .model_version = version,
                         .attrs = blk->attrs + blk->attr_first[i],
                         .n_attrs = blk->attr_first[i + 1] - blk->attr_first[i]};
        fr_status rc = fr_payload_alloc(f->st, &out.payload, FR_KIND_TENSOR, 1, &f->out_dim);
        if (rc == FR_OK) {
            memcpy(out.payload.data, f->out + i * f->out_dim, f->out_dim * sizeof(float));
            rc = fr_emit(f->st, &out);
        }
        if (rc != FR_OK)
            return (int)rc;
    }
    return 0;
}

static const stats_fitter_ops fitter_ops = {.refit = refit, .emit = emit_block};

/* ---- init --------------------------------------------------------------- */

/* The width is known: the plugin's buffers, the base's output block, and
 * (fit: batch|stream) the fitter. */
static int start(fitted_stage *f, uint32_t dim, char *err, size_t err_size)
{
    if (f->ops->start(f->ctx, dim, &f->out_dim, err, err_size) < 0)
        return -1;
    f->dim = dim;
    if (!(f->out = malloc((size_t)STATS_REPLAY_ROWS * f->out_dim * sizeof(float)))) {
        snprintf(err, err_size, "out of memory for %u x %u rows", STATS_REPLAY_ROWS, f->out_dim);
        return -1;
    }
    if (f->fit == STATS_FIT_NONE)
        return 0;
    f->fitter = stats_fitter_new(f->spill_dir, dim, f->ops->cross, f->refit_every, &fitter_ops, f,
                                 err, err_size);
    if (!f->fitter)
        return -1;
    if (f->n_groups)
        stats_fitter_join(f->fitter, f->groups[0], stopping, f->st);
    return 0;
}

/* fit: batch: the spill in the state directory, and the rows a crashed
 * attempt of this run made durable, reloaded. */
static int open_durable(fitted_stage *f, char *err, size_t err_size)
{
    const char *dir = fr_state_dir(f->st);
    uint32_t dim;
    uint64_t bytes;
    if (!dir || !*dir)
        return 0;
    if (durable_init(&f->durable, dir, fr_config_int(f->st, "checkpoint_every"),
                     (uint64_t)fr_config_int(f->st, "checkpoint_rows"), err, err_size))
        return -1;
    f->durable_on = 1;
    /* A checkpoint serves only the run it was made in: a fresh or an
     * incremental run (whose held rows are done) starts without it. */
    if (fr_run_kind_of(f->st) != FR_RUN_RESUME)
        return durable_discard(&f->durable, err, err_size);
    int found = durable_find(&f->durable, &dim, &bytes, err, err_size);
    if (found <= 0)
        return found;
    stats_spill *spill = NULL;
    if (start(f, dim, err, err_size) ||
        !(spill = stats_spill_open_file(f->durable.spill_path, dim, bytes, err, err_size)))
        return -1;
    int rc = stats_fitter_resume(f->fitter, spill, durable_hold, &f->durable, err, err_size);
    if (rc)
        return rc;
    stats_fitter_keep_rows(f->fitter);
    durable_held_all(&f->durable, f->st);
    fr_metric_add(f->st, "rows_reloaded", (double)stats_spill_rows(stats_fitter_spill(f->fitter)));
    fr_log(f->st, FR_LOG_INFO, "reloaded %llu rows from %s",
           (unsigned long long)stats_spill_rows(stats_fitter_spill(f->fitter)),
           f->durable.spill_path);
    return 0;
}

/* fit: batch without a checkpoint: the fitter's spill becomes the durable
 * file (empty). */
static int use_durable_spill(fitted_stage *f, char *err, size_t err_size)
{
    stats_spill *spill = stats_spill_open_file(f->durable.spill_path, f->dim, 0, err, err_size);
    stats_fitter_keep_rows(f->fitter);
    return spill ? stats_fitter_resume(f->fitter, spill, NULL, NULL, err, err_size) : -1;
}

static int load_model(fitted_stage *f, char *err, size_t err_size)
{
    uint32_t dim;
    if (!f->model_path[0]) {
        snprintf(err, err_size, "fit: none needs `model`, the file of a fitted model");
        return -1;
    }
    return f->ops->load(f->ctx, f->model_path, &dim, &f->version, err, err_size) ||
                   start(f, dim, err, err_size)
               ? -1
               : 0;
}

static void free_stage(fitted_stage *f)
{
    stats_fitter_free(f->fitter);
    for (size_t i = f->n_groups; i-- > 0;)
        stats_group_leave(f->groups[i]);
    if (f->durable_on)
        durable_free(&f->durable);
    f->ops->free(f->ctx);
    free(f->out);
    free(f);
}

fr_status fitted_stage_init(fr_stage *st, const fitted_ops *ops, void *ctx, void **state)
{
    char err[4400];
    fitted_stage *f = calloc(1, sizeof *f);
    if (!f) {
        ops->free(ctx);
        return fr_fail(st, FR_FATAL, "out of memory");
    }
    *f = (fitted_stage){.st = st,
                        .ops = ops,
                        .ctx = ctx,
                        .fit = (stats_fit)fr_config_enum(st, "fit"),
                        .model_path = fr_config_string(st, "model"),
                        .spill_dir = stats_spill_dir(fr_config_string(st, "spill_dir"))};
    if (f->fit == STATS_FIT_STREAM)
        f->refit_every = (uint64_t)fr_config_int(st, "refit_every");
    int rc = 0;
    if (f->fit == STATS_FIT_NONE) {
        if (load_model(f, err, sizeof err) != 0) {
            free_stage(f);
            return fr_config_error(st, "model", "%s", err); /* fit: none reads the file named */
        }
    } else if (fr_replicas(st) > 1) {
        rc = fitted_join(f, &stats_group_moments, err, sizeof err) ? 0 : -1;
        /* A round holds about refit_every rows of all replicas together. */
        f->refit_every = (f->refit_every + fr_replicas(st) - 1) / fr_replicas(st);
    }
    if (rc == 0 && f->fit == STATS_FIT_BATCH)
        rc = open_durable(f, err, sizeof err);
    if (rc != 0) {
        free_stage(f);
        return fr_fail(st, FR_FATAL, "%s", err);
    }
    *state = f;
    return FR_OK;
}

/* ---- rows ------------------------------------------------------------- */

/* The first row of fit: batch|stream fixes the width. */
static fr_status first_row(fitted_stage *f, uint32_t dim)
{
    char err[4400];
    if (start(f, dim, err, sizeof err) || (f->durable_on && use_durable_spill(f, err, sizeof err)))
        return fr_fail(f->st, FR_FATAL, "%s", err);
    return FR_OK;
}

/* fit: none: one record transformed as it comes. */
static fr_status apply(fitted_stage *f, const fr_record *in)
{
    const char *strings[3] = {in->id, in->key, in->label};
    uint32_t attr_first[2] = {0, in->n_attrs};
    stats_spill_block one = {.n = 1,
                             .rows = in->payload.data,
                             .strings = strings,
                             .attrs = in->attrs,
                             .attr_first = attr_first};
    return (fr_status)emit_block(f, &one, f->version, NULL, 0);
}

fr_status fitted_stage_process(void *state, fr_stage *st, const fr_record *in)
{
    fitted_stage *f = state;
    const fr_payload *p = &in->payload;
    char err[4400];
    if (p->kind != FR_KIND_TENSOR || p->rank != 1 || !p->data || p->dims[0] == 0 ||
        p->size != (size_t)p->dims[0] * sizeof(float) || (f->dim && p->dims[0] != f->dim))
        return fr_fail(st, FR_REJECT,
                       "expected a tensor/f32[%u] payload, got kind %d, rank %u, %u values", f->dim,
                       (int)p->kind, p->rank, p->dims[0]);
    if (f->fit == STATS_FIT_NONE)
        return apply(f, in);
    if (f->durable_on && durable_holds(&f->durable, in->id ? in->id : "")) {
        fr_metric_add(st, "duplicates_skipped", 1); /* reloaded: held already */
        return FR_OK;
    }
    fr_status s = f->fitter ? FR_OK : first_row(f, p->dims[0]);
    if (s != FR_OK)
        return s;
    int rc = stats_fitter_add(f->fitter, p->data, in->id, in->key, in->label, in->attrs,
                              in->n_attrs, err, sizeof err);
    if (rc == 0 && f->durable_on)
        rc = durable_row(&f->durable, st, stats_fitter_spill(f->fitter), f->dim, in->id, err,
                         sizeof err);
    return rc < 0 ? fr_fail(st, FR_FATAL, "%s", err) : (fr_status)rc;
}

/* No rows here: the other replicas' last rounds go on without this one. */
static fr_status leave_rounds(fitted_stage *f)
{
    char err[512];
    for (size_t i = 0; i < f->n_groups; i++)
        if (stats_group_sync(f->groups[i], NULL, 1, NULL, NULL, NULL, NULL, err, sizeof err) < 0)
            return fr_fail(f->st, FR_FATAL, "%s", err);
    return FR_OK;
}

fr_status fitted_stage_flush(void *state, fr_stage *st)
{
    fitted_stage *f = state;
    char err[4400];
    if (f->fit == STATS_FIT_NONE)
        return FR_OK;
    if (!f->fitter)
        return leave_rounds(f);
    /* Every row durable before the long fit: a crash during it or the
     * emission keeps them all. */
    int rc = f->durable_on ? durable_checkpoint(&f->durable, st, stats_fitter_spill(f->fitter),
                                                f->dim, err, sizeof err)
                           : 0;
    if (rc == 0)
        rc = stats_fitter_finish(f->fitter, err, sizeof err);
    return rc < 0 ? fr_fail(st, FR_FATAL, "%s", err) : (fr_status)rc;
}

void fitted_stage_fini(void *state, fr_stage *st)
{
    (void)st;
    free_stage(state);
}
