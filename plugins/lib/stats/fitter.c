/*
 * fitter.c — when to refit, and the rows that wait for it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "stats.h"

struct stats_fitter {
    stats_moments *moments; /* owned */
    stats_spill *spill;     /* owned */
    uint64_t refit_every, version;
    const stats_fitter_ops *ops;
    void *ctx;
};

stats_fitter *stats_fitter_new(const char *spill_dir, uint32_t dim, int cross, uint64_t refit_every,
                               const stats_fitter_ops *ops, void *ctx, char *err, size_t err_size)
{
    stats_fitter *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, err_size, "fitter: out of memory");
        return NULL;
    }
    *f = (stats_fitter){.refit_every = refit_every, .ops = ops, .ctx = ctx};
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
    stats_spill_close(f->spill);
    stats_moments_free(f->moments);
    free(f);
}

static int emit_block(void *ctx, const stats_spill_block *blk, char *err, size_t err_size)
{
    stats_fitter *f = ctx;
    return f->ops->emit(f->ctx, blk, f->version, err, err_size);
}

/* Refits on everything seen so far and releases the waiting rows. */
static int release(stats_fitter *f, char *err, size_t err_size)
{
    f->version++;
    int rc = f->ops->refit(f->ctx, f, f->moments, f->version, err, err_size);
    if (rc == 0)
        rc = stats_fitter_replay(f, emit_block, f, err, err_size);
    return rc ? rc : stats_spill_reset(f->spill, err, err_size);
}

int stats_fitter_add(stats_fitter *f, const float *row, const char *id, const char *key,
                     const char *label, char *err, size_t err_size)
{
    if (stats_spill_append(f->spill, row, id, key, label, err, err_size) < 0)
        return -1;
    stats_moments_add(f->moments, row);
    if (f->refit_every && stats_spill_rows(f->spill) >= f->refit_every)
        return release(f, err, err_size);
    return 0;
}

int stats_fitter_finish(stats_fitter *f, char *err, size_t err_size)
{
    return stats_spill_rows(f->spill) ? release(f, err, err_size) : 0;
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
