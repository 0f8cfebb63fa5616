/*
 * monotonic.h — waiting on a condition variable by CLOCK_MONOTONIC (a
 * wall-clock step must not stretch or cut a wait): the snapshot board's
 * fresh reads and the systemd watchdog's heartbeats.
 */
#ifndef FLOWRUN_MONOTONIC_H
#define FLOWRUN_MONOTONIC_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* pthread_cond_init with CLOCK_MONOTONIC for its timed waits. */
void monotonic_cond_init(pthread_cond_t *c);
/* CLOCK_MONOTONIC now plus ns, for pthread_cond_timedwait. */
struct timespec monotonic_after(uint64_t ns);

#endif
