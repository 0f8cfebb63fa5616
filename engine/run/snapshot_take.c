/*
 * snapshot_take.c — a run_snapshot from the instances' counters (atomics,
 * read while the threads run) and the coordinator's tally.
 */
#include "snapshot_take.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster.h"

int run_tally_init(run_tally *t, const graph *g)
{
    size_t n = g->n_stages ? g->n_stages : 1;
    memset(t, 0, sizeof *t);
    t->n_stages = g->n_stages;
    t->committed = calloc(n, sizeof *t->committed);
    t->source_done = calloc(n, sizeof *t->source_done);
    t->clocks = calloc(n, sizeof *t->clocks);
    if (t->committed && t->source_done && t->clocks)
        return 0;
    run_tally_free(t);
    return -1;
}

void run_tally_free(run_tally *t)
{
    for (size_t i = 0; t->clocks && i < t->n_stages; i++)
        free(t->clocks[i].samples);
    free(t->committed);
    free(t->source_done);
    free(t->clocks);
    memset(t, 0, sizeof *t);
}

/* ---- the oldest pending record ------------------------------------------
 * The coordinator learns that an id is complete, not when it was emitted.
 * Each tick records how many records a source had emitted by then; records
 * are taken to complete in the order they left (exact for a chain without
 * replicas, an estimate otherwise), so the oldest pending one left at the
 * first sample that counts more records than are done.  Samples all of whose
 * records are done are dropped: the clock holds the backlog's ticks only. */

static void clock_sample(emit_clock *c, uint64_t emitted, double at)
{
    if (c->n && c->samples[c->n - 1].emitted == emitted)
        return;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        emit_sample *grown = realloc(c->samples, cap * sizeof *grown);
        if (!grown)
            return; /* out of memory: the age stays a little older than true */
        c->samples = grown;
        c->cap = cap;
    }
    c->samples[c->n++] = (emit_sample){emitted, at};
}

/* Drops the samples whose records are all done; returns the oldest pending
 * record's age at now (0 when none is pending). */
static double clock_oldest(emit_clock *c, uint64_t done, double now)
{
    size_t drop = 0;
    /* sample k holds records (samples[k-1].emitted, samples[k].emitted] */
    while (drop + 1 < c->n && c->samples[drop].emitted <= done)
        drop++;
    memmove(c->samples, c->samples + drop, (c->n - drop) * sizeof *c->samples);
    c->n -= drop;
    if (!c->n || c->samples[c->n - 1].emitted <= done)
        return 0;
    for (size_t k = 0; k < c->n; k++)
        if (c->samples[k].emitted > done)
            return now - c->samples[k].at;
    return 0;
}

/* ---- per stage ------------------------------------------------------- */

static uint64_t at_least(uint64_t now, uint64_t before)
{
    return now > before ? now : before;
}

/* Adds instance in's plugin metrics to st's (merged by name). */
static int add_metrics(snap_stage *st, fr_stage *fs)
{
    int ok = 1;
    pthread_mutex_lock(&fs->metrics_lock);
    for (size_t m = 0; m < fs->n_metrics && ok; m++) {
        size_t k = 0;
        while (k < st->n_metrics && strcmp(st->metrics[k].name, fs->metrics[m].name) != 0)
            k++;
        if (k == st->n_metrics) {
            snap_metric *grown = realloc(st->metrics, (k + 1) * sizeof *grown);
            char *name = strdup(fs->metrics[m].name);
            ok = grown && name;
            if (grown)
                st->metrics = grown;
            if (!ok) {
                free(name);
                break;
            }
            st->metrics[k] = (snap_metric){name, 0, fs->metrics[m].gauge};
            st->n_metrics++;
        }
        st->metrics[k].value += fs->metrics[m].value;
    }
    pthread_mutex_unlock(&fs->metrics_lock);
    return ok ? 0 : -1;
}

static int copy_reports(snap_stage *st, fr_stage *fs)
{
    pthread_mutex_lock(&fs->metrics_lock);
    st->reports = calloc(fs->n_reports ? fs->n_reports : 1, sizeof *st->reports);
    int ok = st->reports != NULL;
    for (size_t k = 0; ok && k < fs->n_reports; k++) {
        st->reports[k].name = strdup(fs->reports[k].name);
        st->reports[k].json = strdup(fs->reports[k].json);
        st->n_reports++;
        ok = st->reports[k].name && st->reports[k].json;
    }
    pthread_mutex_unlock(&fs->metrics_lock);
    return ok ? 0 : -1;
}

/* How long the instance has gone without a sign of life, if it runs. */
static double stalled_seconds(const instance *in)
{
    uint64_t alive = atomic_load_explicit(&in->alive_ns, memory_order_relaxed);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    return alive && now > alive ? (now - alive) / 1e9 : 0;
}

static void add_counters(snap_stage *st, const instance *in, uint64_t *busy)
{
    const run_counters *c = &in->counters;
    double stalled = stalled_seconds(in);
    st->stalled_s = stalled > st->stalled_s ? stalled : st->stalled_s;
    st->in += atomic_load(&c->in);
    st->out += atomic_load(&c->out);
    st->dead += atomic_load(&c->dead);
    for (int k = 0; k < DEAD_CLASS_COUNT; k++)
        st->dead_by_class[k] += atomic_load(&c->dead_by_class[k]);
    st->retries += atomic_load(&c->retries);
    for (int k = 0; k <= BATCH_BOUNDS; k++)
        st->batches[k] += atomic_load(&c->batches[k]);
    st->batch_records += atomic_load(&c->batch_records);
    st->malformed += atomic_load(&c->malformed);
    st->failures += (uint64_t)atomic_load(&in->failed);
    /* blocked first: busy includes it and is added after it */
    st->blocked_ns += atomic_load(&c->blocked_ns);
    *busy += atomic_load(&c->busy_ns);
    st->expected += __atomic_load_n(&in->stage.total, __ATOMIC_RELAXED);
    st->instances++;
}

