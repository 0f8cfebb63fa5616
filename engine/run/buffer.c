/*
 * buffer.c — pooled, reference-counted payload buffers.
 *
 * The pool keeps freed buffers by capacity class (sizes rounded up to a
 * 4 KiB page, or 64 bytes below that) so the next record of the same shape
 * reuses warm memory.  It is bounded: at most POOL_MAX_PER_CLASS buffers per
 * class and POOL_MAX_BYTES in all; beyond that buffers are freed.
 */
#include "buffer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define POOL_CLASSES       64
#define POOL_MAX_PER_CLASS 64
#define POOL_MAX_BYTES     ((size_t)512 << 20)

struct fr_buffer {
    atomic_int refs;
    size_t size;     /* bytes in use */
    size_t capacity; /* bytes allocated; 0 for a wrapped message */
    void *data;
    zmq_msg_t msg;   /* the wrapped message, when capacity == 0 */
    fr_buffer *next; /* free list */
};

struct pool_class {
    size_t capacity;
    size_t count;
    fr_buffer *free;
};

static struct {
    pthread_mutex_t lock;
    struct pool_class classes[POOL_CLASSES];
    size_t n_classes;
    size_t cached_bytes;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The capacity class of size, or 0 when rounding up would pass SIZE_MAX
 * (a size from outside, such as a listed object size near 2^64). */
static size_t capacity_for(size_t size)
{
    size_t granule = size < 4096 ? 64 : 4096;
    if (size > SIZE_MAX - granule)
        return 0;
    size_t cap = (size + granule - 1) / granule * granule;
    return cap ? cap : 64;
}

static struct pool_class *class_for(size_t capacity, int create)
{
    for (size_t i = 0; i < pool.n_classes; i++)
        if (pool.classes[i].capacity == capacity)
            return &pool.classes[i];
    if (!create || pool.n_classes == POOL_CLASSES)
        return NULL;
    struct pool_class *c = &pool.classes[pool.n_classes++];
    *c = (struct pool_class){.capacity = capacity};
    return c;
}

static fr_buffer *pool_take(size_t capacity)
{
    fr_buffer *buf = NULL;
    pthread_mutex_lock(&pool.lock);
    struct pool_class *c = class_for(capacity, 0);
    if (c && c->free) {
        buf = c->free;
        c->free = buf->next;
        c->count--;
        pool.cached_bytes -= capacity;
    }
    pthread_mutex_unlock(&pool.lock);
    return buf;
}

/* Returns 1 if the pool kept buf. */
static int pool_give(fr_buffer *buf)
{
    int kept = 0;
    pthread_mutex_lock(&pool.lock);
    struct pool_class *c = class_for(buf->capacity, 1);
    if (c && c->count < POOL_MAX_PER_CLASS && pool.cached_bytes + buf->capacity <= POOL_MAX_BYTES) {
        buf->next = c->free;
        c->free = buf;
        c->count++;
        pool.cached_bytes += buf->capacity;
        kept = 1;
    }
    pthread_mutex_unlock(&pool.lock);
    return kept;
}

fr_buffer *buffer_new(size_t size, void **data)
{
    size_t capacity = capacity_for(size);
    if (!capacity)
        return NULL;
    fr_buffer *buf = pool_take(capacity);
    if (!buf) {
        buf = calloc(1, sizeof *buf);
        if (!buf)
            return NULL;
        if (posix_memalign(&buf->data, 64, capacity) != 0) {
            free(buf);
            return NULL;
        }
        buf->capacity = capacity;
    }
    atomic_init(&buf->refs, 1);
    buf->size = size;
    buf->next = NULL;
    *data = buf->data;
    return buf;
}

fr_buffer *buffer_from_zmq(void *msg)
{
    fr_buffer *buf = calloc(1, sizeof *buf);
    if (!buf)
        return NULL;
    atomic_init(&buf->refs, 1);
    zmq_msg_init(&buf->msg);
    zmq_msg_move(&buf->msg, msg);
    buf->data = zmq_msg_data(&buf->msg);
    buf->size = zmq_msg_size(&buf->msg);
    return buf;
}

fr_buffer *buffer_ref(fr_buffer *buf)
{
    if (buf)
        atomic_fetch_add_explicit(&buf->refs, 1, memory_order_relaxed);
    return buf;
}

void buffer_unref(fr_buffer *buf)
{
    if (!buf || atomic_fetch_sub_explicit(&buf->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (buf->capacity == 0) {
        zmq_msg_close(&buf->msg);
        free(buf);
        return;
    }
    if (!pool_give(buf)) {
        free(buf->data);
        free(buf);
    }
}

void *buffer_data(const fr_buffer *buf)
{
    return buf->data;
}
size_t buffer_size(const fr_buffer *buf)
{
    return buf->size;
}

void buffer_zmq_free(void *data, void *buf)
{
    (void)data;
    buffer_unref(buf);
}

void buffer_pool_drain(void)
{
    pthread_mutex_lock(&pool.lock);
    for (size_t i = 0; i < pool.n_classes; i++) {
        while (pool.classes[i].free) {
            fr_buffer *buf = pool.classes[i].free;
            pool.classes[i].free = buf->next;
            free(buf->data);
            free(buf);
        }
        pool.classes[i].count = 0;
    }
    pool.cached_bytes = 0;
    pthread_mutex_unlock(&pool.lock);
}
