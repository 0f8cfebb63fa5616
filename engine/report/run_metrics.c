/*
 * run_metrics.c — one family per metric, one sample per local stage.
 */
#include "run_metrics.h"

#include <stdio.h>
#include <string.h>

#include "flowrun/plugin.h"

/* A per-stage number: which field of snap_stage a family shows. */
typedef double (*stage_value)(const snap_stage *st);

typedef struct stage_family {
    const char *name, *type, *help;
    stage_value value;
    int sources_only, sinks_only;
} stage_family;

static double v_in(const snap_stage *st)
{
    return (double)st->in;
}
static double v_out(const snap_stage *st)
{
    return (double)st->out;
}
static double v_retries(const snap_stage *st)
{
    return (double)st->retries;
}
static double v_work(const snap_stage *st)
{
    return st->work_ns / 1e9;
}
static double v_blocked(const snap_stage *st)
{
    return st->blocked_ns / 1e9;
}
static double v_queued(const snap_stage *st)
{
    return (double)st->queued;
}
static double v_stalled(const snap_stage *st)
{
    return st->stalled_s;
}
static double v_instances(const snap_stage *st)
{
    return st->instances;
}
static double v_committed(const snap_stage *st)
{
    return (double)st->committed;
}
static double v_expected(const snap_stage *st)
{
    return (double)st->expected;
}
static double v_done(const snap_stage *st)
{
    return (double)st->done;
}
static double v_pending(const snap_stage *st)
{
    return (double)st->pending;
}
static double v_oldest(const snap_stage *st)
{
    return st->oldest_pending_s;
}

static const stage_family stage_families[] = {
    {"flowrun_component_received_events_total", "counter",
     "Records a stage received from upstream.", v_in, 0, 0},
    {"flowrun_component_sent_events_total", "counter", "Records a stage emitted downstream.", v_out,
     0, 0},
    {"flowrun_component_retries_total", "counter",
     "FR_RETRY answers that were retried (after a backoff).", v_retries, 0, 0},
    {"flowrun_component_busy_seconds_total", "counter",
     "Seconds in the plugin's callbacks, waiting for room downstream excluded.", v_work, 0, 0},
    {"flowrun_component_blocked_seconds_total", "counter",
     "Seconds waiting for room downstream (backpressure).", v_blocked, 0, 0},
    {"flowrun_buffer_events", "gauge",
     "Records sent to a stage and not yet received by it (in its pipes).", v_queued, 0, 0},
    {"flowrun_component_instances", "gauge", "Instances (replicas) of a stage in this process.",
     v_instances, 0, 0},
    {"flowrun_component_stalled_seconds", "gauge",
     "The longest a running instance of a stage has gone without a sign of life (in one "
     "callback, or stuck in it).",
     v_stalled, 0, 0},
    {"flowrun_sink_committed_events_total", "counter", "Ids a sink committed (delivered).",
     v_committed, 0, 1},
    {"flowrun_source_expected_events", "gauge",
     "Records a source announced it will emit (0: unknown).", v_expected, 1, 0},
    {"flowrun_source_completed_events_total", "counter",
     "A source's records complete: committed by every sink or dead-lettered.", v_done, 1, 0},
    {"flowrun_source_pending_keys", "gauge",
     "A source's records emitted and not yet complete (the ledger's pending keys).", v_pending, 1,
     0},
    {"flowrun_source_oldest_pending_age_seconds", "gauge",
     "Age of a source's oldest pending record (completion taken in emission order).", v_oldest, 1,
     0},
};

static const char *node_label(const run_snapshot *s)
{
    return s->node ? s->node : "";
}

static void put_stage_families(expo *e, const run_snapshot *s)
{
    for (size_t f = 0; f < sizeof stage_families / sizeof *stage_families; f++) {
        const stage_family *fam = &stage_families[f];
        expo_family(e, fam->name, fam->type, fam->help);
        for (size_t i = 0; i < s->n_stages; i++) {
            const snap_stage *st = &s->stages[i];
            if ((fam->sources_only && !st->is_source) || (fam->sinks_only && !st->is_sink))
                continue;
            expo_sample(e, fam->name, fam->value(st), "stage", st->name, "plugin", st->plugin,
                        "node", node_label(s), NULL);
        }
    }
}

