/*
 * cli_serve_metrics.c — counters and histograms under one mutex, written out
 * in the Prometheus text format.
 */
#include <pthread.h>
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

static void put_requests(expo *e, const serve_metrics *m)
{
    char code[16];
    expo_family(e, "flowrun_serve_requests_total", "counter",
                "HTTP requests answered, by endpoint and status code.");
    for (int ep = 0; ep < EP_COUNT; ep++)
        for (size_t c = 0; c < N_CODES; c++)
            if (m->requests[ep][c] || c == 0) {
                snprintf(code, sizeof code, "%d", codes[c]);
                expo_sample(e, "flowrun_serve_requests_total", (double)m->requests[ep][c],
                            "endpoint", endpoint_names[ep], "code", code, NULL);
            }
    expo_family(e, "flowrun_serve_errors_total", "counter",
                "Requests answered with an error, by class.");
    for (size_t c = 1; c < N_CODES; c++) {
        unsigned long long n = 0;
        for (int ep = 0; ep < EP_COUNT; ep++)
            n += m->requests[ep][c];
        expo_sample(e, "flowrun_serve_errors_total", (double)n, "class", error_class(codes[c]),
                    NULL);
    }
}

static void put_latency(expo *e, const serve_metrics *m)
{
    static const char name[] = "flowrun_serve_request_duration_seconds";
    char le[32];
    expo_family(e, name, "histogram", "Time from the whole request received to the answer.");
    for (int ep = 0; ep < EP_COUNT; ep++) {
        unsigned long long cum = 0;
        for (size_t i = 0; i <= N_LE; i++) {
            cum += m->latency[ep][i];
            if (i < N_LE)
                snprintf(le, sizeof le, "%g", latency_le[i]);
            expo_sample(e, "flowrun_serve_request_duration_seconds_bucket", (double)cum, "endpoint",
                        endpoint_names[ep], "le", i < N_LE ? le : "+Inf", NULL);
        }
        expo_sample(e, "flowrun_serve_request_duration_seconds_sum", m->latency_sum[ep], "endpoint",
                    endpoint_names[ep], NULL);
        expo_sample(e, "flowrun_serve_request_duration_seconds_count", (double)cum, "endpoint",
                    endpoint_names[ep], NULL);
    }
}

static void put_batches(expo *e, const serve_metrics *m, size_t queued)
{
    char le[16];
    expo_family(e, "flowrun_serve_batch_size", "histogram", "Photos per network run.");
    unsigned long long cum = 0, sum = 0;
    for (int n = 1; n <= m->max_batch; n++) {
        cum += m->batches[n];
        sum += m->batches[n] * (unsigned long long)n;
        snprintf(le, sizeof le, "%d", n);
        expo_sample(e, "flowrun_serve_batch_size_bucket", (double)cum, "le", le, NULL);
    }
    expo_sample(e, "flowrun_serve_batch_size_bucket", (double)cum, "le", "+Inf", NULL);
    expo_sample(e, "flowrun_serve_batch_size_sum", (double)sum, NULL);
    expo_sample(e, "flowrun_serve_batch_size_count", (double)cum, NULL);
    expo_family(e, "flowrun_serve_photos_total", "counter", "Photos run through the network.");
    expo_sample(e, "flowrun_serve_photos_total", (double)m->photos, NULL);
    expo_family(e, "flowrun_serve_queue_depth", "gauge", "Photos waiting for the network.");
    expo_sample(e, "flowrun_serve_queue_depth", (double)queued, NULL);
}

char *serve_metrics_text(serve_metrics *m, size_t queued, expo_format f, size_t *len)
{
    expo e;
    expo_init(&e, f);
    pthread_mutex_lock(&m->lock);
    put_requests(&e, m);
    put_latency(&e, m);
    put_batches(&e, m, queued);
    pthread_mutex_unlock(&m->lock);
    return expo_finish(&e, len);
}
