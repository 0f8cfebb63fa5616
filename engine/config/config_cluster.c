#include "config_cluster.h"

#include <stdlib.h>
#include <string.h>

#include "envsubst.h"
#include "schema.h"

static const char *const cluster_keys[] = {"coordinator", "join_timeout", "node_timeout",
                                           "security"};
#define N_CLUSTER_KEYS (sizeof cluster_keys / sizeof cluster_keys[0])

/* The scalar value after ${VAR} substitution, malloc'd; NULL (reported) if
 * it is not a scalar or the substitution fails. */
static char *cluster_scalar(const yaml_doc_node *v, const char *key, const char *file, diag *d)
{
    char err[256];
    if (v->kind != YAML_DOC_SCALAR || yaml_doc_is_null(v)) {
        diag_error(d, file, v->line, v->col, "cluster: key \"%s\": expected a value, got %s", key,
                   yaml_doc_kind_name(v));
        return NULL;
    }
    char *s = envsubst_expand(v->text, err, sizeof err);
    if (!s)
        diag_error(d, file, v->line, v->col, "cluster: key \"%s\": %s", key, err);
    return s;
}

/* A duration of 100ms..1h into *ms. */
static void cluster_duration(const yaml_doc_node *v, const char *key, int64_t *ms, const char *file,
                             diag *d)
{
    char err[256];
    char *s = cluster_scalar(v, key, file, d);
    if (!s)
        return;
    int64_t got;
    if (schema_parse_duration(s, &got, err, sizeof err) != 0)
        diag_error(d, file, v->line, v->col, "cluster: key \"%s\": %s", key, err);
    else if (got < 100 || got > 3600000)
        diag_error(d, file, v->line, v->col,
                   "cluster: key \"%s\": expected a duration from 100ms to 1h, got \"%s\"", key, s);
    else
        *ms = got;
    free(s);
}

/* security: none | curve */
static void cluster_security(config_cluster *c, const yaml_doc_node *v, const char *file, diag *d)
{
    char *s = cluster_scalar(v, "security", file, d);
    if (s && strcmp(s, "curve") != 0 && strcmp(s, "none") != 0)
        diag_error(d, file, v->line, v->col,
                   "cluster: key \"security\": expected none or curve, got \"%s\"", s);
    c->curve = s && strcmp(s, "curve") == 0;
    free(s);
}

void config_cluster_parse(config_cluster *c, const yaml_doc_node *v, const char *file, diag *d)
{
    *c = (config_cluster){.join_timeout_ms = CLUSTER_JOIN_TIMEOUT_MS,
                          .node_timeout_ms = CLUSTER_NODE_TIMEOUT_MS};
    if (!v)
        return;
    if (v->kind != YAML_DOC_MAP) {
        diag_error(d, file, v->line, v->col,
                   "key \"cluster\": expected a mapping (coordinator, join_timeout, "
                   "node_timeout, security), got %s",
                   yaml_doc_kind_name(v));
        return;
    }
    for (size_t i = 0; i < v->n; i++) {
        const char *key = yaml_doc_key(v, i);
        const yaml_doc_node *k = v->items[2 * i], *val = yaml_doc_value(v, i);
        if (!key) {
            diag_error(d, file, k->line, k->col, "cluster: expected a key, got %s",
                       yaml_doc_kind_name(k));
        } else if (strcmp(key, "coordinator") == 0) {
            free(c->coordinator);
            c->coordinator = cluster_scalar(val, key, file, d);
            c->line = val->line;
            c->col = val->col;
        } else if (strcmp(key, "join_timeout") == 0) {
            cluster_duration(val, key, &c->join_timeout_ms, file, d);
        } else if (strcmp(key, "node_timeout") == 0) {
            cluster_duration(val, key, &c->node_timeout_ms, file, d);
        } else if (strcmp(key, "security") == 0) {
            cluster_security(c, val, file, d);
        } else {
            const char *near = schema_did_you_mean(key, cluster_keys, N_CLUSTER_KEYS);
            diag_error(d, file, k->line, k->col, "cluster: unknown key \"%s\"%s%s%s", key,
                       near ? " (did you mean \"" : "", near ? near : "", near ? "\"?)" : "");
        }
    }
}

void config_cluster_free(config_cluster *c)
{
    free(c->coordinator);
    c->coordinator = NULL;
}
