/*
 * wire_check.h — what the engine checks in every record before a plugin
 * sees it, whoever sent it (a local stage, another node, an attacker):
 * that the payload's size is what its kind and dims declare, and that an
 * end of stream comes from an instance the graph says is upstream, once.
 */
#ifndef FLOWRUN_WIRE_CHECK_H
#define FLOWRUN_WIRE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "flowrun/record.h"
#include "graph.h"

/* 0 if `size` payload bytes are what p's kind, rank and dims declare:
 * NONE carries no bytes; BYTES any number; IMAGE has rank 3 and h*w*c
 * bytes; TENSOR rank 1..4 and 4*prod(dims) bytes (no dimension 0, no
 * overflow).  Else -1 with the difference in err.  p->size is not read. */
int wire_check_payload(const fr_payload *p, size_t size, char *err, size_t err_size);

/* The end-of-stream senders one stage waits for: every instance of every
 * input stage, each accepted once. */
typedef struct eos_senders {
    const graph *g;
    size_t stage;
    uint32_t replica; /* of the receiving instance */
    uint8_t *seen;    /* owned; one flag per (input, replica), in input order */
    size_t n;
} eos_senders;

/* Returns 0, or -1 when out of memory. */
int eos_senders_init(eos_senders *e, const graph *g, size_t stage, uint32_t replica);

/* Accepts an EOS from sender "<stage>#<instance>" when that instance is
 * upstream of the stage, has not ended before, (over_network: the message
 * came from another host) runs on another node, and (peer_node: the node
 * CURVE authenticated, or NULL) runs on that node.  Returns 0, or -1 with
 * the reason in err. */
int eos_senders_accept(eos_senders *e, const char *sender, int over_network, const char *peer_node,
                       char *err, size_t err_size);

/* 1 if node (authenticated by CURVE) runs one of the stage's inputs. */
int eos_senders_upstream_node(const eos_senders *e, const char *node);
void eos_senders_free(eos_senders *e);

#endif
