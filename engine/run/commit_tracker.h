/*
 * commit_tracker.h — counts, per record id, the sinks that have committed
 * it (a dead letter counts for every sink below the stage that rejected
 * it), so the coordinator knows when an id is done (docs/architecture.md,
 * "Delivery").
 * Only ids in flight are held: an id leaves the table when it is done.
 */
#ifndef FLOWRUN_COMMIT_TRACKER_H
#define FLOWRUN_COMMIT_TRACKER_H

#include <stddef.h>

typedef struct commit_tracker commit_tracker;

commit_tracker *tracker_new(void);
void tracker_free(commit_tracker *t);

/* Adds `count` commits to id, which needs `needed` in all.  Returns 1 when
 * the id has just become done, 0 when it is still pending, -1 when out of
 * memory.  id is copied. */
int tracker_add(commit_tracker *t, const char *id, size_t needed, size_t count);

/* Ids seen but not done yet. */
size_t tracker_pending(const commit_tracker *t);

#endif
