/*
 * fitter.c — when to refit, and the rows that wait for it.
 *
 * In a group (replicas), a refit is a round of the group: the member adds
 * the moments of its waiting rows and goes on taking rows without waiting
 * (a replica blocked in process() would stop draining its input pipe, and
 * the engine's end-of-stream to the other replicas could wait behind it);
 * rows that arrive meanwhile go to a second spill file.  When the round is
 * complete, at a later row or at the end, the waiting rows are emitted with
 * the merged model and the second file's rows become the waiting ones.
 * Only at the end (flush, all input received) does a member block until
 * its rounds are complete.
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

struct stats_fitter {
    /* The rows not yet added to a round (all rows so far without a group). */
    stats_moments *moments; /* owned */
    /* spill: rows waiting for the next model; extra (group only, created
     * when first needed): rows that came while a round is pending. */
    stats_spill *spill, *extra; /* owned */
    const char *spill_dir;      /* borrowed */
    uint64_t refit_every, version;
    const stats_fitter_ops *ops;
    void *ctx;
    stats_group *group; /* borrowed, or NULL */
    int pending;        /* the spill's rows are in a round not yet complete */
    int keep;           /* emitted rows stay in the spill (stats_fitter_keep_rows) */
    int (*stop)(void *ctx);
    void *stop_ctx;
};

stats_fitter *stats_fitter_new(const char *spill_dir, uint32_t dim, int cross, uint64_t refit_every,
                               const stats_fitter_ops *ops, void *ctx, char *err, size_t err_size)
{
    stats_fitter *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, err_size, "fitter: out of memory");
        return NULL;
    }
    *f = (stats_fitter){.spill_dir = spill_dir, .refit_every = refit_every, .ops = ops, .ctx = ctx};
    f->moments = stats_moments_new(dim, cross, err, err_size);
    f->spill = f->moments ? stats_spill_open(spill_dir, dim, err, err_size) : NULL;
    if (!f->spill) {
        stats_fitter_free(f);
        return NULL;
    }
    return f;
}

void stats_fitter_free(stats_fitter *f)
{
    if (!f)
        return;
    stats_spill_close(f->extra);
    stats_spill_close(f->spill);
    stats_moments_free(f->moments);
    free(f);
}

void stats_fitter_join(stats_fitter *f, stats_group *g, int (*stop)(void *ctx), void *stop_ctx)
{
    f->group = g;
    f->stop = stop;
    f->stop_ctx = stop_ctx;
}

static int emit_block(void *ctx, const stats_spill_block *blk, char *err, size_t err_size)
{
    stats_fitter *f = ctx;
    return f->ops->emit(f->ctx, blk, f->version, err, err_size);
}

/* Emits the waiting rows with the current model and forgets them. */
static int emit_waiting(stats_fitter *f, char *err, size_t err_size)
{
    int rc = stats_fitter_replay(f, emit_block, f, err, err_size);
    return rc || f->keep ? rc : stats_spill_reset(f->spill, err, err_size);
}

/* Without a group: refits on everything seen so far, releases the rows. */
static int release(stats_fitter *f, char *err, size_t err_size)
{
    f->version++;
    int rc = f->ops->refit(f->ctx, f, f->moments, f->version, err, err_size);
    return rc ? rc : emit_waiting(f, err, err_size);
}

/* Group: adds the waiting rows' moments to a round. */
static int contribute(stats_fitter *f, int last, char *err, size_t err_size)
{
    if (stats_group_arrive(f->group, f->moments, last, 1, err, err_size) < 0)
        return -1;
    stats_moments_reset(f->moments);
    f->pending = 1;
    return 0;
}

/* Group: the pending round's model (waiting for it), the waiting rows out,
 * then the rows that came meanwhile wait in their turn. */
static int complete(stats_fitter *f, char *err, size_t err_size)
{
    void *merged = NULL;
    int rc =
        stats_group_result(f->group, &merged, &f->version, f->stop, f->stop_ctx, err, err_size);
    f->pending = 0;
    if (rc == 0)
        rc = f->ops->refit(f->ctx, f, merged, f->version, err, err_size);
    stats_moments_free(merged);
    if (rc == 0)
        rc = emit_waiting(f, err, err_size);
    if (rc == 0 && f->extra) {
        stats_spill *t = f->spill;
        f->spill = f->extra;
        f->extra = t;
    }
    return rc;
}