static void put_dead_and_errors(expo *e, const run_snapshot *s)
{
    static const char dead[] = "flowrun_component_dead_lettered_events_total";
    static const char errors[] = "flowrun_component_errors_total";
    expo_family(e, dead, "counter", "Records a stage dead-lettered, by reason class.");
    for (size_t i = 0; i < s->n_stages; i++)
        for (int c = 0; c < DEAD_CLASS_COUNT; c++)
            expo_sample(e, dead, (double)s->stages[i].dead_by_class[c], "stage", s->stages[i].name,
                        "plugin", s->stages[i].plugin, "node", node_label(s), "reason",
                        dead_class_name((dead_class)c), NULL);
    expo_family(e, errors, "counter",
                "Errors by type: malformed messages dropped, instances that failed.");
    for (size_t i = 0; i < s->n_stages; i++) {
        const snap_stage *st = &s->stages[i];
        expo_sample(e, errors, (double)st->malformed, "stage", st->name, "plugin", st->plugin,
                    "node", node_label(s), "error_type", "malformed_message", NULL);
        expo_sample(e, errors, (double)st->failures, "stage", st->name, "plugin", st->plugin,
                    "node", node_label(s), "error_type", "stage_failed", NULL);
    }
}

static void put_batch_sizes(expo *e, const run_snapshot *s)
{
    static const char name[] = "flowrun_component_batch_size";
    double bounds[BATCH_BOUNDS];
    for (unsigned i = 0; i < BATCH_BOUNDS; i++)
        bounds[i] = batch_bound(i);
    expo_family(e, name, "histogram",
                "Records a stage emitted in one plugin callback that emitted any, or a sink "
                "committed in one commit.");
    for (size_t i = 0; i < s->n_stages; i++) {
        const snap_stage *st = &s->stages[i];
        const char *labels[] = {"stage", st->name,      "plugin", st->plugin,
                                "node",  node_label(s), NULL};
        expo_buckets h = {bounds, st->batches, BATCH_BOUNDS, (double)st->batch_records};
        expo_histogram(e, name, &h, labels);
    }
}

/* A plugin metric's name split (plugin.h, fr_metric_add): the base before
 * '{' and up to PLUGIN_LABELS labels `key="value"` between braces, values
 * unescaped (\" and \\).  A name that does not parse is all base. */
#define PLUGIN_LABELS 4
typedef struct plugin_name {
    char base[128];
    char keys[PLUGIN_LABELS][80], values[PLUGIN_LABELS][128];
    size_t n;
} plugin_name;

/* The value after `"` up to the closing quote into out; the character after it, or NULL. */
static const char *label_value(const char *p, char *out, size_t size)
{
    size_t n = 0;
    for (; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1])
            p++;
        if (n + 1 < size)
            out[n++] = *p;
    }
    out[n] = '\0';
    return *p == '"' ? p + 1 : NULL;
}

/* Labels the engine sets are not a plugin's to set: its own is renamed
 * exported_KEY, as Prometheus renames a target's clashing label. */
static void label_key(const char *raw, size_t len, char *out, size_t size)
{
    char key[64];
    snprintf(key, sizeof key, "%.*s", (int)len, raw);
    int taken = !strcmp(key, "stage") || !strcmp(key, "plugin") || !strcmp(key, "node") ||
                !strcmp(key, "le");
    char name[64];
    expo_name(key, name, sizeof name);
    snprintf(out, size, "%s%s", taken ? "exported_" : "", name);
}

static int parse_labels(const char *p, plugin_name *pn)
{
    while (*p && *p != '}') {
        size_t len = strcspn(p, "=,}");
        if (pn->n == PLUGIN_LABELS || !len || strncmp(p + len, "=\"", 2) != 0)
            return -1;
        label_key(p, len, pn->keys[pn->n], sizeof pn->keys[pn->n]);
        p = label_value(p + len + 2, pn->values[pn->n], sizeof pn->values[pn->n]);
        if (!p)
            return -1;
        pn->n++;
        if (*p == ',')
            p++;
    }
    return *p == '}' && p[1] == '\0' && pn->n ? 0 : -1;
}

static void plugin_name_parse(const char *name, plugin_name *pn)
{
    char base[128];
    const char *brace = strchr(name, '{');
    pn->n = 0;
    snprintf(base, sizeof base, "%.*s", (int)(brace ? (size_t)(brace - name) : strlen(name)), name);
    if (brace && parse_labels(brace + 1, pn) != 0) {
        pn->n = 0;
        snprintf(base, sizeof base, "%s", name);
    }
    expo_name(base, pn->base, sizeof pn->base);
}

/* A plugin's metric name as a family name: flowrun_plugin_BASE[_total]. */
static void plugin_family_name(const snap_metric *m, char *out, size_t size)
{
    plugin_name pn;
    plugin_name_parse(m->name, &pn);
    size_t n = strlen(pn.base);
    int has_total = n >= 6 && strcmp(pn.base + n - 6, "_total") == 0;
    snprintf(out, size, "flowrun_plugin_%s%s", pn.base, m->gauge || has_total ? "" : "_total");
}

