#include "run_report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json_out.h"
#include "log.h"

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

/* With JSON logs, the closing report is one event like every other line. */
static void report_event(const run_snapshot *s, int code)
{
    char delivered[1024] = "";
    size_t n = 0;
    for (size_t i = 0; i < s->n_stages && n < sizeof delivered; i++)
        if (s->stages[i].is_sink)
            n += (size_t)snprintf(delivered + n, sizeof delivered - n, ", %s delivered %llu",
                                  s->stages[i].name, (unsigned long long)s->stages[i].committed);
    log_msg(FR_LOG_INFO, NULL, "%s: %s in %.2fs: records in %llu, dead letters %llu%s", s->pipeline,
            status_word(code), s->wall_seconds, (unsigned long long)s->records_in,
            (unsigned long long)s->dead_letters, delivered);
}

void run_report_print(const run_snapshot *s, int code)
{
    if (log_get_level() < FR_LOG_INFO)
        return;
    if (log_get_format() == LOG_JSON) {
        report_event(s, code);
        return;
    }
    fprintf(stderr, "%s: %s in %.2fs\n", s->pipeline, status_word(code), s->wall_seconds);
    fprintf(stderr, "  %-16s %10s %10s %8s %9s %10s\n", "stage", "in", "out", "dead", "busy s",
            "rec/s");
    for (size_t i = 0; i < s->n_stages; i++) {
        const snap_stage *st = &s->stages[i];
        double busy_s = st->work_ns / 1e9;
        uint64_t handled = st->is_source ? st->out : st->in;
        double rate = busy_s > 0 ? handled / busy_s * st->instances : 0;
        fprintf(stderr, "  %-16s %10llu %10llu %8llu %9.2f %10.1f\n", st->name,
                (unsigned long long)st->in, (unsigned long long)st->out,
                (unsigned long long)st->dead, busy_s, rate);
        if (st->malformed)
            fprintf(stderr, "  %-16s %llu malformed messages dropped (see the warnings above)\n",
                    "", (unsigned long long)st->malformed);
    }
    fprintf(stderr, "  records in %llu, dead letters %llu", (unsigned long long)s->records_in,
            (unsigned long long)s->dead_letters);
    for (size_t i = 0; i < s->n_stages; i++)
        if (s->stages[i].is_sink)
            fprintf(stderr, ", %s delivered %llu", s->stages[i].name,
                    (unsigned long long)s->stages[i].committed);
    fprintf(stderr, "\n");
    print_ledger(&s->ledger);
    if (s->dead_letters)
        fprintf(stderr, "  dead letters in %s\n", s->dead_letters_file);
}

static void stage_json(json_out *j, const run_snapshot *s, const snap_stage *st)
{
    json_open(j, st->name);
    json_string(j, "plugin", st->plugin);
    json_int(j, "replicas", st->replicas);
    json_int(j, "records_in", (int64_t)st->in);
    json_int(j, "records_out", (int64_t)st->out);
    json_int(j, "dead_letters", (int64_t)st->dead);
    json_int(j, "retries", (int64_t)st->retries);
    json_int(j, "malformed", (int64_t)st->malformed);
    if (st->is_sink)
        json_int(j, "committed", (int64_t)st->committed);
    json_double(j, "busy_seconds", st->work_ns / 1e9);
    json_double(j, "blocked_seconds", st->blocked_ns / 1e9);
    uint64_t handled = st->is_source ? st->out : st->in;
    json_double(j, "throughput", s->wall_seconds > 0 ? handled / s->wall_seconds : 0);
    /* Plugin metrics (summed over the local instances) and reports (instance 0's). */
    json_open(j, "metrics");
    for (size_t m = 0; m < st->n_metrics; m++)
        json_double(j, st->metrics[m].name, st->metrics[m].value);
    json_close(j);
    for (size_t k = 0; k < st->n_reports; k++)
        json_raw(j, st->reports[k].name, st->reports[k].json);
    json_close(j);
}

static char *summary_text(const run_snapshot *s, int code)
{
    json_out j = {0};
    json_open(&j, NULL);
    json_string(&j, "pipeline", s->pipeline);
    json_string(&j, "file", s->file);
    if (s->node)
        json_string(&j, "node", s->node);
    json_string(&j, "status", status_word(code));
    json_int(&j, "exit_code", code);
    json_double(&j, "wall_seconds", s->wall_seconds);
    json_int(&j, "records_in", (int64_t)s->records_in);
    json_int(&j, "records_done", (int64_t)s->done);
    json_int(&j, "dead_letters", (int64_t)s->dead_letters);
    json_int(&j, "unaccounted", (int64_t)s->unaccounted);
    json_string(&j, "dead_letters_file", s->dead_letters_file);
    ledger_json(&j, &s->ledger);
    json_open(&j, "stages");
    for (size_t i = 0; i < s->n_stages; i++)
        stage_json(&j, s, &s->stages[i]);
    json_close(&j);
    json_close(&j);
    if (j.failed) {
        json_out_free(&j);
        return NULL;
    }
    return j.text;
}

int run_report_write_json(const run_snapshot *s, int code, const char *path)
{
    char *text = summary_text(s, code);
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
