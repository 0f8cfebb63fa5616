/*
 * stats.h — mergeable sufficient statistics, standardisation and PCA for
 * flowrun's online-scaler and incremental-pca stages.
 *
 * No knowledge of the engine: rows are float32 vectors, records are three
 * strings.  Every function that can fail returns 0/-1 (or NULL) and writes
 * one line naming what failed into err.
 *
 * Precision (docs/architecture.md, "Numerics"): rows arrive as float32.  What is summed
 * across many rows (count, column sums, squares, the cross-product) is kept
 * in double, because a float32 sum of 90,000 terms loses ~4 of its 7
 * digits.  The cross-product too is formed in double (dsyrk on blocks of
 * STATS_BLOCK_ROWS rows converted from float32): float32 block products
 * (ssyrk) were ~1.5x faster overall but their rounding, ~1e-7 of the
 * covariance, moved components next to a small eigenvalue gap by 4e-4
 * (bench/pca/README.md).  Rows are shifted by a reference row so that a
 * large mean does not cancel digits away.  The eigen-solve runs in double.
 *
 * BLAS/LAPACK (OpenBLAS) is loaded lazily on first use, so that the loader
 * can pick the AVX-512 kernels before the library initialises (blas.c).
 */
#ifndef FLOWRUN_STATS_H
#define FLOWRUN_STATS_H

#include "flowrun/record.h" /* fr_attr: rows keep their records' attributes */
#include <stddef.h>
#include <stdint.h>

/* Rows per dsyrk call: enough for BLAS to run at speed. */
#define STATS_BLOCK_ROWS 1024

/* Which reference library's conventions to follow. */
typedef enum stats_flavor {
    /* Spark ML: StandardScaler(withMean=false, withStd=true), corrected
     * (n-1) std, zero-variance columns scale to 0; PCAModel.transform is
     * components^T x without centring. */
    STATS_SPARK = 0,
    /* scikit-learn 1.2: StandardScaler centred, population std, zero-variance
     * columns keep scale 1; PCA centres before projecting. */
    STATS_SKLEARN = 1,
} stats_flavor;
/* The scaler's and the PCA's `flavor` choices, "spark|sklearn", in this
 * order, so fr_config_enum() gives a stats_flavor. */
#define STATS_FLAVOR_CHOICES "spark|sklearn"

/* How a fitted stage gets its model: the `fit` choices, in this order
 * (fr_config_enum() gives a stats_fit). */
typedef enum stats_fit {
    STATS_FIT_BATCH = 0,  /* fit on all rows, then emit them */
    STATS_FIT_STREAM = 1, /* refit every N rows; rows stamped with the version */
    STATS_FIT_NONE = 2,   /* apply a saved model */
} stats_fit;
#define STATS_FIT_CHOICES "batch|stream|none"

/* ---- BLAS ------------------------------------------------------------ */

/* Loads OpenBLAS once per process (thread-safe), choosing its AVX-512
 * kernels when the CPU has them and the user did not set
 * OPENBLAS_CORETYPE.  Returns 0, or -1 with err. */
int stats_blas_load(char *err, size_t err_size);
/* The kernel family OpenBLAS chose ("SkylakeX"), or "" before loading.
 * Static string. */
const char *stats_blas_core(void);

/* ---- moments: count, sums, cross-product ----------------------------- */

typedef struct stats_moments stats_moments;

/* A state for rows of `dim` floats.  cross: also keep the dim x dim
 * cross-product (PCA); without it only per-column squares (scaler).
 * Owned by the caller; free with stats_moments_free. */
stats_moments *stats_moments_new(uint32_t dim, int cross, char *err, size_t err_size);
void stats_moments_free(stats_moments *m);

uint32_t stats_moments_dim(const stats_moments *m);
int stats_moments_has_cross(const stats_moments *m);
/* Rows added so far (merged ones included). */
uint64_t stats_moments_count(const stats_moments *m);

/* Adds one row of dim floats (borrowed).  Rows are buffered into blocks;
 * the readers below settle pending blocks first. */
void stats_moments_add(stats_moments *m, const float *row);

/* Adds `from` into `into` (same dim and cross).  Exact up to double
 * rounding: the result equals one state that saw both sets of rows. */
int stats_moments_merge(stats_moments *into, stats_moments *from, char *err, size_t err_size);

/* Forgets every row: the state is as new. */
void stats_moments_reset(stats_moments *m);

/* Column means (dim doubles, caller's array). */
void stats_moments_mean(stats_moments *m, double *mean);
/* Column variances with ddof 0 (population) or 1 (sample). */
void stats_moments_var(stats_moments *m, int ddof, double *var);
/* Covariance with ddof 1, full symmetric dim x dim row-major, caller's
 * array.  Returns -1 without cross-product or with fewer than 2 rows. */
