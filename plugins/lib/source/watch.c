/*
 * watch.c — a source that keeps watching its store: listing rounds every
 * period, a page at a time (memory holds a page, never the bucket), keys
 * pushed by another thread (a notification listener), and the wait
 * between them: period elapsed, key pushed or input ended, whichever
 * comes first, with no polling (fr_wait on an eventfd the pusher writes).
 *
 * Exactly once across rounds and pushes rests on the ledger: before a
 * round lists again, and before pushed keys are looked up, the base waits
 * for the ledger to hold every key emitted so far (fr_ledger_sync), so
 * the ledger answers FR_KEY_SENT for them; keys waiting or being read are
 * matched by key and version in the base's own lists.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "source_internal.h"

#define PAGE_KEYS     1000 /* keys offered per list_due call, S3's page */
#define LAG_REPORT_MS 1000 /* how often the lag metric is refreshed */

/* A key handed in by the pusher, not yet taken by the source's thread. */
typedef struct pushed_key {
    char *key, *version, *modified; /* owned */
    uint64_t size;
    push_waiter waiter;
} pushed_key;

struct source_watch {
    /* Shared with the pusher, under mutex. */
    pthread_mutex_t mutex;
    pushed_key *pushed; /* owned */
    size_t n_pushed, cap_pushed;
    int closed; /* the base is going away: pushes fail */
    int wake;   /* eventfd: written by each push, read when they are taken */
    /* The source's thread only. */
    source_base *b;
    int64_t period_ms;
    int64_t round_start_ms; /* when the current (or last) round began */
    uint64_t rounds_listed; /* rounds whose listing completed */
    int listing;            /* a round's listing is under way */
    char *after;            /* owned: the last key offered in this round, NULL at its start */
    size_t offered;         /* keys offered since the last list_due */
    int64_t lag_at_ms;      /* when lag was last reported */
};

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void pushed_free(pushed_key *p)
{
    free(p->key);
    free(p->version);
    free(p->modified);
}

