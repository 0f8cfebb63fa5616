#include "commit_tracker.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    struct entry *next;
    size_t remaining;
    char id[];
} entry;

struct commit_tracker {
    entry **buckets;
    size_t n_buckets; /* a power of two */
    size_t count;
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

commit_tracker *tracker_new(void)
{
    commit_tracker *t = calloc(1, sizeof *t);
    if (t && !(t->buckets = calloc(t->n_buckets = 1024, sizeof *t->buckets))) {
        free(t);
        return NULL;
    }
    return t;
}

void tracker_free(commit_tracker *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_buckets; i++)
        while (t->buckets[i]) {
            entry *e = t->buckets[i];
            t->buckets[i] = e->next;
            free(e);
        }
    free(t->buckets);
    free(t);
}

static void grow(commit_tracker *t)
{
    size_t n = t->n_buckets * 2;
    entry **buckets = calloc(n, sizeof *buckets);
    if (!buckets)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < t->n_buckets; i++)
        while (t->buckets[i]) {
            entry *e = t->buckets[i];
            t->buckets[i] = e->next;
            e->next = buckets[hash(e->id) & (n - 1)];
            buckets[hash(e->id) & (n - 1)] = e;
        }
    free(t->buckets);
    t->buckets = buckets;
    t->n_buckets = n;
}

int tracker_add(commit_tracker *t, const char *id, size_t needed, size_t count)
{
    entry **slot = &t->buckets[hash(id) & (t->n_buckets - 1)];
    while (*slot && strcmp((*slot)->id, id) != 0)
        slot = &(*slot)->next;
    if (!*slot) {
        if (count >= needed)
            return 1;
        size_t len = strlen(id);
        entry *e = malloc(sizeof *e + len + 1);
        if (!e)
            return -1;
        memcpy(e->id, id, len + 1);
        e->remaining = needed - count;
        e->next = NULL;
        *slot = e;
        if (++t->count > t->n_buckets)
            grow(t);
        return 0;
    }
    entry *e = *slot;
    if (e->remaining > count) {
        e->remaining -= count;
        return 0;
    }
    *slot = e->next;
    free(e);
    t->count--;
    return 1;
}

size_t tracker_pending(const commit_tracker *t)
{
    return t->count;
}
