/*
 * snapshot_take.h — the coordinator's side of run_snapshot.h: what it adds
 * up itself (the tally: commits, dead letters, completed ids per source) and
 * the snapshot made from the tally and the instances' counters.
 */
#ifndef FLOWRUN_SNAPSHOT_TAKE_H
#define FLOWRUN_SNAPSHOT_TAKE_H

#include "run_snapshot.h"
#include "run_state.h"

struct cluster;

/* When a source's records were emitted, sampled per tick, to tell the age
 * of the oldest pending one (see pending_age). */
typedef struct emit_sample {
    uint64_t emitted; /* the source's records out at that tick */
    double at;        /* seconds since the run started */
} emit_sample;

typedef struct emit_clock {
    emit_sample *samples; /* owned; oldest first */
    size_t n, cap;
} emit_clock;

/* What the coordinator counts (only its thread writes it). */
typedef struct run_tally {
    uint64_t records_in; /* emitted by the sources (at the end) */
    uint64_t done;       /* ids committed by every sink or dead-lettered */
    uint64_t dead_letters;
    uint64_t unaccounted;  /* records_in - done, for a complete run */
    uint64_t *committed;   /* per graph stage: ids its plugin committed (sinks) */
    uint64_t *source_done; /* per graph stage: its ids complete (sources) */
    emit_clock *clocks;    /* per graph stage (sources) */
    size_t n_stages;
    double wall_seconds;
    ledger_counts ledger; /* what the ledger skipped and resumed */
    snap_phase phase;
} run_tally;

int run_tally_init(run_tally *t, const graph *g);
void run_tally_free(run_tally *t);

/* Fills out (zeroed first) from the run, the tally and the cluster (NULL:
 * not split); counters are clamped to prev's (an empty snapshot for the
 * first), so they never go backwards.  final: the run is over, the plugins'
 * reports are copied too.  0, or -1 out of memory (out freed). */
int snapshot_take(const run *r, run_tally *t, const struct cluster *cl, const run_snapshot *prev,
                  int final, run_snapshot *out);

#endif
