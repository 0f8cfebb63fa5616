/*
 * config.h — the pipeline file (docs/architecture.md, "The pipeline file") read with libyaml into
 * plain structs, with positions kept for messages.  Structure and engine
 * keys are checked here; each stage's plugin keys are left as entries for
 * schema_apply() once the plugin is loaded.
 */
#ifndef FLOWRUN_CONFIG_H
#define FLOWRUN_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "config_cluster.h"
#include "diag.h"
#include "schema.h"

typedef struct config_ref {
    char *name;
    int line, col;
} config_ref;

typedef struct config_node {
    char *name;
    char *endpoint;   /* "tcp://10.0.0.2:7100", "ipc:///run/flowrun/a" */
    char *bind;       /* bind: where it listens, when not at endpoint (NAT, pods), or NULL */
    char *public_key; /* public_key: its CURVE public key file, or NULL */
    char *secret_key; /* secret_key: its secret key file (read by that node only), or NULL */
    int line, col;
} config_node;

typedef struct config_stage {
    char *name;
    int line, col;      /* of the stage's name */
    config_ref plugin;  /* reserved key plugin: (required) */
    config_ref *inputs; /* reserved key inputs: one name or a list */
    size_t n_inputs;
    uint32_t replicas;        /* replicas: default 1, 1..256 */
    config_ref node;          /* node: name, or .name NULL */
    size_t *replica_node;     /* replicas: {node: n, ...}: the node of each replica, or NULL */
    uint32_t retries;         /* retries: default 3, RETRY attempts before dead-lettering */
    int64_t retry_backoff_ms; /* retry_backoff: default 100ms, doubled per attempt */
    schema_entry *entries;    /* every other key: the plugin's */
    size_t n_entries;
} config_stage;

typedef struct config_pipeline {
    char *file;         /* as given */
    char *name;         /* name: default the file's base name without .yaml */
    char *dead_letters; /* dead_letters: path; default "<name>.dead.jsonl" */
    char *state;        /* state: the ledger's directory; NULL: the default (state_dir.c) */
    char *metrics;      /* metrics: ADDR:PORT for /metrics and health; NULL: none */
    char **plugin_path; /* plugin_path: one dir or a list */
    size_t n_plugin_path;
    config_node *nodes;
    size_t n_nodes;
    config_cluster cluster; /* cluster: (config_cluster.h) */
    config_stage *stages;   /* in file order */
    size_t n_stages;
} config_pipeline;

/* Reads and checks path.  Every problem found goes to d; returns NULL only
 * when nothing usable could be read (missing file, YAML syntax error), and
 * otherwise the pipeline even if d has errors (so later checks can report
 * more).  ${VAR} and ${VAR:-default} are substituted in every scalar;
 * "$$" is a literal '$'. */
config_pipeline *config_load(const char *path, diag *d);
/* Details of the implementation (engine/config/config.c):
 * - Engine keys: retries 0..1000, retry_backoff a duration 0..1h; they are
 *   checked with schema_apply, so their messages read like a plugin key's.
 * - Stage and node names match [a-z0-9_-]+; endpoints start with tcp:// or
 *   ipc://; duplicate keys are errors in every mapping (the first is kept).
 * - Positions: values checked by a schema (plugin keys, replicas, retries,
 *   retry_backoff) are reported at their key, as in
 *   `x.yaml:12:5: stage "resize": key "filter": ...`; structural values
 *   (plugin, inputs, node, endpoint, ${VAR} errors) at the value itself.
 * - A plugin key whose ${VAR} fails keeps its raw text as value (after the
 *   error), so the plugin's check still runs; a non-scalar or null value
 *   gives value NULL with value_kind "a list", "a mapping" or "no value". */
/* The same from a string (tests); file is used in messages. */
config_pipeline *config_load_string(const char *yaml, const char *file, diag *d);
void config_free(config_pipeline *p);

const config_stage *config_find_stage(const config_pipeline *p, const char *name);

#endif
