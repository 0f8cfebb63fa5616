/*
 * run_snapshot.h — what a run looks like at one moment, for everything that
 * shows a run: the progress line, the closing summary, the metrics endpoint
 * (and through it `flowrun top`), health and systemd readiness.  The
 * coordinator takes one every tick (run/snapshot_take.c) and publishes it on
 * a snapshot board; readers never touch the runtime's instances.
 *
 * Counters are cumulative for the run and never go backwards from one
 * snapshot to the next (snapshot_take clamps against the previous one), so
 * a Prometheus counter made from them is sound while the run goes.
 */
#ifndef FLOWRUN_RUN_SNAPSHOT_H
#define FLOWRUN_RUN_SNAPSHOT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger.h"

/* Why a record was dead-lettered, by class (the reason text is in the
 * dead-letter file; a metric label needs a small fixed set). */
typedef enum dead_class {
    DEAD_REJECTED = 0,      /* the plugin said FR_REJECT */
    DEAD_RETRIES_EXHAUSTED, /* FR_RETRY until the stage's retries ran out */
    DEAD_TYPE_MISMATCH,     /* the payload did not match the stage's input type */
    DEAD_CLASS_COUNT
} dead_class;

/* The label value of each class: "rejected", "retries_exhausted", "type_mismatch". */
const char *dead_class_name(dead_class c);

/* Batch sizes (docs/operations.md): the records a stage emitted in one
 * plugin callback that emitted any (a model's batch, a source's listing
 * page), or a sink committed in one fr_commit (a part).  Counted in buckets
 * whose upper bounds are 1, 2, 4, ..., 1024, and one above. */
#define BATCH_BOUNDS 11
/* The bucket of a batch of n >= 1 records: the least i with n <= 2^i, or
 * BATCH_BOUNDS above 2^(BATCH_BOUNDS - 1). */
static inline unsigned batch_bucket(uint64_t n)
{
    unsigned i = n <= 1 ? 0 : 64 - (unsigned)__builtin_clzll(n - 1);
    return i < BATCH_BOUNDS ? i : BATCH_BOUNDS;
}
/* Bucket i's upper bound, 2^i (i < BATCH_BOUNDS). */
double batch_bound(unsigned i);

/* Where the run is.  Ready (for /health/ready and systemd) is SNAP_FLOWING. */
typedef enum snap_phase {
    SNAP_STARTING = 0, /* instances initialising */
    SNAP_JOINING,      /* a split run: waiting for the other nodes */
    SNAP_FLOWING,      /* GO sent: data flows */
    SNAP_STOPPING,     /* a signal or a failure: stopping */
    SNAP_FAILED,       /* a stage failed (FATAL, init) or the ledger broke */
    SNAP_FINISHED,     /* every instance done */
} snap_phase;

const char *snap_phase_name(snap_phase p);

/* A number a plugin keeps through fr_metric_add (a counter) or
 * fr_gauge_set (ABI 1.2, a gauge), summed over the stage's local instances. */
typedef struct snap_metric {
    char *name; /* owned by the snapshot */
    double value;
    int gauge;
} snap_metric;

/* A plugin's fr_report (JSON), of the stage's instance 0. */
typedef struct snap_report {
    char *name, *json; /* owned by the snapshot */
} snap_report;

