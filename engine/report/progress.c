#include "progress.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

struct progress {
    const run *r;
    char line[512];
    struct timespec start;
};

static double seconds_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - t0->tv_sec) + (now.tv_nsec - t0->tv_nsec) / 1e9;
}

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

static uint64_t sum_counter(const run *r, size_t s, int out)
{
    uint64_t n = 0;
    for (size_t i = 0; i < r->n_instances; i++)
        if (r->instances[i].stage_index == s)
            n += atomic_load(out ? &r->instances[i].counters.out : &r->instances[i].counters.in);
    return n;
}

static uint64_t sources_total(const run *r)
{
    uint64_t total = 0;
    for (size_t i = 0; i < r->n_instances; i++)
        if (!r->graph->stages[r->instances[i].stage_index].n_inputs)
            total += __atomic_load_n(&r->instances[i].stage.total, __ATOMIC_RELAXED);
    return total;
}

/* Records that reached the end: the slowest local sink's input count (sinks
 * commit only when their file is complete, so commits come too late to show
 * progress), plus the dead letters. */
static uint64_t arrived(const run *r, const run_tally *t)
{
    const graph *g = r->graph;
    uint64_t slowest = UINT64_MAX;
    for (size_t s = 0; s < g->n_stages; s++)
        if (run_is_local(r, s) && !g->stages[s].plugin->desc.output) {
            uint64_t n = sum_counter(r, s, 0);
            slowest = n < slowest ? n : slowest;
        }
    return (slowest == UINT64_MAX ? t->done : slowest) + t->dead_letters;
}

static void format_line(progress *p, const run_tally *t)
{
    const run *r = p->r;
    const graph *g = r->graph;
    size_t n = 0, size = sizeof p->line;
    for (size_t o = 0; o < g->n_stages && n < size; o++) {
        size_t s = g->order[o];
        if (!run_is_local(r, s))
            continue;
        uint64_t count = sum_counter(r, s, !g->stages[s].n_inputs);
        n += snprintf(p->line + n, size - n, "%s%s %llu", n ? " > " : "", g->stages[s].cfg->name,
                      (unsigned long long)count);
    }
    uint64_t done = arrived(r, t), total = sources_total(r);
    double elapsed = seconds_since(&p->start);
    double rate = elapsed > 0 ? done / elapsed : 0;
    if (n < size && total)
        n += snprintf(p->line + n, size - n, " | %llu/%llu %.0f%%", (unsigned long long)done,
                      (unsigned long long)total, 100.0 * done / total);
    else if (n < size)
        n += snprintf(p->line + n, size - n, " | %llu", (unsigned long long)done);
    if (n < size)
        n += snprintf(p->line + n, size - n, " dead %llu %.1f/s",
                      (unsigned long long)t->dead_letters, rate);
    if (atomic_load(&r->continuous) && n < size) {
        run_watch w = run_watch_figures(r);
        n += snprintf(p->line + n, size - n, " | watching: seen %.0f lag %.0fs%s", w.seen, w.lag,
                      atomic_load(&r->draining) ? " (ending)" : "");
        return; /* no ETA: the input never ends */
    }
    if (total && rate > 0 && n < size && total >= done) {
        double eta = (total - done) / rate;
        snprintf(p->line + n, size - n, " ETA %d:%02d", (int)eta / 60, (int)eta % 60);
    }
}

progress *progress_start(const run *r, const run_tally *t)
{
    if (!isatty(STDERR_FILENO) || log_get_level() < FR_LOG_INFO)
        return NULL;
    progress *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->r = r;
    clock_gettime(CLOCK_MONOTONIC, &p->start);
    log_set_status_line(clear_line, redraw_line, p);
    progress_update(p, t);
    return p;
}

void progress_update(progress *p, const run_tally *t)
{
    if (!p)
        return;
    clear_line(p);
    format_line(p, t);
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
