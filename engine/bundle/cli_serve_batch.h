/*
 * cli_serve_batch.h — the model server's batcher: requests from many
 * connection threads queue their photos; one thread takes up to max_batch
 * of them (waiting at most max_delay_ms after the first for more) and runs
 * them through the chain together, so concurrent requests share network
 * runs.  The queue is bounded: a request that does not fit is refused at
 * once (HTTP 503), and one still queued at its deadline is withdrawn (504).
 */
#ifndef FLOWRUN_CLI_SERVE_BATCH_H
#define FLOWRUN_CLI_SERVE_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "cli_chain.h"

typedef struct batcher batcher;

/* One photo of a request.  data borrowed until batcher_submit returns;
 * answer.prob: the caller's n_classes floats. */
typedef struct batch_item {
    chain_photo photo;
    chain_answer answer;
    int state; /* private to the batcher */
    struct batch_item *next;
} batch_item;

typedef enum batch_result {
    BATCH_DONE = 0,     /* every item has its answer */
    BATCH_FULL = 1,     /* the queue had no room: nothing was done */
    BATCH_TIMEOUT = 2,  /* the deadline passed while queued: withdrawn */
    BATCH_STOPPING = 3, /* the server is draining */
} batch_result;

/* Called by the batcher thread after each batch with its size. */
typedef void (*batch_observer)(void *ctx, size_t batch_size);

/* c is borrowed (used only by the batcher's thread until batcher_stop).
 * Returns NULL with err. */
batcher *batcher_start(chain *c, int max_batch, int max_delay_ms, size_t queue_cap,
                       batch_observer observe, void *observe_ctx, char *err, size_t err_size);
/* Queues n items and waits for their answers, at most until timeout_ms
 * from now for those still queued. */
batch_result batcher_submit(batcher *b, batch_item *items, size_t n, int64_t timeout_ms);
/* Photos queued now (for the metrics). */
size_t batcher_queued(batcher *b);
/* Refuses new items (BATCH_STOPPING); the queued ones are run at once,
 * without waiting for others to join them. */
void batcher_close(batcher *b);
/* Closes, finishes the queued items, joins the thread, frees.  NULL is fine. */
void batcher_stop(batcher *b);

#endif
