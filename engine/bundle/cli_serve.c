/*
 * cli_serve.c — `flowrun serve BUNDLE --listen ADDR:PORT`: the bundle's
 * stages behind HTTP (plugins/lib/http): /v1/classify, the KServe v2
 * endpoints, /metrics.  The model loads once, before listening; requests
 * from all connections go through one batcher and one chain
 * (cli_serve_batch.h); SIGTERM/SIGINT drain: no new connections, requests
 * in flight are answered, then exit 0.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_chain.h"
#include "cli_serve.h"
#include "runtime.h"

static const char serve_usage[] =
    "usage: flowrun serve [options] BUNDLE\n"
    "\n"
    "Serves a bundle written by flowrun train over HTTP:\n"
    "  POST /v1/classify[?top=K]      body: a JPEG photo; answers {\"model\", \"version\",\n"
    "                                 \"top\": [{\"label\", \"score\"}], \"timing_ms\"}\n"
    "  KServe v2 / Open Inference Protocol, model NAME (--model-name):\n"
    "  GET  /v2/health/live, /v2/health/ready, /v2, /v2/models/NAME, /v2/models/NAME/ready\n"
    "  POST /v2/models/NAME/infer     input: BYTES, the encoded photos (base64 strings in\n"
    "                                 JSON, or raw with the binary data extension);\n"
    "                                 outputs: label (BYTES), probabilities (FP32)\n"
    "  GET  /metrics                  Prometheus text format\n"
    "Errors are {\"error\": \"...\"} with a 4xx/5xx status.  Photos are computed exactly as\n"
    "flowrun classify does (the bundle's own stages).\n"
    "\n"
    "options:\n"
    "  --listen ADDR:PORT      where to listen (default 127.0.0.1:8080; port 0: any free)\n"
    "  --model-name NAME       the model's name in the v2 paths (default fruits)\n"
    "  --max-batch N           photos per network run (default 4; each size up to N keeps\n"
    "                          its own oneDNN plan, about 100 MB for ResNet50 in fp32)\n"
    "  --max-batch-delay MS    how long the first photo waits for others (default 2)\n"
    "  --queue N               photos waiting at most; beyond: 503 (default 64)\n"
    "  --max-body BYTES        largest request body; beyond: 413 (default 33554432)\n"
    "  --timeout S             close connections idle that long: slow clients (default 10)\n"
    "  --request-timeout MS    a photo still queued after that: 504 (default 30000)\n"
    "  --max-connections N     connections at once (default 128)\n"
    "  --per-ip N              connections at once from one address (default 0: no limit)\n"
    "  --batch N               same as --max-batch\n" CHAIN_OPTIONS_HELP
    "  -h, --help              this help\n";

typedef struct serve_args {
    const char *bundle, *onnx, *listen, *model_name;
    int max_delay_ms;
    size_t queue;
    int64_t request_timeout_ms;
    http_limits limits;
    chain_options chain;
} serve_args;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- classification through the batcher ------------------------------- */

int serve_photo_status(const chain_answer *a)
{
    return a->status == CHAIN_BAD_PHOTO ? 400 : 500;
}

int serve_classify(server *s, batch_item *items, size_t n, http_response *res)
{
    for (size_t i = 0; i < n; i++)
        if (!(items[i].answer.prob = malloc(s->n_classes * sizeof(float)))) {
            serve_items_free(items, n);
            http_error(res, 500, "out of memory");
            return -1;
        }
    batch_result r = batcher_submit(s->batcher, items, n, s->request_timeout_ms);
    if (r == BATCH_DONE)
        return 0;
    serve_items_free(items, n);
    if (r == BATCH_FULL)
        http_error(res, 503, "overloaded: the queue holds its limit of %zu photos; retry later",
                   s->max_photos);
    else if (r == BATCH_TIMEOUT)
        http_error(res, 504, "timed out: waited %lld ms in the queue",
                   (long long)s->request_timeout_ms);
    else
        http_error(res, 503, "shutting down");
    return -1;
}

/* ---- routes ------------------------------------------------------------ */

static void serve_metrics_page(server *s, const http_request *req, http_response *res)
{
    expo_format f = expo_negotiate(http_header(req, "Accept"));
    res->body = serve_metrics_text(s->metrics, batcher_queued(s->batcher), f, &res->size);
    res->status = res->body ? 200 : 500;
    res->content_type = expo_content_type(f);
}

/* "/v2/models/NAME" + rest: the rest, or NULL when NAME is another. */
static const char *model_path(const server *s, const char *path)
{
    static const char prefix[] = "/v2/models/";
    size_t n = strlen(s->model_name);
    if (strncmp(path, prefix, sizeof prefix - 1) != 0)
        return NULL;
    path += sizeof prefix - 1;
    return strncmp(path, s->model_name, n) == 0 && (path[n] == '\0' || path[n] == '/') ? path + n
                                                                                       : NULL;
}