int stats_moments_cov(stats_moments *m, double *cov, char *err, size_t err_size);

/* ---- standardisation -------------------------------------------------- */

/* out = (x - offset) * factor, per column. */
typedef struct stats_scaler {
    uint32_t dim;
    float *offset; /* owned, dim */
    float *factor; /* owned, dim */
} stats_scaler;

/* Derives the scaler from the moments.  with_mean/with_std as the reference
 * libraries; flavor decides the std (n-1 or n) and zero-variance columns
 * (Spark: factor 0, so the column outputs 0; sklearn: factor 1).  s is
 * (re)filled; its arrays are owned by s until stats_scaler_clear. */
int stats_scaler_fit(stats_scaler *s, stats_moments *m, stats_flavor flavor, int with_mean,
                     int with_std, char *err, size_t err_size);
void stats_scaler_apply(const stats_scaler *s, const float *in, float *out);
void stats_scaler_clear(stats_scaler *s);

/* ---- PCA -------------------------------------------------------------- */

typedef struct stats_pca {
    uint32_t dim, k;
    float *mean;           /* owned, dim: subtracted before projecting when centred */
    float *components;     /* owned, dim x k row-major: column j is component j */
    double *variance;      /* owned, k: explained variance (ddof 1), decreasing */
    double total_variance; /* trace of the covariance */
} stats_pca;

/* Top-k eigenvectors of the covariance (LAPACKE dsyevr), by decreasing
 * variance.  Both flavors fit on the centred covariance (Spark's
 * RowMatrix.computePrincipalComponents does too).  Sign rule: the entry of
 * largest magnitude in each component is made positive (scikit-learn >= 1.5's
 * loadings rule); stats_pca_flip_by_scores then applies scikit-learn 1.2's
 * svd_flip when the rows are at hand.  p is (re)filled. */
int stats_pca_fit(stats_pca *p, stats_moments *m, uint32_t k, char *err, size_t err_size);
/* Scores of n rows (borrowed, n x dim) into out (n x k).  centre: subtract
 * the mean first (sklearn); Spark projects the raw rows.  scratch: n x dim
 * floats, used only when centring. */
void stats_pca_transform(const stats_pca *p, int centre, const float *rows, size_t n, float *out,
                         float *scratch);
/* scikit-learn 1.2's svd_flip: extreme[j] is the centred score of largest
 * magnitude of component j over the fitted rows (first one on ties); a
 * component whose extreme score is negative is negated. */
void stats_pca_flip_by_scores(stats_pca *p, const float *extreme);
/* Tracks extreme[j] (see above) over n score rows; *seen starts at 0. */
void stats_pca_track_extremes(const stats_pca *p, const float *scores, size_t n, float *extreme,
                              uint64_t *seen);
void stats_pca_clear(stats_pca *p);

/* ---- model files ------------------------------------------------------ */

/* Writes the moments (and the PCA, if not NULL) to path atomically (a
 * temporary file renamed over it).  Little-endian, versioned header with
 * dims, FNV-1a checksum at the end.  version: the model version to stamp. */
int stats_save(const char *path, stats_moments *m, const stats_pca *pca, uint64_t version,
               char *err, size_t err_size);
/* Reads a file written by stats_save.  *m is a new state owned by the
 * caller; pca (if not NULL) is filled when the file holds one, else its k
 * is 0.  Rejects a bad magic, a newer version, truncation and a checksum
 * mismatch, naming the file. */
int stats_load(const char *path, stats_moments **m, stats_pca *pca, uint64_t *version, char *err,
               size_t err_size);

/* ---- spill: rows waiting on disk -------------------------------------- */

typedef struct stats_spill stats_spill;

/* Where spill files go: configured if not "", else $TMPDIR, else /var/tmp
 * (disk; /tmp may be a tmpfs, i.e. RAM).  Returns configured or a string
 * from the environment or static storage. */
const char *stats_spill_dir(const char *configured);

/* Rows as they come back from the spill, a block at a time.  All pointers
 * owned by the spill, valid until the next read. */
typedef struct stats_spill_block {
    size_t n;
    const float *rows;          /* n x dim */
    const char *const *strings; /* 3 per row: id, key, label */
    /* The attributes, as records carry them: row i's are
     * attrs[attr_first[i] .. attr_first[i + 1]). */
    const fr_attr *attrs;
    const uint32_t *attr_first; /* n + 1 */
} stats_spill_block;

/* A spill file in dir for rows of dim floats.  The file is created already
 * unlinked (O_TMPFILE, or mkstemp + unlink), so no exit path, a crash
 * included, leaves it behind.  Owned by the caller. */
