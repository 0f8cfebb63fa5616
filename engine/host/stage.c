#include "stage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "file_hash.h"
#include "log.h"
#include "port_type.h"
#include "record_copy.h"
#include "source_id.h"
#include "wire_check.h"

#define ST(s) ((fr_stage *)(s))

/* ---- the host API ----------------------------------------------------- */

static void unknown_key(fr_stage *st, const char *key)
{
    log_msg(FR_LOG_ERROR, st->scope, "plugin asked for config key \"%s\", not in its table", key);
}

static const char *host_config_string(fr_stage *st, const char *key)
{
    int found;
    const char *v = schema_string(st->config, key, &found);
    if (!found)
        unknown_key(st, key);
    return v ? v : "";
}

/* The typed getters differ only in the schema accessor they call. */
#define HOST_CONFIG_GETTER(name, type, accessor)                                                   \
    static type host_config_##name(fr_stage *st, const char *key)                                  \
    {                                                                                              \
        int found;                                                                                 \
        type v = accessor(st->config, key, &found);                                                \
        if (!found)                                                                                \
            unknown_key(st, key);                                                                  \
        return v;                                                                                  \
    }
HOST_CONFIG_GETTER(int, int64_t, schema_int)
HOST_CONFIG_GETTER(double, double, schema_double)
HOST_CONFIG_GETTER(bool, int, schema_bool)

/* ABI 1.1: the index of an ENUM key's value in its choices. */
static int host_config_enum(fr_stage *st, const char *key)
{
    int found;
    int choice = schema_enum(st->config, key, &found);
    if (!found)
        unknown_key(st, key);
    else if (choice < 0 && !schema_param_is_enum(st->plugin->desc.params, key))
        log_msg(FR_LOG_ERROR, st->scope, "plugin asked for config key \"%s\" as an enum; it is not",
                key);
    return choice;
}

static const char *host_stage_name(fr_stage *st)
{
    return st->name;
}
static const char *host_pipeline_name(fr_stage *st)
{
    return st->pipeline;
}
static uint32_t host_instance(fr_stage *st)
{
    return st->instance;
}
static uint32_t host_replicas(fr_stage *st)
{
    return st->replicas;
}
static const char *host_input_type(fr_stage *st)
{
    return st->input_type[0] ? st->input_type : NULL;
}

static fr_status host_set_output_type(fr_stage *st, const char *type)
{
    port_type declared, narrowed;
    char why[256];
    if (port_type_parse(type, &narrowed, why, sizeof why) != 0)
        return fr_fail(st, FR_FATAL, "set_output_type: %s", why);
    if (port_type_parse(st->output_type, &declared, why, sizeof why) == 0 &&
        !port_type_accepts(&declared, &narrowed, why, sizeof why))
        return fr_fail(st, FR_FATAL, "output type %s does not fit the declared %s: %s", type,
                       st->output_type, why);
    port_type_format(&narrowed, st->output_type, sizeof st->output_type);
    return FR_OK;
}

static void host_vlog(fr_stage *st, fr_log_level level, const char *fmt, va_list ap)
{
    log_vmsg(level, st->scope, fmt, ap);
}

static fr_status host_vfail(fr_stage *st, fr_status status, const char *fmt, va_list ap)
{
    vsnprintf(st->reason, sizeof st->reason, fmt, ap);
    return status;
}

/* The reason as vfail; the key (or "" for the stage as a whole) marks the
 * failure as the configuration's, which the runtime reports at the key's
 * place and exits 2 for. */
static fr_status host_vconfig_error(fr_stage *st, const char *key, const char *fmt, va_list ap)
{
    vsnprintf(st->reason, sizeof st->reason, fmt, ap);
    st->config_error = 1;
    snprintf(st->config_key, sizeof st->config_key, "%s", key ? key : "");
    return FR_FATAL;
}

static fr_buffer *host_buffer_new(fr_stage *st, size_t size, void **data)
{
    (void)st;
    return buffer_new(size, data);
}

