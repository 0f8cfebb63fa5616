/*
 * ledger_internal.h — what the ledger's files share (ledger.c: opening,
 * the start decision, closing; ledger_writer.c: the writer thread;
 * ledger_reader.c: a source's questions; fingerprint.c: the configuration
 * a run's results depend on).  Private to them.
 */
#ifndef FLOWRUN_LEDGER_INTERNAL_H
#define FLOWRUN_LEDGER_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>

#include "ledger.h"

#define LEDGER_SCHEMA     1
#define LEDGER_MAX_STAGES 63 /* stages are bits of the sinks/held masks */

enum { KEY_SENT = 0, KEY_DONE = 1, KEY_DEAD = 2 }; /* keys.state */

typedef struct ledger_writer ledger_writer;

/* One item of a run's fingerprint: "resize.filter" = "bicubic", written at
 * "p.yaml:31:5". */
typedef struct fp_item {
    char *item, *value, *origin; /* owned */
} fp_item;

typedef struct fp_list {
    fp_item *items;
    size_t n;
} fp_list;

struct ledger {
    char dir[4096];
    char db_path[4200];
    const graph *g; /* borrowed for the run */
    ledger_options opt;
    sqlite3 *db; /* NULL when off; the writer thread's once data flows */
    int lock_fd;
    int64_t run; /* this run's number: keys sent by it are FR_KEY_SENT */
    ledger_start start;
    fr_run_kind followed;                     /* off: the coordinator node's kind (ledger_follow) */
    int begun;                                /* the run was recorded as running */
    uint64_t sinks_of[LEDGER_MAX_STAGES + 1]; /* per stage: mask of the sinks below it */
    char **stage_dirs;                        /* owned, handed to the instances */
    size_t n_stage_dirs;
    pthread_mutex_t lock; /* files, counts */
    fp_list files;        /* fr_fingerprint_file hashes of this run */
    ledger_counts counts;
    ledger_writer *writer;
};

/* ---- ledger_writer.c ---- */
ledger_writer *ledger_writer_start(ledger *l, char *err, size_t err_size);
/* Applies what is queued and stops.  0, or -1 with the first write error. */
int ledger_writer_stop(ledger_writer *w, char *err, size_t err_size);
/* Nonzero once a write failed (the message in err). */
int ledger_writer_failed(ledger_writer *w, char *err, size_t err_size);

/* ---- fingerprint.c ---- */
/* The configuration of every stage, as items (engine keys that do not
 * change results left out: docs/durable-runs.md).  0 or -1 (memory). */
int fingerprint_config(const graph *g, fp_list *out);
/* A fingerprinted file's item: "<stage>.<key> content". */
#define FINGERPRINT_CONTENT " content"
int fingerprint_add(fp_list *list, const char *item, const char *value, const char *origin);
void fingerprint_free(fp_list *list);
/* The content hash of every FR_PARAM_INPUT_FILE a stage reads (its
 * condition holds), as "<stage>.<key> content" items.  0, or -1 with err
 * (a file that cannot be read). */
int fingerprint_input_files(const graph *g, fp_list *out, char *err, size_t err_size);
/* Where key of stage is written ("p.yaml:31:5"), or the stage's line. */
void fingerprint_origin(const graph *g, const char *stage, const char *key, char *out, size_t size);
/* Compares list with what the ledger stored: the configuration's items
 * (files 0) or the files' (files 1).  0 when equal, 1 with the differences
 * in err, -1 on a database error (in err). */
int fingerprint_compare(sqlite3 *db, const fp_list *list, int files, char *err, size_t err_size);
/* Replaces the stored items of that kind by list's.  0 or -1. */
int fingerprint_store(sqlite3 *db, const fp_list *list, int files);

/* ---- ledger.c ---- */
/* Runs sql (no rows); 0 or -1 with SQLite's message in err. */
int ledger_exec(sqlite3 *db, const char *sql, char *err, size_t err_size);
/* Index of the stage named by the first len bytes of name, or g->n_stages. */
size_t ledger_stage_index(const graph *g, const char *name, size_t len);
/* Adds a reader's counts to the ledger's. */
void ledger_add_counts(ledger *l, const ledger_counts *c);

#endif