static serve_endpoint serve_route(server *s, const char *method, const char *path,
                                  const http_request *req, http_response *res)
{
    int get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    const char *model = model_path(s, path);
    int ready = !atomic_load(&s->draining);
    if (strcmp(path, "/v1/classify") == 0 && post) {
        serve_v1_classify(s, req, res);
        return EP_CLASSIFY;
    }
    if (model && strcmp(model, "/infer") == 0 && post) {
        serve_v2_infer(s, req, res);
        return EP_INFER;
    }
    if (get && strcmp(path, "/v2/health/live") == 0) {
        serve_json(res, 200, "{\"live\": true}");
        return EP_HEALTH;
    }
    if (get && (strcmp(path, "/v2/health/ready") == 0 || (model && !strcmp(model, "/ready")))) {
        serve_json(res, ready ? 200 : 503, ready ? "{\"ready\": true}" : "{\"ready\": false}");
        return EP_HEALTH;
    }
    if (get && strcmp(path, "/metrics") == 0) {
        serve_metrics_page(s, req, res);
        return EP_METRICS;
    }
    if (get && (strcmp(path, "/v2") == 0 || (model && model[0] == '\0'))) {
        if (model)
            serve_v2_model_metadata(s, res);
        else
            serve_v2_server_metadata(s, res);
        return EP_METADATA;
    }
    if (strcmp(path, "/v1/classify") == 0 || (model && !strcmp(model, "/infer")))
        http_error(res, 405, "%s %s: use POST", method, path);
    else if (strncmp(path, "/v2/models/", 11) == 0 && !model)
        http_error(res, 404, "no model \"%s\": this server has \"%s\"", path + 11, s->model_name);
    else
        http_error(res, 404, "%s %s: no such endpoint (see flowrun serve --help)", method, path);
    return EP_OTHER;
}

static void serve_handle(void *ctx, const http_request *req, http_response *res)
{
    server *s = ctx;
    double t0 = now_s();
    serve_endpoint ep = serve_route(s, http_method(req), http_path(req), req, res);
    serve_metrics_request(s->metrics, ep, res->status ? res->status : 200, now_s() - t0);
}

/* A request the HTTP layer refused itself (413). */
static void serve_refused(void *ctx, int status)
{
    server *s = ctx;
    serve_metrics_request(s->metrics, EP_OTHER, status, 0);
}

static void serve_observe(void *ctx, size_t n)
{
    serve_metrics_batch(ctx, n);
}

/* ---- options ----------------------------------------------------------- */

/* One serve-only option at argv[*i] with its value; 0, or -1. */
static int serve_option(int argc, char **argv, int *i, serve_args *a)
{
    const char *o = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    long long n = 0;
    int rc = 0;
    if (!strcmp(o, "--listen") && v)
        a->listen = v;
    else if (!strcmp(o, "--model-name") && v && v[0] && !strchr(v, '/'))
        a->model_name = v;
    else if (!strcmp(o, "--max-batch") && !(rc = cli_number(o, v, 1, 64, &n)))
        a->chain.batch = (int)n;
    else if (!strcmp(o, "--max-batch-delay") && !(rc = cli_number(o, v, 0, 10000, &n)))
        a->max_delay_ms = (int)n;
    else if (!strcmp(o, "--queue") && !(rc = cli_number(o, v, 1, 100000, &n)))
        a->queue = (size_t)n;
    else if (!strcmp(o, "--max-body") && !(rc = cli_number(o, v, 1, 1LL << 34, &n)))
        a->limits.max_body = (size_t)n;
    else if (!strcmp(o, "--timeout") && !(rc = cli_number(o, v, 1, 3600, &n)))
        a->limits.timeout_s = (unsigned)n;
    else if (!strcmp(o, "--request-timeout") && !(rc = cli_number(o, v, 1, 3600000, &n)))
        a->request_timeout_ms = n;
    else if (!strcmp(o, "--max-connections") && !(rc = cli_number(o, v, 1, 65536, &n)))
        a->limits.max_connections = (unsigned)n;
    else if (!strcmp(o, "--per-ip") && !(rc = cli_number(o, v, 0, 65536, &n)))
        a->limits.per_ip = (unsigned)n;
    else {
        if (!rc)
            cli_say(FR_LOG_ERROR, "serve", "unknown or incomplete option '%s'", o);
        return -1;
    }
    (*i)++;
    return 0;
}

static int serve_parse(int argc, char **argv, serve_args *a)
{
    *a = (serve_args){.listen = "127.0.0.1:8080",
                      .model_name = "fruits",
                      .max_delay_ms = 2,
                      .queue = 64,
                      .request_timeout_ms = 30000,
                      .limits = {.max_body = 32u << 20, .timeout_s = 10, .max_connections = 128},
                      .chain = {.batch = 4, .max_pixels = 50000000}};
    /* Options before or after the bundle: flowrun serve BUNDLE --listen ... */
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-') {
            if (a->bundle) {
                cli_usage_error(serve_usage);
                return -1;
            }
            a->bundle = argv[i];
            continue;
        }
        int r = chain_option(argc, argv, &i, &a->chain, &a->onnx);
        if (r < 0 || (r == 0 && serve_option(argc, argv, &i, a) < 0))
            return -1;
    }
    if (!a->bundle) {
        cli_usage_error(serve_usage);
        return -1;
    }
    return 0;
}