static fr_status host_emit(fr_stage *st, const fr_record *rec)
{
    fr_record out = *rec;
    char why[256];
    size_t size = rec->payload.buffer ? buffer_size(rec->payload.buffer) : rec->payload.size;
    if (wire_check_payload(&rec->payload, size, why, sizeof why) != 0) {
        buffer_unref(rec->payload.buffer); /* transferred to the engine, even on failure */
        return fr_fail(st, FR_FATAL, "plugin %s emitted a malformed payload: %s",
                       st->plugin->desc.name, why);
    }
    if (!out.payload.buffer && out.payload.kind != FR_KIND_NONE) {
        void *data;
        out.payload.buffer = buffer_new(out.payload.size, &data);
        if (!out.payload.buffer)
            return fr_fail(st, FR_FATAL, "out of memory copying a %zu-byte payload",
                           out.payload.size);
        if (out.payload.size)
            memcpy(data, rec->payload.data, out.payload.size);
        out.payload.data = data;
    }
    if (!out.id)
        out.id = "";
    if (!out.key)
        out.key = "";
    if (!out.label)
        out.label = "";
    return st->backend->emit(st->backend_ctx, st, &out);
}

static void host_reject(fr_stage *st, const fr_record *rec, const char *reason)
{
    st->backend->reject(st->backend_ctx, st, rec, reason);
}

static fr_record *host_record_keep(fr_stage *st, const fr_record *rec)
{
    (void)st;
    return record_clone(rec, buffer_ref(rec->payload.buffer));
}

static void host_record_free(fr_stage *st, fr_record *rec)
{
    (void)st;
    record_destroy(rec);
}

static void host_commit(fr_stage *st, const char *const *ids, size_t n)
{
    st->backend->commit(st->backend_ctx, st, ids, n);
}

static int host_stopping(fr_stage *st)
{
    return st->backend->stopping(st->backend_ctx, st);
}

static fr_status host_idle(fr_stage *st, int64_t timeout_ms)
{
    return st->backend->idle(st->backend_ctx, st, timeout_ms);
}

static void host_set_total(fr_stage *st, uint64_t total)
{
    st->total = total;
}

/* The stage's metric name, created (as a counter, or a gauge) at first use;
 * NULL out of memory.  Under metrics_lock. */
static stage_metric *metric_named(fr_stage *st, const char *name, int gauge)
{
    size_t i = 0;
    while (i < st->n_metrics && strcmp(st->metrics[i].name, name) != 0)
        i++;
    if (i < st->n_metrics)
        return &st->metrics[i];
    stage_metric *grown = realloc(st->metrics, (i + 1) * sizeof *grown);
    char *copy = strdup(name);
    if (grown)
        st->metrics = grown;
    if (!grown || !copy) {
        free(copy);
        return NULL;
    }
    st->metrics[i] = (stage_metric){copy, 0, gauge};
    st->n_metrics++;
    return &st->metrics[i];
}

static void host_metric_add(fr_stage *st, const char *name, double value)
{
    pthread_mutex_lock(&st->metrics_lock);
    stage_metric *m = metric_named(st, name, 0);
    if (m)
        m->value += value;
    pthread_mutex_unlock(&st->metrics_lock);
}

static void host_gauge_set(fr_stage *st, const char *name, double value)
{
    pthread_mutex_lock(&st->metrics_lock);
    stage_metric *m = metric_named(st, name, 1);
    if (m) {
        m->value = value;
        m->gauge = 1;
    }
    pthread_mutex_unlock(&st->metrics_lock);
}

static void host_report(fr_stage *st, const char *name, const char *json)
{
    pthread_mutex_lock(&st->metrics_lock);
    size_t i = 0;
    while (i < st->n_reports && strcmp(st->reports[i].name, name) != 0)
        i++;
    char *copy = strdup(json);
    if (i == st->n_reports) {
        stage_report *grown = realloc(st->reports, (i + 1) * sizeof *grown);
        char *name_copy = strdup(name);
        if (!grown || !name_copy || !copy) {
            free(copy);
            free(name_copy);
            if (grown)
                st->reports = grown;
            pthread_mutex_unlock(&st->metrics_lock);
            return;
        }
        st->reports = grown;
        st->reports[i] = (stage_report){name_copy, NULL};
        st->n_reports++;
    }
    if (copy) {
        free(st->reports[i].json);
        st->reports[i].json = copy;
    }
    pthread_mutex_unlock(&st->metrics_lock);
}

/* ---- durable runs (ABI 1.1) ------------------------------------------ */

