/*
 * top_scrape.h — what `flowrun top` reads: a run's /metrics fetched over
 * plain HTTP/1.0 and reduced to one row per stage.
 */
#ifndef FLOWRUN_TOP_SCRAPE_H
#define FLOWRUN_TOP_SCRAPE_H

#include <stddef.h>
#include <stdint.h>

typedef struct top_stage {
    char name[96], plugin[96];
    double received, sent, dead, busy_s, queued, instances;
} top_stage;

typedef struct top_sample {
    char pipeline[128];
    int ready;
    double uptime_s;
    top_stage *stages; /* owned; in the order the endpoint lists them */
    size_t n_stages;
} top_sample;

/* GET http://host:port/metrics (Prometheus text) into *out (freed first with
 * top_sample_free).  0, or -1 with err ("cannot reach ...: reason"). */
int top_scrape(const char *host, const char *port, top_sample *out, char *err, size_t err_size);
void top_sample_free(top_sample *s);

/* Parses exposition text (NUL-terminated) into *out.  0, or -1 out of memory. */
int top_parse(const char *text, top_sample *out);

#endif
