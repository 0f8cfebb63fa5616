/* fetch.c — many GETs in flight on one thread with curl multi, each into
 * caller memory of the object's listed size.  A transient failure puts its
 * transfer back after a backoff (without blocking the others); a body that
 * is short, too long, or whose MD5 differs from a single-part ETag is never
 * returned as a success. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s3_private.h"

typedef struct fetch_xfer {
    s3_request req;
    CURL *easy;
    char *bucket, *key, *etag;
    void *user;
    int attempt;
    long long not_before_ms; /* > 0: waiting to be retried */
    int finished;            /* result ready for s3_fetch_next */
    int failed;
    s3_error err;
} fetch_xfer;

struct s3_fetch {
    s3_client *c; /* borrowed */
    CURLM *multi;
    int concurrency;
    fetch_xfer *slots; /* concurrency of them; used when .easy != NULL */
};

s3_fetch *s3_fetch_new(s3_client *c, int concurrency, s3_error *err)
{
    s3_fetch *f = calloc(1, sizeof *f);
    if (f) {
        f->c = c;
        f->concurrency = concurrency > 0 ? concurrency : 1;
        f->slots = calloc((size_t)f->concurrency, sizeof *f->slots);
        f->multi = curl_multi_init();
    }
    if (!f || !f->slots || !f->multi) {
        s3_fetch_free(f);
        s3_err_set(err, S3_ERR_INVALID, 0, "s3 fetch: out of memory");
        return NULL;
    }
    return f;
}

static void fetch_release(s3_fetch *f, fetch_xfer *x)
{
    curl_multi_remove_handle(f->multi, x->easy);
    curl_easy_cleanup(x->easy);
    s3_request_done(&x->req);
    free(x->bucket);
    free(x->key);
    free(x->etag);
    *x = (fetch_xfer){0};
}

void s3_fetch_free(s3_fetch *f)
{
    if (!f)
        return;
    for (int i = 0; f->slots && i < f->concurrency; i++)
        if (f->slots[i].easy)
            fetch_release(f, &f->slots[i]);
    free(f->slots);
    if (f->multi)
        curl_multi_cleanup(f->multi);
    free(f);
}

size_t s3_fetch_in_flight(const s3_fetch *f)
{
    size_t n = 0;
    for (int i = 0; i < f->concurrency; i++)
        n += f->slots[i].easy != NULL;
    return n;
}

int s3_fetch_has_room(const s3_fetch *f)
{
    return s3_fetch_in_flight(f) < (size_t)f->concurrency;
}

/* (Re)starts x's transfer; on failure x is finished with the error. */
static void fetch_start(s3_fetch *f, fetch_xfer *x)
{
    x->attempt++;
    x->not_before_ms = 0;
    curl_easy_reset(x->easy);
    if (s3_creds_refresh(&f->c->creds, f->c->connect_timeout_ms, &x->err) < 0 ||
        s3_request_setup(f->c, x->easy, &x->req, &x->err) < 0) {
        x->finished = x->failed = 1;
        return;
    }
    x->req.deadline_ms = s3_now_ms() + f->c->object_deadline_ms;
    x->req.deadline_what = f->c->object_deadline_what;
    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
    curl_multi_add_handle(f->multi, x->easy);
}

int s3_fetch_add(s3_fetch *f, const char *bucket, const char *key, const char *etag, void *dst,
                 size_t size, void *user, s3_error *err)
{
    fetch_xfer *x = NULL;
    for (int i = 0; i < f->concurrency && !x; i++)
        x = f->slots[i].easy ? NULL : &f->slots[i];
    if (!x) {
        s3_err_set(err, S3_ERR_INVALID, 0, "GetObject s3://%s/%s: no room (%d in flight)", bucket,
                   key, f->concurrency);
        return -1;
    }
    x->easy = curl_easy_init();
    x->bucket = strdup(bucket);
    x->key = strdup(key);
    x->etag = strdup(etag ? etag : "");
    if (!x->easy || !x->bucket || !x->key || !x->etag) {
        fetch_release(f, x);
        s3_err_set(err, S3_ERR_INVALID, 0, "GetObject s3://%s/%s: out of memory", bucket, key);
        return -1;
    }
    x->user = user;
    x->req = (s3_request){.method = "GET",
                          .bucket = x->bucket,
                          .key = x->key,
                          .dst = dst,
                          .dst_size = size,
                          .content_length = -1};
    fetch_start(f, x);
    return 0;
}