static const char *host_state_dir(fr_stage *st)
{
    return st->state_dir ? st->state_dir : "";
}

static void host_checkpoint(fr_stage *st, const char *const *ids, size_t n)
{
    if (n)
        st->backend->checkpoint(st->backend_ctx, st, ids, n);
}

static fr_key_state host_key_state(fr_stage *st, const char *key, const char *version)
{
    return st->backend->key_state(st->backend_ctx, st, key, version ? version : "");
}

/* rec with the id the engine stamps (docs/durable-runs.md); *id owned by
 * the caller.  -1 when out of memory. */
static int stamp(fr_stage *st, const fr_record *rec, const char *version, fr_record *out, char **id)
{
    *out = *rec;
    if (!out->key)
        out->key = "";
    if (!(*id = source_id_format(st->name, out->key, version)))
        return -1;
    out->id = *id;
    st->backend->key_sent(st->backend_ctx, st, out->key, version ? version : "");
    return 0;
}

static fr_status host_emit_key(fr_stage *st, const fr_record *rec, const char *version)
{
    fr_record out;
    char *id;
    if (stamp(st, rec, version, &out, &id) != 0) {
        if (rec->payload.buffer)
            buffer_unref(rec->payload.buffer);
        return fr_fail(st, FR_FATAL, "out of memory for the id of %s", rec->key);
    }
    fr_status s = host_emit(st, &out);
    free(id);
    return s;
}

static void host_reject_key(fr_stage *st, const fr_record *rec, const char *version,
                            const char *reason)
{
    fr_record out;
    char *id;
    if (stamp(st, rec, version, &out, &id) != 0) {
        log_msg(FR_LOG_ERROR, st->scope, "out of memory dead-lettering %s: %s", rec->key, reason);
        return;
    }
    host_reject(st, &out, reason);
    free(id);
}

static fr_status host_fingerprint_file(fr_stage *st, const char *key)
{
    const char *path = host_config_string(st, key);
    char hash[64], err[4200];
    if (!path[0])
        return FR_OK; /* an optional file not given */
    if (file_hash(path, hash, sizeof hash, err, sizeof err) != 0)
        return fr_fail(st, FR_FATAL, "key \"%s\": %s", key, err);
    st->backend->fingerprint(st->backend_ctx, st, key, hash);
    return FR_OK;
}

static fr_run_kind host_run_kind(fr_stage *st)
{
    return st->backend->run_kind(st->backend_ctx, st);
}

/* ---- continuous sources (ABI 1.2) ------------------------------------ */

static void host_set_continuous(fr_stage *st)
{
    if (st->backend->set_continuous)
        st->backend->set_continuous(st->backend_ctx, st);
}

static fr_status host_wait(fr_stage *st, int fd, int64_t timeout_ms)
{
    return st->backend->wait ? st->backend->wait(st->backend_ctx, st, fd, timeout_ms)
                             : st->backend->idle(st->backend_ctx, st, timeout_ms);
}

static int host_ledger_sync(fr_stage *st)
{
    return st->backend->ledger_sync ? st->backend->ledger_sync(st->backend_ctx, st) : 0;
}

static fr_buffer *host_buffer_ref(fr_buffer *buf)
{
    return buffer_ref(buf);
}
static void host_buffer_unref(fr_buffer *buf)
{
    buffer_unref(buf);
}

static const fr_host_api host_api = {
    .size = sizeof(fr_host_api),
    .config_string = host_config_string,
    .config_int = host_config_int,
    .config_double = host_config_double,
    .config_bool = host_config_bool,
    .stage_name = host_stage_name,
    .pipeline_name = host_pipeline_name,
    .instance = host_instance,
    .replicas = host_replicas,
    .input_type = host_input_type,
    .set_output_type = host_set_output_type,
    .vlog = host_vlog,
    .vfail = host_vfail,
    .buffer_new = host_buffer_new,
    .buffer_ref = host_buffer_ref,
    .buffer_unref = host_buffer_unref,
    .emit = host_emit,
    .reject = host_reject,
    .record_keep = host_record_keep,
    .record_free = host_record_free,
    .commit = host_commit,
    .stopping = host_stopping,
    .idle = host_idle,
    .set_total = host_set_total,
    .metric_add = host_metric_add,
    .gauge_set = host_gauge_set,
    .report = host_report,
    .state_dir = host_state_dir,
    .checkpoint = host_checkpoint,
    .key_state = host_key_state,
    .emit_key = host_emit_key,
    .reject_key = host_reject_key,
    .fingerprint_file = host_fingerprint_file,
    .run_kind = host_run_kind,
    .config_enum = host_config_enum,
    .vconfig_error = host_vconfig_error,
    .set_continuous = host_set_continuous,
    .wait = host_wait,
    .ledger_sync = host_ledger_sync,
};

