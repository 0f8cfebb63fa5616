/*
 * config.c — the pipeline file (docs/architecture.md, "The pipeline file") read into
 * config_pipeline: structure and engine keys checked here, each problem
 * reported with its position and the reading carried on, so one run shows
 * every mistake in the file.  The plugins' own keys are kept as
 * schema_entry for schema_apply() once the plugin is loaded.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_replicas.h"
#include "envsubst.h"
#include "http.h"
#include "yaml_doc.h"

static const char *const config_top_keys[] = {"name",  "dead_letters", "state",  "plugin_path",
                                              "nodes", "cluster",      "stages", "metrics"};
#define CONFIG_N_TOP (sizeof config_top_keys / sizeof config_top_keys[0])

/* The engine's own stage keys with a value type, checked by the schema code. */
static const fr_param config_engine_params[] = {
    {"replicas", FR_PARAM_INT, "1", 1, 256, NULL, "instances of the stage, each with its state"},
    {"retries", FR_PARAM_INT, "3", 0, 1000, NULL, "RETRY attempts before dead-lettering"},
    {"retry_backoff", FR_PARAM_DURATION, "100ms", 0, 3600000, NULL,
     "wait before the first retry, doubled per attempt"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

typedef struct config_ctx {
    const char *file; /* borrowed: for messages */
    diag *d;          /* borrowed */
} config_ctx;

static void config_oom(config_ctx *c)
{
    diag_error(c->d, c->file, 0, 0, "out of memory");
}

/* [a-z0-9_-]+ */
static int config_name_ok(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_' && *s != '-')
            return 0;
    return 1;
}

/* The scalar n after ${ENV} substitution, malloc'd; NULL with a message
 * "<where>expected <what>, got a list" or the substitution error. */
static char *config_scalar(config_ctx *c, const yaml_doc_node *n, const char *where,
                           const char *what)
{
    if (n->kind != YAML_DOC_SCALAR || yaml_doc_is_null(n)) {
        diag_error(c->d, c->file, n->line, n->col, "%sexpected %s, got %s", where, what,
                   yaml_doc_kind_name(n));
        return NULL;
    }
    char err[256];
    char *s = envsubst_expand(n->text, err, sizeof err);
    if (!s)
        diag_error(c->d, c->file, n->line, n->col, "%s%s", where, err);
    return s;
}

/* metrics: ADDR:PORT, where the run serves /metrics and health
 * (docs/operations.md); --metrics overrides it. */
static void config_metrics(config_ctx *c, config_pipeline *p, const yaml_doc_node *v)
{
    char host[256], err[256];
    uint16_t port;
    free(p->metrics);
    p->metrics = config_scalar(c, v, "key \"metrics\": ", "an address ADDR:PORT");
    if (p->metrics && http_parse_listen(p->metrics, host, sizeof host, &port, err, sizeof err) != 0)
        diag_error(c->d, c->file, v->line, v->col, "key \"metrics\": %s", err);
}

/* Orders pair indices by key text, then by position: the first of equal
 * keys sorts first.  Keys that are not scalars sort as "". */
static int config_key_order(const void *a, const void *b, void *map)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    const char *ki = yaml_doc_key(map, i), *kj = yaml_doc_key(map, j);
    int c = strcmp(ki ? ki : "", kj ? kj : "");
    return c ? c : (i > j) - (i < j);
}

/* For each pair, the index of the first pair with the same key, or itself:
 * by sorting, so a mapping of many keys is checked in n log n (comparing
 * each key with every earlier one took seconds for 20,000 keys).  NULL
 * when out of memory. */
static size_t *config_first_of_keys(const yaml_doc_node *map)
{
    size_t n = map->n, *order = malloc((n ? n : 1) * sizeof *order),
           *first = malloc((n ? n : 1) * sizeof *first);
    if (!order || !first) {
        free(order);
        free(first);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        order[i] = first[i] = i;
    qsort_r(order, n, sizeof *order, config_key_order, (void *)map);
    for (size_t r = 1; r < n; r++) {
        const char *prev = yaml_doc_key(map, order[r - 1]), *key = yaml_doc_key(map, order[r]);
        if (prev && key && strcmp(prev, key) == 0)
            first[order[r]] = first[order[r - 1]];
    }
    free(order);
    return first;
}

/* Checks map for keys that are not scalars and for duplicates; skip[i] = 1
 * for pairs to ignore (reported here, in file order).  where prefixes the
 * messages.  Returns skip (malloc'd, caller frees) or NULL when out of
 * memory. */
static unsigned char *config_check_keys(config_ctx *c, const yaml_doc_node *map, const char *where)
{
    unsigned char *skip = calloc(map->n ? map->n : 1, 1);
    size_t *first = config_first_of_keys(map);
    if (!skip || !first) {
        free(skip);
        free(first);
        config_oom(c);
        return NULL;
    }
    for (size_t i = 0; i < map->n; i++) {
        const yaml_doc_node *k = map->items[2 * i];
        const char *key = yaml_doc_key(map, i);
        if (!key) {
            diag_error(c->d, c->file, k->line, k->col, "%sexpected a key, got %s", where,
                       yaml_doc_kind_name(k));
            skip[i] = 1;
        } else if (first[i] != i) {
            diag_error(c->d, c->file, k->line, k->col, "%sduplicate key \"%s\" (first at line %d)",
                       where, key, map->items[2 * first[i]]->line);
            skip[i] = 1;
        }
    }
    free(first);
    return skip;
}

/* A key not in known: "<where>unknown key "x" (did you mean "y"?)". */
static void config_unknown_key(config_ctx *c, const yaml_doc_node *k, const char *where,
                               const char *kind, const char *const *known, size_t n_known)
{
    const char *near = schema_did_you_mean(k->text, known, n_known);
    if (near)
        diag_error(c->d, c->file, k->line, k->col, "%sunknown %skey \"%s\" (did you mean \"%s\"?)",
                   where, kind, k->text, near);
    else
        diag_error(c->d, c->file, k->line, k->col, "%sunknown %skey \"%s\"", where, kind, k->text);
}

/* A scalar or a list of scalars into a malloc'd array of strings or refs. */
static int config_name_list(config_ctx *c, const yaml_doc_node *v, const char *where,
                            const char *what, config_ref **out, size_t *n_out)
{
    size_t n = v->kind == YAML_DOC_LIST ? v->n : 1;
    config_ref *refs = calloc(n ? n : 1, sizeof *refs);
    if (!refs) {
        config_oom(c);
        return -1;
    }
    size_t got = 0;
    for (size_t i = 0; i < n; i++) {
        const yaml_doc_node *item = v->kind == YAML_DOC_LIST ? v->items[i] : v;
        char *s = config_scalar(c, item, where, what);
        if (!s)
            continue;
        refs[got].name = s;
        refs[got].line = item->line;
        refs[got].col = item->col;
        got++;
    }
    *out = refs;
    *n_out = got;
    return 0;
}

static void config_parse_nodes(config_ctx *c, config_pipeline *p, const yaml_doc_node *v)
{
    if (v->kind != YAML_DOC_MAP) {
        diag_error(c->d, c->file, v->line, v->col,
                   "key \"nodes\": expected a mapping of node names to {endpoint: ...}, got %s",
                   yaml_doc_kind_name(v));
        return;
    }
    unsigned char *skip = config_check_keys(c, v, "nodes: ");
    if (!skip)
        return;
    p->nodes = calloc(v->n ? v->n : 1, sizeof *p->nodes);
    if (!p->nodes) {
        free(skip);
        config_oom(c);
        return;
    }
    static const char *const node_keys[] = {"endpoint", "bind", "public_key", "secret_key"};
    for (size_t i = 0; i < v->n; i++) {
        if (skip[i])
            continue;
        const yaml_doc_node *k = v->items[2 * i], *body = yaml_doc_value(v, i);
        char where[300];
        snprintf(where, sizeof where, "node \"%s\": ", k->text);
        if (!config_name_ok(k->text))
            diag_error(c->d, c->file, k->line, k->col, "node name \"%s\" must match [a-z0-9_-]+",
                       k->text);
        config_node *node = &p->nodes[p->n_nodes];
        if (!(node->name = strdup(k->text))) {
            config_oom(c);
            break;
        }
        node->line = k->line;
        node->col = k->col;
        p->n_nodes++;
        if (body->kind != YAML_DOC_MAP) {
            diag_error(c->d, c->file, body->line, body->col,
                       "%sexpected a mapping {endpoint: ...}, got %s", where,
                       yaml_doc_kind_name(body));
            continue;
        }
        unsigned char *nskip = config_check_keys(c, body, where);
        if (!nskip)
            continue;
        for (size_t j = 0; j < body->n; j++) {
            if (nskip[j])
                continue;
            const yaml_doc_node *nk = body->items[2 * j], *nv = yaml_doc_value(body, j);
            char kw[340];
            snprintf(kw, sizeof kw, "%skey \"%s\": ", where, nk->text);
            if (strcmp(nk->text, "public_key") == 0 || strcmp(nk->text, "secret_key") == 0) {
                char **slot = nk->text[0] == 'p' ? &node->public_key : &node->secret_key;
                free(*slot);
                *slot = config_scalar(c, nv, kw, "a key file (flowrun keygen)");
                continue;
            }
            if (strcmp(nk->text, "endpoint") != 0 && strcmp(nk->text, "bind") != 0) {
                config_unknown_key(c, nk, where, "", node_keys, 4);
                continue;
            }
            char *ep = config_scalar(c, nv, kw, "tcp://host:port or ipc://path");
            if (!ep)
                continue;
            if (strncmp(ep, "tcp://", 6) != 0 && strncmp(ep, "ipc://", 6) != 0) {
                diag_error(c->d, c->file, nv->line, nv->col,
                           "%sexpected tcp://host:port or ipc://path, got \"%s\"", kw, ep);
                free(ep);
                continue;
            }
            char **slot = strcmp(nk->text, "bind") == 0 ? &node->bind : &node->endpoint;
            free(*slot);
            *slot = ep;
        }
        free(nskip);
        int endpoint_given = 0;
        for (size_t j = 0; j < body->n; j++) {
            const char *key = yaml_doc_key(body, j);
            if (key && strcmp(key, "endpoint") == 0)
                endpoint_given = 1;
        }
        if (!endpoint_given)
            diag_error(c->d, c->file, k->line, k->col, "%smissing required key \"endpoint\"",
                       where);
    }
    free(skip);
}

/* The engine's keys of a stage: checked with the schema code, so their
 * messages read like the plugins' ("key "replicas": expected an integer
 * from 1 to 256, got "0""). */
static void config_engine_keys(config_ctx *c, config_stage *st, const schema_entry *eng, size_t n)
{
    schema_origin o = {.file = c->file, .stage = st->name, .line = st->line, .col = st->col};
    schema_values *v = schema_apply(config_engine_params, eng, n, &o, c->d);
    if (!v)
        return;
    st->replicas = (uint32_t)schema_int(v, "replicas", NULL);
    st->retries = (uint32_t)schema_int(v, "retries", NULL);
    st->retry_backoff_ms = schema_int(v, "retry_backoff", NULL);
    schema_values_free(v);
}

static void config_parse_stage(config_ctx *c, config_pipeline *p, config_stage *st,
                               const yaml_doc_node *k, const yaml_doc_node *body)
{
    char where[300];
    snprintf(where, sizeof where, "stage \"%s\": ", k->text);
    st->line = k->line;
    st->col = k->col;
    st->replicas = 1;
    st->retries = 3;
    st->retry_backoff_ms = 100;
    if (!config_name_ok(k->text))
        diag_error(c->d, c->file, k->line, k->col, "stage name \"%s\" must match [a-z0-9_-]+",
                   k->text);
    if (body->kind != YAML_DOC_MAP) {
        diag_error(c->d, c->file, body->line, body->col,
                   "%sexpected a mapping with plugin: and the plugin's keys, got %s", where,
                   yaml_doc_kind_name(body));
        return;
    }
    unsigned char *skip = config_check_keys(c, body, where);
    schema_entry *eng = calloc(body->n ? body->n : 1, sizeof *eng);
    st->entries = calloc(body->n ? body->n : 1, sizeof *st->entries);
    if (!skip || !eng || !st->entries) {
        free(skip);
        free(eng);
        config_oom(c);
        return;
    }
    size_t n_eng = 0;
    uint32_t placed = 0; /* replicas placed on nodes by a replicas: mapping */
    int plugin_given = 0;
    for (size_t i = 0; i < body->n; i++) {
        if (skip[i])
            continue;
        const yaml_doc_node *kk = body->items[2 * i], *v = yaml_doc_value(body, i);
        const char *key = kk->text;
        char kw[400];
        snprintf(kw, sizeof kw, "%skey \"%s\": ", where, key);
        if (strcmp(key, "plugin") == 0) {
            plugin_given = 1;
            st->plugin.name = config_scalar(c, v, kw, "a plugin name");
            st->plugin.line = v->line;
            st->plugin.col = v->col;
        } else if (strcmp(key, "inputs") == 0) {
            free(st->inputs);
            config_name_list(c, v, kw, "a stage name or a list of them", &st->inputs,
                             &st->n_inputs);
        } else if (strcmp(key, "node") == 0) {
            st->node.name = config_scalar(c, v, kw, "a node name");
            st->node.line = v->line;
            st->node.col = v->col;
        } else if (strcmp(key, "replicas") == 0 && v->kind == YAML_DOC_MAP) {
            free(st->replica_node);
            st->replica_node = NULL;
            config_replicas_parse(p, k->text, v, c->file, c->d, &st->replica_node, &placed);
        } else if (strcmp(key, "replicas") == 0 || strcmp(key, "retries") == 0 ||
                   strcmp(key, "retry_backoff") == 0) {
            schema_entry *e = &eng[n_eng++];
            e->key = kk->text; /* borrowed from the tree, which outlives eng */
            e->key_line = kk->line;
            e->key_col = kk->col;
            e->line = v->line;
            e->col = v->col;
            if (v->kind == YAML_DOC_SCALAR && !yaml_doc_is_null(v))
                e->value = config_scalar(c, v, kw, "a value");
            else
                e->value_kind = yaml_doc_kind_name(v);
            if (v->kind == YAML_DOC_SCALAR && !yaml_doc_is_null(v) && !e->value)
                n_eng--; /* substitution failed, reported */
        } else {
            schema_entry *e = &st->entries[st->n_entries];
            if (!(e->key = strdup(key))) {
                config_oom(c);
                break;
            }
            st->n_entries++;
            e->key_line = kk->line;
            e->key_col = kk->col;
            e->line = v->line;
            e->col = v->col;
            if (v->kind == YAML_DOC_SCALAR && !yaml_doc_is_null(v)) {
                e->value = config_scalar(c, v, kw, "a value");
                if (!e->value) /* reported; keep the raw text so the plugin check goes on */
                    e->value = strdup(v->text);
            } else {
                e->value_kind = yaml_doc_kind_name(v);
            }
        }
    }
    if (!plugin_given)
        diag_error(c->d, c->file, k->line, k->col, "%smissing required key \"plugin\"", where);
    config_engine_keys(c, st, eng, n_eng);
    if (st->replica_node) {
        st->replicas = placed;
        if (st->node.name)
            diag_error(c->d, c->file, st->node.line, st->node.col,
                       "%skey \"node\": the stage's replicas: already place it on nodes", where);
    }
    for (size_t i = 0; i < n_eng; i++)
        free(eng[i].value);
    free(eng);
    free(skip);

    if (st->node.name) {
        const char **names = malloc((p->n_nodes ? p->n_nodes : 1) * sizeof *names);
        size_t i;
        for (i = 0; i < p->n_nodes; i++) {
            if (strcmp(p->nodes[i].name, st->node.name) == 0)
                break;
            if (names)
                names[i] = p->nodes[i].name;
        }
        if (i == p->n_nodes) {
            const char *near = names ? schema_did_you_mean(st->node.name, names, p->n_nodes) : NULL;
            if (!p->n_nodes)
                diag_error(c->d, c->file, st->node.line, st->node.col,
                           "%skey \"node\": unknown node \"%s\" (the file has no nodes:)", where,
                           st->node.name);
            else if (near)
                diag_error(c->d, c->file, st->node.line, st->node.col,
                           "%skey \"node\": unknown node \"%s\" (did you mean \"%s\"?)", where,
                           st->node.name, near);
            else
                diag_error(c->d, c->file, st->node.line, st->node.col,
                           "%skey \"node\": unknown node \"%s\"", where, st->node.name);
        }
        free(names);
    }
}

static void config_parse_stages(config_ctx *c, config_pipeline *p, const yaml_doc_node *v)
{
    if (v->kind != YAML_DOC_MAP) {
        diag_error(c->d, c->file, v->line, v->col,
                   "key \"stages\": expected a mapping of stage names, got %s",
                   yaml_doc_kind_name(v));
        return;
    }
    if (!v->n) {
        diag_error(c->d, c->file, v->line, v->col, "key \"stages\": no stages");
        return;
    }
    unsigned char *skip = config_check_keys(c, v, "stages: ");
    if (!skip)
        return;
    if (!(p->stages = calloc(v->n, sizeof *p->stages))) {
        free(skip);
        config_oom(c);
        return;
    }
    for (size_t i = 0; i < v->n; i++) {
        if (skip[i])
            continue;
        const yaml_doc_node *k = v->items[2 * i];
        config_stage *st = &p->stages[p->n_stages];
        if (!(st->name = strdup(k->text))) {
            config_oom(c);
            break;
        }
        p->n_stages++;
        config_parse_stage(c, p, st, k, yaml_doc_value(v, i));
    }
    free(skip);
}

/* cluster: coordinator: names one of the nodes; security: curve needs
 * every node's public key. */
static void config_check_coordinator(config_ctx *c, const config_pipeline *p)
{
    for (size_t i = 0; p->cluster.curve && i < p->n_nodes; i++)
        if (!p->nodes[i].public_key)
            diag_error(c->d, c->file, p->nodes[i].line, p->nodes[i].col,
                       "node \"%s\": missing key \"public_key\" (cluster: security: curve)",
                       p->nodes[i].name);
    const char *name = p->cluster.coordinator;
    for (size_t i = 0; name && i < p->n_nodes; i++)
        if (strcmp(p->nodes[i].name, name) == 0)
            return;
    if (name)
        diag_error(c->d, c->file, p->cluster.line, p->cluster.col,
                   "cluster: key \"coordinator\": unknown node \"%s\"%s", name,
                   p->n_nodes ? "" : " (the file has no nodes:)");
}

/* "pipelines/fruits.yaml" -> "fruits" */
static char *config_default_name(const char *file)
{
    const char *base = file ? strrchr(file, '/') : NULL;
    base = base ? base + 1 : file;
    if (!base || !*base)
        return strdup("pipeline");
    size_t len = strlen(base);
    if (len > 5 && strcmp(base + len - 5, ".yaml") == 0)
        len -= 5;
    else if (len > 4 && strcmp(base + len - 4, ".yml") == 0)
        len -= 4;
    return strndup(base, len);
}

static config_pipeline *config_load_buffer(const char *data, size_t len, const char *file, diag *d)
{
    config_ctx c = {.file = file, .d = d};
    size_t errors = diag_error_count(d);
    yaml_doc_node *root = yaml_doc_parse(data, len, file, d);
    if (!root) {
        if (diag_error_count(d) == errors)
            diag_error(d, file, 0, 0, "empty file: a pipeline needs at least stages:");
        return NULL;
    }
    if (root->kind != YAML_DOC_MAP) {
        diag_error(d, file, root->line, root->col, "expected a mapping with stages:, got %s",
                   yaml_doc_kind_name(root));
        yaml_doc_free(root);
        return NULL;
    }
    config_pipeline *p = calloc(1, sizeof *p);
    unsigned char *skip = config_check_keys(&c, root, "");
    if (!p || !skip || !(p->file = strdup(file ? file : ""))) {
        free(skip);
        config_free(p);
        yaml_doc_free(root);
        config_oom(&c);
        return NULL;
    }
    /* nodes first: stages refer to them wherever they are written */
    for (size_t i = 0; i < root->n; i++)
        if (!skip[i] && strcmp(yaml_doc_key(root, i), "nodes") == 0)
            config_parse_nodes(&c, p, yaml_doc_value(root, i));
    const yaml_doc_node *stages = NULL, *cluster = NULL;
    for (size_t i = 0; i < root->n; i++) {
        if (skip[i])
            continue;
        const yaml_doc_node *k = root->items[2 * i], *v = yaml_doc_value(root, i);
        if (strcmp(k->text, "name") == 0) {
            p->name = config_scalar(&c, v, "key \"name\": ", "a pipeline name");
        } else if (strcmp(k->text, "dead_letters") == 0) {
            p->dead_letters = config_scalar(&c, v, "key \"dead_letters\": ", "a path");
            if (p->dead_letters && strstr(p->dead_letters, "://"))
                /* The coordinator appends lines to a local file; an object
                 * store has no append.  Refuse now rather than lose them. */
                diag_error(c.d, c.file, v->line, v->col,
                           "key \"dead_letters\": expected a local file, got \"%s\" "
                           "(dead letters are appended as they happen)",
                           p->dead_letters);
        } else if (strcmp(k->text, "state") == 0) {
            p->state = config_scalar(&c, v, "key \"state\": ", "a directory");
            if (p->state && strstr(p->state, "://"))
                diag_error(c.d, c.file, v->line, v->col,
                           "key \"state\": expected a local directory, got \"%s\" "
                           "(the ledger is a SQLite database)",
                           p->state);
            else if (p->state && !p->state[0])
                diag_error(c.d, c.file, v->line, v->col,
                           "key \"state\": expected a local directory, got \"\"");
        } else if (strcmp(k->text, "metrics") == 0) {
            config_metrics(&c, p, v);
        } else if (strcmp(k->text, "plugin_path") == 0) {
            config_ref *refs = NULL;
            size_t n = 0;
            if (config_name_list(&c, v, "key \"plugin_path\": ", "a directory or a list of them",
                                 &refs, &n) == 0) {
                free(p->plugin_path);
                p->plugin_path = malloc((n ? n : 1) * sizeof *p->plugin_path);
                for (size_t j = 0; j < n; j++) {
                    if (p->plugin_path)
                        p->plugin_path[j] = refs[j].name;
                    else
                        free(refs[j].name);
                }
                p->n_plugin_path = p->plugin_path ? n : 0;
                free(refs);
            }
        } else if (strcmp(k->text, "nodes") == 0) {
            /* done above */
        } else if (strcmp(k->text, "stages") == 0) {
            stages = v;
        } else if (strcmp(k->text, "cluster") == 0) {
            cluster = v;
        } else {
            config_unknown_key(&c, k, "", "top-level ", config_top_keys, CONFIG_N_TOP);
        }
    }
    config_cluster_parse(&p->cluster, cluster, file, d);
    config_check_coordinator(&c, p);
    if (stages)
        config_parse_stages(&c, p, stages);
    else
        diag_error(d, file, root->line, root->col, "missing required key \"stages\"");
    free(skip);
    yaml_doc_free(root);

    if (!p->name)
        p->name = config_default_name(file);
    if (!p->dead_letters && p->name) {
        size_t n = strlen(p->name) + sizeof ".dead.jsonl";
        if ((p->dead_letters = malloc(n)))
            snprintf(p->dead_letters, n, "%s.dead.jsonl", p->name);
    }
    if (!p->name || !p->dead_letters)
        config_oom(&c);
    return p;
}

config_pipeline *config_load_string(const char *yaml, const char *file, diag *d)
{
    return config_load_buffer(yaml, strlen(yaml), file, d);
}

config_pipeline *config_load(const char *path, diag *d)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        diag_error(d, path, 0, 0, "cannot read the pipeline file: %s", strerror(errno));
        return NULL;
    }
    char *data = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            char *nd = realloc(data, ncap);
            if (!nd) {
                free(data);
                fclose(f);
                diag_error(d, path, 0, 0, "out of memory");
                return NULL;
            }
            data = nd;
            cap = ncap;
        }
        size_t got = fread(data + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    int failed = ferror(f);
    int err = errno;
    fclose(f);
    if (failed) {
        free(data);
        diag_error(d, path, 0, 0, "cannot read the pipeline file: %s", strerror(err));
        return NULL;
    }
    config_pipeline *p = config_load_buffer(data, len, path, d);
    free(data);
    return p;
}

