/*
 * config_cluster.h — the pipeline file's `cluster:` section: how the nodes
 * of a split run (flowrun run --node NAME) find and watch each other.
 *
 *   cluster:
 *     coordinator: edge   # the node that owns the verdict (default: the first node)
 *     join_timeout: 60s   # every node must have joined by then
 *     node_timeout: 10s   # a node silent this long is lost: the run stops
 *     security: curve     # CurveZMQ on every link between nodes (default: none);
 *                         # each node then names its key files (flowrun keygen):
 *                         # nodes: {a: {endpoint: ..., public_key: a.pub, secret_key: a.key}}
 */
#ifndef FLOWRUN_CONFIG_CLUSTER_H
#define FLOWRUN_CONFIG_CLUSTER_H

#include <stdint.h>

#include "diag.h"
#include "yaml_doc.h"

typedef struct config_cluster {
    char *coordinator; /* a node name, owned; NULL: the first node */
    int line, col;     /* of coordinator's value */
    int64_t join_timeout_ms;
    int64_t node_timeout_ms;
    int curve; /* security: curve */
} config_cluster;

#define CLUSTER_JOIN_TIMEOUT_MS 60000
#define CLUSTER_NODE_TIMEOUT_MS 10000

/* Fills c with the defaults, then the keys of v (NULL: none given);
 * problems go to d. */
void config_cluster_parse(config_cluster *c, const yaml_doc_node *v, const char *file, diag *d);
void config_cluster_free(config_cluster *c);

#endif
