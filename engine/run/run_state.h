/*
 * run_state.h — what the coordinator (runtime.c) and the instance threads
 * (instance.c) share during a run.  Private to the runtime files.
 */
#ifndef FLOWRUN_RUN_STATE_H
#define FLOWRUN_RUN_STATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "graph.h"
#include "ledger.h"
#include "port_type.h"
#include "run_snapshot.h"
#include "runtime.h"
#include "stage.h"
#include "wire_check.h"
#include "wire_codec.h"

/* Sockets to every instance of one consumer stage; records go round-robin
 * to whichever has room. */
typedef struct out_port {
    void **socks;
    size_t n;
    size_t next;
} out_port;

/* An instance's counters.  Only its own thread writes them (plugins call the
 * host only from there: docs/plugins.md), through counter_add; the
 * coordinator reads them for its snapshots. */
typedef struct run_counters {
    atomic_uint_fast64_t in, out, dead, retries;
    atomic_uint_fast64_t dead_by_class[DEAD_CLASS_COUNT]; /* run_snapshot.h */
    atomic_uint_fast64_t malformed;  /* messages dropped by the checks of wire_check.h */
    atomic_uint_fast64_t busy_ns;    /* in the plugin's callbacks, blocked time included */
    atomic_uint_fast64_t blocked_ns; /* of which waiting for room downstream */
    atomic_uint_fast64_t batches[BATCH_BOUNDS + 1]; /* run_snapshot.h */
    atomic_uint_fast64_t batch_records;
} run_counters;

/* Adds v to a counter of run_counters from its one writer: a relaxed load and
 * store, no locked instruction on the per-record path; a reader sees a whole
 * value, at most a moment old. */
static inline void counter_add(atomic_uint_fast64_t *c, uint64_t v)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
                          memory_order_relaxed);
}

typedef struct run run;

typedef struct instance {
    run *run;
    size_t stage_index; /* into graph->stages */
    uint32_t index;     /* replica number */
    fr_stage stage;
    pthread_t thread;
    int thread_started;
    void *data_in;  /* PULL, NULL for a source */
    out_port *outs; /* one per consumer stage */
    size_t n_outs;
    void *ctl; /* PUSH to the coordinator */
    void *cmd; /* PULL of commands (GO, commits) from the coordinator */
    uint32_t eos_expected, eos_seen;
    eos_senders eos_from;  /* which upstream instances have ended (receive loop only) */
    char listen_ep[512];   /* the endpoint it listens on for other nodes, "" if none */
    wire_decoded header;   /* the last received header, its memory reused */
    port_type accepts;     /* input_type, parsed once */
    ledger_reader *reader; /* a source's view of the ledger, opened at its first question */
    run_counters counters;
    atomic_int failed; /* ended with a failure (FATAL, init), for the metrics */
    /* CLOCK_MONOTONIC ns of the last sign of life of the running thread: a
     * callback returned, a wait woke; 0 before GO and once it ended.  A
     * plugin stuck in a callback stops it (snapshot_take: stalled_s). */
    atomic_uint_fast64_t alive_ns;
} instance;

struct run {
    const graph *graph;
    const runtime_options *opt;
    void *zmq;
    atomic_int stopping;
    atomic_int continuous; /* a source watches its store (fr_set_continuous) */
    atomic_int draining;   /* a signal ended the input of a continuous run */
    instance *instances;   /* the local ones, grouped by stage in topological order */
    size_t n_instances;
    char run_id[32];     /* makes inproc endpoints unique to this run */
    struct curve *curve; /* keys for links between nodes (curve.h), or NULL */
    ledger *ledger;      /* owned by runtime_run; off on a split run's non-coordinator nodes */
};

/* 1 if stage s runs in this process. */
int run_is_local(const run *r, size_t stage_index);

#endif
