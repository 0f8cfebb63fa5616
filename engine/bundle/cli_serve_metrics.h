/*
 * cli_serve_metrics.h — the model server's Prometheus metrics (text format
 * 0.0.4 or OpenMetrics, expo.h): requests by endpoint and status code, latency histograms, batch
 * sizes, photos classified, errors by class, queue depth.  Thread-safe.
 */
#ifndef FLOWRUN_CLI_SERVE_METRICS_H
#define FLOWRUN_CLI_SERVE_METRICS_H

#include <stddef.h>

#include "expo.h"

typedef enum serve_endpoint {
    EP_CLASSIFY = 0, /* POST /v1/classify */
    EP_INFER,        /* POST /v2/models/NAME/infer */
    EP_HEALTH,       /* /v2/health/live and ready, model ready */
    EP_METADATA,     /* /v2, /v2/models/NAME */
    EP_METRICS,      /* /metrics */
    EP_OTHER,        /* anything else (404, 405) */
    EP_COUNT
} serve_endpoint;

typedef struct serve_metrics serve_metrics;

serve_metrics *serve_metrics_new(int max_batch);
void serve_metrics_free(serve_metrics *m);
/* One answered request: its status and how long it took. */
void serve_metrics_request(serve_metrics *m, serve_endpoint ep, int status, double seconds);
/* One network batch of n photos. */
void serve_metrics_batch(serve_metrics *m, size_t n);
/* The exposition in format f (malloc'd, the caller frees; NULL out of
 * memory); queued: the queue depth now. */
char *serve_metrics_text(serve_metrics *m, size_t queued, expo_format f, size_t *len);

#endif
