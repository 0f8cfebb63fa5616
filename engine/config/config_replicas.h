/*
 * config_replicas.h — `replicas: {w1: 2, w2: 2}`: one stage's replicas
 * spread over several nodes (a number, `replicas: 4`, keeps them all on the
 * stage's node).  Records go to whichever replica has room (a full pipe is
 * skipped), so a slower node gets less work.
 */
#ifndef FLOWRUN_CONFIG_REPLICAS_H
#define FLOWRUN_CONFIG_REPLICAS_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "yaml_doc.h"

struct config_pipeline;

/* Reads the mapping v (node name → count 1..256, 256 in all) of stage
 * `stage` into *replica_node: a malloc'd array, one node index per
 * replica, nodes in the order written, and *replicas the total.  Problems
 * go to d; returns 0 or -1. */
int config_replicas_parse(const struct config_pipeline *p, const char *stage,
                          const yaml_doc_node *v, const char *file, diag *d, size_t **replica_node,
                          uint32_t *replicas);

#endif
