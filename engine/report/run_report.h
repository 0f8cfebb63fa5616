/*
 * run_report.h — what a run adds up to: records in, delivered per sink,
 * dead letters, unaccounted; per stage counts, busy time and throughput.
 * Printed for people at the end of a run and written as JSON (--summary),
 * both from the run's final snapshot (run_snapshot.h).
 */
#ifndef FLOWRUN_RUN_REPORT_H
#define FLOWRUN_RUN_REPORT_H

#include "run_snapshot.h"

/* The closing lines on stderr (not with -q). */
void run_report_print(const run_snapshot *s, int exit_code);

/* Writes the JSON summary to path atomically (temp file + rename).
 * Returns 0, or -1 after logging why. */
int run_report_write_json(const run_snapshot *s, int exit_code, const char *path);

#endif
