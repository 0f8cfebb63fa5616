/*
 * fingerprint.c — what a run's results depend on, item by item: each
 * stage's plugin and version, its inputs, every key of its configuration
 * (defaults included) and the content hash of the files it declared with
 * fr_fingerprint_file (a model).  A run resumes only onto the same
 * fingerprint; a difference is named with the place it is written.
 * Keys that change how a stage works but not what it computes (threads,
 * batch, connection settings, part-file rolling) are left out, so an
 * operator can resume with fewer threads after an out-of-memory kill.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_hash.h"
#include "input_files.h"
#include "ledger_internal.h"

static const char *const operational_keys[] = {
    "batch",   "threads", "concurrency", "timeout",         "attempts",           "endpoint",
    "region",  "profile", "addressing",  "spill_dir",       "max_rows",           "max_bytes",
    "max_age", "mode",    "events",      "events_max_body", "events_max_records",
};

static int operational(const char *key)
{
    for (size_t i = 0; i < sizeof operational_keys / sizeof operational_keys[0]; i++)
        if (strcmp(key, operational_keys[i]) == 0)
            return 1;
    return 0;
}

int fingerprint_add(fp_list *list, const char *item, const char *value, const char *origin)
{
    for (size_t i = 0; i < list->n; i++)
        if (strcmp(list->items[i].item, item) == 0)
            return 0; /* declared twice (an INPUT_FILE the stage also fingerprints) */
    fp_item *grown = realloc(list->items, (list->n + 1) * sizeof *grown);
    if (!grown)
        return -1;
    list->items = grown;
    fp_item *it = &list->items[list->n];
    *it = (fp_item){strdup(item), strdup(value), strdup(origin)};
    if (!it->item || !it->value || !it->origin) {
        free(it->item);
        free(it->value);
        free(it->origin);
        return -1;
    }
    list->n++;
    return 0;
}

void fingerprint_free(fp_list *list)
{
    for (size_t i = 0; i < list->n; i++) {
        free(list->items[i].item);
        free(list->items[i].value);
        free(list->items[i].origin);
    }
    free(list->items);
    *list = (fp_list){0};
}

void fingerprint_origin(const graph *g, const char *stage, const char *key, char *out, size_t size)
{
    const config_stage *cs = config_find_stage(g->pipeline, stage);
    int line = cs ? cs->line : 0, col = cs ? cs->col : 0;
    for (size_t i = 0; cs && key && i < cs->n_entries; i++)
        if (strcmp(cs->entries[i].key, key) == 0 && cs->entries[i].key_line) {
            line = cs->entries[i].key_line;
            col = cs->entries[i].key_col;
        }
    snprintf(out, size, "%s:%d:%d", g->pipeline->file, line, col);
}

static int stage_items(const graph *g, const graph_stage *s, fp_list *out)
{
    char item[512], origin[4200], value[4096];
    const char *name = s->cfg->name;
    fingerprint_origin(g, name, NULL, origin, sizeof origin);
    snprintf(item, sizeof item, "%s.plugin", name);
    snprintf(value, sizeof value, "%s %s", s->plugin->desc.name,
             s->plugin->desc.version ? s->plugin->desc.version : "");
    if (fingerprint_add(out, item, value, origin) != 0)
        return -1;
    value[0] = '\0';
    for (size_t k = 0; k < s->n_inputs; k++)
        snprintf(value + strlen(value), sizeof value - strlen(value), "%s%s", k ? "," : "",
                 g->stages[s->inputs[k]].cfg->name);
    snprintf(item, sizeof item, "%s.inputs", name);
    if (fingerprint_add(out, item, value, origin) != 0)
        return -1;
    for (const fr_param *p = s->plugin->desc.params; p && p->key; p++) {
        if (operational(p->key))
            continue;
        snprintf(item, sizeof item, "%s.%s", name, p->key);
        fingerprint_origin(g, name, p->key, origin, sizeof origin);
        if (fingerprint_add(out, item, schema_string(s->config, p->key, NULL), origin) != 0)
            return -1;
    }
    return 0;
}

int fingerprint_input_files(const graph *g, fp_list *out, char *err, size_t err_size)
{
    for (size_t i = 0; i < g->n_stages; i++) {
        const graph_stage *s = &g->stages[i];
        for (const fr_param *p = s->plugin->desc.params; p && p->key; p++) {
            if (p->type != FR_PARAM_INPUT_FILE || !input_file_is_read(p, s->config))
                continue;
            const char *path = schema_string(s->config, p->key, NULL);
            char item[512], origin[4200], hash[64], why[4200];
            if (!*path || strstr(path, "://"))
                continue; /* not a local file: not hashed */
            if (file_hash(path, hash, sizeof hash, why, sizeof why) != 0) {
                snprintf(err, err_size, "stage \"%s\": key \"%s\": %s", s->cfg->name, p->key, why);
                return -1;
            }
            snprintf(item, sizeof item, "%s.%s%s", s->cfg->name, p->key, FINGERPRINT_CONTENT);
            fingerprint_origin(g, s->cfg->name, p->key, origin, sizeof origin);
            if (fingerprint_add(out, item, hash, origin) != 0) {
                snprintf(err, err_size, "out of memory");
                return -1;
            }
        }
    }
    return 0;
}