/* ---- running ----------------------------------------------------------- */

/* The server state from the bundle: classes, version. */
static int serve_state(server *s, const serve_args *a, const bundle *b)
{
    *s = (server){.model_name = a->model_name,
                  .request_timeout_ms = a->request_timeout_ms,
                  .max_photos = a->queue};
    size_t v = 0;
    for (const char *c = b->created ? b->created : "1"; *c && v + 1 < sizeof s->version; c++)
        if (*c != '-' && *c != ':')
            s->version[v++] = *c;
    s->version[v] = '\0';
    if (!(s->classes = calloc(b->n_classes, sizeof *s->classes)))
        return -1;
    for (; s->n_classes < b->n_classes; s->n_classes++)
        if (!(s->classes[s->n_classes] = strdup(b->classes[s->n_classes])))
            return -1;
    return (s->metrics = serve_metrics_new(a->chain.batch)) ? 0 : -1;
}

static void serve_state_free(server *s)
{
    for (size_t i = 0; i < s->n_classes; i++)
        free(s->classes[i]);
    free(s->classes);
    serve_metrics_free(s->metrics);
}

/* Every batch size's plan made and every stage run once before the
 * server listens: the first request costs what the others cost. */
static int serve_warm(chain *c, const serve_args *a, char *err, size_t err_size)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (chain_warm(c, err, err_size) < 0)
        return -1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cli_say(FR_LOG_INFO, "serve", "warmed up in %.0f ms (batch sizes 1..%d)",
            1e3 * (double)(t1.tv_sec - t0.tv_sec) + 1e-6 * (double)(t1.tv_nsec - t0.tv_nsec),
            a->chain.batch);
    return 0;
}

/* Serves until SIGTERM/SIGINT; then drains.  Exit code. */
static int serve_run(server *s, const serve_args *a, const sigset_t *stop)
{
    char host[256], err[512];
    uint16_t port;
    if (http_parse_listen(a->listen, host, sizeof host, &port, err, sizeof err) < 0) {
        cli_say(FR_LOG_ERROR, "serve", "%s", err);
        return EXIT_USAGE;
    }
    http_server *h =
        http_start(host, port, &a->limits, serve_handle, serve_refused, s, err, sizeof err);
    if (!h) {
        cli_say(FR_LOG_ERROR, "serve", "%s", err);
        return EXIT_USAGE;
    }
    cli_say(FR_LOG_INFO, "serve",
            "listening on http://%s:%u (model %s, %zu classes, max batch %d, "
            "precision %s)",
            strchr(host, ':') ? "[::]"
            : host[0]         ? host
                              : "0.0.0.0",
            http_port(h), s->model_name, s->n_classes, a->chain.batch, s->precision);
    int sig = 0;
    sigwait(stop, &sig);
    cli_say(FR_LOG_INFO, "serve", "%s: draining", strsignal(sig));
    atomic_store(&s->draining, 1);
    batcher_close(s->batcher); /* queued photos run now; new ones: 503 */
    http_drain(h);             /* no new connections; requests in flight answered */
    http_stop(h);
    cli_say(FR_LOG_INFO, "serve", "stopped");
    return EXIT_DELIVERED;
}

int cli_serve(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, serve_usage))
        return EXIT_DELIVERED;
    serve_args a;
    if (serve_parse(argc, argv, &a) < 0)
        return EXIT_USAGE;
    /* Every thread started from here on inherits the blocked signals, so
     * only sigwait() below sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    char err[1024];
    bundle b;
    if (bundle_open(&b, a.bundle, a.onnx, err, sizeof err) < 0) {
        cli_say(FR_LOG_ERROR, "serve", "%s", err);
        return EXIT_USAGE;
    }
    server s = {0};
    chain *c = chain_new(&b, &a.chain, err, sizeof err);
    int ok = c != NULL && serve_warm(c, &a, err, sizeof err) == 0;
    if (ok && serve_state(&s, &a, &b) < 0) {
        snprintf(err, sizeof err, "out of memory");
        ok = 0;
    }
    if (ok)
        chain_precision(c, s.precision, sizeof s.precision);
    bundle_free(&b);
    if (ok && !(s.batcher = batcher_start(c, a.chain.batch, a.max_delay_ms, a.queue, serve_observe,
                                          s.metrics, err, sizeof err)))
        ok = 0;
    int code = EXIT_USAGE;
    if (ok)
        code = serve_run(&s, &a, &stop);
    else
        cli_say(FR_LOG_ERROR, "serve", "%s", err);
    batcher_stop(s.batcher);
    serve_state_free(&s);
    chain_free(c);
    return code;
}
