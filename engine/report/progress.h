/*
 * progress.h — the one-line progress display on a terminal: records
 * in/out/dead per stage, rate, and an ETA when the sources said how many
 * records they will emit.  Redrawn in place; log lines clear it first.
 * It reads the run's snapshots (run_snapshot.h), nothing of the runtime.
 */
#ifndef FLOWRUN_PROGRESS_H
#define FLOWRUN_PROGRESS_H

#include "run_snapshot.h"

typedef struct progress progress;

/* NULL when stderr is not a terminal (then nothing is drawn). */
progress *progress_start(const run_snapshot *s);
void progress_update(progress *p, const run_snapshot *s);
/* Clears the line and frees p (NULL is fine). */
void progress_stop(progress *p);

#endif
