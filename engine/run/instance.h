/*
 * instance.h — one stage instance's thread (instance.c) and the dead-letter
 * line format (deadletter.c).
 */
#ifndef FLOWRUN_INSTANCE_H
#define FLOWRUN_INSTANCE_H

#include "run_state.h"

/* Fills in the instance before its sockets are made; input_type is the
 * resolved type its upstream emits (copied). */
void instance_prepare(instance *in, run *r, size_t stage_index, uint32_t index,
                      const char *input_type);

/* Starts the thread: init, READY, wait for GO, run, EOS, fini, DONE.  The
 * instance's sockets must exist; from now on only the thread uses them. */
int instance_start(instance *in);

/* One dead-letter JSON object (no newline): key, id, label, stage, plugin,
 * reason, attempts, time.  malloc'd, the caller frees; NULL if out of memory. */
char *deadletter_format(const graph *g, size_t stage_index, const fr_record *rec,
                        const char *reason, unsigned attempts);

#endif