typedef struct snap_stage {
    const char *name, *plugin; /* borrowed from the graph: valid for the run */
    uint32_t replicas;         /* in the whole graph */
    uint32_t instances;        /* of them running in this process */
    int is_source, is_sink;
    uint64_t in, out; /* records received, records emitted */
    uint64_t dead;    /* dead-lettered here, all classes */
    uint64_t dead_by_class[DEAD_CLASS_COUNT];
    uint64_t retries;    /* FR_RETRY answers that were retried */
    uint64_t malformed;  /* messages dropped by the wire checks */
    uint64_t failures;   /* instances that ended with a failure (FATAL, init) */
    uint64_t committed;  /* sinks: ids committed */
    uint64_t work_ns;    /* in the plugin's callbacks, waiting downstream excluded */
    uint64_t blocked_ns; /* waiting for room downstream (backpressure) */
    uint64_t queued;     /* records sent to this stage not yet received (in its pipes) */
    double stalled_s;    /* the longest a running instance has gone without a sign of life: inside
                            one callback, or stuck in one (run_state.h alive_ns) */
    uint64_t batches[BATCH_BOUNDS + 1]; /* batches per bucket (batch_bucket), not cumulative */
    uint64_t batch_records;             /* records in them */
    /* Sources: */
    uint64_t expected;       /* records announced by fr_set_total (0: unknown) */
    uint64_t done;           /* ids complete: committed by every sink or dead-lettered */
    uint64_t pending;        /* emitted, not yet complete */
    double oldest_pending_s; /* age of the oldest of them, 0 when none */
    snap_metric *metrics;
    size_t n_metrics;
    snap_report *reports;
    size_t n_reports;
} snap_stage;

/* A node of a split run, as the coordinator node sees it. */
typedef struct snap_node {
    const char *name; /* borrowed from the pipeline */
    int up;           /* joined and heard from within node_timeout */
} snap_node;

typedef struct run_snapshot {
    const char *pipeline, *file; /* borrowed from the pipeline */
    const char *node;            /* --node, or NULL */
    const char *dead_letters_file;
    snap_phase phase;
    double wall_seconds;   /* since the run started */
    double flowing_at;     /* wall_seconds when data began to flow (0: not yet) */
    uint64_t records_in;   /* emitted by the sources */
    uint64_t done;         /* ids committed by every sink or dead-lettered */
    uint64_t dead_letters; /* of this process (a node forwards its own) */
    uint64_t unaccounted;  /* at the end: records_in - done */
    ledger_counts ledger;  /* what the ledger skipped and resumed */
    snap_stage *stages;    /* this process's stages, in topological order */
    size_t n_stages;
    snap_node *nodes; /* a split run's nodes (coordinator node), else NULL */
    size_t n_nodes;
    int watching; /* a source watches its store (fr_set_continuous): the input never ends */
    int ending;   /* a signal ended a watching run's input: it is committing what is in flight */
} run_snapshot;

/* Frees what s owns (not s itself). */
void run_snapshot_free(run_snapshot *s);

/* A watching run's figures, from its sources' metrics (plugins/lib/source):
 * keys new to the ledger (listed or pushed), read, dead-lettered, and the
 * age in seconds of the oldest upload still waiting to be read. */
typedef struct snap_watch {
    double seen, read, dead, lag;
} snap_watch;
snap_watch run_snapshot_watch(const run_snapshot *s);

/* The stage whose stalled_s is the largest (NULL: no stage). */
const snap_stage *run_snapshot_most_stalled(const run_snapshot *s);

/* The stage named name, or NULL. */
const snap_stage *run_snapshot_stage(const run_snapshot *s, const char *name);

/* The board the coordinator publishes snapshots on, read from other
 * threads (the metrics server, the systemd watchdog). */
typedef struct snapshot_board {
    pthread_mutex_t lock;
    pthread_cond_t published; /* broadcast at every publish */
    run_snapshot current;     /* owned; all zero before the first publish */
    uint64_t generation;      /* publishes so far */
    uint64_t published_ns;    /* CLOCK_MONOTONIC of the last publish (atomic access) */
} snapshot_board;

void snapshot_board_init(snapshot_board *b);
void snapshot_board_free(snapshot_board *b);
/* Takes over *s (left zeroed) as the current snapshot. */
void snapshot_board_publish(snapshot_board *b, run_snapshot *s);
/* Calls read(ctx, snapshot) under the board's lock with a snapshot published
 * after the call began (so it shows everything that happened before it, e.g.
 * what a log line told), waiting up to wait_ms for the coordinator's next
 * tick; past that (the coordinator waits for its nodes, or is stuck), the
 * last one.  Returns the generation read (0: nothing published yet, read not
 * called). */
uint64_t snapshot_board_read_fresh(snapshot_board *b,
                                   void (*read)(void *ctx, const run_snapshot *s), void *ctx,
                                   unsigned wait_ms);

#endif
