/*
 * listener.c — the HTTP endpoint a bucket's notification topic pushes to
 * (s3events.h), on flowrun-http: one POST body, parsed, checked against the
 * bucket, delivered; 200 only once deliver() says it is durable.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "s3events.h"
#include "s3events_private.h"

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
    unsigned char addr[sizeof(struct in6_addr)];
    if (http_parse_listen(hostport, host, size, port, why, sizeof why) < 0 ||
        (inet_pton(AF_INET, host, addr) != 1 && inet_pton(AF_INET6, host, addr) != 1)) {
        snprintf(err, err_size,
                 "\"%s\": expected http://ADDR:PORT with ADDR an IPv4 address, "
                 "[IPv6] or 0.0.0.0 for all, and PORT 0-65535",
                 url);
        return -1;
    }
    snprintf(path, path_size, "%s", p);
    return 0;
}

/* A record of another bucket: the notification is configured on the wrong
 * bucket (or the topic is shared).  Its index, or -1. */
static long foreign_record(const char *bucket, const s3events_batch *b)
{
    for (size_t i = 0; bucket && i < b->n; i++)
        if (strcmp(b->objects[i].bucket, bucket) != 0)
            return (long)i;
    return -1;
}

int s3events_answer(const s3events_endpoint *e, const char *method, const char *path,
                    const void *body, size_t size, char *why, size_t why_size)
{
    s3events_batch batch;
    char perr[1200];
    if (strcmp(path, e->path) != 0) {
        snprintf(why, why_size, "%.300s: no such endpoint (events go to POST %s)", path, e->path);
        return 404;
    }
    if (strcmp(method, "POST") != 0) {
        snprintf(why, why_size, "%.20s %s: events are POSTed", method, e->path);
        return 405;
    }
    if (s3events_parse(body, size, e->opt->encoding, &e->opt->limits, &batch, perr, sizeof perr) <
        0) {
        snprintf(why, why_size, "bad event: %s", perr);
        return 400;
    }
    int status = 200;
    long foreign = foreign_record(e->opt->bucket, &batch);
    if (foreign >= 0) {
        snprintf(why, why_size, "Records[%ld]: bucket \"%.300s\" is not this listener's \"%.300s\"",
                 foreign, batch.objects[foreign].bucket, e->opt->bucket);
        status = 400;
    } else if (e->deliver(e->ctx, batch.objects, batch.n, perr, sizeof perr) < 0) {
        snprintf(why, why_size, "not recorded, deliver again: %s", perr);
        status = 503;
    }
    s3events_free(&batch);
    return status;
}

static void listener_handle(void *ctx, const http_request *req, http_response *res)
{
    s3events_listener *l = ctx;
    char why[1400];
    size_t size;
    const unsigned char *body = http_body(req, &size);
    s3events_endpoint e = {&l->opt, l->path, l->deliver, l->ctx};
    int status = s3events_answer(&e, http_method(req), http_path(req), body, size, why, sizeof why);
    if (status == 200) {
        res->status = 200;
        return;
    }
    http_error(res, status, "%s", why);
    if (l->refused)
        l->refused(l->ctx, status, why);
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
        snprintf(err, err_size, "%s: %s", url, why);
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
