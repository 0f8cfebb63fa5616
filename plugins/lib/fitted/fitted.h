/*
 * fitted.h — the fitted-transform base stage (SDK), as partfile.h's sink
 * stage is for the file sinks: what online-scaler, incremental-pca and any
 * stage that fits a model on the rows it sees and transforms them with it
 * share.  A plugin gives the model (fit it from mergeable statistics, save
 * and load it, transform rows); the base owns everything around it:
 *
 *   - the parameters fit (batch|stream|none), refit_every, model,
 *     spill_dir, checkpoint_every and checkpoint_rows (FITTED_STAGE_PARAMS);
 *   - the row check: a tensor/f32[n] payload, the same n for every row
 *     (a record that differs is REJECTed);
 *   - fit: none: the model file loaded at init, every row transformed as it
 *     comes;
 *   - fit: batch|stream: the rows wait in a spill file while their moments
 *     (plugins/lib/stats) grow; the model is refitted after every
 *     refit_every rows (stream) or at the end (batch), saved to `model` if
 *     set, and the waiting rows are emitted transformed with it, stamped
 *     with its version, carrying their records' strings and attributes;
 *   - replicas: those of one process merge their moments at every refit
 *     (stats_group), and any further state the plugin merges through
 *     fitted_join/fitted_sync;
 *   - durable runs, fit: batch: the spill lives in the stage's state
 *     directory (fr_state_dir); every checkpoint_rows rows or
 *     checkpoint_every (whichever comes first) it is fdatasync'd, its
 *     length recorded, and the ids it holds declared with fr_checkpoint, so
 *     a rerun after a crash reloads them at init (statistics rebuilt from
 *     the spill), skips input ids it already holds, and emits everything at
 *     flush as an uninterrupted run would;
 *   - durable runs, fit: stream (one replica): at every refit the ids of
 *     the rows the model has seen and its statistics and version are saved
 *     in the state directory (durable.h), so a rerun after a crash
 *     continues the model (the next refit is the next version over every
 *     row seen), and a row it receives again that the statistics hold is
 *     transformed with the current model, not counted twice.
 *
 * A plugin: its init parses its own parameters into its model state (ctx)
 * and calls fitted_stage_init, which owns ctx from then on; its descriptor
 * points process/flush/fini at fitted_stage_process/_flush/_fini, and its
 * params table starts with FITTED_STAGE_PARAMS.  Every callback runs on the
 * stage's thread.
 */
#ifndef FLOWRUN_FITTED_H
#define FLOWRUN_FITTED_H

#include <flowrun/plugin.h>
#include <stddef.h>
#include <stdint.h>

#include "stats.h"

typedef struct fitted_stage fitted_stage;

/* The model.  Calls returning int return 0, or -1 with one line in err. */
typedef struct fitted_ops {
    /* The moments keep the dim x dim cross-product (PCA) or only squares. */
    int cross;
    /* fit: none: reads the model file at path (borrowed); *dim is the row
     * width it applies to, *version the version stamped on its rows. */
    int (*load)(void *ctx, const char *path, uint32_t *dim, uint64_t *version, char *err,
                size_t err_size);
    /* The row width is known (the loaded model's, the first row's or a
     * checkpoint's); called once, before any other call but load: checks
     * it and sets *out_dim, the width of the rows emitted. */
    int (*start)(void *ctx, uint32_t dim, uint32_t *out_dim, char *err, size_t err_size);
    /* Makes model `version` from the moments m (borrowed for the call).
     * fit: batch may look at every waiting row first (fitted_replay). */
    int (*fit)(void *ctx, fitted_stage *f, stats_moments *m, uint64_t version, char *err,
               size_t err_size);
    /* Writes the current model, fitted from m, to path (stats_save). */
    int (*save)(void *ctx, const char *path, stats_moments *m, uint64_t version, char *err,
                size_t err_size);
    /* n rows of dim floats (borrowed) to n x out_dim floats in out (the
     * base's, n <= STATS_REPLAY_ROWS) with the current model. */
    void (*transform)(void *ctx, const float *rows, size_t n, float *out);
    /* Frees ctx (at fini, or when fitted_stage_init fails). */
    void (*free)(void *ctx);
} fitted_ops;

