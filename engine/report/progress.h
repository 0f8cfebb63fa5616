/*
 * progress.h — the one-line progress display on a terminal: records
 * in/out/dead per stage, rate, and an ETA when the sources said how many
 * records they will emit.  Redrawn in place; log lines clear it first.
 */
#ifndef FLOWRUN_PROGRESS_H
#define FLOWRUN_PROGRESS_H

#include "run_report.h"

typedef struct progress progress;

/* NULL when stderr is not a terminal (then nothing is drawn). */
progress *progress_start(const run *r, const run_tally *t);
void progress_update(progress *p, const run_tally *t);
/* Clears the line and frees p (NULL is fine). */
void progress_stop(progress *p);

#endif
