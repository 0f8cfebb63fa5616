/*
 * ledger.c — first cut: the state directory and the stage directories;
 * every key is new.  The SQLite ledger replaces this.
 */
#include "ledger.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state_dir.h"

struct ledger {
    char dir[4096];
    char **stage_dirs; /* owned */
    size_t n_stage_dirs;
    ledger_counts counts;
};

struct ledger_reader {
    ledger *l;
};

ledger *ledger_open(const char *dir, const graph *g, const ledger_options *opt, char *err,
                    size_t err_size)
{
    (void)g, (void)opt;
    ledger *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    snprintf(l->dir, sizeof l->dir, "%s", dir);
    if (state_dir_make(dir) != 0) {
        snprintf(err, err_size, "cannot make the state directory %s: %s", dir, strerror(errno));
        free(l);
        return NULL;
    }
    return l;
}

const char *ledger_stage_dir(ledger *l, const char *stage, uint32_t instance, char *err,
                             size_t err_size)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/stages/%s/%u", l->dir, stage, instance);
    char **grown = realloc(l->stage_dirs, (l->n_stage_dirs + 1) * sizeof *grown);
    if (!grown) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    l->stage_dirs = grown;
    if (state_dir_make(path) != 0) {
        snprintf(err, err_size, "cannot make the state directory %s: %s", path, strerror(errno));
        return NULL;
    }
    if (!(l->stage_dirs[l->n_stage_dirs] = strdup(path))) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    return l->stage_dirs[l->n_stage_dirs++];
}

void ledger_add_file(ledger *l, const char *stage, const char *key, const char *hash)
{
    (void)l, (void)stage, (void)key, (void)hash;
}

int ledger_check_files(ledger *l, char *err, size_t err_size)
{
    (void)l, (void)err, (void)err_size;
    return 0;
}

ledger_reader *ledger_reader_new(ledger *l, size_t stage_index)
{
    (void)stage_index;
    ledger_reader *r = calloc(1, sizeof *r);
    if (r)
        r->l = l;
    return r;
}

fr_key_state ledger_key_state(ledger_reader *r, const char *key, const char *version)
{
    (void)r, (void)key, (void)version;
    return FR_KEY_NEW;
}

void ledger_reader_free(ledger_reader *r)
{
    free(r);
}

void ledger_key_sent(ledger *l, size_t stage_index, const char *key, const char *version)
{
    (void)l, (void)stage_index, (void)key, (void)version;
}

void ledger_committed(ledger *l, size_t sink_index, const char *const *ids, size_t n)
{
    (void)l, (void)sink_index, (void)ids, (void)n;
}

void ledger_dead(ledger *l, const char *id, const char *line)
{
    (void)l, (void)id, (void)line;
}

void ledger_checkpoint(ledger *l, size_t stage_index, const char *const *ids, size_t n)
{
    (void)l, (void)stage_index, (void)ids, (void)n;
}

int ledger_close(ledger *l, int exit_code, const char *dead_letters, char *err, size_t err_size)
{
    (void)exit_code, (void)dead_letters, (void)err, (void)err_size;
    if (!l)
        return 0;
    for (size_t i = 0; i < l->n_stage_dirs; i++)
        free(l->stage_dirs[i]);
    free(l->stage_dirs);
    free(l);
    return 0;
}

int ledger_is_durable(const ledger *l)
{
    (void)l;
    return 0;
}

ledger_counts ledger_get_counts(ledger *l)
{
    return l->counts;
}
