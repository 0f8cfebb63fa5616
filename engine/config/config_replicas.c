#include "config_replicas.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "envsubst.h"
#include "schema.h"

#define MAX_REPLICAS 256

static int node_index(const config_pipeline *p, const char *name)
{
    for (size_t i = 0; i < p->n_nodes; i++)
        if (strcmp(p->nodes[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* count of one "node: count" pair, 1..256, or 0 (reported). */
static uint32_t replica_count(const yaml_doc_node *v, const char *stage, const char *node,
                              const char *file, diag *d)
{
    char err[256];
    int64_t n = 0;
    char *text = v->kind == YAML_DOC_SCALAR ? envsubst_expand(v->text, err, sizeof err) : NULL;
    if (!text || schema_parse_int(text, &n, err, sizeof err) != 0 || n < 1 || n > MAX_REPLICAS)
        diag_error(d, file, v->line, v->col,
                   "stage \"%s\": key \"replicas\": node \"%s\": expected a count from 1 to %d, "
                   "got %s",
                   stage, node, MAX_REPLICAS, text ? text : yaml_doc_kind_name(v));
    free(text);
    return n >= 1 && n <= MAX_REPLICAS ? (uint32_t)n : 0;
}

int config_replicas_parse(const config_pipeline *p, const char *stage, const yaml_doc_node *v,
                          const char *file, diag *d, size_t **replica_node, uint32_t *replicas)
{
    size_t *nodes = malloc(MAX_REPLICAS * sizeof *nodes);
    uint32_t total = 0;
    int ok = nodes != NULL && v->n > 0;
    if (!v->n)
        diag_error(d, file, v->line, v->col, "stage \"%s\": key \"replicas\": no nodes", stage);
    for (size_t i = 0; nodes && i < v->n; i++) {
        const char *name = yaml_doc_key(v, i);
        const yaml_doc_node *k = v->items[2 * i];
        int node = name ? node_index(p, name) : -1;
        if (node < 0) {
            diag_error(d, file, k->line, k->col,
                       "stage \"%s\": key \"replicas\": unknown node \"%s\"", stage,
                       name ? name : "?");
            ok = 0;
            continue;
        }
        uint32_t n = replica_count(yaml_doc_value(v, i), stage, name, file, d);
        if (!n || total + n > MAX_REPLICAS) {
            if (n)
                diag_error(d, file, k->line, k->col,
                           "stage \"%s\": key \"replicas\": more than %d replicas in all", stage,
                           MAX_REPLICAS);
            ok = 0;
            continue;
        }
        for (uint32_t j = 0; j < n; j++)
            nodes[total++] = (size_t)node;
    }
    if (!ok) {
        free(nodes);
        return -1;
    }
    *replica_node = nodes;
    *replicas = total;
    return 0;
}
