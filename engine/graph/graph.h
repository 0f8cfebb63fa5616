/*
 * graph.h — the pipeline as a checked DAG: each stage with its loaded
 * plugin, its validated configuration, its upstream and downstream stages,
 * the resolved type on each edge, and its node.  Built before any thread
 * starts, so every mistake is reported before data moves.
 */
#ifndef FLOWRUN_GRAPH_H
#define FLOWRUN_GRAPH_H

#include <stdio.h>

#include "config.h"
#include "diag.h"
#include "loader.h"
#include "schema.h"
#include "stage.h"

typedef struct graph_stage {
    const config_stage *cfg;     /* borrowed from the pipeline */
    const loader_plugin *plugin; /* owned by the loader; NULL if it failed */
    schema_values *config;       /* owned */
    size_t *inputs;              /* indices of upstream stages, owned */
    size_t n_inputs;
    size_t *consumers; /* indices of downstream stages, owned */
    size_t n_consumers;
    char input_type[STAGE_TYPE_MAX];  /* resolved; "" for a source */
    char output_type[STAGE_TYPE_MAX]; /* resolved; "" for a sink */
    size_t node;                      /* index into pipeline->nodes; 0 when there are none */
    size_t sinks_reached;             /* sinks downstream of (or equal to) this stage */
} graph_stage;

typedef struct graph {
    const config_pipeline *pipeline; /* borrowed */
    graph_stage *stages;             /* in file order */
    size_t n_stages;
    size_t *order; /* topological order (sources first) */
} graph;

/* Loads every stage's plugin, applies its schema, wires inputs, refuses
 * cycles, dangling inputs, misplaced sources and sinks, and checks the type
 * of every edge.  Reports all problems to d; returns NULL if there was any. */
graph *graph_build(const config_pipeline *p, loader *l, diag *d);
/* Reports to d when the graph needs more ZeroMQ sockets on a node than one
 * process may open (graph_limits.c); graph_build calls it. */
void graph_check_limits(const graph *g, diag *d);
void graph_free(graph *g);

size_t graph_find(const graph *g, const char *name); /* index, or g->n_stages */

/* The node replica `replica` of stage s runs on: its stage's node, or its
 * own with replicas: {node: n, ...}. */
size_t graph_instance_node(const graph *g, size_t s, uint32_t replica);
/* 1 if any replica of stage s runs on node. */
int graph_stage_on_node(const graph *g, size_t s, size_t node);
int graph_is_source(const graph_stage *s);
int graph_is_sink(const graph_stage *s);

/* --dry-run output: the placed graph as text, or as Graphviz dot. */
void graph_print(const graph *g, FILE *out);
void graph_print_dot(const graph *g, FILE *out);

#endif
