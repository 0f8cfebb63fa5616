/*
 * events.c — s3-source's notification listener (`events:`): the bucket's
 * store pushes S3 event JSON (a Ceph radosgw persistent topic's
 * push-endpoint) and each finished object under the source's prefix is
 * handed to the watching source base (source_watch_push).  The store gets
 * 200 only when every such key is durably in the ledger (read and recorded,
 * already known, or dead-lettered), so a crash loses no event: a persistent
 * topic delivers again what was not answered 2xx, and the ledger absorbs
 * the repeats.  Removals and multipart initiations are answered and
 * counted, never read.  The listing rounds of `watch:` stay on as the
 * safety net.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_source.h"
#include "s3events.h"

struct source_events {
    fr_stage *st;
    source_watch *watch;         /* owned by the base, which outlives the listener */
    char *bucket, *prefix, *url; /* owned */
    s3events_listener *listener;
    pthread_mutex_t lock; /* guards closing and every push_batch */
    pthread_cond_t settled;
    int closing; /* the source stops: waiting deliveries answer 503 */
};

/* One request's pushed keys, until the base told each one's outcome.
 * Freed by the last of the request and the outcomes (refs). */
typedef struct push_batch {
    source_events *e;
    size_t refs, pending;
    size_t dead; /* keys dead-lettered (gone since the event, unreadable) */
    int dropped; /* a key the run could not record: answer 503 */
} push_batch;

static void batch_unref(push_batch *p)
{
    if (--p->refs == 0)
        free(p);
}

/* source_push_done: on the source's thread (or the closing one). */
static void events_settled(void *user, source_push_outcome outcome)
{
    push_batch *p = user;
    source_events *e = p->e;
    pthread_mutex_lock(&e->lock);
    p->pending--;
    p->dropped |= outcome == SOURCE_PUSH_DROPPED;
    p->dead += outcome == SOURCE_PUSH_DEAD;
    batch_unref(p);
    pthread_cond_broadcast(&e->settled);
    pthread_mutex_unlock(&e->lock);
}

static int under_prefix(const source_events *e, const char *key)
{
    return strncmp(key, e->prefix, strlen(e->prefix)) == 0;
}

/* Pushes the finished objects of one request under p (lock held).  The
 * number pushed, or -1 when the base refused one (the run is ending). */
static int events_push(source_events *e, push_batch *p, const s3events_object *o, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (o[i].kind != S3EVENTS_CREATED || !under_prefix(e, o[i].key)) {
            fr_log(e->st, FR_LOG_DEBUG, "event %s s3://%s/%s: not read (%s)", o[i].event,
                   o[i].bucket, o[i].key,
                   o[i].why                        ? o[i].why
                   : o[i].kind == S3EVENTS_REMOVED ? "a removal"
                                                   : "outside the prefix");
            fr_metric_add(e->st, "events_ignored", 1);
            continue;
        }
        p->refs++;
        p->pending++;
        if (source_watch_push(e->watch, o[i].key, o[i].etag, o[i].size, o[i].time, events_settled,
                              p) < 0) {
            p->refs--;
            p->pending--;
            return -1;
        }
        fr_metric_add(e->st, "events", 1);
        fr_log(e->st, FR_LOG_DEBUG, "event %s s3://%s/%s (ETag %s) pushed", o[i].event, o[i].bucket,
               o[i].key, o[i].etag);
    }
    return 0;
}

/* s3events_deliver: pushes, then waits until the base settled every key
 * (or the source stops). */
static int events_deliver(void *ctx, const s3events_object *o, size_t n, char *err, size_t err_size)
{
    source_events *e = ctx;
    push_batch *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    *p = (push_batch){.e = e, .refs = 1};
    pthread_mutex_lock(&e->lock);
    int rc = e->closing ? -1 : events_push(e, p, o, n);
    while (rc == 0 && p->pending && !e->closing)
        pthread_cond_wait(&e->settled, &e->lock);
    if (rc < 0 || p->pending || p->dropped) {
        snprintf(err, err_size, "the source is stopping: not recorded");
        rc = -1;
    } else if (n) {
        fr_log(e->st, FR_LOG_DEBUG,
               "events: %zu record(s) durable (%zu dead-lettered), answered 200", n, p->dead);
        fr_metric_add(e->st, "events_dead", (double)p->dead);
    }
    batch_unref(p);
    pthread_mutex_unlock(&e->lock);
    return rc;
}

static void events_refused(void *ctx, int status, const char *why)
{
    source_events *e = ctx;
    fr_metric_add(e->st, "events_refused", 1);
    fr_log(e->st, status == 503 ? FR_LOG_INFO : FR_LOG_WARN, "events %s: answered %d: %s", e->url,
           status, why);
}

source_events *source_events_start(fr_stage *st, source_watch *watch, const char *bucket,
                                   const char *prefix, char *err, size_t err_size)
{
    source_events *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    e->st = st;
    e->watch = watch;
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->settled, NULL);
    if (!(e->bucket = strdup(bucket)) || !(e->prefix = strdup(prefix)) ||
        !(e->url = strdup(fr_config_string(st, "events")))) {
        snprintf(err, err_size, "out of memory");
        source_events_free(e);
        return NULL;
    }
    s3events_options opt = {
        .bucket = bucket,
        .encoding = (s3events_key_encoding)fr_config_enum(st, "events_keys"),
        .limits = {.max_records = (size_t)fr_config_int(st, "events_max_records"), .max_key = 1024},
        .max_body = (size_t)fr_config_int(st, "events_max_body"),
        .timeout_s = 30,
        .max_connections = 64,
    };
    char why[600];
    if (!(e->listener =
              s3events_listen(e->url, &opt, events_deliver, events_refused, e, why, sizeof why))) {
        snprintf(err, err_size, "events: %s", why);
        source_events_free(e);
        return NULL;
    }
    fr_log(st, FR_LOG_INFO, "listening for s3://%s/%s events on port %u (%s)", bucket, prefix,
           s3events_port(e->listener), e->url);
    return e;
}

void source_events_stop(source_events *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&e->lock);
    e->closing = 1;
    pthread_cond_broadcast(&e->settled);
    pthread_mutex_unlock(&e->lock);
    s3events_stop(e->listener);
    e->listener = NULL;
}

void source_events_free(source_events *e)
{
    if (!e)
        return;
    source_events_stop(e);
    pthread_cond_destroy(&e->settled);
    pthread_mutex_destroy(&e->lock);
    free(e->bucket);
    free(e->prefix);
    free(e->url);
    free(e);
}
