#include "transport.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "buffer.h"
#include "wire_codec.h"

void endpoint_local(const char *run_id, const graph *g, size_t s, unsigned inst, char *out,
                    size_t size)
{
    snprintf(out, size, "inproc://%s/data/%s/%u", run_id, g->stages[s].cfg->name, inst);
}

int instance_has_remote_input(const graph *g, size_t s, unsigned inst)
{
    const graph_stage *st = &g->stages[s];
    size_t node = graph_instance_node(g, s, inst);
    for (size_t k = 0; k < st->n_inputs; k++)
        for (uint32_t r = 0; r < g->stages[st->inputs[k]].cfg->replicas; r++)
            if (graph_instance_node(g, st->inputs[k], r) != node)
                return 1;
    return 0;
}

/* How many instances of `node` that receive from other nodes come before
 * (s, inst) in file order, or all of them when s is g->n_stages. */
static unsigned remote_slot(const graph *g, size_t node, size_t s, unsigned inst)
{
    unsigned k = 0;
    for (size_t i = 0; i < g->n_stages; i++)
        for (uint32_t r = 0; r < g->stages[i].cfg->replicas; r++) {
            if (i == s && r == inst)
                return k;
            if (graph_instance_node(g, i, r) == node && instance_has_remote_input(g, i, r))
                k++;
        }
    return k;
}

/* The node's endpoint (or, to listen, its bind address when it has one)
 * with k added to its port (tcp) or "-k" to its path (ipc). */
static int endpoint_slot(const config_node *node, unsigned k, int to_bind, char *out, size_t size,
                         char *err, size_t err_size)
{
    const char *ep = to_bind && node->bind ? node->bind : node->endpoint;
    if (strncmp(ep, "ipc://", 6) == 0) {
        snprintf(out, size, "%s-%u", ep, k);
        return 0;
    }
    const char *colon = strrchr(ep, ':');
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : 0;
    if (strncmp(ep, "tcp://", 6) != 0 || !colon || colon < ep + 6 || *end || port <= 0 ||
        port + k > 65535) {
        snprintf(err, err_size,
                 "node \"%s\": endpoint \"%s\" must be tcp://host:port or ipc://path", node->name,
                 ep);
        return -1;
    }
    snprintf(out, size, "%.*s:%ld", (int)(colon - ep), ep, port + (long)k);
    return 0;
}

int endpoint_remote(const graph *g, size_t s, unsigned inst, int to_bind, char *out, size_t size,
                    char *err, size_t err_size)
{
    size_t node = graph_instance_node(g, s, inst);
    return endpoint_slot(&g->pipeline->nodes[node], remote_slot(g, node, s, inst), to_bind, out,
                         size, err, err_size);
}

int endpoint_control(const graph *g, size_t node, int to_bind, char *out, size_t size, char *err,
                     size_t err_size)
{
    unsigned k = remote_slot(g, node, g->n_stages, 0); /* after the node's data endpoints */
    return endpoint_slot(&g->pipeline->nodes[node], k, to_bind, out, size, err, err_size);
}

void socket_tune(void *sock, int hwm)
{
    int linger = -1; /* deliver what was sent before close: EOS must arrive */
    zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
}

int transport_send(void *sock, const void *header, size_t header_size, fr_buffer *buf, int flags)
{
    if (zmq_send(sock, header, header_size, flags | ZMQ_SNDMORE) < 0)
        return -1;
    /* Once the first frame is queued, ZeroMQ takes the rest of the message. */
    zmq_msg_t payload;
    if (buf)
        zmq_msg_init_data(&payload, buffer_data(buf), buffer_size(buf), buffer_zmq_free, buf);
    else
        zmq_msg_init(&payload);
    if (zmq_msg_send(&payload, sock, 0) < 0) {
        zmq_msg_close(&payload); /* drops buf's reference through the free callback */
        return -2;
    }
    return 0;
}

int transport_send_eos(void *sock, const char *sender, int flags)
{
    fr_record rec = {.id = "", .key = sender, .label = ""};
    uint8_t header[512];
    if (wire_header_size(&rec) > sizeof header)
        rec.key = "?";
    size_t n = wire_encode(&rec, FR_WIRE_EOS, header);
    return zmq_send(sock, header, n, flags) < 0 ? -1 : 0;
}
