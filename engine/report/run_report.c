#include "run_report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json_out.h"
#include "log.h"

int run_tally_init(run_tally *t, const graph *g)
{
    memset(t, 0, sizeof *t);
    t->committed = calloc(g->n_stages ? g->n_stages : 1, sizeof *t->committed);
    return t->committed ? 0 : -1;
}

void run_tally_free(run_tally *t)
{
    free(t->committed);
    t->committed = NULL;
}

/* Per stage sums over its local instances. */
typedef struct stage_sums {
    uint64_t in, out, dead, retries, malformed;
    double busy_s;    /* working, waiting for room downstream excluded */
    double blocked_s; /* waiting for room downstream (backpressure) */
    uint32_t instances;
} stage_sums;

static stage_sums sum_stage(const run *r, size_t s)
{
    stage_sums sum = {0};
    for (size_t i = 0; i < r->n_instances; i++) {
        const instance *in = &r->instances[i];
        if (in->stage_index != s)
            continue;
        sum.in += atomic_load(&in->counters.in);
        sum.out += atomic_load(&in->counters.out);
        sum.dead += atomic_load(&in->counters.dead);
        sum.retries += atomic_load(&in->counters.retries);
        sum.malformed += atomic_load(&in->counters.malformed);
        uint64_t blocked = atomic_load(&in->counters.blocked_ns);
        sum.busy_s += (atomic_load(&in->counters.busy_ns) - blocked) / 1e9;
        sum.blocked_s += blocked / 1e9;
        sum.instances++;
    }
    return sum;
}

static const char *status_word(int code)
{
    static const char *const words[] = {"delivered", "dead_letters", "usage", "failed",
                                        "interrupted"};
    return code >= 0 && code <= 4 ? words[code] : "failed";
}

static const char *start_word(ledger_start s)
{
    static const char *const words[] = {"new run", "resumed", "incremental",
                                        "new full run after a completed one"};
    return words[s];
}

/* What the ledger spared: one line, unless the run started from nothing. */
static void print_ledger(const ledger_counts *c)
{
    if (c->start == LEDGER_NEW)
        return;
    fprintf(stderr,
            "  %s: %llu keys skipped (%llu done, %llu dead, %llu held in checkpoints), "
            "%llu resumed, %llu changed\n",
            start_word(c->start),
            (unsigned long long)(c->skipped_done + c->skipped_dead + c->skipped_held),
            (unsigned long long)c->skipped_done, (unsigned long long)c->skipped_dead,
            (unsigned long long)c->skipped_held, (unsigned long long)c->resumed,
            (unsigned long long)c->changed);
}

static void ledger_json(json_out *j, const ledger_counts *c)
{
    json_open(j, "ledger");
    json_string(j, "start", start_word(c->start));
    json_int(j, "skipped_done", (int64_t)c->skipped_done);
    json_int(j, "skipped_dead", (int64_t)c->skipped_dead);
    json_int(j, "skipped_held", (int64_t)c->skipped_held);
    json_int(j, "resumed", (int64_t)c->resumed);
    json_int(j, "changed", (int64_t)c->changed);
    json_close(j);
}

run_watch run_watch_figures(const run *r)
{
    run_watch w = {0};
    for (size_t i = 0; i < r->n_instances; i++) {
        fr_stage *st = (fr_stage *)&r->instances[i].stage;
        if (r->graph->stages[r->instances[i].stage_index].n_inputs)
            continue;
        w.seen += stage_metric_value(st, "keys_seen");
        w.read += stage_metric_value(st, "objects");
        w.dead += stage_metric_value(st, "objects_failed");
        double lag = stage_metric_value(st, "lag_seconds");
        w.lag = lag > w.lag ? lag : w.lag;
    }
    return w;
}

void run_report_print(const run *r, const run_tally *t, int code)
{
    if (log_get_level() < FR_LOG_INFO)
        return;
    const graph *g = r->graph;
    fprintf(stderr, "%s: %s in %.2fs\n", g->pipeline->name, status_word(code), t->wall_seconds);
    fprintf(stderr, "  %-16s %10s %10s %8s %9s %10s\n", "stage", "in", "out", "dead", "busy s",
            "rec/s");
    for (size_t o = 0; o < g->n_stages; o++) {
        size_t s = g->order[o];
        if (!run_is_local(r, s))
            continue;
        stage_sums sum = sum_stage(r, s);
        uint64_t handled = g->stages[s].n_inputs ? sum.in : sum.out;
        double rate = sum.busy_s > 0 ? handled / sum.busy_s * sum.instances : 0;
        fprintf(stderr, "  %-16s %10llu %10llu %8llu %9.2f %10.1f\n", g->stages[s].cfg->name,
                (unsigned long long)sum.in, (unsigned long long)sum.out,
                (unsigned long long)sum.dead, sum.busy_s, rate);
        if (sum.malformed)
            fprintf(stderr, "  %-16s %llu malformed messages dropped (see the warnings above)\n",
                    "", (unsigned long long)sum.malformed);
    }
    fprintf(stderr, "  records in %llu, dead letters %llu", (unsigned long long)t->records_in,
            (unsigned long long)t->dead_letters);
    for (size_t s = 0; s < g->n_stages; s++)
        if (run_is_local(r, s) && !g->stages[s].plugin->desc.output)
            fprintf(stderr, ", %s delivered %llu", g->stages[s].cfg->name,
                    (unsigned long long)t->committed[s]);
    fprintf(stderr, "\n");
    if (atomic_load(&r->continuous)) {
        run_watch w = run_watch_figures(r);
        fprintf(stderr, "  watched: %.0f new keys seen, %.0f read, %.0f dead; lag %.0fs\n", w.seen,
                w.read, w.dead, w.lag);
    }
    print_ledger(&t->ledger);
    if (t->dead_letters)
        fprintf(stderr, "  dead letters in %s\n", g->pipeline->dead_letters);
}

