/*
 * schema.h — a stage's configuration checked against its plugin's fr_param
 * table: types, bounds, choices, sizes ("64MiB"), durations ("30s"),
 * defaults, unknown keys (with a did-you-mean).  The engine does this for
 * every plugin, so plugins never parse YAML.
 */
#ifndef FLOWRUN_SCHEMA_H
#define FLOWRUN_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "flowrun/plugin.h"

/* One key: value as written (after ${ENV} substitution).  Owned by whoever
 * built the array (config_pipeline, harness). */
typedef struct schema_entry {
    char *key;
    char *value;            /* the scalar's text; NULL when the YAML value is not a scalar */
    const char *value_kind; /* "a list" / "a mapping" when value is NULL, for messages */
    int line, col;          /* of the value; 0 when not from a file */
    int key_line, key_col;
} schema_entry;

/* Where entries come from, for messages:
 * "file:line:col: stage "resize": key "filter": expected ..." */
typedef struct schema_origin {
    const char *file;   /* NULL: no position */
    const char *stage;  /* stage name, or NULL */
    const char *plugin; /* plugin name */
    /* Where the stage is written (its name), for "missing required key";
     * 0 when unknown.  (Appended: origins built without it stay valid.) */
    int line, col;
} schema_origin;

typedef struct schema_values schema_values;

/* Checks entries against params and resolves every param (given or default).
 * Reports each problem to d (all of them, not only the first) and returns
 * NULL if there was any; otherwise the resolved values (caller frees).
 * Positions: unknown keys and bad values at the key (key_line/key_col; a
 * bad value at line/col when key_line is 0), a missing required key at
 * origin->line/col. */
schema_values *schema_apply(const fr_param *params, const schema_entry *entries, size_t n,
                            const schema_origin *origin, diag *d);
void schema_values_free(schema_values *v);

/* Typed access; key must be in the table (else found = 0 and ""/0).
 * Strings owned by v.  INT/SIZE (bytes)/DURATION (ms) via schema_int. */
const char *schema_string(const schema_values *v, const char *key, int *found);
int64_t schema_int(const schema_values *v, const char *key, int *found);
double schema_double(const schema_values *v, const char *key, int *found);
int schema_bool(const schema_values *v, const char *key, int *found);
/* ENUM: the value's index in the param's choices; -1 for another type or an
 * optional ENUM left empty. */
int schema_enum(const schema_values *v, const char *key, int *found);
/* 1 if params (NULL-key terminated) declares key as FR_PARAM_ENUM. */
int schema_param_is_enum(const fr_param *params, const char *key);

/* p's bounds for messages and `flowrun describe` ("from 1 to 64", "at least
 * 1", "at most 10s"), or "" when it has none. */
void schema_bounds_text(const fr_param *p, char *out, size_t n);

/* Checks a plugin's own table when it is loaded: keys unique and well
 * formed ([a-z][a-z0-9_]*, not an engine key: plugin, inputs, replicas,
 * node, retries, retry_backoff), ENUM has choices, bounds only on numeric
 * types with min <= max, every default parses and is in bounds.
 * Returns 0, or -1 with a message in err naming the key. */
int schema_check_table(const fr_param *params, char *err, size_t err_size);

/* "string", "int", "size", ... for `flowrun describe`. */
const char *schema_type_name(fr_param_type type);

/* Parses one scalar as type (used by schema_apply and the CLI).
 * Returns 0 or -1 with "expected ..." in err.
 * Sizes: a number (decimals allowed if the result is whole bytes), optional
 * spaces, a unit in any case: none or B, KiB MiB GiB TiB (1024^n), KB MB GB
 * TB (1000^n); a bare "k"/"M"/"G" is refused (1000 or 1024?).
 * Durations: number+unit, units ms, s, m (or min), h, several allowed
 * ("1h30m"); a plain number is seconds ("1.5" = 1500); whole ms only.
 * Bools: true/false, yes/no, on/off, any case. */
int schema_parse_int(const char *text, int64_t *out, char *err, size_t err_size);
int schema_parse_size(const char *text, int64_t *bytes, char *err, size_t err_size);
int schema_parse_duration(const char *text, int64_t *ms, char *err, size_t err_size);
int schema_parse_bool(const char *text, int *out, char *err, size_t err_size);
int schema_parse_double(const char *text, double *out, char *err, size_t err_size);

/* The candidate closest to word by edit distance, if close enough to be a
 * likely typo (distance <= 2, or <= len/3 for long words); else NULL. */
const char *schema_did_you_mean(const char *word, const char *const *candidates, size_t n);

#endif
