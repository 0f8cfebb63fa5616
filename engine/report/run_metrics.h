/*
 * run_metrics.h — a run's snapshot as Prometheus / OpenMetrics text: the
 * metrics of docs/operations.md ("Metrics"), named after Vector's component
 * metrics with a flowrun_ prefix, labelled stage, plugin and node.
 */
#ifndef FLOWRUN_RUN_METRICS_H
#define FLOWRUN_RUN_METRICS_H

#include "expo.h"
#include "run_snapshot.h"

/* malloc'd text (the caller frees) and its length; NULL out of memory. */
char *run_metrics_text(const run_snapshot *s, expo_format f, size_t *len);

#endif
