/*
 * group.c — replicas of one stage in one process combining their partial
 * states in rounds (see stats.h, "groups").
 *
 * A process-wide list of groups, found by name under registry_lock.  Each
 * group has its own lock and condition variable.  In a round every member
 * that has not finished merges its part into the shared accumulator and
 * waits on a ticket (on its own stack, linked into the group); the member
 * whose arrival completes the round gives every ticket its own copy of the
 * accumulator and wakes them all.  So a member never reads the accumulator
 * after the round, and the next round may start at once.  Waits are
 * bounded slices that ask the caller whether the run is stopping, and a
 * member leaving before it finished breaks the group for all: no wait
 * outlives the run.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats.h"

/* How often a waiting member asks whether the run is stopping. */
#define GROUP_POLL_MS 50

typedef struct ticket {
    struct ticket *next;
    void *result; /* the member's copy, once ready */
    uint64_t round;
    int ready, failed;
} ticket;

typedef struct group {
    struct group *next;         /* registry list, under registry_lock */
    char *name;                 /* owned */
    uint32_t members, joined;   /* joined: refcount, under registry_lock */
    const stats_group_ops *ops; /* borrowed (static in the caller) */
    pthread_mutex_t lock;       /* everything below */
    pthread_cond_t cond;
    void *acc;      /* owned through ops, NULL before any part */
    uint64_t round; /* rounds completed */
    uint32_t arrived, arrived_done, done;
    int broken;      /* a member left before finishing */
    ticket *tickets; /* members waiting in this round */
} group;

