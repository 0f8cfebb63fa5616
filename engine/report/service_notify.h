/*
 * service_notify.h — a run under systemd (Type=notify; docs/operations.md
 * "systemd"): READY=1 when data flows, STOPPING=1 on SIGINT/SIGTERM, and
 * WATCHDOG=1 heartbeats when the unit sets WatchdogSec.  Through Debian's
 * libsystemd (sd_notify), to the socket in NOTIFY_SOCKET.
 *
 * The heartbeats come from a thread of their own, which pings only when the
 * coordinator published a snapshot since the last ping: a coordinator that
 * hangs stops the heartbeats, and systemd restarts the service.
 */
#ifndef FLOWRUN_SERVICE_NOTIFY_H
#define FLOWRUN_SERVICE_NOTIFY_H

#include "run_snapshot.h"

typedef struct service_notify service_notify;

/* NULL (every call below then does nothing) unless NOTIFY_SOCKET is set.
 * board borrowed until service_notify_close. */
service_notify *service_notify_open(snapshot_board *board);
void service_notify_ready(service_notify *n);
void service_notify_stopping(service_notify *n);
/* Stops the heartbeats and frees n. */
void service_notify_close(service_notify *n);

#endif
