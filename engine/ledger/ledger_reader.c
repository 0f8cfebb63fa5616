/*
 * ledger_reader.c — a source instance's questions to the ledger, on its own
 * connection (WAL: readers never wait for the writer).  Keys asked in
 * ascending order are answered by one forward scan of the source's rows
 * (a sorted merge with the listing: a million done keys cost one pass, and
 * nothing is held in memory); a key out of order re-seeks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger_internal.h"

#define RESEEK_EVERY 4096 /* questions per read snapshot, so the WAL can be checkpointed */

struct ledger_reader {
    ledger *l;
    size_t source;
    sqlite3 *db;
    sqlite3_stmt *scan; /* this source's rows with key >= ?2, in key order */
    int on_row;         /* scan is positioned on a row */
    char *last;         /* the last key asked (owned) */
    unsigned asked;     /* since the scan was last (re)started */
    ledger_counts counts;
};

ledger_reader *ledger_reader_new(ledger *l, size_t stage_index)
{
    if (!l || !l->db)
        return NULL;
    ledger_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->l = l;
    r->source = stage_index;
    if (sqlite3_open_v2(l->db_path, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(r->db,
                           "SELECT key, version, state, sinks, held, run FROM keys "
                           "WHERE source = ?1 AND key >= ?2 ORDER BY key",
                           -1, &r->scan, NULL) != SQLITE_OK) {
        sqlite3_close(r->db);
        free(r);
        return NULL;
    }
    sqlite3_busy_timeout(r->db, 10000);
    return r;
}

static void seek(ledger_reader *r, const char *key)
{
    sqlite3_reset(r->scan);
    sqlite3_bind_text(r->scan, 1, r->l->g->stages[r->source].cfg->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(r->scan, 2, key, -1, SQLITE_TRANSIENT);
    r->on_row = sqlite3_step(r->scan) == SQLITE_ROW;
    r->asked = 0;
}

/* The sinks a key still reaches from its source when the stages in held
 * keep it: stages that hold it stop the walk. */
static uint64_t sinks_reached(const graph *g, size_t stage, uint64_t held)
{
    if (held & (1ull << stage))
        return 0;
    const graph_stage *s = &g->stages[stage];
    if (!s->n_consumers)
        return 1ull << stage;
    uint64_t reached = 0;
    for (size_t k = 0; k < s->n_consumers; k++)
        reached |= sinks_reached(g, s->consumers[k], held);
    return reached;
}

/* The state of the row the scan is on, for version. */
static fr_key_state row_state(ledger_reader *r, const char *version)
{
    const char *had = (const char *)sqlite3_column_text(r->scan, 1);
    int state = sqlite3_column_int(r->scan, 2);
    uint64_t sinks = (uint64_t)sqlite3_column_int64(r->scan, 3);
    uint64_t held = (uint64_t)sqlite3_column_int64(r->scan, 4);
    if (!had || strcmp(had, version) != 0) {
        r->counts.changed++;
        return FR_KEY_CHANGED;
    }
    if (state == KEY_DONE) {
        r->counts.skipped_done++;
        return FR_KEY_DONE;
    }
    if (state == KEY_DEAD && !r->l->opt.retry_dead) {
        r->counts.skipped_dead++;
        return FR_KEY_DEAD;
    }
    if (state == KEY_SENT && sqlite3_column_int64(r->scan, 5) == r->l->run)
        return FR_KEY_SENT;
    if (state == KEY_SENT && held) {
        uint64_t open = sinks_reached(r->l->g, r->source, held) & ~(held | sinks);
        if (!open) {
            r->counts.skipped_held++;
            return FR_KEY_HELD;
        }
    }
    r->counts.resumed++;
    return FR_KEY_REDO;
}

fr_key_state ledger_key_state(ledger_reader *r, const char *key, const char *version)
{
    if (!r->last || strcmp(key, r->last) < 0 || ++r->asked >= RESEEK_EVERY)
        seek(r, key);
    char *copy = strdup(key);
    if (copy) {
        free(r->last);
        r->last = copy;
    }
    while (r->on_row && strcmp((const char *)sqlite3_column_text(r->scan, 0), key) < 0)
        r->on_row = sqlite3_step(r->scan) == SQLITE_ROW;
    if (!r->on_row || strcmp((const char *)sqlite3_column_text(r->scan, 0), key) != 0)
        return FR_KEY_NEW;
    return row_state(r, version);
}

void ledger_reader_refresh(ledger_reader *r)
{
    if (!r)
        return;
    free(r->last);
    r->last = NULL; /* the next question seeks: a new read snapshot */
}

void ledger_reader_free(ledger_reader *r)
{
    if (!r)
        return;
    ledger_add_counts(r->l, &r->counts);
    sqlite3_finalize(r->scan);
    sqlite3_close(r->db);
    free(r->last);
    free(r);
}
