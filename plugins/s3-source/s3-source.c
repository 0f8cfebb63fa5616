/*
 * s3-source — reads objects from S3 (or any S3-compatible store) as bytes
 * records, many GETs in flight on one thread (curl multi).
 *
 * The output type is bytes/jpeg for suffix .jpg/.jpeg, bytes/png for .png,
 * bytes/ of any media ("*") otherwise, so a jpeg-decode stage can check its edge at startup.
 * An object that vanished between the listing and its GET, or that still
 * fails after the retries, is dead-lettered with the reason; the run goes on.
 * A file:// or plain-path url reads a local folder instead (url.c), with
 * the records dir-source makes, so only the url changes between a laptop
 * and S3.  The SDK source base (plugins/lib/source) does the listing's
 * filtering, replicas' split, the ledger (a rerun skips objects done by an
 * earlier run; an object with a new ETag is read again) and the ids.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3.h"
#include "s3_source.h"
#include "s3events.h"
#include "source.h"

typedef struct source_slot {
    source_item *item; /* owned by the base */
    fr_buffer *buf;
    void *data;
    unsigned retries; /* of item, not found at earlier GETs (gone.c) */
} source_slot;

typedef struct source_state {
    char *bucket, *prefix;
    const char *media; /* static */
    s3_client *client;
    s3_fetch *fetch;
    source_base *base;
    int list_oom;  /* the listing ran out of memory */
    int page_full; /* the listing stopped at a watching base's page */
    source_slot *slots;
    int concurrency;
    source_local *local; /* a file:// or plain-path url: none of the above */
    uint64_t max_object_size;
    source_events *events; /* `events:`: the notification listener, or NULL */
    source_gone *gone;     /* objects not found, waiting to be tried again */
} source_state;