/* ---- lifecycle -------------------------------------------------------- */

void stage_setup(fr_stage *st, const loader_plugin *plugin, const char *name, const char *pipeline,
                 uint32_t instance, uint32_t replicas, const schema_values *config,
                 const char *input_type, const char *output_type, const stage_backend *backend,
                 void *backend_ctx)
{
    memset(st, 0, sizeof *st);
    st->api = &host_api;
    st->plugin = plugin;
    st->name = name;
    st->pipeline = pipeline;
    st->instance = instance;
    st->replicas = replicas;
    st->config = config;
    st->backend = backend;
    st->backend_ctx = backend_ctx;
    snprintf(st->input_type, sizeof st->input_type, "%s", input_type ? input_type : "");
    snprintf(st->output_type, sizeof st->output_type, "%s", output_type ? output_type : "");
    if (replicas > 1)
        snprintf(st->scope, sizeof st->scope, "%s#%u", name, instance);
    else
        snprintf(st->scope, sizeof st->scope, "%s", name);
    pthread_mutex_init(&st->metrics_lock, NULL);
}

fr_status stage_init(fr_stage *st)
{
    st->reason[0] = '\0';
    st->config_error = 0;
    st->config_key[0] = '\0';
    fr_status s = st->plugin->desc.init(st, &st->state);
    st->started = s == FR_OK;
    return s;
}

fr_status stage_process(fr_stage *st, const fr_record *in)
{
    st->reason[0] = '\0';
    return st->plugin->desc.process(st->state, st, in);
}

fr_status stage_produce(fr_stage *st)
{
    st->reason[0] = '\0';
    return st->plugin->desc.produce(st->state, st);
}

fr_status stage_flush(fr_stage *st)
{
    st->reason[0] = '\0';
    return st->plugin->desc.flush ? st->plugin->desc.flush(st->state, st) : FR_OK;
}

fr_status stage_tick(fr_stage *st)
{
    st->reason[0] = '\0';
    return st->plugin->desc.tick ? st->plugin->desc.tick(st->state, st) : FR_OK;
}

void stage_deliver_commits(fr_stage *st, const char *const *ids, size_t n)
{
    if (st->plugin->desc.on_commit && n)
        st->plugin->desc.on_commit(st->state, st, ids, n);
}

void stage_fini(fr_stage *st)
{
    if (st->started && st->plugin->desc.fini)
        st->plugin->desc.fini(st->state, st);
    st->started = 0;
}

void stage_cleanup(fr_stage *st)
{
    for (size_t i = 0; i < st->n_metrics; i++)
        free(st->metrics[i].name);
    for (size_t i = 0; i < st->n_reports; i++) {
        free(st->reports[i].name);
        free(st->reports[i].json);
    }
    free(st->metrics);
    free(st->reports);
    st->metrics = NULL;
    st->reports = NULL;
    st->n_metrics = st->n_reports = 0;
    pthread_mutex_destroy(&st->metrics_lock);
}

const char *stage_reason(const fr_stage *st)
{
    return st->reason;
}

double stage_metric_value(fr_stage *st, const char *name)
{
    double v = 0;
    pthread_mutex_lock(&st->metrics_lock);
    for (size_t i = 0; i < st->n_metrics; i++)
        if (strcmp(st->metrics[i].name, name) == 0)
            v = st->metrics[i].value;
    pthread_mutex_unlock(&st->metrics_lock);
    return v;
}

const char *stage_report_json(fr_stage *st, const char *name)
{
    const char *json = NULL;
    pthread_mutex_lock(&st->metrics_lock);
    for (size_t i = 0; i < st->n_reports; i++)
        if (strcmp(st->reports[i].name, name) == 0)
            json = st->reports[i].json;
    pthread_mutex_unlock(&st->metrics_lock);
    return json;
}