struct stats_group {
    group *g;
    int done;    /* this member made its last contribution */
    int waiting; /* t is linked into the group's round */
    ticket t;    /* under g->lock while waiting */
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static group *registry;

static void group_destroy(group *g)
{
    if (g->acc)
        g->ops->free(g->acc);
    pthread_cond_destroy(&g->cond);
    pthread_mutex_destroy(&g->lock);
    free(g->name);
    free(g);
}

static group *group_create(const char *name, uint32_t members, const stats_group_ops *ops)
{
    group *g = calloc(1, sizeof *g);
    pthread_condattr_t attr;
    if (!g || !(g->name = strdup(name))) {
        free(g);
        return NULL;
    }
    g->members = members;
    g->ops = ops;
    pthread_mutex_init(&g->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cond, &attr);
    pthread_condattr_destroy(&attr);
    return g;
}

stats_group *stats_group_join(const char *name, uint32_t members, const stats_group_ops *ops,
                              char *err, size_t err_size)
{
    stats_group *m = calloc(1, sizeof *m);
    group *g;
    if (!m)
        goto fail;
    pthread_mutex_lock(&registry_lock);
    /* A finished or broken group of an earlier run with the same name is
     * not joined: its members are on their way out. */
    for (g = registry; g; g = g->next) {
        pthread_mutex_lock(&g->lock);
        int open = !g->broken && g->done < g->members;
        pthread_mutex_unlock(&g->lock);
        if (open && strcmp(g->name, name) == 0 && g->members == members && g->ops == ops)
            break;
    }
    if (!g && (g = group_create(name, members, ops))) {
        g->next = registry;
        registry = g;
    }
    if (g)
        g->joined++;
    pthread_mutex_unlock(&registry_lock);
    if (!g)
        goto fail;
    m->g = g;
    return m;
fail:
    snprintf(err, err_size, "joining the replicas of %s: out of memory", name);
    free(m);
    return NULL;
}

static void unlink_ticket(group *g, ticket *t);

void stats_group_leave(stats_group *m)
{
    if (!m)
        return;
    group *g = m->g;
    pthread_mutex_lock(&g->lock);
    if (m->waiting && !m->t.ready)
        unlink_ticket(g, &m->t);
    if (m->waiting && m->t.result)
        g->ops->free(m->t.result);
    if (!m->done || (m->waiting && !m->t.ready)) {
        g->broken = 1;
        pthread_cond_broadcast(&g->cond);
    }
    pthread_mutex_unlock(&g->lock);
    pthread_mutex_lock(&registry_lock);
    if (--g->joined == 0) {
        group **p = &registry;
        while (*p != g)
            p = &(*p)->next;
        *p = g->next;
        group_destroy(g);
    }
    pthread_mutex_unlock(&registry_lock);
    free(m);
}

/* Under g->lock: the round is complete when every member that had not
 * finished before it has arrived. */
static void complete_if_all(group *g)
{
    if (g->arrived + (g->done - g->arrived_done) < g->members)
        return;
    g->round++;
    for (ticket *t = g->tickets; t; t = t->next) {
        t->result = g->acc ? g->ops->copy(g->acc) : NULL;
        t->failed = g->acc && !t->result;
        t->round = g->round;
        t->ready = 1;
    }
    g->tickets = NULL;
    if (g->acc && !g->ops->cumulative) {
        g->ops->free(g->acc);
        g->acc = NULL;
    }
    g->arrived = g->arrived_done = 0;
    pthread_cond_broadcast(&g->cond);
}

static void unlink_ticket(group *g, ticket *t)
{
    for (ticket **p = &g->tickets; *p; p = &(*p)->next)
        if (*p == t) {
            *p = t->next;
            return;
        }
}

int stats_group_arrive(stats_group *m, void *part, int last, int want, char *err, size_t err_size)
{
    group *g = m->g;
    int rc = 0;
    if (m->done || m->waiting) {
        snprintf(err, err_size, "replicas of %s: a member arrived %s", g->name,
                 m->done ? "after its last part" : "twice in a round");
        return -1;
    }
    pthread_mutex_lock(&g->lock);
    if (g->broken) {
        snprintf(err, err_size, "replicas of %s: another replica stopped before contributing",
                 g->name);
        rc = -1;
    } else if (part && g->ops->merge(&g->acc, part, err, err_size) < 0) {
        rc = -1;
    } else {
        g->arrived++;
        if (last) {
            m->done = 1;
            g->done++;
            g->arrived_done++;
        }
        if (want) {
            m->t = (ticket){.next = g->tickets};
            g->tickets = &m->t;
            m->waiting = 1;
        }
        complete_if_all(g);
    }
    pthread_mutex_unlock(&g->lock);
    return rc;
}

int stats_group_ready(stats_group *m)
{
    pthread_mutex_lock(&m->g->lock);
    int ready = m->waiting && (m->t.ready || m->g->broken);
    pthread_mutex_unlock(&m->g->lock);
    return ready;
}

int stats_group_result(stats_group *m, void **result, uint64_t *round, int (*stop)(void *ctx),
                       void *stop_ctx, char *err, size_t err_size)
{
    group *g = m->g;
    int rc = 0;
    *result = NULL;
    if (!m->waiting) {
        snprintf(err, err_size, "replicas of %s: no round to wait for", g->name);
        return -1;
    }
    pthread_mutex_lock(&g->lock);
    while (!m->t.ready && !g->broken) {
        if ((rc = stop ? stop(stop_ctx) : 0) > 0)
            break;
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += GROUP_POLL_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        int w = pthread_cond_timedwait(&g->cond, &g->lock, &until);
        if (w != 0 && w != ETIMEDOUT) {
            snprintf(err, err_size, "replicas of %s: waiting: %s", g->name, strerror(w));
            rc = -1;
            break;
        }
    }
    if (!m->t.ready) {
        /* Stopped, failed or broken: out of the round; leaving breaks the
         * group for the others. */
        unlink_ticket(g, &m->t);
        m->done = 0;
        if (rc == 0) {
            snprintf(err, err_size, "replicas of %s: another replica stopped before contributing",
                     g->name);
            rc = -1;
        }
    } else if (m->t.failed) {
        snprintf(err, err_size, "replicas of %s: out of memory for the merged state", g->name);
        rc = -1;
    } else {
        *result = m->t.result;
        m->t.result = NULL;
        if (round)
            *round = m->t.round;
    }
    m->waiting = 0;
    pthread_mutex_unlock(&g->lock);
    if (m->t.result)
        g->ops->free(m->t.result);
    m->t.result = NULL;
    return rc;
}

int stats_group_sync(stats_group *m, void *part, int last, void **result, uint64_t *round,
                     int (*stop)(void *ctx), void *stop_ctx, char *err, size_t err_size)
{
    if (stats_group_arrive(m, part, last, result != NULL, err, err_size) < 0)
        return -1;
    return result ? stats_group_result(m, result, round, stop, stop_ctx, err, err_size) : 0;
}

/* ---- the parts: moments and extreme scores ---------------------------- */

static int moments_merge_part(void **acc, void *part, char *err, size_t err_size)
{
    stats_moments *from = part;
    if (!*acc && !(*acc = stats_moments_new(stats_moments_dim(from), stats_moments_has_cross(from),
                                            err, err_size)))
        return -1;
    return stats_moments_merge(*acc, from, err, err_size);
}

static void *moments_copy(void *acc)
{
    char err[256];
    stats_moments *from = acc,
                  *m = stats_moments_new(stats_moments_dim(from), stats_moments_has_cross(from),
                                         err, sizeof err);
    if (m && stats_moments_merge(m, from, err, sizeof err) < 0) {
        stats_moments_free(m);
        m = NULL;
    }
    return m;
}

static void moments_free_part(void *acc)
{
    stats_moments_free(acc);
}

const stats_group_ops stats_group_moments = {
    .merge = moments_merge_part,
    .copy = moments_copy,
    .free = moments_free_part,
    .cumulative = 1,
};

static void *extremes_copy(void *acc)
{
    const stats_extremes *from = acc;
    stats_extremes *e = calloc(1, sizeof *e);
    if (e && !(e->extreme = malloc(from->k * sizeof(float)))) {
        free(e);
        return NULL;
    }
    if (e) {
        e->k = from->k;
        e->seen = from->seen;
        memcpy(e->extreme, from->extreme, from->k * sizeof(float));
    }
    return e;
}

static void extremes_free(void *acc)
{
    stats_extremes *e = acc;
    if (e)
        free(e->extreme);
    free(e);
}

/* The score of largest magnitude over all members' rows. */
static int extremes_merge(void **acc, void *part, char *err, size_t err_size)
{
    stats_extremes *into = *acc, *from = part;
    if (from->seen == 0)
        return 0;
    if (!into) {
        if (!(*acc = extremes_copy(from))) {
            snprintf(err, err_size, "merging extreme scores: out of memory");
            return -1;
        }
        return 0;
    }
    if (into->k != from->k) {
        snprintf(err, err_size, "merging extreme scores of %u components into %u", from->k,
                 into->k);
        return -1;
    }
    for (uint32_t j = 0; j < into->k; j++)
        if (into->seen == 0 || fabsf(from->extreme[j]) > fabsf(into->extreme[j]))
            into->extreme[j] = from->extreme[j];
    into->seen += from->seen;
    return 0;
}

const stats_group_ops stats_group_extremes = {
    .merge = extremes_merge,
    .copy = extremes_copy,
    .free = extremes_free,
    .cumulative = 0,
};