static const fr_param source_params[] = {
    {"url", FR_PARAM_PATH, NULL, 0, 0, NULL,
     "s3://bucket/prefix/ to read; a file:///folder URL or a plain path reads a local folder "
     "instead, with the same records as dir-source"},
    {"suffix", FR_PARAM_STRING, "", 0, 0, NULL,
     "only keys ending with this, case-insensitive (.jpg also sets the output to bytes/jpeg)"},
    {"limit", FR_PARAM_INT, "0", 0, FR_NO_MAX, NULL, "read at most this many objects (0: all)"},
    {"concurrency", FR_PARAM_INT, "32", 1, 512, NULL, "GETs in flight per instance"},
    {"endpoint", FR_PARAM_STRING, "", 0, 0, NULL,
     "S3 endpoint URL (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, then AWS)"},
    {"region", FR_PARAM_STRING, "", 0, 0, NULL,
     "region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's, us-east-1)"},
    {"addressing", FR_PARAM_ENUM, "auto", 0, 0, "auto|path|virtual",
     "bucket in the path or in the host name (auto: virtual on AWS, path elsewhere)"},
    {"profile", FR_PARAM_STRING, "", 0, 0, NULL, "AWS profile (default: AWS_PROFILE, default)"},
    {"attempts", FR_PARAM_INT, "5", 1, 20, NULL, "tries per request on 5xx, throttling, resets"},
    {"timeout", FR_PARAM_DURATION, "30s", 0.001, 3.6e6, NULL,
     "a transfer that receives nothing for this long is retried"},
    {"max_object_size", FR_PARAM_SIZE, "256MiB", 1, FR_NO_MAX, NULL,
     "an object listed larger than this is dead-lettered, not read into memory"},
    {"max_listing_page", FR_PARAM_SIZE, "16MiB", 4096, 1073741824.0, NULL,
     "a listing page (or other XML reply) larger than this is an error"},
    {"max_error_body", FR_PARAM_SIZE, "64KiB", 1024, 67108864.0, NULL,
     "an error reply's body is read up to this size; the error is then named by its status"},
    {"listing_deadline", FR_PARAM_DURATION, "1h", 1, 8.64e7, NULL,
     "the whole listing (all pages and retries) must end within this; a server that trickles "
     "or loops fails the stage instead of holding the run"},
    {"object_deadline", FR_PARAM_DURATION, "15m", 1, 8.64e7, NULL,
     "one GET must end within this (a server trickling bytes never stalls); the object is then "
     "dead-lettered"},
    SOURCE_GONE_PARAMS,
    SOURCE_WATCH_PARAMS,
    SOURCE_EVENTS_PARAMS,
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static void source_fini(void *state, fr_stage *st)
{
    source_state *s = state;
    source_events_stop(s->events); /* no push into a base being freed */
    source_local_free(s->local);
    s3_fetch_free(s->fetch); /* before the buffers its transfers write into */
    for (int i = 0; s->slots && i < s->concurrency; i++)
        if (s->slots[i].buf)
            fr_buffer_unref(st, s->slots[i].buf);
    free(s->slots);
    source_gone_free(s->gone); /* before the base: it holds the base's items */
    source_base_free(s->base);
    source_events_free(s->events); /* after the base told the outcome of every push */
    s3_client_free(s->client);
    free(s->bucket);
    free(s->prefix);
    free(s);
}

/* The client's cancelled(): a run that stops ends listings and GETs in
 * flight, in init as in produce. */
static int source_cancelled(void *st)
{
    return fr_stopping(st);
}

/* The S3 client's requests, retries and bytes, as the stage's metrics. */
static void source_count(void *st, const char *name, double n)
{
    fr_metric_add(st, name, n);
}

static s3_client *source_client(fr_stage *st, s3_error *err)
{
    const char *addressing = fr_config_string(st, "addressing");
    s3_options opt = {
        .cancelled = source_cancelled,
        .cancel_user = st,
        .count = source_count,
        .count_user = st,
        .max_reply_bytes = (size_t)fr_config_int(st, "max_listing_page"),
        .max_error_bytes = (size_t)fr_config_int(st, "max_error_body"),
        .list_deadline_ms = (long)fr_config_int(st, "listing_deadline"),
        .object_deadline_ms = (long)fr_config_int(st, "object_deadline"),
        .endpoint = fr_config_string(st, "endpoint"),
        .region = fr_config_string(st, "region"),
        .addressing = strcmp(addressing, "auto") == 0 ? NULL : addressing,
        .profile = fr_config_string(st, "profile"),
        .max_attempts = (int)fr_config_int(st, "attempts"),
        .stall_timeout_ms = (long)fr_config_int(st, "timeout"),
    };
    return s3_client_new(&opt, err);
}

/* A local folder instead of a bucket (root transferred).  On failure the
 * caller frees s. */
static fr_status source_init_local(source_state *s, fr_stage *st, char *root, const char *suffix)
{
    char err[4200], type[48];
    s->local = source_local_open(st, root, suffix, (uint64_t)fr_config_int(st, "limit"), s->media,
                                 (size_t)fr_config_int(st, "max_object_size"), err, sizeof err);
    free(root);
    if (!s->local)
        return fr_stopping(st) ? FR_STOP : fr_fail(st, FR_FATAL, "cannot list %s", err);
    snprintf(type, sizeof type, "bytes/%s", s->media);
    return fr_set_output_type(st, type);
}

static int source_add(void *user, const s3_object *o)
{
    source_state *s = user;
    uint64_t size = o->size_invalid ? SOURCE_SIZE_UNKNOWN : o->size;
    int rc = source_base_add(s->base, o->key, o->etag, size, o->last_modified);
    if (rc < 0)
        s->list_oom = 1;
    s->page_full = rc > 0;
    return rc != 0; /* stop at the limit (a page, when watching), or out of memory */
}

/* Watching: lists the round's next page after the last key offered.  A
 * failed listing (the store is down) is logged and tried again at the next
 * round: a watch outlives an outage. */
static void source_list_page(source_state *s, fr_stage *st)
{
    s3_error err = {0};
    s->page_full = 0;
    if (s3_list(s->client, s->bucket, s->prefix, source_base_list_after(s->base), source_add, s,
                &err) < 0 ||
        s->list_oom) {
        if (!fr_stopping(st))
            fr_log(st, FR_LOG_WARN, "listing s3://%s/%s failed (listing again next round): %s",
                   s->bucket, s->prefix, s->list_oom ? "out of memory" : err.message);
        s->list_oom = 0;
        source_base_list_failed(s->base);
    } else if (!s->page_full) {
        source_base_listed(s->base);
    }
}

/* Makes the base; lists the bucket into it once at start (the total for
 * the ETA), unless it watches (rounds list as produce goes). */
static int source_list(source_state *s, fr_stage *st, const char *suffix, s3_error *err)
{
    if (!(s->base = source_base_new(st, suffix, (uint64_t)fr_config_int(st, "limit"), s->media))) {
        err->cls = S3_ERR_INVALID;
        snprintf(err->message, sizeof err->message, "out of memory");
        return -1;
    }
    int watching = source_base_watch_config(s->base, err->message, sizeof err->message);
    if (watching < 0)
        err->cls = S3_ERR_INVALID;
    if (watching)
        return watching > 0 ? 0 : -1;
    if (s3_list(s->client, s->bucket, s->prefix, NULL, source_add, s, err) < 0)
        return -1;
    if (s->list_oom) {
        err->cls = S3_ERR_INVALID;
        snprintf(err->message, sizeof err->message, "out of memory listing s3://%s/%s", s->bucket,
                 s->prefix);
        return -1;
    }
    source_base_listed(s->base);
    return 0;
}

/* `events:` is usable: an http:// endpoint, with watch: (the listing
 * stays on as the safety net), on a bucket.  FR_OK, or a configuration
 * error at the key. */
static fr_status source_check_events(fr_stage *st, int local)
{
    const char *url = fr_config_string(st, "events");
    char host[128], path[256], why[600];
    uint16_t port;
    if (!url[0])
        return FR_OK;
    if (local)
        return fr_config_error(st, "events", "a local folder (url \"%s\") has no notifications",
                               fr_config_string(st, "url"));
    if (fr_config_int(st, "watch") <= 0)
        return fr_config_error(st, "events",
                               "\"%s\" needs watch: (a period; the listing stays on as the "
                               "safety net for events the store never sends)",
                               url);
    if (s3events_parse_endpoint(url, host, sizeof host, &port, path, sizeof path, why, sizeof why) <
        0)
        return fr_config_error(st, "events", "%s", why);
    return FR_OK;
}

/* Starts the notification listener of `events:` (checked).  0, or -1
 * with err. */
static int source_listen(source_state *s, fr_stage *st, s3_error *err)
{
    if (!fr_config_string(st, "events")[0])
        return 0;
    s->events = source_events_start(st, source_base_pushes(s->base), s->bucket, s->prefix,
                                    err->message, sizeof err->message);
    err->cls = S3_ERR_INVALID;
    return s->events ? 0 : -1;
}

static fr_status source_init(fr_stage *st, void **state)
{
    const char *url = fr_config_string(st, "url");
    const char *suffix = fr_config_string(st, "suffix");
    s3_error err = {0};
    source_state *s = calloc(1, sizeof *s);
    if (!s)
        return fr_fail(st, FR_FATAL, "out of memory");
    *state = s;
    s->media = source_media(suffix);
    char *root;
    int local = source_url_local_root(url, &root);
    fr_status checked = source_check_events(st, local > 0);
    if (checked != FR_OK) {
        if (local > 0)
            free(root);
        source_fini(s, st);
        *state = NULL;
        return checked;
    }
    if (local > 0) {
        fr_status r = source_init_local(s, st, root, suffix);
        if (r != FR_OK) {
            source_fini(s, st);
            *state = NULL;
        }
        return r;
    }
    if (local < 0 || s3_parse_url(url, &s->bucket, &s->prefix) < 0) {
        source_fini(s, st);
        *state = NULL;
        return fr_config_error(
            st, "url", "\"%s\": expected s3://bucket/prefix/, file:///folder or a local path", url);
    }
    s->concurrency = (int)fr_config_int(st, "concurrency");
    s->max_object_size = (uint64_t)fr_config_int(st, "max_object_size");
    s->client = source_client(st, &err);
    if (s->client)
        fr_log(st, FR_LOG_INFO, "s3://%s/%s: region %s, endpoint %s, credentials from %s",
               s->bucket, s->prefix, s3_client_region(s->client), s3_client_endpoint(s->client),
               s3_client_credential_source(s->client));
    if (!s->client || source_list(s, st, suffix, &err) < 0 ||
        !(s->fetch = s3_fetch_new(s->client, s->concurrency, &err)) ||
        !(s->slots = calloc((size_t)s->concurrency, sizeof *s->slots)) ||
        !(s->gone = source_gone_new((unsigned)fr_config_int(st, "gone_retries"),
                                    fr_config_int(st, "gone_backoff"))) ||
        source_listen(s, st, &err) < 0) {
        source_fini(s, st);
        *state = NULL;
        if (err.cls == S3_ERR_CANCELLED && fr_stopping(st))
            return FR_STOP;
        return fr_fail(st, FR_FATAL, "%s", err.message[0] ? err.message : "out of memory");
    }
    char type[48];
    snprintf(type, sizeof type, "bytes/%s", s->media);
    return fr_set_output_type(st, type);
}

/* Emits it, or dead-letters it with reason (buf transferred either way),
 * with the object's own attributes before the base's key, version, size. */
static fr_status source_emit(source_state *s, fr_stage *st, source_item *it, fr_buffer *buf,
                             void *data, const char *reason)
{
    const fr_attr extra[] = {{"bucket", s->bucket}, {"etag", it->version}};
    if (!reason)
        return source_base_emit(s->base, it, buf, data, extra, 2);
    if (buf)
        fr_buffer_unref(st, buf);
    source_base_reject(s->base, it, reason, extra, 2);
    return FR_OK;
}

/* Why obj cannot be read into memory (written into why), or NULL: the
 * listing's size comes from the server and is checked before any
 * allocation. */
static const char *source_unreadable(const source_state *s, const source_item *obj, char *why,
                                     size_t n)
{
    if (obj->size == SOURCE_SIZE_UNKNOWN)
        snprintf(why, n, "s3://%s/%s: the listing gave no valid <Size> (not read)", s->bucket,
                 obj->key);
    else if (obj->size > s->max_object_size)
        snprintf(why, n, "s3://%s/%s: listed size %llu bytes is above max_object_size %llu",
                 s->bucket, obj->key, (unsigned long long)obj->size,
                 (unsigned long long)s->max_object_size);
    else
        return NULL;
    return why;
}

/* Starts obj's GET into slot (after `retries` not found), or
 * dead-letters obj: one object that cannot be held or started never ends
 * the run. */
static fr_status source_start_one(source_state *s, fr_stage *st, source_slot *slot,
                                  source_item *obj, unsigned retries)
{
    char why[sizeof(((s3_error *)0)->message) + 64];
    s3_error err = {0};
    const char *reason = source_unreadable(s, obj, why, sizeof why);
    if (!reason && obj->size) {
        slot->buf =
            obj->size <= SIZE_MAX ? fr_buffer_new(st, (size_t)obj->size, &slot->data) : NULL;
        if (!slot->buf) {
            snprintf(why, sizeof why, "s3://%s/%s: cannot allocate %llu bytes", s->bucket, obj->key,
                     (unsigned long long)obj->size);
            reason = why;
        } else if (s3_fetch_add(s->fetch, s->bucket, obj->key, obj->version, slot->data,
                                (size_t)obj->size, slot, &err) < 0) {
            fr_buffer_unref(st, slot->buf);
            slot->buf = NULL;
            reason = err.message;
        } else {
            slot->item = obj;
            slot->retries = retries;
            return FR_OK;
        }
    }
    /* An empty object is emitted now: nothing to fetch. */
    return source_emit(s, st, obj, NULL, NULL, reason);
}

/* Starts GETs until every slot is busy or nothing is waiting: retries
 * that are due first, then the listing's and pushed keys. */
static fr_status source_start_more(source_state *s, fr_stage *st)
{
    int64_t now = source_gone_now_ms();
    for (int i = 0; i < s->concurrency; i++) {
        source_slot *slot = &s->slots[i];
        if (slot->buf)
            continue;
        unsigned retries = 0;
        source_item *obj = source_gone_due(s->gone, now, &retries);
        if (!obj && source_base_remaining(s->base))
            obj = source_base_next(s->base);
        if (!obj)
            break;
        fr_status r = source_start_one(s, st, slot, obj, retries);
        if (r != FR_OK)
            return r;
    }
    return FR_OK;
}

/* Nothing in flight or waiting but retries: waits for the first one due
 * (commits are delivered meanwhile). */
static fr_status source_wait_retry(source_state *s, fr_stage *st)
{
    int64_t wait = source_gone_next_ms(s->gone) - source_gone_now_ms();
    return wait > 0 ? fr_idle(st, wait) : FR_OK;
}

/* A GET found no object (deleted since it was listed or its event sent, or
 * not yet visible): tried again after a backoff while it has retries left
 * (1), else its dead letter's reason is written into why (0). */
static int source_not_found(source_state *s, fr_stage *st, source_slot *slot,
                            const s3_fetch_result *res, char *why, size_t size)
{
    int64_t wait = 0;
    int deferred =
        source_gone_defer(s->gone, slot->item, slot->retries, source_gone_now_ms(), &wait);
    if (deferred > 0) {
        fr_metric_add(st, "gone_retries", 1);
        fr_log(st, FR_LOG_DEBUG, "s3://%s/%s: not found at its GET (retry %u of %u in %lld ms)",
               s->bucket, slot->item->key, slot->retries + 1,
               (unsigned)fr_config_int(st, "gone_retries"), (long long)wait);
        return 1;
    }
    snprintf(why, size, "deleted since listed or notified (not found at its GET%s, %u %s): %s",
             deferred < 0 ? "; out of memory for a retry" : "", slot->retries,
             slot->retries == 1 ? "retry" : "retries", res->err.message);
    return 0;
}

static fr_status source_produce(void *state, fr_stage *st)
{
    source_state *s = state;
    s3_fetch_result res;
    if (s->local)
        return source_local_produce(s->local);
    if (fr_stopping(st))
        return FR_STOP;
    if (source_base_list_due(s->base))
        source_list_page(s, st);
    fr_status r = source_start_more(s, st);
    if (r != FR_OK)
        return r;
    if (!s3_fetch_next(s->fetch, &res)) {
        if (source_base_remaining(s->base))
            return FR_OK;
        if (source_gone_waiting(s->gone))
            return source_wait_retry(s, st);
        return source_base_watching(s->base) ? source_base_wait(s->base) : FR_DONE;
    }
    source_slot *slot = res.user;
    if (res.failed && res.err.cls == S3_ERR_CANCELLED && fr_stopping(st)) {
        fr_buffer_unref(st, slot->buf);
        slot->buf = NULL;
        return FR_STOP;
    }
    char why[sizeof res.err.message + 128];
    const char *reason = NULL;
    if (res.failed && res.err.cls == S3_ERR_NOT_FOUND) {
        if (source_not_found(s, st, slot, &res, why, sizeof why)) {
            fr_buffer_unref(st, slot->buf);
            slot->buf = NULL;
            return FR_OK;
        }
        reason = why;
    } else if (res.failed) {
        reason = res.err.message;
    }
    fr_buffer *buf = slot->buf;
    slot->buf = NULL;
    return source_emit(s, st, slot->item, buf, slot->data, reason);
}

FR_PLUGIN_EXPORT const fr_plugin flowrun_plugin = {
    FR_PLUGIN_HEADER,
    .name = "s3-source",
    .summary = "Read objects from S3 or an S3-compatible store, many GETs in flight",
    .version = "0.2",
    .input = NULL,
    .output = "bytes/*",
    .params = source_params,
    .init = source_init,
    .produce = source_produce,
    .fini = source_fini,
};
