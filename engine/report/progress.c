#include "progress.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

struct progress {
    char line[512];
};

static void clear_line(void *ctx)
{
    progress *p = ctx;
    if (p->line[0])
        fputs("\r\033[K", stderr);
}

static void redraw_line(void *ctx)
{
    progress *p = ctx;
    fputs(p->line, stderr);
    fflush(stderr);
}

static uint64_t sources_total(const run_snapshot *s)
{
    uint64_t total = 0;
    for (size_t i = 0; i < s->n_stages; i++)
        total += s->stages[i].is_source ? s->stages[i].expected : 0;
    return total;
}

/* Records that reached the end: the slowest local sink's input count (sinks
 * commit only when their file is complete, so commits come too late to show
 * progress), plus the dead letters. */
static uint64_t arrived(const run_snapshot *s)
{
    uint64_t slowest = UINT64_MAX;
    for (size_t i = 0; i < s->n_stages; i++)
        if (s->stages[i].is_sink && s->stages[i].in < slowest)
            slowest = s->stages[i].in;
    return (slowest == UINT64_MAX ? s->done : slowest) + s->dead_letters;
}

static void format_line(progress *p, const run_snapshot *s)
{
    size_t n = 0, size = sizeof p->line;
    for (size_t i = 0; i < s->n_stages && n < size; i++) {
        const snap_stage *st = &s->stages[i];
        n += snprintf(p->line + n, size - n, "%s%s %llu", n ? " > " : "", st->name,
                      (unsigned long long)(st->is_source ? st->out : st->in));
    }
    uint64_t done = arrived(s), total = sources_total(s);
    double elapsed = s->wall_seconds;
    double rate = elapsed > 0 ? done / elapsed : 0;
    if (n < size && total)
        n += snprintf(p->line + n, size - n, " | %llu/%llu %.0f%%", (unsigned long long)done,
                      (unsigned long long)total, 100.0 * done / total);
    else if (n < size)
        n += snprintf(p->line + n, size - n, " | %llu", (unsigned long long)done);
    if (n < size)
        n += snprintf(p->line + n, size - n, " dead %llu %.1f/s",
                      (unsigned long long)s->dead_letters, rate);
    if (total && rate > 0 && n < size && total >= done) {
        double eta = (total - done) / rate;
        snprintf(p->line + n, size - n, " ETA %d:%02d", (int)eta / 60, (int)eta % 60);
    }
}

progress *progress_start(const run_snapshot *s)
{
    if (!isatty(STDERR_FILENO) || log_get_level() < FR_LOG_INFO || log_get_format() == LOG_JSON)
        return NULL;
    progress *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    log_set_status_line(clear_line, redraw_line, p);
    progress_update(p, s);
    return p;
}

void progress_update(progress *p, const run_snapshot *s)
{
    if (!p)
        return;
    clear_line(p);
    format_line(p, s);
    redraw_line(p);
}

void progress_stop(progress *p)
{
    if (!p)
        return;
    log_set_status_line(NULL, NULL, NULL);
    clear_line(p);
    fflush(stderr);
    free(p);
}
