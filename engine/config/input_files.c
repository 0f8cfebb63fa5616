/*
 * input_files.c — files named by FR_PARAM_INPUT_FILE keys must exist and be
 * readable before the run starts (see input_files.h).
 */
#include "input_files.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Whether p's condition ("key=value", or none) holds in the stage's config. */
int input_file_is_read(const fr_param *p, const schema_values *config)
{
    const char *c = p->choices;
    if (!c || !*c)
        return 1;
    const char *eq = strchr(c, '=');
    if (!eq)
        return 1; /* schema_check_table refused such a table at load */
    char key[128];
    size_t len = (size_t)(eq - c) < sizeof key - 1 ? (size_t)(eq - c) : sizeof key - 1;
    memcpy(key, c, len);
    key[len] = '\0';
    return strcmp(schema_string(config, key, NULL), eq + 1) == 0;
}

/* The position of the key in the stage's YAML, else the stage's own. */
static void key_position(const config_stage *c, const char *key, int *line, int *col)
{
    *line = c->line;
    *col = c->col;
    for (size_t i = 0; i < c->n_entries; i++) {
        if (strcmp(c->entries[i].key, key) == 0 && c->entries[i].key_line > 0) {
            *line = c->entries[i].key_line;
            *col = c->entries[i].key_col;
            return;
        }
    }
}

/* NULL if path can be read as a file, else why not (static text or
 * strerror's). */
static const char *unreadable(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return strerror(errno);
    if (S_ISDIR(st.st_mode))
        return "it is a directory, not a file";
    if (access(path, R_OK) != 0)
        return strerror(errno);
    return NULL;
}

static size_t check_stage(const graph *g, const graph_stage *s, diag *d)
{
    size_t problems = 0;
    for (const fr_param *p = s->plugin->desc.params; p && p->key; p++) {
        if (p->type != FR_PARAM_INPUT_FILE || !input_file_is_read(p, s->config))
            continue;
        const char *path = schema_string(s->config, p->key, NULL);
        if (!*path || strstr(path, "://"))
            continue;
        const char *why = unreadable(path);
        if (!why)
            continue;
        int line, col;
        key_position(s->cfg, p->key, &line, &col);
        diag_error(d, g->pipeline->file, line, col,
                   "stage \"%s\": key \"%s\": cannot read \"%s\": %s", s->cfg->name, p->key, path,
                   why);
        problems++;
    }
    return problems;
}

size_t input_files_check(const graph *g, const char *node, diag *d)
{
    size_t problems = 0;
    for (size_t i = 0; i < g->n_stages; i++) {
        const graph_stage *s = &g->stages[i];
        if (!s->plugin || !s->config)
            continue;
        /* as the runtime places stages: one without `node:` runs on the first */
        if (node && g->pipeline->n_nodes && strcmp(g->pipeline->nodes[s->node].name, node) != 0)
            continue;
        problems += check_stage(g, s, d);
    }
    return problems;
}