static int fill_stage(const run *r, size_t s, snap_stage *st, int final)
{
    const graph_stage *gs = &r->graph->stages[s];
    uint64_t busy = 0;
    *st = (snap_stage){.name = gs->cfg->name,
                       .plugin = gs->plugin->desc.name,
                       .replicas = gs->cfg->replicas,
                       .is_source = !gs->n_inputs,
                       .is_sink = !gs->plugin->desc.output};
    for (size_t i = 0; i < r->n_instances; i++) {
        instance *in = &r->instances[i];
        if (in->stage_index != s)
            continue;
        add_counters(st, in, &busy);
        if (add_metrics(st, &in->stage) != 0 ||
            (final && in->index == 0 && copy_reports(st, &in->stage) != 0))
            return -1;
    }
    st->work_ns = busy > st->blocked_ns ? busy - st->blocked_ns : 0;
    return 0;
}

/* Records sent to stage s's pipes and not yet received; 0 when an input
 * runs on another node (its count is not here). */
static uint64_t queued(const run_snapshot *snap, const graph *g, size_t s, const snap_stage *st)
{
    uint64_t sent = 0;
    for (size_t k = 0; k < g->stages[s].n_inputs; k++) {
        const snap_stage *up =
            run_snapshot_stage(snap, g->stages[g->stages[s].inputs[k]].cfg->name);
        if (!up)
            return 0;
        sent += up->out;
    }
    return sent > st->in ? sent - st->in : 0;
}

/* Counters never go backwards: each is at least what prev showed. */
static void clamp(snap_stage *st, const snap_stage *was)
{
    if (!was)
        return;
    st->in = at_least(st->in, was->in);
    st->out = at_least(st->out, was->out);
    st->dead = at_least(st->dead, was->dead);
    for (int k = 0; k < DEAD_CLASS_COUNT; k++)
        st->dead_by_class[k] = at_least(st->dead_by_class[k], was->dead_by_class[k]);
    st->retries = at_least(st->retries, was->retries);
    for (int k = 0; k <= BATCH_BOUNDS; k++)
        st->batches[k] = at_least(st->batches[k], was->batches[k]);
    st->batch_records = at_least(st->batch_records, was->batch_records);
    st->malformed = at_least(st->malformed, was->malformed);
    st->failures = at_least(st->failures, was->failures);
    st->committed = at_least(st->committed, was->committed);
    st->work_ns = at_least(st->work_ns, was->work_ns);
    st->blocked_ns = at_least(st->blocked_ns, was->blocked_ns);
    st->done = at_least(st->done, was->done);
}

static void fill_source(snap_stage *st, run_tally *t, size_t s, double now)
{
    st->done = t->source_done[s];
    clock_sample(&t->clocks[s], st->out, now);
    st->pending = st->out > st->done ? st->out - st->done : 0;
    st->oldest_pending_s = st->pending ? clock_oldest(&t->clocks[s], st->done, now) : 0;
}

static int fill_nodes(run_snapshot *out, const run *r, const struct cluster *cl)
{
    const config_pipeline *p = r->graph->pipeline;
    if (!cl || !cluster_is_coordinator(cl))
        return 0;
    if (!(out->nodes = calloc(p->n_nodes ? p->n_nodes : 1, sizeof *out->nodes)))
        return -1;
    for (size_t i = 0; i < p->n_nodes; i++)
        out->nodes[i] = (snap_node){p->nodes[i].name, cluster_node_up(cl, i)};
    out->n_nodes = p->n_nodes;
    return 0;
}

int snapshot_take(const run *r, run_tally *t, const struct cluster *cl, const run_snapshot *prev,
                  int final, run_snapshot *out)
{
    const graph *g = r->graph;
    memset(out, 0, sizeof *out);
    *out = (run_snapshot){.pipeline = g->pipeline->name,
                          .file = g->pipeline->file,
                          .node = r->opt->node,
                          .dead_letters_file = g->pipeline->dead_letters,
                          .phase = t->phase,
                          .wall_seconds = t->wall_seconds,
                          .flowing_at = t->flowing_at,
                          .records_in = t->records_in,
                          .done = t->done,
                          .dead_letters = t->dead_letters,
                          .unaccounted = t->unaccounted,
                          .ledger = t->ledger,
                          .watching = atomic_load(&r->continuous),
                          .ending = atomic_load(&r->draining)};
    if (!(out->stages = calloc(g->n_stages ? g->n_stages : 1, sizeof *out->stages)))
        return -1;
    for (size_t o = 0; o < g->n_stages; o++) {
        size_t s = g->order[o];
        if (!run_is_local(r, s))
            continue;
        snap_stage *st = &out->stages[out->n_stages++];
        if (fill_stage(r, s, st, final) != 0)
            goto fail;
        st->committed = t->committed[s];
        if (st->is_source)
            fill_source(st, t, s, t->wall_seconds);
        st->queued = queued(out, g, s, st);
        clamp(st, prev ? run_snapshot_stage(prev, st->name) : NULL);
    }
    uint64_t emitted = 0;
    for (size_t i = 0; i < out->n_stages; i++)
        emitted += out->stages[i].is_source ? out->stages[i].out : 0;
    /* during the run, this process's sources; at the end the whole run's */
    out->records_in = at_least(at_least(t->records_in, emitted), prev ? prev->records_in : 0);
    if (fill_nodes(out, r, cl) == 0)
        return 0;
fail:
    run_snapshot_free(out);
    return -1;
}
