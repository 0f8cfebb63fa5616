/*
 * source_internal.h — what source.c (items, filter, records) and watch.c
 * (rounds, pushed keys, waiting) share inside the source base.
 */
#ifndef FLOWRUN_SOURCE_INTERNAL_H
#define FLOWRUN_SOURCE_INTERNAL_H

#include "source.h"

/* A pushed key's pusher, told what became of it. */
typedef struct push_waiter {
    source_push_done done;
    void *user;
} push_waiter;

/* One item: waiting in the queue, or handed out (out) until emitted or
 * rejected.  The plugin's source_item pointer is the node's first member. */
typedef struct base_item {
    source_item it;
    struct base_item *prev, *next;
    int64_t modified_ms;  /* the upload's time (Unix ms), 0 when unknown: the lag */
    push_waiter *waiters; /* owned: pushes of this key and version */
    size_t n_waiters;
} base_item;

typedef struct item_list {
    base_item *head, *tail;
    size_t n;
} item_list;

struct source_base {
    fr_stage *st;
    char *suffix; /* owned */
    char media[16];
    uint64_t limit, kept; /* kept: keys past the suffix filter, over all replicas */
    uint32_t instance, replicas;
    int on_change;        /* source_on_change */
    item_list queue, out; /* waiting (pushed ones first), handed out */
    size_t pushed_open;   /* items in queue or out that have waiters */
    size_t waiting_peak;  /* the most items ever waiting (metric waiting_peak) */
    source_watch *watch;  /* owned; NULL: the base lists once */
};

/* 1 when key (at version) passes the suffix and folder-marker filter. */
int source_base_wanted(const source_base *b, const char *key);
/* A new item for key (strings copied); NULL when out of memory. */
base_item *source_item_new(const char *key, const char *version, uint64_t size,
                           const char *modified);
void source_item_free(base_item *i);
void item_list_push_back(item_list *l, base_item *i);
void item_list_push_front(item_list *l, base_item *i);
void item_list_remove(item_list *l, base_item *i);
/* Queues i (at the front: a pushed key) and keeps waiting_peak. */
void source_base_enqueue(source_base *b, base_item *i, int front);
/* The item for key at version in the queue or out, or NULL. */
base_item *source_base_find(source_base *b, const char *key, const char *version);
/* Tells i's pushers outcome and forgets them. */
void source_item_settle(source_base *b, base_item *i, source_push_outcome outcome);

/* watch.c */
/* Moves pushed keys into the queue (front), answering duplicates; keeps
 * the lag metric current. */
void watch_take_pushed(source_base *b);
/* The round's listing is complete. */
void watch_round_listed(source_base *b);
/* A listed key was offered: 1 when the page is full (stop listing). */
int watch_offered(source_watch *w, const char *key);
/* The run ends: every push not yet recorded is DROPPED; frees w. */
void watch_free(source_watch *w);

#endif