int source_base_watch_config(source_base *b, char *err, size_t err_size)
{
    fr_stage *st = b->st;
    b->on_change = fr_config_enum(st, "on_change");
    int64_t period = fr_config_int(st, "watch");
    if (period <= 0)
        return 0; /* a batch run keeps no journal (docs/watch.md) */
    if (b->replicas > 1 || b->limit) {
        snprintf(err, err_size, "watch: %s: a watching source is one instance without a limit",
                 b->replicas > 1 ? "replicas above 1" : "limit");
        return -1;
    }
    source_watch *w = calloc(1, sizeof *w);
    if (!w || (w->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
        snprintf(err, err_size, "watch: cannot make an eventfd: %s", strerror(errno));
        free(w);
        return -1;
    }
    pthread_mutex_init(&w->mutex, NULL);
    w->b = b;
    w->period_ms = period;
    w->listing = 1; /* the first round lists at once */
    w->round_start_ms = now_ms();
    b->watch = w;
    fr_set_continuous(st);
    return source_journal_open(b, err, err_size) < 0 ? -1 : 1;
}

int source_base_watching(const source_base *b)
{
    return b->watch != NULL;
}

source_watch *source_base_pushes(source_base *b)
{
    return b->watch;
}

/* ---- the pusher's side (any thread) ----------------------------------- */

int source_watch_push(source_watch *w, const char *key, const char *version, uint64_t size,
                      const char *modified, source_push_done done, void *user)
{
    pushed_key p = {strdup(key),
                    strdup(version ? version : ""),
                    modified ? strdup(modified) : NULL,
                    size,
                    {done, user}};
    int rc = -1;
    pthread_mutex_lock(&w->mutex);
    if (!w->closed && p.key && p.version && (p.modified || !modified)) {
        if (w->n_pushed == w->cap_pushed) {
            size_t cap = w->cap_pushed ? 2 * w->cap_pushed : 64;
            pushed_key *grown = realloc(w->pushed, cap * sizeof *grown);
            if (grown) {
                w->pushed = grown;
                w->cap_pushed = cap;
            }
        }
        if (w->n_pushed < w->cap_pushed) {
            w->pushed[w->n_pushed++] = p;
            rc = 0;
            uint64_t one = 1;
            if (write(w->wake, &one, sizeof one) < 0) {
                /* EAGAIN: the counter is full, so it is readable already */
            }
        }
    }
    pthread_mutex_unlock(&w->mutex);
    if (rc != 0)
        pushed_free(&p);
    return rc;
}

/* ---- the source's side ------------------------------------------------- */

int source_item_add_waiter(source_base *b, base_item *i, const push_waiter *waiter)
{
    push_waiter *grown = realloc(i->waiters, (i->n_waiters + 1) * sizeof *grown);
    if (!grown)
        return -1;
    if (!i->n_waiters)
        b->pushed_open++;
    i->waiters = grown;
    i->waiters[i->n_waiters++] = *waiter;
    return 0;
}

/* One pushed key: answered now (a duplicate, not ours, already in the
 * ledger), joined to the same key waiting or being read, or queued first. */
static void take_one(source_base *b, pushed_key *p)
{
    if (!source_base_wanted(b, p->key)) {
        p->waiter.done(p->waiter.user, SOURCE_PUSH_IGNORED);
        return;
    }
    /* Every key whose pusher is told RECORDED is journalled first, also one
     * the listing found waiting (journalled once), so a crash before its
     * commit cannot leave it pending forever.  One being read or sent by
     * this run was journalled when handed out. */
    base_item *same = source_base_find(b, p->key, p->version);
    if (same) { /* synced before the answer, at its emit */
        if (source_journal_item(b, same) != 0 || source_item_add_waiter(b, same, &p->waiter) != 0)
            p->waiter.done(p->waiter.user, SOURCE_PUSH_DROPPED);
        return;
    }
    fr_key_state state = fr_key_state_of(b->st, p->key, p->version);
    if (state == FR_KEY_CHANGED && b->on_change == SOURCE_IGNORE) {
        p->waiter.done(p->waiter.user, SOURCE_PUSH_IGNORED);
        return;
    }
    if (state == FR_KEY_SENT) { /* sent by this run, not yet done: a duplicate delivery */
        int synced = source_journal_sync(b) == 0;
        p->waiter.done(p->waiter.user, synced ? SOURCE_PUSH_RECORDED : SOURCE_PUSH_DROPPED);
        return;
    }
    if (state >= FR_KEY_DONE) { /* done, dead or held: a duplicate delivery */
        p->waiter.done(p->waiter.user, SOURCE_PUSH_RECORDED);
        return;
    }
    base_item *i = source_item_new(p->key, p->version, p->size, p->modified);
    if (!i || source_journal_item(b, i) != 0 || source_item_add_waiter(b, i, &p->waiter) != 0) {
        source_item_free(i);
        p->waiter.done(p->waiter.user, SOURCE_PUSH_DROPPED);
        return;
    }
    source_base_enqueue(b, i, 1);
    fr_metric_add(b->st, "keys_seen", 1);
    fr_metric_add(b->st, "keys_pushed", 1);
}

/* The oldest upload waiting or being read, in seconds (0: none known). */
static double oldest_age(const source_base *b)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    int64_t now = (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000, oldest = 0;
    const item_list *lists[2] = {&b->queue, &b->out};
    for (int k = 0; k < 2; k++)
        for (const base_item *i = lists[k]->head; i; i = i->next)
            if (i->modified_ms && (!oldest || i->modified_ms < oldest))
                oldest = i->modified_ms;
    return oldest && now > oldest ? (double)(now - oldest) / 1000.0 : 0.0;
}

/* Keeps the gauge lag_seconds at the oldest waiting upload's age. */
static void report_lag(source_base *b)
{
    source_watch *w = b->watch;
    int64_t now = now_ms();
    if (now - w->lag_at_ms < LAG_REPORT_MS)
        return;
    fr_gauge_set(b->st, "lag_seconds", oldest_age(b));
    w->lag_at_ms = now;
}

void watch_take_pushed(source_base *b)
{
    source_watch *w = b->watch;
    uint64_t count;
    report_lag(b);
    pthread_mutex_lock(&w->mutex);
    pushed_key *taken = w->pushed;
    size_t n = w->n_pushed;
    w->pushed = NULL;
    w->n_pushed = w->cap_pushed = 0;
    if (read(w->wake, &count, sizeof count) < 0) {
        /* EAGAIN: nothing was pushed since the last take */
    }
    pthread_mutex_unlock(&w->mutex);
    if (!n)
        return;
    /* Keys emitted so far are in the ledger before it is asked (SENT). */
    int synced = fr_ledger_sync(b->st) == 0;
    for (size_t k = 0; k < n; k++) {
        if (synced)
            take_one(b, &taken[k]);
        else
            taken[k].waiter.done(taken[k].waiter.user, SOURCE_PUSH_DROPPED);
        pushed_free(&taken[k]);
    }
    free(taken);
}

int watch_offered(source_watch *w, const char *key)
{
    char *copy = strdup(key);
    if (copy) { /* out of memory: the next page starts earlier, the ledger skips the repeats */
        free(w->after);
        w->after = copy;
    }
    return ++w->offered >= PAGE_KEYS;
}

int source_base_list_due(source_base *b)
{
    source_watch *w = b->watch;
    if (!w || !w->listing || b->queue.n >= PAGE_KEYS)
        return 0;
    w->offered = 0;
    return 1;
}

const char *source_base_list_after(const source_base *b)
{
    return b->watch ? b->watch->after : NULL;
}

/* The round's listing ended (complete or failed). */
static void round_end(source_watch *w)
{
    w->listing = 0;
    free(w->after);
    w->after = NULL;
}

void source_base_list_failed(source_base *b)
{
    if (b->watch)
        round_end(b->watch);
}

void watch_round_listed(source_base *b)
{
    source_watch *w = b->watch;
    round_end(w);
    fr_log(b->st, FR_LOG_DEBUG, "watch: round %llu listed: %llu new keys",
           (unsigned long long)++w->rounds_listed, (unsigned long long)b->round_new);
    b->round_new = 0;
}

fr_status source_base_wait(source_base *b)
{
    source_watch *w = b->watch;
    if (!w)
        return FR_DONE;
    w->lag_at_ms = 0; /* nothing waits: the lag drops to 0 now */
    report_lag(b);
    int64_t now = now_ms();
    if (w->listing)
        return FR_OK;
    int64_t due = w->round_start_ms + w->period_ms;
    if (now >= due) {
        /* A new round: the keys emitted so far are in the ledger first, so
         * listing them again finds them SENT. */
        if (fr_ledger_sync(b->st) != 0)
            return fr_fail(b->st, FR_FATAL, "the ledger cannot be written: stopping the watch");
        w->listing = 1;
        w->round_start_ms = now;
        return FR_OK;
    }
    /* Returns on a push, a commit delivery, the end of the input or the
     * round's time; produce is called again and decides. */
    return fr_wait(b->st, w->wake, due - now);
}

void watch_free(source_watch *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mutex);
    w->closed = 1;
    pushed_key *left = w->pushed;
    size_t n = w->n_pushed;
    w->pushed = NULL;
    w->n_pushed = 0;
    pthread_mutex_unlock(&w->mutex);
    for (size_t k = 0; k < n; k++) {
        left[k].waiter.done(left[k].waiter.user, SOURCE_PUSH_DROPPED);
        pushed_free(&left[k]);
    }
    free(left);
    close(w->wake);
    pthread_mutex_destroy(&w->mutex);
    free(w->after);
    free(w);
}
