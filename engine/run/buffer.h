/*
 * buffer.h — the engine's payload buffers: 64-byte aligned, reference
 * counted, recycled through a pool so that large tensors are not malloc'd
 * (and page-faulted) per record (docs/platform.md, "glibc malloc": big blocks go back to
 * the OS on free).  A buffer can also wrap a received ZeroMQ message, so a
 * stage can forward its input without copying.
 */
#ifndef FLOWRUN_BUFFER_H
#define FLOWRUN_BUFFER_H

#include <stddef.h>

#include "flowrun/record.h"

/* A new buffer of size bytes with one reference owned by the caller, or
 * NULL when out of memory.  *data points at the bytes. */
fr_buffer *buffer_new(size_t size, void **data);

/* Takes over the ZeroMQ message msg (a zmq_msg_t*, left empty): the buffer's
 * data is the message's; the message is closed with the last reference. */
fr_buffer *buffer_from_zmq(void *msg);

fr_buffer *buffer_ref(fr_buffer *buf);
void buffer_unref(fr_buffer *buf);

void *buffer_data(const fr_buffer *buf);
size_t buffer_size(const fr_buffer *buf);

/* ZeroMQ's free callback for zmq_msg_init_data(data, size, buffer_zmq_free,
 * buf): drops the reference the message held. */
void buffer_zmq_free(void *data, void *buf);

/* Frees the cached buffers (at exit, so leak checkers see a clean heap). */
void buffer_pool_drain(void);

#endif
