/*
 * durable.h — fit: batch's checkpoint in the stage's state directory
 * (private to plugins/lib/fitted):
 *
 *   rows.spill       the waiting rows (stats_spill's format)
 *   rows.checkpoint  "flowrun-fitted 1 dim=D rows=R bytes=B": the first B
 *                    bytes of rows.spill, R rows of D floats, were fdatasync'd
 *                    before their ids were declared with fr_checkpoint
 *
 * Written in that order (spill synced, then the checkpoint file replaced
 * atomically, then fr_checkpoint), so the checkpoint never covers a row the
 * disk may not hold, and the ledger never holds an id the checkpoint does
 * not cover.  Rows after B (written before a crash, never declared) are cut
 * off at reload; their ids come again from the source.
 *
 * fit: stream emits its rows at every refit, so it keeps no rows, only what
 * the model has seen:
 *
 *   stream.ids       the ids of the rows in the statistics, in order, each
 *                    ended by a NUL byte
 *   stream.stats     the statistics and the model version of the last
 *                    refit (stats_save)
 *
 * At a refit the new rows' ids are appended and fdatasync'd, then
 * stream.stats is replaced atomically: its row count says how many ids it
 * covers (ids after them, of a refit a crash interrupted, are cut off at
 * reload).  A rerun continues the statistics and the version; a row it
 * receives again whose id they hold (emitted, not yet committed by the
 * sinks) is not counted twice: it is transformed with the current model and
 * emitted.
 */
#ifndef FLOWRUN_FITTED_DURABLE_H
#define FLOWRUN_FITTED_DURABLE_H

#include <flowrun/plugin.h>
#include <stddef.h>
#include <stdint.h>

#include "stats.h"

typedef struct durable {
    char *spill_path, *checkpoint_path; /* owned */
    int64_t every_ms, last_ms;          /* checkpoint_every; the last one's time */
    uint64_t every_rows;                /* checkpoint_rows */
    char **pending;                     /* owned: ids spilled since the last checkpoint */
    size_t n_pending, cap_pending;
    char **held; /* owned, sorted: ids reloaded from a checkpoint */
    size_t n_held, cap_held;
    char *ids_path, *stats_path; /* owned: fit: stream's files */
    int ids_fd;                  /* stream.ids, appending; -1 until the first refit */
} durable;

/* The files in dir (borrowed); every_ms / every_rows: the interval (0: that
 * limit off).  0, or -1 with err. */
int durable_init(durable *d, const char *dir, int64_t every_ms, uint64_t every_rows, char *err,
                 size_t err_size);
void durable_free(durable *d);

/* The checkpoint of an earlier attempt: 1 with its row width and spill
 * length, 0 when there is none, -1 with err when it is unreadable (never a
 * silent fresh start). */
int durable_find(durable *d, uint32_t *dim, uint64_t *bytes, char *err, size_t err_size);

/* Removes the checkpoint of an earlier run (the checkpoint file first, so
 * a crash in between leaves no checkpoint over a missing spill). */
int durable_discard(durable *d, char *err, size_t err_size);

/* stats_fitter_resume's fn: keeps the ids of a block of reloaded rows. */
int durable_hold(void *d, const stats_spill_block *blk, char *err, size_t err_size);
/* After the reload: sorts the held ids and declares them again (the
 * ledger's write of them may have been lost in the crash). */
void durable_held_all(durable *d, fr_stage *st);
/* 1 when id was reloaded (the source sent it again). */
int durable_holds(const durable *d, const char *id);

/* A row was spilled: its id (copied) waits for the next checkpoint, which
 * is taken now if an interval is up.  0, or -1 with err. */
int durable_row(durable *d, fr_stage *st, stats_spill *spill, uint32_t dim, const char *id,
                char *err, size_t err_size);
/* Takes a checkpoint of spill now if rows wait for one. */
int durable_checkpoint(durable *d, fr_stage *st, stats_spill *spill, uint32_t dim, char *err,
                       size_t err_size);

/* fit: stream: the statistics (*m, owned by the caller) and model version of
 * an earlier attempt, the ids they hold kept (durable_holds).  1, 0 when
 * there is none, -1 with err when unreadable. */
int durable_stream_find(durable *d, stats_moments **m, uint64_t *version, char *err,
                        size_t err_size);
/* fit: stream, at a refit: appends the ids of a block of waiting rows
 * (stats_fitter_replay's fn; ctx: the durable). */
int durable_stream_ids(void *ctx, const stats_spill_block *blk, char *err, size_t err_size);
/* fit: stream, at a refit, after durable_stream_ids: the ids synced, then
 * the statistics m (borrowed) and version saved. */
int durable_stream_save(durable *d, fr_stage *st, stats_moments *m, uint64_t version, char *err,
                        size_t err_size);

#endif