stats_spill *stats_spill_open(const char *dir, uint32_t dim, char *err, size_t err_size);
/* A spill kept in the file at path (created if missing), for a checkpoint
 * that survives the process: its first keep_bytes (rows made durable
 * before) are kept, anything after them (rows written after the last
 * stats_spill_sync) is cut off.  Appends go after them; its rows are
 * counted when a fitter resumes from it (stats_fitter_resume).  Owned by
 * the caller. */
stats_spill *stats_spill_open_file(const char *path, uint32_t dim, uint64_t keep_bytes, char *err,
                                   size_t err_size);
/* Writes what is buffered and fdatasyncs the file; *bytes: its size, all
 * whole rows (what to keep at the next stats_spill_open_file). */
int stats_spill_sync(stats_spill *s, uint64_t *bytes, char *err, size_t err_size);
void stats_spill_close(stats_spill *s);
/* Appends a row, its strings (borrowed; NULL reads back as "") and its
 * n_attrs attributes (borrowed; names and values not NULL). */
int stats_spill_append(stats_spill *s, const float *row, const char *id, const char *key,
                       const char *label, const fr_attr *attrs, uint32_t n_attrs, char *err,
                       size_t err_size);
uint64_t stats_spill_rows(const stats_spill *s);
/* Starts reading from the first row. */
int stats_spill_rewind(stats_spill *s, char *err, size_t err_size);
/* Reads up to max rows.  Returns the number read (0 at the end) or -1. */
long stats_spill_read(stats_spill *s, size_t max, stats_spill_block *blk, char *err,
                      size_t err_size);
/* Forgets every row (the file shrinks to 0). */
int stats_spill_reset(stats_spill *s, char *err, size_t err_size);

/* ---- groups: replicas of a stage merging their states ----------------- */

/* The replicas of one stage run as separate instances on threads of one
 * process.  Each sees only the rows it was given; to fit one model on all
 * of them, they join a group by name (pipeline and stage) and combine
 * their parts in rounds: in a round each member that has not finished
 * merges its part into the shared state and waits until every such member
 * has; then each gets its own copy of the merged state and the round's
 * number, the same for all.  A member that finishes says so with its last
 * part and takes no part in later rounds.  Replicas on different hosts do
 * not meet here (a group is per process).
 *
 * Waits never outlive the run: they ask stop() every 50 ms, and a member
 * that leaves before its last part breaks the group for the others. */
typedef struct stats_group stats_group;

/* How parts are combined.  Called under the group's lock. */
typedef struct stats_group_ops {
    /* Merges part (borrowed) into *acc, creating it when NULL.  0 or -1. */
    int (*merge)(void **acc, void *part, char *err, size_t err_size);
    /* A copy of acc owned by the member it is given to; NULL when out of memory. */
    void *(*copy)(void *acc);
    void (*free)(void *acc);
    /* 1: the shared state carries over to the next round (moments: every
     * refit sees all rows so far); 0: each round starts empty. */
    int cumulative;
} stats_group_ops;

/* Parts that are stats_moments (merged exactly, cumulative). */
extern const stats_group_ops stats_group_moments;

/* Parts that are extreme PCA scores (stats_pca_track_extremes) over each
 * member's rows: the merge keeps the score of largest magnitude (on an exact
 * tie of magnitudes across members, the first merged). */
typedef struct stats_extremes {
    uint32_t k;
    uint64_t seen;  /* rows tracked */
    float *extreme; /* k */
} stats_extremes;
extern const stats_group_ops stats_group_extremes;

/* Joins (or creates) the group `name` of `members` members using ops
 * (static, compared by address).  The handle is this member's, owned by the
 * caller until stats_group_leave. */
stats_group *stats_group_join(const char *name, uint32_t members, const stats_group_ops *ops,
                              char *err, size_t err_size);
/* Leaves; a member that has not made its last part breaks the group, so
 * the others' waits fail at once.  NULL is a no-op. */
void stats_group_leave(stats_group *g);
/* Arrives in the current round without waiting: part (borrowed, or NULL)
 * is merged; last: this is the member's last part; want: the member will
 * take the round's result with stats_group_result (else it has nothing
 * left to emit; only with last).  One round at a time per member.  0 or -1. */
int stats_group_arrive(stats_group *g, void *part, int last, int want, char *err, size_t err_size);
/* Nonzero once the round arrived in is complete (or the group broken). */
int stats_group_ready(stats_group *g);
/* Waits for the round arrived in (see stats_group_sync for the rest). */
int stats_group_result(stats_group *g, void **result, uint64_t *round, int (*stop)(void *ctx),
                       void *stop_ctx, char *err, size_t err_size);