int fingerprint_config(const graph *g, fp_list *out)
{
    for (size_t i = 0; i < g->n_stages; i++)
        if (stage_items(g, &g->stages[i], out) != 0)
            return -1;
    return 0;
}

/* Appends one difference to err (at most a few, then "..."). */
static void say(char *err, size_t size, int *count, const char *fmt, const char *a, const char *b,
                const char *c, const char *d)
{
    size_t used = strlen(err);
    if (++*count > 4) {
        if (*count == 5 && used + 8 < size)
            strcat(err, "\n  ...");
        return;
    }
    snprintf(err + used, size - used, "\n  ");
    used = strlen(err);
    snprintf(err + used, size - used, fmt, a, b, c, d);
}

static const fp_item *find(const fp_list *list, const char *item)
{
    for (size_t i = 0; i < list->n; i++)
        if (strcmp(list->items[i].item, item) == 0)
            return &list->items[i];
    return NULL;
}

/* A file's content item ("embed.model content"), as opposed to a key's. */
static int is_file(const char *item)
{
    size_t n = strlen(item), m = strlen(FINGERPRINT_CONTENT);
    return n > m && strcmp(item + n - m, FINGERPRINT_CONTENT) == 0;
}

int fingerprint_compare(sqlite3 *db, const fp_list *list, int files, char *err, size_t err_size)
{
    sqlite3_stmt *s;
    err[0] = '\0';
    if (sqlite3_prepare_v2(db, "SELECT item, value FROM config ORDER BY item", -1, &s, NULL) !=
        SQLITE_OK) {
        snprintf(err, err_size, "%s", sqlite3_errmsg(db));
        return -1;
    }
    int count = 0, rc;
    fp_list stored = {0};
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *item = (const char *)sqlite3_column_text(s, 0);
        const char *value = (const char *)sqlite3_column_text(s, 1);
        if (is_file(item) != files)
            continue;
        fingerprint_add(&stored, item, value ? value : "", "");
        const fp_item *now = find(list, item);
        if (!now)
            say(err, err_size, &count, "%s\"%s\" was \"%s\"%s: no longer in the pipeline", "", item,
                value, "");
        else if (strcmp(now->value, value) != 0)
            say(err, err_size, &count, "%s: %s is \"%s\", was \"%s\"", now->origin, item,
                now->value, value);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        fingerprint_free(&stored);
        snprintf(err, err_size, "%s", sqlite3_errmsg(db));
        return -1;
    }
    for (size_t i = 0; i < list->n; i++)
        if (is_file(list->items[i].item) == files && !find(&stored, list->items[i].item))
            say(err, err_size, &count, "%s: %s is \"%s\"%s, new since that run",
                list->items[i].origin, list->items[i].item, list->items[i].value, "");
    fingerprint_free(&stored);
    return count ? 1 : 0;
}

int fingerprint_store(sqlite3 *db, const fp_list *list, int files)
{
    sqlite3_stmt *del, *ins;
    if (sqlite3_prepare_v2(db, "DELETE FROM config WHERE (item LIKE '%' || ?1) = ?2", -1, &del,
                           NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_prepare_v2(db, "INSERT INTO config(item, value, origin) VALUES (?1, ?2, ?3)", -1,
                           &ins, NULL) != SQLITE_OK) {
        sqlite3_finalize(del);
        return -1;
    }
    sqlite3_bind_text(del, 1, FINGERPRINT_CONTENT, -1, SQLITE_STATIC);
    sqlite3_bind_int(del, 2, files);
    int ok = sqlite3_step(del) == SQLITE_DONE;
    for (size_t i = 0; ok && i < list->n; i++) {
        if (is_file(list->items[i].item) != files)
            continue;
        sqlite3_bind_text(ins, 1, list->items[i].item, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, list->items[i].value, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, list->items[i].origin, -1, SQLITE_STATIC);
        ok = sqlite3_step(ins) == SQLITE_DONE;
        sqlite3_reset(ins);
    }
    sqlite3_finalize(del);
    sqlite3_finalize(ins);
    return ok ? 0 : -1;
}
