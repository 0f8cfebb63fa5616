/*
 * run_report.h — what a run adds up to: records in, delivered per sink,
 * dead letters, unaccounted; per stage counts, busy time and throughput.
 * Printed for people at the end of a run and written as JSON (--summary).
 */
#ifndef FLOWRUN_RUN_REPORT_H
#define FLOWRUN_RUN_REPORT_H

#include <stdint.h>

#include "run_state.h"

typedef struct run_tally {
    uint64_t records_in; /* emitted by the sources */
    uint64_t done;       /* ids committed by every sink or dead-lettered */
    uint64_t dead_letters;
    uint64_t unaccounted; /* records_in - done, for a complete run */
    uint64_t *committed;  /* per graph stage: ids its plugin committed (sinks) */
    double wall_seconds;
    ledger_counts ledger; /* what the ledger skipped and resumed */
} run_tally;

int run_tally_init(run_tally *t, const graph *g);
void run_tally_free(run_tally *t);

/* A watching run's figures, from its sources' metrics (plugins/lib/source):
 * keys new to the ledger (listed or pushed), read, dead-lettered, and the
 * age in seconds of the oldest upload still waiting to be read. */
typedef struct run_watch {
    double seen, read, dead, lag;
} run_watch;
run_watch run_watch_figures(const run *r);

/* The closing lines on stderr (not with -q). */
void run_report_print(const run *r, const run_tally *t, int exit_code);

/* Writes the JSON summary to path atomically (temp file + rename).
 * Returns 0, or -1 after logging why. */
int run_report_write_json(const run *r, const run_tally *t, int exit_code, const char *path);

#endif
