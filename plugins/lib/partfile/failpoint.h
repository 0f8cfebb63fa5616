/*
 * failpoint.h — test-only crash points in the sinks' commit path.
 *
 * FLOWRUN_FAILPOINT=NAME:N makes the process kill itself with SIGKILL the
 * N-th time it reaches the point NAME (counted per sink plugin: csv-sink
 * and parquet-sink count apart), after writing "flowrun: failpoint NAME:N" to stderr, so a test
 * can crash a run at an exact moment of a commit and check what a rerun
 * makes of it.  Unset (the normal case) it costs one getenv per commit.
 * Points:
 *   sink-commit  before a file (a part, a single output file, a manifest)
 *                is published under its final name
 *   sink-ack     after a sink published its files, before it tells the
 *                engine which ids they hold (fr_commit)
 */
#ifndef FLOWRUN_PARTFILE_FAILPOINT_H
#define FLOWRUN_PARTFILE_FAILPOINT_H

/* Counts a pass through point `name`; kills the process when it is the
 * configured one. */
void failpoint(const char *name);

#endif