/* The parameters every fitted stage has, first in its table; refit_default:
 * refit_every's default, a string ("1000"). */
#define FITTED_STAGE_PARAMS(refit_default)                                                         \
    {"fit",                                                                                        \
     FR_PARAM_ENUM,                                                                                \
     "batch",                                                                                      \
     0,                                                                                            \
     0,                                                                                            \
     STATS_FIT_CHOICES,                                                                            \
     "batch: fit on all rows, then emit them (rows wait on disk, checkpointed in the state "       \
     "directory so a rerun after a crash keeps them); stream: refit every refit_every rows, rows " \
     "stamped with the model version (its statistics checkpointed at every refit); none: apply "   \
     "`model`. With replicas, those of one process "                                               \
     "merge their statistics and share each model (replicas on different hosts do not)"},          \
        {"refit_every",                                                                            \
         FR_PARAM_INT,                                                                             \
         refit_default,                                                                            \
         1,                                                                                        \
         FR_NO_MAX,                                                                                \
         NULL,                                                                                     \
         "fit: stream: rows between refits"},                                                      \
        {"model",                                                                                  \
         FR_PARAM_INPUT_FILE,                                                                      \
         "",                                                                                       \
         0,                                                                                        \
         0,                                                                                        \
         "fit=none",                                                                               \
         "fit: none: the model file to apply (required); otherwise where to save each fitted "     \
         "model"},                                                                                 \
        {"spill_dir",                                                                              \
         FR_PARAM_PATH,                                                                            \
         "",                                                                                       \
         0,                                                                                        \
         0,                                                                                        \
         NULL,                                                                                     \
         "fit: stream, or batch without a state directory: directory of the spill file of "        \
         "waiting rows (unnamed, never left behind); default $TMPDIR, else /var/tmp"},             \
        {"checkpoint_every",                                                                       \
         FR_PARAM_DURATION,                                                                        \
         "1s",                                                                                     \
         0,                                                                                        \
         0,                                                                                        \
         NULL,                                                                                     \
         "fit: batch: make the waiting rows durable at least this often (0: only by rows)"},       \
    {                                                                                              \
        "checkpoint_rows", FR_PARAM_INT, "1000", 0, FR_NO_MAX, NULL,                               \
            "fit: batch: make the waiting rows durable after this many (0: only by time)"          \
    }

/* Reads the base's parameters, loads the model (fit: none), joins the
 * replicas' group and, fit: batch, reloads a checkpoint left by a crashed
 * attempt of this run.  ops: static; ctx: transferred (ops->free).  *state
 * is what the engine passes to the callbacks below. */
fr_status fitted_stage_init(fr_stage *st, const fitted_ops *ops, void *ctx, void **state);
fr_status fitted_stage_process(void *state, fr_stage *st, const fr_record *in);
fr_status fitted_stage_flush(void *state, fr_stage *st);
void fitted_stage_fini(void *state, fr_stage *st);

/* fit: batch (not stream, not none). */
int fitted_is_batch(const fitted_stage *f);
/* The stage (for fr_report, fr_metric_add). */
fr_stage *fitted_fr_stage(const fitted_stage *f);

/* For ops->fit: calls fn on every waiting row, a block at a time. */
int fitted_replay(fitted_stage *f,
                  int (*fn)(void *ctx, const stats_spill_block *blk, char *err, size_t err_size),
                  void *ctx, char *err, size_t err_size);

/* A further state this stage's replicas in the process merge (beyond the
 * moments, which the base merges), e.g. PCA's extreme scores: joined under
 * the stage's name; NULL without an error when there is nobody to merge
 * with (one replica, or fit: none).  Owned by f (left at fini); call from
 * the plugin's init after fitted_stage_init.  NULL with err when out of
 * memory. */
stats_group *fitted_join(fitted_stage *f, const stats_group_ops *ops, char *err, size_t err_size);
/* One round of g (from fitted_join): stats_group_sync, its waits ending
 * when the run stops.  Every round the base finishes for the plugin at
 * flush when this replica had no rows.  0, a stop status, or -1 with err. */
int fitted_sync(fitted_stage *f, stats_group *g, void *part, void **result, char *err,
                size_t err_size);

#endif