/* Whether the family of metric (stage i, metric k) was written already. */
static int family_seen(const run_snapshot *s, size_t i, size_t k, const char *family)
{
    char other[160];
    for (size_t a = 0; a <= i; a++)
        for (size_t b = 0; b < s->stages[a].n_metrics && (a < i || b < k); b++) {
            plugin_family_name(&s->stages[a].metrics[b], other, sizeof other);
            if (strcmp(other, family) == 0)
                return 1;
        }
    return 0;
}

/* One sample of a plugin metric: the stage's labels and the metric's own. */
static void put_plugin_sample(expo *e, const char *family, const run_snapshot *s,
                              const snap_stage *st, const snap_metric *m)
{
    plugin_name pn;
    const char *labels[6 + 2 * PLUGIN_LABELS + 1] = {"stage",    st->name, "plugin",
                                                     st->plugin, "node",   node_label(s)};
    size_t n = 6;
    plugin_name_parse(m->name, &pn);
    for (size_t i = 0; i < pn.n; i++) {
        labels[n++] = pn.keys[i];
        labels[n++] = pn.values[i];
    }
    labels[n] = NULL;
    expo_sample_labels(e, family, m->value, labels);
}

/* Every plugin metric (fr_metric_add, fr_gauge_set) in one family per base
 * name, one sample per stage and labels that have it. */
static void put_plugin_metrics(expo *e, const run_snapshot *s)
{
    char family[160], other[160];
    for (size_t i = 0; i < s->n_stages; i++)
        for (size_t k = 0; k < s->stages[i].n_metrics; k++) {
            const snap_metric *m = &s->stages[i].metrics[k];
            plugin_family_name(m, family, sizeof family);
            if (family_seen(s, i, k, family))
                continue;
            expo_family(e, family, m->gauge ? "gauge" : "counter",
                        m->gauge ? "A plugin's gauge (fr_gauge_set)."
                                 : "A plugin's counter (fr_metric_add).");
            for (size_t a = i; a < s->n_stages; a++)
                for (size_t b = 0; b < s->stages[a].n_metrics; b++) {
                    plugin_family_name(&s->stages[a].metrics[b], other, sizeof other);
                    if (strcmp(other, family) == 0)
                        put_plugin_sample(e, family, s, &s->stages[a], &s->stages[a].metrics[b]);
                }
        }
}

static void put_run(expo *e, const run_snapshot *s)
{
    char abi[16];
    snprintf(abi, sizeof abi, "%d.%d", FR_ABI_MAJOR, FR_ABI_MINOR);
    expo_family(e, "flowrun_build_info", "gauge", "flowrun's version and plugin ABI; always 1.");
    expo_sample(e, "flowrun_build_info", 1, "version", FLOWRUN_VERSION, "abi", abi, NULL);
    expo_family(e, "flowrun_ready", "gauge", "1 while data flows (as /health/ready).");
    expo_sample(e, "flowrun_ready", s->phase == SNAP_FLOWING, "pipeline", s->pipeline, "node",
                node_label(s), NULL);
    expo_family(e, "flowrun_uptime_seconds", "gauge", "Seconds since the run started.");
    expo_sample(e, "flowrun_uptime_seconds", s->wall_seconds, "pipeline", s->pipeline, "node",
                node_label(s), NULL);
    expo_family(e, "flowrun_run_records_in_total", "counter",
                "Records the sources emitted (this process's sources during a split run).");
    expo_sample(e, "flowrun_run_records_in_total", (double)s->records_in, "pipeline", s->pipeline,
                "node", node_label(s), NULL);
    expo_family(e, "flowrun_run_records_done_total", "counter",
                "Records complete: committed by every sink or dead-lettered.");
    expo_sample(e, "flowrun_run_records_done_total", (double)s->done, "pipeline", s->pipeline,
                "node", node_label(s), NULL);
    expo_family(e, "flowrun_run_dead_letters_total", "counter", "Records dead-lettered.");
    expo_sample(e, "flowrun_run_dead_letters_total", (double)s->dead_letters, "pipeline",
                s->pipeline, "node", node_label(s), NULL);
    if (!s->n_nodes)
        return;
    expo_family(e, "flowrun_node_up", "gauge",
                "1 if a node of a split run joined and is heard from (coordinator node).");
    for (size_t i = 0; i < s->n_nodes; i++)
        expo_sample(e, "flowrun_node_up", s->nodes[i].up, "pipeline", s->pipeline, "node",
                    s->nodes[i].name, NULL);
}

char *run_metrics_text(const run_snapshot *s, expo_format f, size_t *len)
{
    expo e;
    expo_init(&e, f);
    put_run(&e, s);
    put_stage_families(&e, s);
    put_dead_and_errors(&e, s);
    put_batch_sizes(&e, s);
    put_plugin_metrics(&e, s);
    return expo_finish(&e, len);
}
