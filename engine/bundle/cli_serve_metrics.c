/*
 * cli_serve_metrics.c — counters and histograms under one mutex, written out
 * in the Prometheus text format.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_serve_metrics.h"

static const char *const endpoint_names[EP_COUNT] = {"classify", "infer",   "health",
                                                     "metadata", "metrics", "other"};
static const int codes[] = {200, 400, 404, 405, 413, 500, 503, 504};
#define N_CODES (sizeof codes / sizeof codes[0])
static const double latency_le[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define N_LE (sizeof latency_le / sizeof latency_le[0])

struct serve_metrics {
    pthread_mutex_t lock;
    unsigned long long requests[EP_COUNT][N_CODES];
    unsigned long long latency[EP_COUNT][N_LE + 1]; /* + Inf */
    double latency_sum[EP_COUNT];
    int max_batch;
    unsigned long long *batches; /* max_batch + 1: by size */
    unsigned long long photos;
};

serve_metrics *serve_metrics_new(int max_batch)
{
    serve_metrics *m = calloc(1, sizeof *m);
    if (!m || !(m->batches = calloc((size_t)max_batch + 1, sizeof *m->batches))) {
        free(m);
        return NULL;
    }
    m->max_batch = max_batch;
    pthread_mutex_init(&m->lock, NULL);
    return m;
}

void serve_metrics_free(serve_metrics *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->lock);
    free(m->batches);
    free(m);
}

static size_t code_index(int status)
{
    for (size_t i = 0; i < N_CODES; i++)
        if (codes[i] == status)
            return i;
    return status >= 500 ? 5 : 1; /* others count as 500 or 400 */
}

void serve_metrics_request(serve_metrics *m, serve_endpoint ep, int status, double seconds)
{
    size_t le = 0;
    while (le < N_LE && seconds > latency_le[le])
        le++;
    pthread_mutex_lock(&m->lock);
    m->requests[ep][code_index(status)]++;
    m->latency[ep][le]++;
    m->latency_sum[ep] += seconds;
    pthread_mutex_unlock(&m->lock);
}

void serve_metrics_batch(serve_metrics *m, size_t n)
{
    pthread_mutex_lock(&m->lock);
    m->batches[n <= (size_t)m->max_batch ? n : (size_t)m->max_batch]++;
    m->photos += n;
    pthread_mutex_unlock(&m->lock);
}

/* A growable text. */
typedef struct text {
    char *s;
    size_t len, cap;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = t->s ? vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap) : -1;
        va_end(ap);
        if (n >= 0 && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap * 2 : 8192;
        char *s = realloc(t->s, cap);
        if (!s)
            return; /* out of memory: the text stops short */
        t->s = s;
        t->cap = cap;
    }
}

static const char *error_class(int status)
{
    switch (status) {
    case 400:
        return "bad_request";
    case 404:
        return "not_found";
    case 405:
        return "method_not_allowed";
    case 413:
        return "too_large";
    case 503:
        return "overloaded";
    case 504:
        return "timeout";
    default:
        return "internal";
    }
}

static void put_requests(text *t, const serve_metrics *m)
{
    put(t, "# HELP flowrun_serve_requests_total HTTP requests answered, by endpoint and status "
           "code.\n# TYPE flowrun_serve_requests_total counter\n");
    for (int e = 0; e < EP_COUNT; e++)
        for (size_t c = 0; c < N_CODES; c++)
            if (m->requests[e][c] || c == 0)
                put(t, "flowrun_serve_requests_total{endpoint=\"%s\",code=\"%d\"} %llu\n",
                    endpoint_names[e], codes[c], m->requests[e][c]);
    put(t, "# HELP flowrun_serve_errors_total Requests answered with an error, by class.\n"
           "# TYPE flowrun_serve_errors_total counter\n");
    for (size_t c = 1; c < N_CODES; c++) {
        unsigned long long n = 0;
        for (int e = 0; e < EP_COUNT; e++)
            n += m->requests[e][c];
        put(t, "flowrun_serve_errors_total{class=\"%s\"} %llu\n", error_class(codes[c]), n);
    }
}

static void put_latency(text *t, const serve_metrics *m)
{
    put(t, "# HELP flowrun_serve_request_duration_seconds Time from the whole request received "
           "to the answer.\n# TYPE flowrun_serve_request_duration_seconds histogram\n");
    for (int e = 0; e < EP_COUNT; e++) {
        unsigned long long cum = 0;
        for (size_t i = 0; i <= N_LE; i++) {
            cum += m->latency[e][i];
            if (i < N_LE)
                put(t,
                    "flowrun_serve_request_duration_seconds_bucket{endpoint=\"%s\",le=\"%g\"} "
                    "%llu\n",
                    endpoint_names[e], latency_le[i], cum);
            else
                put(t,
                    "flowrun_serve_request_duration_seconds_bucket{endpoint=\"%s\",le=\"+Inf\"}"
                    " %llu\n",
                    endpoint_names[e], cum);
        }
        put(t, "flowrun_serve_request_duration_seconds_sum{endpoint=\"%s\"} %.6f\n",
            endpoint_names[e], m->latency_sum[e]);
        put(t, "flowrun_serve_request_duration_seconds_count{endpoint=\"%s\"} %llu\n",
            endpoint_names[e], cum);
    }
}

static void put_batches(text *t, const serve_metrics *m, size_t queued)
{
    put(t, "# HELP flowrun_serve_batch_size Photos per network run.\n"
           "# TYPE flowrun_serve_batch_size histogram\n");
    unsigned long long cum = 0, sum = 0;
    for (int n = 1; n <= m->max_batch; n++) {
        cum += m->batches[n];
        sum += m->batches[n] * (unsigned long long)n;
        put(t, "flowrun_serve_batch_size_bucket{le=\"%d\"} %llu\n", n, cum);
    }
    put(t, "flowrun_serve_batch_size_bucket{le=\"+Inf\"} %llu\n", cum);
    put(t, "flowrun_serve_batch_size_sum %llu\nflowrun_serve_batch_size_count %llu\n", sum, cum);
    put(t,
        "# HELP flowrun_serve_photos_total Photos run through the network.\n"
        "# TYPE flowrun_serve_photos_total counter\nflowrun_serve_photos_total %llu\n",
        m->photos);
    put(t,
        "# HELP flowrun_serve_queue_depth Photos waiting for the network.\n"
        "# TYPE flowrun_serve_queue_depth gauge\nflowrun_serve_queue_depth %zu\n",
        queued);
}

char *serve_metrics_text(serve_metrics *m, size_t queued, size_t *len)
{
    text t = {0};
    pthread_mutex_lock(&m->lock);
    put_requests(&t, m);
    put_latency(&t, m);
    put_batches(&t, m, queued);
    pthread_mutex_unlock(&m->lock);
    *len = t.len;
    return t.s;
}
