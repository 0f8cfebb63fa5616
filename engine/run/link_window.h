/*
 * link_window.h — how much a data link between nodes may hold.
 *
 * Replicas on several nodes are fed by credit: a record goes to the next
 * replica whose link has room (instance.c).  That room must be small and
 * counted in bytes, or a link holds far more than its replica works off
 * soon, and the split follows which connection drains first, not which
 * replica is faster: with ZeroMQ's high-water marks counted in messages
 * (--queue, 16 at each end) and Linux's autotuned socket buffers (up to
 * 4 MiB to send, 6 MiB to receive), one tcp link held about 100 images of
 * 150 KB, a third of a 300-image run (docs/multi-host.md).  So a socket of
 * a link between nodes whose records' size the port type fixes
 * (image/u8[224,224,3] is 150,528 B) gets, before it connects or listens:
 *   - kernel buffers of LINK_SOCKET_BYTES each way (Linux doubles that);
 *   - high-water marks of LINK_PIPE_BYTES worth of its records, at least
 *     LINK_MIN_HWM and at most --queue (or LINK_MIN_HWM if --queue is less).
 * A link whose sizes vary (bytes, named dims) keeps --queue and the
 * kernel's autotuned buffers: 64 KiB buffers cost records of 64 B a third
 * of their throughput over tcp (bench/engine/run.py), and a mark in bytes
 * cannot be fixed without a size.
 * The marks are fixed before the pipes exist: libzmq 4.3.4 applies a mark
 * changed later to live pipes, but a pair of tcp sockets whose marks change
 * mid-stream was seen to stop for good.  And never 1: a receiving mark of 1
 * on a CURVE link (ZAP admitting its peers) stopped it before its first
 * record (libzmq 4.3.4; 2 works, as 1 does without CURVE).  Links inside a
 * process keep --queue.
 */
#ifndef FLOWRUN_LINK_WINDOW_H
#define FLOWRUN_LINK_WINDOW_H

#include <stddef.h>

#define LINK_SOCKET_BYTES (64 * 1024)
#define LINK_PIPE_BYTES   (256 * 1024)
#define LINK_MIN_HWM      2

/* The payload size every record of port type `type` has, or 0 when the
 * type does not fix it. */
size_t link_window_record_bytes(const char *type);

/* Sets the buffers and high-water marks of a socket of a link between
 * nodes that carries records of `type` (nothing when the type does not fix
 * their size); call before zmq_connect/zmq_bind. */
void link_window_tune(void *sock, const char *type, unsigned queue_depth);

#endif