/* One round: arrive, then take the result.  part: borrowed, or NULL for nothing to add.  last: this
 * is the member's last part.  result NULL: do not wait (only with last: a member that has nothing
 * left to emit); else *result is the member's copy of the merged state (NULL if no member ever
 * added a part) and *round the round's number (1, 2, ...).  stop(stop_ctx) is asked while waiting:
 * a positive value ends the wait and is returned.  Returns 0, that code, or
 * -1 with err (another member left, out of memory). */
int stats_group_sync(stats_group *g, void *part, int last, void **result, uint64_t *round,
                     int (*stop)(void *ctx), void *stop_ctx, char *err, size_t err_size);

/* ---- fitter: statistics, spill and refits ---------------------------- */

/* Rows read back per block when replaying the spill. */
#define STATS_REPLAY_ROWS 256

/* The one fitting schedule of both stages: every row goes into the moments
 * and waits in the spill; after every `refit_every` rows (and at the end)
 * the model is refitted from all rows so far and the waiting rows are
 * emitted with it.  So each row is transformed by the first model that has
 * seen it; fit: batch is refit_every 0 (only at the end). */
typedef struct stats_fitter stats_fitter;
/* The callbacks return 0, -1 with err, or a positive code of the caller's
 * (a stage's stop status) that the fitter's calls return as they are. */
typedef struct stats_fitter_ops {
    /* Derives the model from the moments (borrowed for the call).  May
     * replay the waiting rows (stats_fitter_replay). */
    int (*refit)(void *ctx, stats_fitter *f, stats_moments *m, uint64_t version, char *err,
                 size_t err_size);
    /* Transforms and emits a block of waiting rows with model `version`. */
    int (*emit)(void *ctx, const stats_spill_block *blk, uint64_t version, char *err,
                size_t err_size);
} stats_fitter_ops;

/* ops and ctx are borrowed for the fitter's life.  Owned by the caller. */
stats_fitter *stats_fitter_new(const char *spill_dir, uint32_t dim, int cross, uint64_t refit_every,
                               const stats_fitter_ops *ops, void *ctx, char *err, size_t err_size);
void stats_fitter_free(stats_fitter *f);
/* Makes the fitter's refits rounds of the group g (borrowed, of
 * stats_group_moments; the caller leaves it after freeing the fitter):
 * each refit merges the rows of every member, model versions are the
 * round numbers, and finish always takes its part (the last).  stop: see
 * stats_group_sync. */
void stats_fitter_join(stats_fitter *f, stats_group *g, int (*stop)(void *ctx), void *stop_ctx);
/* Before the first row: takes spill (transferred; see
 * stats_spill_open_file) as the fitter's waiting rows, adding each row it
 * holds to the statistics as if it had just come; fn(ctx, ...) (may be NULL)
 * sees them a block at a time (the ids a stage holds).  On failure spill is
 * freed and the fitter keeps its own.  0, -1 with err, or fn's code. */
int stats_fitter_resume(stats_fitter *f, stats_spill *spill,
                        int (*fn)(void *ctx, const stats_spill_block *blk, char *err,
                                  size_t err_size),
                        void *ctx, char *err, size_t err_size);
/* Before the first row, without a group: continues from the statistics m
 * (borrowed; merged into the fitter's) and model version of a checkpoint,
 * so the next refit is version + 1 over m's rows and those that come.  0, or
 * -1 with err. */
int stats_fitter_restore(stats_fitter *f, stats_moments *m, uint64_t version, char *err,
                         size_t err_size);
/* Rows stay in the spill once emitted (a checkpoint's file: a rerun after a
 * crash later in the run needs them).  Only for refit_every 0 (batch),
 * where the rows are emitted once, at the end. */
void stats_fitter_keep_rows(stats_fitter *f);
/* The spill of the waiting rows (borrowed), to make it durable. */
stats_spill *stats_fitter_spill(stats_fitter *f);
/* One row (strings and floats borrowed).  May refit and emit.  These
 * three return 0, -1 with err, or a callback's positive code. */
int stats_fitter_add(stats_fitter *f, const float *row, const char *id, const char *key,
                     const char *label, const fr_attr *attrs, uint32_t n_attrs, char *err,
                     size_t err_size);
/* End of input: refits and emits the rows still waiting, if any. */
int stats_fitter_finish(stats_fitter *f, char *err, size_t err_size);
/* Calls fn on every waiting row, a block at a time (for refit). */
int stats_fitter_replay(stats_fitter *f,
                        int (*fn)(void *ctx, const stats_spill_block *blk, char *err,
                                  size_t err_size),
                        void *ctx, char *err, size_t err_size);

#endif /* FLOWRUN_STATS_H */
