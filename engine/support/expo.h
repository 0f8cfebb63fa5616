/*
 * expo.h — writes metrics in the Prometheus text exposition format 0.0.4 or
 * OpenMetrics 1.0, for every endpoint of flowrun that serves /metrics (a
 * run's, report/metrics_server.c; the model server's, bundle/cli_serve_metrics.c).
 *
 * A metric family is announced once (expo_family: # HELP, # TYPE), then its
 * samples follow (expo_sample).  The two formats differ where a scraper
 * cares: OpenMetrics names a counter family without its "_total" suffix
 * (the samples keep it), and ends with "# EOF".  Label values are escaped
 * (\\, \", \n); names are the caller's (expo_name makes one from any text).
 */
#ifndef FLOWRUN_EXPO_H
#define FLOWRUN_EXPO_H

#include <stddef.h>
#include <stdint.h>

typedef enum expo_format { EXPO_PROMETHEUS = 0, EXPO_OPENMETRICS } expo_format;

/* The format a scraper asked for in its Accept header (NULL: Prometheus):
 * OpenMetrics when application/openmetrics-text is accepted with a q above
 * every other type's. */
expo_format expo_negotiate(const char *accept);
/* The Content-Type of a format's answer (static string). */
const char *expo_content_type(expo_format f);

typedef struct expo {
    expo_format format;
    char *text; /* owned until expo_finish */
    size_t len, cap;
    int failed; /* out of memory: the text is short */
} expo;

void expo_init(expo *e, expo_format f);
/* type: "counter", "gauge", "histogram".  A counter's name ends in _total;
 * a histogram's is the base name of its samples (below). */
void expo_family(expo *e, const char *name, const char *type, const char *help);
/* One sample: name{k1="v1",...} value, labels as NULL-terminated pairs of
 * strings (key, value, key, value, ..., NULL). */
void expo_sample(expo *e, const char *name, double value, ...) __attribute__((sentinel));
/* The same with the labels in an array: key, value, ..., NULL (borrowed). */
void expo_sample_labels(expo *e, const char *name, double value, const char *const *labels);
#define EXPO_MAX_LABELS 8 /* pairs a sample takes; more are left out */

/* A histogram's observations: counts[i] of them in (bounds[i-1], bounds[i]]
 * for i < n_bounds (ascending bounds), counts[n_bounds] above the last
 * bound; sum, their sum.  All borrowed. */
typedef struct expo_buckets {
    const double *bounds;
    const uint64_t *counts; /* n_bounds + 1 */
    size_t n_bounds;
    double sum;
} expo_buckets;
/* A histogram's samples (after expo_family(e, name, "histogram", ...)):
 * name_bucket{labels,le="B"} cumulative per bound and le="+Inf",
 * name_sum, name_count.  labels: key, value pairs ending with NULL. */
void expo_histogram(expo *e, const char *name, const expo_buckets *h, const char *const *labels);

/* The text (malloc'd, transferred; NULL out of memory) and its length. */
char *expo_finish(expo *e, size_t *len);

/* A metric name from text: [a-zA-Z0-9_], anything else as '_', a leading
 * digit prefixed with '_'.  Writes at most size bytes with the NUL. */
void expo_name(const char *text, char *out, size_t size);

#endif
