/*
 * transport.h — where each stage instance listens and how records travel:
 * endpoint names, socket set-up with explicit high-water marks, and the
 * two-frame DATA message (header copied, payload handed over zero-copy).
 */
#ifndef FLOWRUN_TRANSPORT_H
#define FLOWRUN_TRANSPORT_H

#include <stddef.h>

#include "flowrun/record.h"
#include "flowrun/wire.h"
#include "graph.h"

#define ENDPOINT_MAX 512

/* The endpoint instance `inst` of stage `s` binds for data from upstream
 * instances in this process: inproc://<run_id>/data/<stage>/<inst>. */
void endpoint_local(const char *run_id, const graph *g, size_t s, unsigned inst, char *out,
                    size_t size);

/* The endpoint other nodes connect to for its data, derived from its
 * node's endpoint in the YAML: tcp://host:port+k or ipc://path-k, where k
 * numbers the node's receiving instances in file order; to_bind: the one
 * it listens on, derived from the node's bind: address when it has one
 * (tcp://0.0.0.0:7100 behind NAT or in a pod).  Returns 0, or -1 when the
 * address is not tcp:// or ipc:// (message in err). */
int endpoint_remote(const graph *g, size_t s, unsigned inst, int to_bind, char *out, size_t size,
                    char *err, size_t err_size);

/* The endpoint of a node's control socket (the coordinator's, in a split
 * run): the slot after the node's data endpoints, i.e. tcp://host:port+n or
 * ipc://path-n where n counts its receiving instances.  0 or -1 (err). */
int endpoint_control(const graph *g, size_t node, int to_bind, char *out, size_t size, char *err,
                     size_t err_size);

/* Does replica inst of stage s receive data from an instance placed on
 * another node? */
int instance_has_remote_input(const graph *g, size_t s, unsigned inst);

/* Sets HWMs and linger on a new socket. */
void socket_tune(void *sock, int hwm);

/* Sends header + payload.  buf's reference passes to ZeroMQ (one ref per
 * call: the caller refs first if it sends the buffer to several sockets).
 * flags: 0 or ZMQ_DONTWAIT.  Returns 0, or -1 with errno (EAGAIN when
 * full; buf's reference is then still the caller's), or -2 when the socket
 * failed after the header (the context is ending; buf was released). */
int transport_send(void *sock, const void *header, size_t header_size, fr_buffer *buf, int flags);

/* Sends an EOS header naming the sender.  flags: 0 (blocks) or
 * ZMQ_DONTWAIT.  Returns 0 or -1 with errno. */
int transport_send_eos(void *sock, const char *sender, int flags);

#endif
