/*
 * source_internal.h — what source.c (items, filter, records) and watch.c
 * (rounds, pushed keys, waiting) share inside the source base.
 */
#ifndef FLOWRUN_SOURCE_INTERNAL_H
#define FLOWRUN_SOURCE_INTERNAL_H

#include "source.h"

typedef struct pending_journal pending_journal;

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
    int journalled; /* its entry is in the journal (journal.c) */
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
    int on_change;            /* source_on_change */
    item_list queue, out;     /* waiting (pushed ones first), handed out */
    size_t pushed_open;       /* items in queue or out that have waiters */
    size_t waiting_peak;      /* the most items ever waiting (metric waiting_peak) */
    uint64_t round_new;       /* keys the current round's listing found new */
    source_watch *watch;      /* owned; NULL: the base lists once */
    pending_journal *journal; /* owned: keys in flight; NULL without a state dir */
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

/* Adds a pusher to i's (a copy of *waiter).  0, or -1 out of memory. */
int source_item_add_waiter(source_base *b, base_item *i, const push_waiter *waiter);

/* ---- keys in flight kept until done (pending.c) ----
 * A source with a state directory (one instance) journals every key it
 * pushes or hands out before the ledger hears it sent, durably before a
 * pusher is answered; at start it reads again each journalled key the
 * ledger has not done, dead-lettered or held. */
/* The journal <dir>/pushed-keys (not read yet); NULL when out of memory. */
pending_journal *pending_open(const char *dir);
void pending_close(pending_journal *j);
/* Whether an entry stays: 1 keep, 0 drop, -1 error (strings borrowed). */
typedef int (*pending_keep_fn)(void *user, const char *key, const char *version,
                               const char *modified, uint64_t size);
/* Rewrites the journal with the entries keep() wants (atomically,
 * durably) and opens it for appending.  0, or -1 with err. */
int pending_rewrite(pending_journal *j, pending_keep_fn keep, void *user, char *err,
                    size_t err_size);
/* Appends an entry (strings borrowed; modified may be NULL).  0 or -1. */
int pending_append(pending_journal *j, const char *key, const char *version, const char *modified,
                   uint64_t size);
/* Writes every entry appended so far to the kernel (no fsync).  0 or -1. */
int pending_flush(pending_journal *j);
/* Makes every entry appended so far durable.  0 or -1. */
int pending_sync(pending_journal *j);
/* 1 when enough was appended since the last rewrite to rewrite it. */
int pending_rewrite_due(const pending_journal *j);
/* The base's side (journal.c); each 0 (also without a journal) or -1. */
/* Opens the journal with a state directory, queueing its keys not done. */
int source_journal_open(source_base *b, char *err, size_t err_size);
/* Appends i's entry unless it has one. */
int source_journal_item(source_base *b, base_item *i);
/* Hands the entries to the kernel: before the ledger hears them sent. */
int source_journal_flush(source_base *b);
/* Makes the entries durable: before a pusher is told. */
int source_journal_sync(source_base *b);
/* Drops finished entries when enough were appended since the last time. */
void source_journal_compact(source_base *b);

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
