/*
 * stage.h — one stage instance as the engine holds it: the plugin, its
 * checked configuration, its state, and the host API (fr_host_api) the
 * plugin calls.  Where emitted records, dead letters and commits go is the
 * backend's business: the runtime sends them over ZeroMQ, the harness keeps
 * them for the test to inspect.
 */
#ifndef FLOWRUN_STAGE_H
#define FLOWRUN_STAGE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "flowrun/plugin.h"
#include "loader.h"
#include "schema.h"

typedef struct stage_backend {
    /* rec is borrowed except payload.buffer, whose reference the backend
     * takes (never NULL unless the payload kind is NONE). */
    fr_status (*emit)(void *ctx, fr_stage *st, const fr_record *rec);
    void (*reject)(void *ctx, fr_stage *st, const fr_record *rec, const char *reason);
    void (*commit)(void *ctx, fr_stage *st, const char *const *ids, size_t n);
    int (*stopping)(void *ctx, fr_stage *st);
    fr_status (*idle)(void *ctx, fr_stage *st, int64_t timeout_ms);
    /* Durable runs (ABI 1.1).  ids, key, version, hash borrowed. */
    void (*checkpoint)(void *ctx, fr_stage *st, const char *const *ids, size_t n);
    fr_key_state (*key_state)(void *ctx, fr_stage *st, const char *key, const char *version);
    /* A source's key leaves (before its record or dead letter is sent). */
    void (*key_sent)(void *ctx, fr_stage *st, const char *key, const char *version);
    /* The content hash of the file named by config key `key`. */
    void (*fingerprint)(void *ctx, fr_stage *st, const char *key, const char *hash);
    fr_run_kind (*run_kind)(void *ctx, fr_stage *st);
    /* ABI 1.2; NULL: a no-op, idle() without the fd, 0. */
    void (*set_continuous)(void *ctx, fr_stage *st);
    fr_status (*wait)(void *ctx, fr_stage *st, int fd, int64_t timeout_ms);
    int (*ledger_sync)(void *ctx, fr_stage *st);
} stage_backend;

typedef struct stage_metric {
    char *name;
    double value;
    int gauge; /* set by fr_gauge_set (ABI 1.2), else a counter (fr_metric_add) */
} stage_metric;

typedef struct stage_report {
    char *name;
    char *json;
} stage_report;

#define STAGE_TYPE_MAX 256

struct fr_stage {
    const fr_host_api *api; /* first: the plugin's inline wrappers read it */
    const loader_plugin *plugin;
    const char *name;     /* borrowed from the graph / harness */
    const char *pipeline; /* borrowed */
    char scope[96];       /* "resize#1", for log lines */
    uint32_t instance, replicas;
    const schema_values *config;      /* borrowed */
    char input_type[STAGE_TYPE_MAX];  /* "" for a source */
    char output_type[STAGE_TYPE_MAX]; /* "" for a sink */
    void *state;
    int started;
    char reason[1024];   /* set by fr_fail for the current call */
    int config_error;    /* init failed through fr_config_error: the configuration's fault */
    char config_key[64]; /* the key it named, "" for the stage as a whole */
    const stage_backend *backend;
    void *backend_ctx;
    uint64_t total;               /* fr_set_total */
    const char *state_dir;        /* fr_state_dir: borrowed from the backend's owner, "" none */
    pthread_mutex_t metrics_lock; /* metrics and reports are read by the progress thread */
    stage_metric *metrics;
    size_t n_metrics;
    stage_report *reports;
    size_t n_reports;
};

/* Fills st.  Strings and config are borrowed for st's lifetime; types are
 * copied (input_type NULL for a source, output_type NULL for a sink). */
void stage_setup(fr_stage *st, const loader_plugin *plugin, const char *name, const char *pipeline,
                 uint32_t instance, uint32_t replicas, const schema_values *config,
                 const char *input_type, const char *output_type, const stage_backend *backend,
                 void *backend_ctx);

/* The plugin's callbacks.  Each clears the reason first; stage_reason()
 * gives the one set during the call. */
fr_status stage_init(fr_stage *st);
fr_status stage_process(fr_stage *st, const fr_record *in);
fr_status stage_produce(fr_stage *st);
fr_status stage_flush(fr_stage *st);
fr_status stage_tick(fr_stage *st); /* FR_OK when the plugin has no tick */
void stage_deliver_commits(fr_stage *st, const char *const *ids, size_t n);
/* Calls fini if init succeeded (once). */
void stage_fini(fr_stage *st);
/* Frees metrics and reports; after stage_fini, once they have been read. */
void stage_cleanup(fr_stage *st);

const char *stage_reason(const fr_stage *st);
double stage_metric_value(fr_stage *st, const char *name);
const char *stage_report_json(fr_stage *st, const char *name);

#endif
