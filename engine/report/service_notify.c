/*
 * service_notify.c — sd_notify messages and the watchdog thread.
 */
#include "service_notify.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "log.h"
#include "monotonic.h"

struct service_notify {
    snapshot_board *board; /* borrowed */
    uint64_t interval_ns;  /* between heartbeats: half of WatchdogSec; 0 none */
    pthread_t thread;
    int thread_started;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int closing; /* under lock */
    int ready;   /* under lock: READY=1 sent; systemd watches from then on */
};

static void notify(const char *state)
{
    int rc = sd_notify(0, state);
    if (rc < 0)
        log_msg(FR_LOG_WARN, NULL, "systemd notify socket: %s", strerror(-rc));
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Whether the run is live: the coordinator published within the watchdog's
 * timeout (twice the interval), and no running instance has gone that long
 * without a sign of life (a plugin stuck in a callback: run_snapshot.h
 * stalled_s).  If not, why, into why. */
static int run_is_live(service_notify *n, char *why, size_t size)
{
    uint64_t timeout = 2 * n->interval_ns;
    uint64_t published = __atomic_load_n(&n->board->published_ns, __ATOMIC_RELAXED);
    if (!published || now_ns() - published >= timeout) {
        snprintf(why, size, "the coordinator made no progress for %.1f s", timeout / 1e9);
        return 0;
    }
    pthread_mutex_lock(&n->board->lock);
    const snap_stage *st = run_snapshot_most_stalled(&n->board->current);
    int stalled = st && st->stalled_s >= timeout / 1e9;
    if (stalled)
        snprintf(why, size, "stage \"%s\" has been stuck for %.1f s", st->name, st->stalled_s);
    pthread_mutex_unlock(&n->board->lock);
    return !stalled;
}

/* Pings while the run is live; while it is not, says why in STATUS= at every
 * interval instead, and in the log once when it stops and when it resumes. */
static void *watchdog_main(void *arg)
{
    service_notify *n = arg;
    int was_live = 1;
    char why[256], status[300];
    pthread_mutex_lock(&n->lock);
    while (!n->closing) {
        struct timespec until = monotonic_after(n->interval_ns);
        while (!n->closing && pthread_cond_timedwait(&n->wake, &n->lock, &until) != ETIMEDOUT)
            ;
        if (n->closing)
            break;
        if (!n->ready)
            continue;
        int live = run_is_live(n, why, sizeof why);
        if (live) {
            notify("WATCHDOG=1");
        } else {
            snprintf(status, sizeof status, "STATUS=stalled: %s", why);
            notify(status);
        }
        if (live && !was_live)
            log_msg(FR_LOG_INFO, NULL, "the run makes progress again: watchdog heartbeats resume");
        else if (!live && was_live)
            log_msg(FR_LOG_WARN, NULL, "%s: no watchdog heartbeat", why);
        was_live = live;
    }
    pthread_mutex_unlock(&n->lock);
    return NULL;
}

service_notify *service_notify_open(snapshot_board *board)
{
    uint64_t usec = 0;
    if (!getenv("NOTIFY_SOCKET"))
        return NULL;
    service_notify *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->board = board;
    pthread_mutex_init(&n->lock, NULL);
    monotonic_cond_init(&n->wake);
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        n->interval_ns = usec * 1000u / 2;
        n->thread_started = pthread_create(&n->thread, NULL, watchdog_main, n) == 0;
        log_msg(FR_LOG_DEBUG, NULL, "systemd watchdog: a heartbeat every %.3f s",
                n->interval_ns / 1e9);
    }
    return n;
}

void service_notify_ready(service_notify *n)
{
    if (!n)
        return;
    notify("READY=1\nSTATUS=data flowing");
    pthread_mutex_lock(&n->lock);
    n->ready = 1;
    pthread_mutex_unlock(&n->lock);
}

void service_notify_stopping(service_notify *n)
{
    if (n)
        notify("STOPPING=1\nSTATUS=stopping");
}

void service_notify_close(service_notify *n)
{
    if (!n)
        return;
    pthread_mutex_lock(&n->lock);
    n->closing = 1;
    pthread_cond_signal(&n->wake);
    pthread_mutex_unlock(&n->lock);
    if (n->thread_started)
        pthread_join(n->thread, NULL);
    pthread_cond_destroy(&n->wake);
    pthread_mutex_destroy(&n->lock);
    free(n);
}
