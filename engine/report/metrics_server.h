/*
 * metrics_server.h — what a run serves over HTTP while it goes (metrics:
 * ADDR:PORT or --metrics): /metrics (run_metrics.h, the format from the
 * Accept header), /health/live and /health/ready (docs/operations.md
 * "Health").  It reads the snapshot board only, on the HTTP layer's threads
 * (plugins/lib/http).
 */
#ifndef FLOWRUN_METRICS_SERVER_H
#define FLOWRUN_METRICS_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "run_snapshot.h"

typedef struct metrics_server metrics_server;

/* Listens on listen ("ADDR:PORT", port 0: any free one).  board is borrowed
 * until metrics_server_stop.  NULL with err. */
metrics_server *metrics_server_start(const char *listen, snapshot_board *board, char *err,
                                     size_t err_size);
const char *metrics_server_host(const metrics_server *m);
uint16_t metrics_server_port(const metrics_server *m);
/* Stops serving and frees m (NULL is fine). */
void metrics_server_stop(metrics_server *m);

/* The health answers, from a snapshot and how long ago it was published:
 *   live:  the coordinator publishes (a snapshot within LIVE_STALE_S, or it
 *          is starting or joining, when it waits without publishing);
 *   ready: data flows (phase SNAP_FLOWING).
 * 1 healthy, 0 not. */
#define LIVE_STALE_S 10.0
int health_live(const run_snapshot *s, double age_s);
int health_ready(const run_snapshot *s);

#endif