/* Group, as rows come: completes a finished round, starts the next. */
static int advance(stats_fitter *f, char *err, size_t err_size)
{
    int rc = 0;
    if (f->pending && stats_group_ready(f->group))
        rc = complete(f, err, err_size);
    if (rc == 0 && !f->pending && f->refit_every && stats_spill_rows(f->spill) >= f->refit_every) {
        rc = contribute(f, 0, err, err_size);
        if (rc == 0 && stats_group_ready(f->group))
            rc = complete(f, err, err_size);
    }
    return rc;
}

int stats_fitter_add(stats_fitter *f, const float *row, const char *id, const char *key,
                     const char *label, const fr_attr *attrs, uint32_t n_attrs, char *err,
                     size_t err_size)
{
    stats_spill *to = f->spill;
    if (f->pending && !f->extra &&
        !(f->extra = stats_spill_open(f->spill_dir, stats_moments_dim(f->moments), err, err_size)))
        return -1;
    if (f->pending)
        to = f->extra;
    if (stats_spill_append(to, row, id, key, label, attrs, n_attrs, err, err_size) < 0)
        return -1;
    stats_moments_add(f->moments, row);
    if (f->group)
        return advance(f, err, err_size);
    if (f->refit_every && stats_spill_rows(f->spill) >= f->refit_every)
        return release(f, err, err_size);
    return 0;
}

int stats_fitter_finish(stats_fitter *f, char *err, size_t err_size)
{
    int rc = 0;
    if (!f->group)
        return stats_spill_rows(f->spill) ? release(f, err, err_size) : 0;
    if (f->pending)
        rc = complete(f, err, err_size);
    if (rc != 0)
        return rc;
    if (!stats_spill_rows(f->spill)) /* nothing waits, but the others' last round counts this one */
        return stats_group_arrive(f->group, NULL, 1, 0, err, err_size);
    rc = contribute(f, 1, err, err_size);
    return rc ? rc : complete(f, err, err_size);
}

int stats_fitter_replay(stats_fitter *f,
                        int (*fn)(void *ctx, const stats_spill_block *blk, char *err,
                                  size_t err_size),
                        void *ctx, char *err, size_t err_size)
{
    stats_spill_block blk;
    long n;
    int rc = 0;
    if (stats_spill_rewind(f->spill, err, err_size) < 0)
        return -1;
    while (rc == 0 && (n = stats_spill_read(f->spill, STATS_REPLAY_ROWS, &blk, err, err_size)) > 0)
        rc = fn(ctx, &blk, err, err_size);
    return rc ? rc : n < 0 ? -1 : 0;
}

int stats_fitter_resume(stats_fitter *f, stats_spill *spill,
                        int (*fn)(void *ctx, const stats_spill_block *blk, char *err,
                                  size_t err_size),
                        void *ctx, char *err, size_t err_size)
{
    stats_spill_block blk;
    uint64_t rows = 0;
    long n;
    int rc = stats_spill_rewind(spill, err, err_size);
    while (rc == 0 && (n = stats_spill_read(spill, STATS_REPLAY_ROWS, &blk, err, err_size)) > 0) {
        for (long i = 0; i < n; i++)
            stats_moments_add(f->moments, blk.rows + (size_t)i * stats_moments_dim(f->moments));
        rows += (uint64_t)n;
        rc = fn ? fn(ctx, &blk, err, err_size) : 0;
    }
    if (rc == 0 && n < 0)
        rc = -1;
    if (rc != 0) {
        stats_spill_close(spill);
        stats_moments_reset(f->moments);
        return rc;
    }
    spill_set_rows(spill, rows);
    stats_spill_close(f->spill);
    f->spill = spill;
    return 0;
}

int stats_fitter_restore(stats_fitter *f, stats_moments *m, uint64_t version, char *err,
                         size_t err_size)
{
    if (stats_moments_merge(f->moments, m, err, err_size))
        return -1;
    f->version = version;
    return 0;
}

stats_spill *stats_fitter_spill(stats_fitter *f)
{
    return f->spill;
}

void stats_fitter_keep_rows(stats_fitter *f)
{
    f->keep = 1;
}
