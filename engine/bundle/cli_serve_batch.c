/*
 * cli_serve_batch.c — the batcher (cli_serve_batch.h): one mutex, a FIFO of
 * items, one thread running the chain.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_serve_batch.h"

enum { ITEM_QUEUED = 1, ITEM_TAKEN = 2, ITEM_DONE = 3 };

struct batcher {
    chain *chain; /* borrowed */
    int max_batch, max_delay_ms;
    size_t cap, queued;
    batch_item *head, *tail; /* the FIFO, linked through next */
    int stopping;
    pthread_mutex_t lock;
    pthread_cond_t work; /* items arrived, or stopping */
    pthread_cond_t done; /* a batch finished */
    pthread_t thread;
    batch_observer observe;
    void *observe_ctx;
};

static struct timespec deadline_in(int64_t ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += (time_t)(ms / 1000);
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/* Takes up to max_batch items off the queue (under the lock). */
static size_t batcher_take(batcher *b, batch_item **taken)
{
    size_t n = 0;
    while (b->head && n < (size_t)b->max_batch) {
        batch_item *it = b->head;
        b->head = it->next;
        it->state = ITEM_TAKEN;
        taken[n++] = it;
    }
    if (!b->head)
        b->tail = NULL;
    b->queued -= n;
    return n;
}

/* Runs one batch (without the lock), then marks it done. */
static void batcher_run(batcher *b, batch_item **taken, size_t n, chain_photo *photos,
                        chain_answer *answers)
{
    for (size_t i = 0; i < n; i++) {
        photos[i] = taken[i]->photo;
        answers[i] = taken[i]->answer;
    }
    chain_classify(b->chain, photos, n, answers);
    if (b->observe)
        b->observe(b->observe_ctx, n);
    pthread_mutex_lock(&b->lock);
    for (size_t i = 0; i < n; i++) {
        taken[i]->answer = answers[i];
        taken[i]->state = ITEM_DONE;
    }
    pthread_cond_broadcast(&b->done);
}

static void *batcher_main(void *arg)
{
    batcher *b = arg;
    batch_item **taken = calloc((size_t)b->max_batch, sizeof *taken);
    chain_photo *photos = calloc((size_t)b->max_batch, sizeof *photos);
    chain_answer *answers = calloc((size_t)b->max_batch, sizeof *answers);
    pthread_mutex_lock(&b->lock);
    while (taken && photos && answers) {
        while (!b->head && !b->stopping)
            pthread_cond_wait(&b->work, &b->lock);
        if (!b->head)
            break; /* stopping, queue empty */
        /* The first photo waits up to max_delay_ms for others to join it. */
        struct timespec until = deadline_in(b->max_delay_ms);
        while (b->queued < (size_t)b->max_batch && !b->stopping &&
               pthread_cond_timedwait(&b->work, &b->lock, &until) != ETIMEDOUT)
            ;
        size_t n = batcher_take(b, taken);
        pthread_mutex_unlock(&b->lock);
        if (n)
            batcher_run(b, taken, n, photos, answers);
        else
            pthread_mutex_lock(&b->lock);
    }
    pthread_mutex_unlock(&b->lock);
    free(answers);
    free(photos);
    free(taken);
    return NULL;
}

batcher *batcher_start(chain *c, int max_batch, int max_delay_ms, size_t queue_cap,
                       batch_observer observe, void *observe_ctx, char *err, size_t err_size)
{
    batcher *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    *b = (batcher){.chain = c,
                   .max_batch = max_batch,
                   .max_delay_ms = max_delay_ms,
                   .cap = queue_cap,
                   .observe = observe,
                   .observe_ctx = observe_ctx};
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->work, &ca);
    pthread_cond_init(&b->done, &ca);
    pthread_condattr_destroy(&ca);
    int rc = pthread_create(&b->thread, NULL, batcher_main, b);
    if (rc != 0) {
        snprintf(err, err_size, "starting the batcher thread: %s", strerror(rc));
        pthread_cond_destroy(&b->done);
        pthread_cond_destroy(&b->work);
        pthread_mutex_destroy(&b->lock);
        free(b);
        return NULL;
    }
    return b;
}

/* Removes the items of a request still queued (under the lock). */
static void batcher_withdraw(batcher *b, batch_item *items, size_t n)
{
    batch_item **link = &b->head, *last = NULL;
    while (*link) {
        batch_item *it = *link;
        if (it >= items && it < items + n) {
            *link = it->next;
            b->queued--;
            it->state = 0;
            continue;
        }
        last = it;
        link = &it->next;
    }
    b->tail = last;
}

static int batcher_all(const batch_item *items, size_t n, int state)
{
    for (size_t i = 0; i < n; i++)
        if (items[i].state != state)
            return 0;
    return 1;
}

batch_result batcher_submit(batcher *b, batch_item *items, size_t n, int64_t timeout_ms)
{
    pthread_mutex_lock(&b->lock);
    if (b->stopping || b->queued + n > b->cap) {
        batch_result r = b->stopping ? BATCH_STOPPING : BATCH_FULL;
        pthread_mutex_unlock(&b->lock);
        return r;
    }
    for (size_t i = 0; i < n; i++) {
        items[i].state = ITEM_QUEUED;
        items[i].next = NULL;
        if (b->tail)
            b->tail->next = &items[i];
        else
            b->head = &items[i];
        b->tail = &items[i];
    }
    b->queued += n;
    pthread_cond_signal(&b->work);
    struct timespec until = deadline_in(timeout_ms);
    batch_result r = BATCH_DONE;
    while (!batcher_all(items, n, ITEM_DONE)) {
        int timed_out = pthread_cond_timedwait(&b->done, &b->lock, &until) == ETIMEDOUT;
        int any_taken = 0;
        for (size_t i = 0; i < n; i++)
            any_taken |= items[i].state != ITEM_QUEUED;
        if (timed_out && !any_taken) { /* nothing started: withdraw */
            batcher_withdraw(b, items, n);
            r = BATCH_TIMEOUT;
            break;
        }
        if (timed_out) /* some photos are running: their batch ends soon */
            until = deadline_in(60 * 1000);
    }
    pthread_mutex_unlock(&b->lock);
    return r;
}

size_t batcher_queued(batcher *b)
{
    pthread_mutex_lock(&b->lock);
    size_t n = b->queued;
    pthread_mutex_unlock(&b->lock);
    return n;
}

void batcher_close(batcher *b)
{
    pthread_mutex_lock(&b->lock);
    b->stopping = 1;
    pthread_cond_broadcast(&b->work);
    pthread_mutex_unlock(&b->lock);
}

void batcher_stop(batcher *b)
{
    if (!b)
        return;
    batcher_close(b);
    pthread_join(b->thread, NULL);
    pthread_cond_destroy(&b->done);
    pthread_cond_destroy(&b->work);
    pthread_mutex_destroy(&b->lock);
    free(b);
}