static void stage_json(json_out *j, const run *r, const run_tally *t, size_t s)
{
    const graph_stage *gs = &r->graph->stages[s];
    stage_sums sum = sum_stage(r, s);
    json_open(j, gs->cfg->name);
    json_string(j, "plugin", gs->plugin->desc.name);
    json_int(j, "replicas", gs->cfg->replicas);
    json_int(j, "records_in", (int64_t)sum.in);
    json_int(j, "records_out", (int64_t)sum.out);
    json_int(j, "dead_letters", (int64_t)sum.dead);
    json_int(j, "retries", (int64_t)sum.retries);
    json_int(j, "malformed", (int64_t)sum.malformed);
    if (!gs->plugin->desc.output)
        json_int(j, "committed", (int64_t)t->committed[s]);
    json_double(j, "busy_seconds", sum.busy_s);
    json_double(j, "blocked_seconds", sum.blocked_s);
    uint64_t handled = gs->n_inputs ? sum.in : sum.out;
    json_double(j, "throughput", t->wall_seconds > 0 ? handled / t->wall_seconds : 0);
    /* Plugin metrics and reports of instance 0 (reports are per stage). */
    for (size_t i = 0; i < r->n_instances; i++) {
        fr_stage *st = (fr_stage *)&r->instances[i].stage;
        if (r->instances[i].stage_index != s || r->instances[i].index != 0)
            continue;
        json_open(j, "metrics");
        for (size_t m = 0; m < st->n_metrics; m++)
            json_double(j, st->metrics[m].name, stage_metric_value(st, st->metrics[m].name));
        json_close(j);
        for (size_t k = 0; k < st->n_reports; k++)
            json_raw(j, st->reports[k].name, st->reports[k].json);
    }
    json_close(j);
}

static char *summary_text(const run *r, const run_tally *t, int code)
{
    const graph *g = r->graph;
    json_out j = {0};
    json_open(&j, NULL);
    json_string(&j, "pipeline", g->pipeline->name);
    json_string(&j, "file", g->pipeline->file);
    if (r->opt->node)
        json_string(&j, "node", r->opt->node);
    json_string(&j, "status", status_word(code));
    json_int(&j, "exit_code", code);
    json_double(&j, "wall_seconds", t->wall_seconds);
    json_int(&j, "records_in", (int64_t)t->records_in);
    json_int(&j, "records_done", (int64_t)t->done);
    json_int(&j, "dead_letters", (int64_t)t->dead_letters);
    json_int(&j, "unaccounted", (int64_t)t->unaccounted);
    json_string(&j, "dead_letters_file", g->pipeline->dead_letters);
    ledger_json(&j, &t->ledger);
    if (atomic_load(&r->continuous)) {
        run_watch w = run_watch_figures(r);
        json_open(&j, "watch");
        json_double(&j, "keys_seen", w.seen);
        json_double(&j, "read", w.read);
        json_double(&j, "dead", w.dead);
        json_double(&j, "lag_seconds", w.lag);
        json_close(&j);
    }
    json_open(&j, "stages");
    for (size_t o = 0; o < g->n_stages; o++)
        if (run_is_local(r, g->order[o]))
            stage_json(&j, r, t, g->order[o]);
    json_close(&j);
    json_close(&j);
    if (j.failed) {
        json_out_free(&j);
        return NULL;
    }
    return j.text;
}

int run_report_write_json(const run *r, const run_tally *t, int code, const char *path)
{
    char *text = summary_text(r, t, code);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = text ? fopen(tmp, "w") : NULL;
    int ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    ok = f && fclose(f) == 0 && ok;
    if (ok && rename(tmp, path) != 0)
        ok = 0;
    if (!ok) {
        log_msg(FR_LOG_ERROR, NULL, "cannot write the run summary %s: %s", path,
                text ? strerror(errno) : "out of memory");
        unlink(tmp);
    }
    free(text);
    return ok ? 0 : -1;
}
