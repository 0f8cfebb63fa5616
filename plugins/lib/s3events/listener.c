/*
 * listener.c — the HTTP endpoint a bucket's notification topic pushes to
 * (s3events.h), on flowrun-http: one POST body, parsed, checked against the
 * bucket, delivered; 200 only once deliver() says it is durable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "s3events.h"

struct s3events_listener {
    http_server *http;
    s3events_options opt; /* opt.bucket points at bucket */
    char *bucket;         /* owned; NULL: any */
    char path[256];
    s3events_deliver deliver;
    s3events_refused refused;
    void *ctx;
};

int s3events_parse_endpoint(const char *url, char *host, size_t size, uint16_t *port, char *path,
                            size_t path_size, char *err, size_t err_size)
{
    char hostport[300];
    const char *rest = strncmp(url, "http://", 7) == 0 ? url + 7 : NULL;
    const char *slash = rest ? strchr(rest, '/') : NULL;
    size_t n = rest ? (slash ? (size_t)(slash - rest) : strlen(rest)) : 0;
    const char *p = slash ? slash : "/";
    if (!rest || !n || n >= sizeof hostport || strlen(p) >= path_size || strpbrk(p, "?# ")) {
        snprintf(err, err_size,
                 "\"%s\": expected http://ADDR:PORT or http://ADDR:PORT/PATH "
                 "(ADDR an IPv4 address, [IPv6] or 0.0.0.0 for all)",
                 url);
        return -1;
    }
    memcpy(hostport, rest, n);
    hostport[n] = '\0';
    char why[300];
    if (http_parse_listen(hostport, host, size, port, why, sizeof why) < 0 || !host[0]) {
        snprintf(err, err_size,
                 "\"%s\": expected http://ADDR:PORT with ADDR an IPv4 address, "
                 "[IPv6] or 0.0.0.0 for all, and PORT 0-65535",
                 url);
        return -1;
    }
    snprintf(path, path_size, "%s", p);
    return 0;
}

/* Answers status with why, and tells the caller. */
static void listener_refuse(s3events_listener *l, http_response *res, int status, const char *why)
{
    http_error(res, status, "%s", why);
    if (l->refused)
        l->refused(l->ctx, status, why);
}

/* A record of another bucket: the notification is configured on the wrong
 * bucket (or the topic is shared).  Its index, or -1. */
static long foreign_record(const s3events_listener *l, const s3events_batch *b)
{
    for (size_t i = 0; l->bucket && i < b->n; i++)
        if (strcmp(b->objects[i].bucket, l->bucket) != 0)
            return (long)i;
    return -1;
}

static void listener_handle(void *ctx, const http_request *req, http_response *res)
{
    s3events_listener *l = ctx;
    char why[1400];
    s3events_batch batch;
    if (strcmp(http_path(req), l->path) != 0) {
        snprintf(why, sizeof why, "%.300s: no such endpoint (events go to POST %s)", http_path(req),
                 l->path);
        return listener_refuse(l, res, 404, why);
    }
    if (strcmp(http_method(req), "POST") != 0) {
        snprintf(why, sizeof why, "%.20s %s: events are POSTed", http_method(req), l->path);
        return listener_refuse(l, res, 405, why);
    }
    size_t size;
    const unsigned char *body = http_body(req, &size);
    char perr[1200];
    if (s3events_parse(body, size, l->opt.encoding, &l->opt.limits, &batch, perr, sizeof perr) <
        0) {
        snprintf(why, sizeof why, "bad event: %s", perr);
        return listener_refuse(l, res, 400, why);
    }
    long foreign = foreign_record(l, &batch);
    if (foreign >= 0) {
        snprintf(why, sizeof why,
                 "Records[%ld]: bucket \"%.300s\" is not this listener's \"%.300s\"", foreign,
                 batch.objects[foreign].bucket, l->bucket);
        listener_refuse(l, res, 400, why);
    } else if (l->deliver(l->ctx, batch.objects, batch.n, perr, sizeof perr) < 0) {
        snprintf(why, sizeof why, "not recorded, deliver again: %s", perr);
        listener_refuse(l, res, 503, why);
    } else {
        res->status = 200;
    }
    s3events_free(&batch);
}

static void listener_too_large(void *ctx, int status)
{
    s3events_listener *l = ctx;
    if (l->refused)
        l->refused(l->ctx, status, "request body larger than the limit");
}

s3events_listener *s3events_listen(const char *url, const s3events_options *opt,
                                   s3events_deliver deliver, s3events_refused refused, void *ctx,
                                   char *err, size_t err_size)
{
    char host[128];
    uint16_t port;
    s3events_listener *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    *l = (s3events_listener){.opt = *opt, .deliver = deliver, .refused = refused, .ctx = ctx};
    if (s3events_parse_endpoint(url, host, sizeof host, &port, l->path, sizeof l->path, err,
                                err_size) < 0)
        goto fail;
    if (opt->bucket && !(l->bucket = strdup(opt->bucket))) {
        snprintf(err, err_size, "out of memory");
        goto fail;
    }
    l->opt.bucket = l->bucket;
    http_limits limits = {.max_body = opt->max_body,
                          .timeout_s = opt->timeout_s ? opt->timeout_s : 1,
                          .max_connections = opt->max_connections,
                          .per_ip = 0};
    char why[512];
    if (!(l->http = http_start(strcmp(host, "0.0.0.0") ? host : "*", port, &limits, listener_handle,
                               listener_too_large, l, why, sizeof why))) {
        snprintf(err, err_size, "events endpoint %s: %s", url, why);
        goto fail;
    }
    return l;
fail:
    free(l->bucket);
    free(l);
    return NULL;
}

uint16_t s3events_port(const s3events_listener *l)
{
    return http_port(l->http);
}

void s3events_stop(s3events_listener *l)
{
    if (!l)
        return;
    http_drain(l->http);
    http_stop(l->http);
    free(l->bucket);
    free(l);
}
