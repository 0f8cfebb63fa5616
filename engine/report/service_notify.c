/*
 * service_notify.c — sd_notify messages and the watchdog thread.
 */
#include "service_notify.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "log.h"

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

static void add_ns(struct timespec *t, uint64_t ns)
{
    t->tv_sec += (time_t)(ns / 1000000000u);
    t->tv_nsec += (long)(ns % 1000000000u);
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Pings while the coordinator published within the watchdog's timeout
 * (twice the interval); says so once when it stops and when it resumes. */
static void *watchdog_main(void *arg)
{
    service_notify *n = arg;
    int alive = 1;
    pthread_mutex_lock(&n->lock);
    while (!n->closing) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        add_ns(&until, n->interval_ns);
        while (!n->closing && pthread_cond_timedwait(&n->wake, &n->lock, &until) != ETIMEDOUT)
            ;
        if (n->closing)
            break;
        if (!n->ready)
            continue;
        uint64_t published = __atomic_load_n(&n->board->published_ns, __ATOMIC_RELAXED);
        int was_alive = alive;
        alive = published && now_ns() - published < 2 * n->interval_ns;
        if (alive)
            notify("WATCHDOG=1");
        if (alive != was_alive)
            log_msg(alive ? FR_LOG_INFO : FR_LOG_WARN, NULL,
                    alive ? "the coordinator runs again: watchdog heartbeats resume"
                          : "the coordinator made no progress for %.1f s: no watchdog heartbeat",
                    2 * n->interval_ns / 1e9);
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
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&n->wake, &attr);
    pthread_condattr_destroy(&attr);
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