static void config_free_entries(schema_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].key);
        free(e[i].value);
    }
    free(e);
}

void config_free(config_pipeline *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_stages; i++) {
        config_stage *st = &p->stages[i];
        free(st->name);
        free(st->plugin.name);
        for (size_t j = 0; j < st->n_inputs; j++)
            free(st->inputs[j].name);
        free(st->inputs);
        free(st->node.name);
        free(st->replica_node);
        config_free_entries(st->entries, st->n_entries);
    }
    free(p->stages);
    for (size_t i = 0; i < p->n_nodes; i++) {
        free(p->nodes[i].name);
        free(p->nodes[i].endpoint);
        free(p->nodes[i].bind);
        free(p->nodes[i].public_key);
        free(p->nodes[i].secret_key);
    }
    free(p->nodes);
    config_cluster_free(&p->cluster);
    for (size_t i = 0; i < p->n_plugin_path; i++)
        free(p->plugin_path[i]);
    free(p->plugin_path);
    free(p->dead_letters);
    free(p->metrics);
    free(p->state);
    free(p->name);
    free(p->file);
    free(p);
}

const config_stage *config_find_stage(const config_pipeline *p, const char *name)
{
    for (size_t i = 0; p && i < p->n_stages; i++)
        if (strcmp(p->stages[i].name, name) == 0)
            return &p->stages[i];
    return NULL;
}