/* A single-part ETag is the body's MD5: a cheap end-to-end check. */
static int fetch_etag_ok(fetch_xfer *x)
{
    if (strlen(x->etag) != 32 || strchr(x->etag, '-'))
        return 1;
    char md5[33];
    s3_md5_hex(x->req.dst, x->req.dst_len, md5);
    if (strcasecmp(md5, x->etag) == 0)
        return 1;
    s3_err_set(&x->err, S3_ERR_TRANSIENT, x->req.status,
               "GetObject s3://%s/%s: body MD5 %s differs from ETag %s", x->bucket, x->key, md5,
               x->etag);
    return 0;
}

/* A transfer ended: finish it, or schedule its retry. */
static void fetch_done(s3_fetch *f, fetch_xfer *x, CURLcode rc)
{
    int transient = 0;
    curl_multi_remove_handle(f->multi, x->easy);
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->req.status);
    curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &x->req.content_length);
    if (s3_request_outcome(f->c, &x->req, rc, "GetObject", &transient, &x->err) == 0) {
        if (x->req.dst_len != x->req.dst_size) {
            /* Same ETag as listed: the object is unchanged, the transfer was
             * cut (a reply whose Content-Length itself was short); again. */
            transient = x->etag[0] && strcasecmp(x->req.etag, x->etag) == 0;
            s3_err_set(&x->err, transient ? S3_ERR_TRANSIENT : S3_ERR_INVALID, x->req.status,
                       "GetObject s3://%s/%s: short body, %zu bytes, listed as %zu%s", x->bucket,
                       x->key, x->req.dst_len, x->req.dst_size,
                       transient ? "" : " (object changed since listed)");
        } else if (fetch_etag_ok(x)) {
            s3_count_attempt(f->c, x->easy, x->req.status, rc, 0);
            x->finished = 1;
            return;
        } else {
            transient = 1;
        }
    }
    s3_count_attempt(f->c, x->easy, x->req.status, rc,
                     transient && x->attempt < f->c->max_attempts);
    if (transient && x->attempt < f->c->max_attempts) {
        x->not_before_ms = s3_now_ms() + s3_backoff_ms(x->attempt, &f->c->seed);
        return;
    }
    if (transient) {
        size_t n = strlen(x->err.message);
        snprintf(x->err.message + n, sizeof x->err.message - n, ", after %d attempts", x->attempt);
    }
    x->finished = x->failed = 1;
}

/* Hands out one finished transfer, if any. */
static int fetch_take(s3_fetch *f, s3_fetch_result *res)
{
    for (int i = 0; i < f->concurrency; i++) {
        fetch_xfer *x = &f->slots[i];
        if (!x->easy || !x->finished)
            continue;
        *res = (s3_fetch_result){.user = x->user, .size = x->req.dst_len, .failed = x->failed};
        if (x->failed)
            res->err = x->err;
        fetch_release(f, x);
        return 1;
    }
    return 0;
}

/* Restarts due retries; returns how long until the next one is due. */
static long fetch_retry_due(s3_fetch *f)
{
    long wait = 1000;
    long long now = s3_now_ms();
    for (int i = 0; i < f->concurrency; i++) {
        fetch_xfer *x = &f->slots[i];
        if (!x->easy || !x->not_before_ms)
            continue;
        if (x->not_before_ms <= now)
            fetch_start(f, x);
        else if (x->not_before_ms - now < wait)
            wait = (long)(x->not_before_ms - now);
    }
    return wait;
}

int s3_fetch_next(s3_fetch *f, s3_fetch_result *res)
{
    for (;;) {
        if (fetch_take(f, res))
            return 1;
        if (!s3_fetch_in_flight(f))
            return 0;
        long wait = fetch_retry_due(f);
        int running;
        curl_multi_perform(f->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(f->multi, &left))) {
            fetch_xfer *x;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
            if (m->msg == CURLMSG_DONE)
                fetch_done(f, x, m->data.result);
        }
        if (fetch_take(f, res))
            return 1;
        curl_multi_poll(f->multi, NULL, 0, (int)wait, NULL);
    }
}
