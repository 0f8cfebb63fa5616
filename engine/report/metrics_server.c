/*
 * metrics_server.c — routes of the run's HTTP endpoint over plugins/lib/http.
 */
#include "metrics_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "run_metrics.h"

#define FRESH_WAIT_MS 1000 /* the coordinator publishes every 250 ms when not waiting */

struct metrics_server {
    http_server *http;
    snapshot_board *board; /* borrowed */
    char host[256];
};

/* What a handler takes from the board under its lock. */
typedef struct page {
    const char *path;
    expo_format format;
    double age_s; /* since the snapshot was published */
    http_response *res;
} page;

int health_live(const run_snapshot *s, double age_s)
{
    return s->phase == SNAP_STARTING || s->phase == SNAP_JOINING || age_s < LIVE_STALE_S;
}

int health_ready(const run_snapshot *s)
{
    return s->phase == SNAP_FLOWING;
}

static void health_page(http_response *res, int ok, const char *what, const run_snapshot *s)
{
    char body[256];
    int n = snprintf(body, sizeof body, "{\"%s\": %s, \"phase\": \"%s\"}\n", what,
                     ok ? "true" : "false", snap_phase_name(s->phase));
    res->status = ok ? 200 : 503;
    res->body = malloc((size_t)n + 1);
    if (res->body)
        memcpy(res->body, body, (size_t)n + 1);
    res->size = res->body ? (size_t)n : 0;
}

static void read_page(void *ctx, const run_snapshot *s)
{
    page *p = ctx;
    if (strcmp(p->path, "/metrics") == 0) {
        p->res->body = run_metrics_text(s, p->format, &p->res->size);
        p->res->status = p->res->body ? 200 : 500;
        p->res->content_type = expo_content_type(p->format);
    } else if (strcmp(p->path, "/health/live") == 0) {
        health_page(p->res, health_live(s, p->age_s), "live", s);
    } else {
        health_page(p->res, health_ready(s), "ready", s);
    }
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void handle(void *ctx, const http_request *req, http_response *res)
{
    metrics_server *m = ctx;
    const char *path = http_path(req);
    if (strcmp(path, "/metrics") != 0 && strcmp(path, "/health/live") != 0 &&
        strcmp(path, "/health/ready") != 0) {
        http_error(res, 404, "no such endpoint: %s (/metrics, /health/live, /health/ready)", path);
        return;
    }
    if (strcmp(http_method(req), "GET") != 0 && strcmp(http_method(req), "HEAD") != 0) {
        http_error(res, 405, "%s takes GET", path);
        return;
    }
    page p = {.path = path, .format = expo_negotiate(http_header(req, "Accept")), .res = res};
    uint64_t published = __atomic_load_n(&m->board->published_ns, __ATOMIC_RELAXED);
    p.age_s = (now_ns() - published) / 1e9;
    /* what happened before the request is in the answer: the next tick's snapshot */
    if (!snapshot_board_read_fresh(m->board, read_page, &p, FRESH_WAIT_MS))
        http_error(res, 503, "the run has not started yet");
}

metrics_server *metrics_server_start(const char *listen, snapshot_board *board, char *err,
                                     size_t err_size)
{
    const http_limits limits = {.max_body = 0, .timeout_s = 10, .max_connections = 32, .per_ip = 8};
    uint16_t port;
    metrics_server *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    m->board = board;
    if (http_parse_listen(listen, m->host, sizeof m->host, &port, err, err_size) != 0 ||
        !(m->http = http_start(m->host, port, &limits, handle, NULL, m, err, err_size))) {
        free(m);
        return NULL;
    }
    return m;
}

const char *metrics_server_host(const metrics_server *m)
{
    return m->host[0] ? m->host : "*";
}

uint16_t metrics_server_port(const metrics_server *m)
{
    return http_port(m->http);
}

void metrics_server_stop(metrics_server *m)
{
    if (!m)
        return;
    http_stop(m->http);
    free(m);
}
