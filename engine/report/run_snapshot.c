/*
 * run_snapshot.c — freeing a snapshot, its names, and the board it is
 * published on.
 */
#include "run_snapshot.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "monotonic.h"

const snap_stage *run_snapshot_most_stalled(const run_snapshot *s)
{
    const snap_stage *most = NULL;
    for (size_t i = 0; i < s->n_stages; i++)
        if (!most || s->stages[i].stalled_s > most->stalled_s)
            most = &s->stages[i];
    return most;
}

double batch_bound(unsigned i)
{
    return (double)(1u << i);
}

const char *dead_class_name(dead_class c)
{
    static const char *const names[DEAD_CLASS_COUNT] = {"rejected", "retries_exhausted",
                                                        "type_mismatch"};
    return c < DEAD_CLASS_COUNT ? names[c] : "rejected";
}

const char *snap_phase_name(snap_phase p)
{
    static const char *const names[] = {"starting", "joining", "flowing",
                                        "stopping", "failed",  "finished"};
    return p <= SNAP_FINISHED ? names[p] : "failed";
}

void run_snapshot_free(run_snapshot *s)
{
    for (size_t i = 0; i < s->n_stages; i++) {
        snap_stage *st = &s->stages[i];
        for (size_t m = 0; m < st->n_metrics; m++)
            free(st->metrics[m].name);
        for (size_t r = 0; r < st->n_reports; r++) {
            free(st->reports[r].name);
            free(st->reports[r].json);
        }
        free(st->metrics);
        free(st->reports);
    }
    free(s->stages);
    free(s->nodes);
    memset(s, 0, sizeof *s);
}

static double metric(const snap_stage *st, const char *name)
{
    for (size_t m = 0; m < st->n_metrics; m++)
        if (strcmp(st->metrics[m].name, name) == 0)
            return st->metrics[m].value;
    return 0;
}

snap_watch run_snapshot_watch(const run_snapshot *s)
{
    snap_watch w = {0};
    for (size_t i = 0; i < s->n_stages; i++) {
        const snap_stage *st = &s->stages[i];
        if (!st->is_source)
            continue;
        w.seen += metric(st, "keys_seen");
        w.read += metric(st, "objects");
        w.dead += metric(st, "objects_failed");
        double lag = metric(st, "lag_seconds");
        w.lag = lag > w.lag ? lag : w.lag;
    }
    return w;
}

const snap_stage *run_snapshot_stage(const run_snapshot *s, const char *name)
{
    for (size_t i = 0; i < s->n_stages; i++)
        if (strcmp(s->stages[i].name, name) == 0)
            return &s->stages[i];
    return NULL;
}

void snapshot_board_init(snapshot_board *b)
{
    memset(b, 0, sizeof *b);
    pthread_mutex_init(&b->lock, NULL);
    monotonic_cond_init(&b->published);
}

void snapshot_board_free(snapshot_board *b)
{
    run_snapshot_free(&b->current);
    pthread_cond_destroy(&b->published);
    pthread_mutex_destroy(&b->lock);
}

void snapshot_board_publish(snapshot_board *b, run_snapshot *s)
{
    pthread_mutex_lock(&b->lock);
    run_snapshot old = b->current;
    b->current = *s;
    b->generation++;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    __atomic_store_n(&b->published_ns, (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec,
                     __ATOMIC_RELAXED);
    pthread_cond_broadcast(&b->published);
    pthread_mutex_unlock(&b->lock);
    run_snapshot_free(&old);
    memset(s, 0, sizeof *s);
}

uint64_t snapshot_board_read_fresh(snapshot_board *b,
                                   void (*read)(void *ctx, const run_snapshot *s), void *ctx,
                                   unsigned wait_ms)
{
    struct timespec until = monotonic_after((uint64_t)wait_ms * 1000000u);
    pthread_mutex_lock(&b->lock);
    uint64_t asked = b->generation;
    while (b->generation == asked && pthread_cond_timedwait(&b->published, &b->lock, &until) == 0)
        ;
    uint64_t generation = b->generation;
    if (generation)
        read(ctx, &b->current);
    pthread_mutex_unlock(&b->lock);
    return generation;
}
