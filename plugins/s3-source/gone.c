/* gone.c — objects not found at their GET, tried again after a backoff
 * before they are dead-lettered (see s3_source.h). */
#include <stdlib.h>
#include <time.h>

#include "s3_source.h"

typedef struct gone_entry {
    source_item *item; /* owned by the base (handed out) */
    int64_t due_ms;    /* monotonic: when to GET it again */
    unsigned retries;  /* done so far, this one included */
} gone_entry;

struct source_gone {
    gone_entry *entries; /* owned; in the order deferred */
    size_t n, cap;
    unsigned max_retries;
    int64_t backoff_ms;
};

int64_t source_gone_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

source_gone *source_gone_new(unsigned max_retries, int64_t backoff_ms)
{
    source_gone *g = calloc(1, sizeof *g);
    if (g)
        *g = (source_gone){.max_retries = max_retries, .backoff_ms = backoff_ms};
    return g;
}

void source_gone_free(source_gone *g)
{
    if (g)
        free(g->entries);
    free(g);
}

int64_t source_gone_backoff_ms(int64_t backoff_ms, unsigned retry)
{
    int64_t wait = backoff_ms;
    for (unsigned i = 1; i < retry && wait < INT64_MAX / 2; i++)
        wait *= 2;
    return wait;
}

int source_gone_defer(source_gone *g, source_item *it, unsigned retries, int64_t now_ms,
                      int64_t *wait_ms)
{
    if (retries >= g->max_retries)
        return 0;
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 8;
        gone_entry *e = realloc(g->entries, cap * sizeof *e);
        if (!e)
            return -1;
        g->entries = e;
        g->cap = cap;
    }
    *wait_ms = source_gone_backoff_ms(g->backoff_ms, retries + 1);
    g->entries[g->n++] = (gone_entry){it, now_ms + *wait_ms, retries + 1};
    return 1;
}

source_item *source_gone_due(source_gone *g, int64_t now_ms, unsigned *retries)
{
    for (size_t i = 0; i < g->n; i++) {
        if (g->entries[i].due_ms > now_ms)
            continue;
        gone_entry e = g->entries[i];
        for (size_t j = i + 1; j < g->n; j++)
            g->entries[j - 1] = g->entries[j];
        g->n--;
        *retries = e.retries;
        return e.item;
    }
    return NULL;
}

int64_t source_gone_next_ms(const source_gone *g)
{
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < g->n; i++)
        if (g->entries[i].due_ms < next)
            next = g->entries[i].due_ms;
    return next;
}

size_t source_gone_waiting(const source_gone *g)
{
    return g->n;
}
