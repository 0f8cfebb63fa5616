#include "progress.h"

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
        n += snprintf(p->line + n, size - n, "%s%s %llu", o ? " > " : "", g->stages[s].cfg->name,
                      (unsigned long long)count);
    }
    double elapsed = seconds_since(&p->start);
    double rate = elapsed > 0 ? t->done / elapsed : 0;
    if (n < size)
        n += snprintf(p->line + n, size - n, " | done %llu dead %llu %.1f/s",
                      (unsigned long long)t->done, (unsigned long long)t->dead_letters, rate);
    uint64_t total = sources_total(r);
    if (total && rate > 0 && n < size && total >= t->done) {
        double eta = (total - t->done) / rate;
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
