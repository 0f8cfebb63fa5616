/*
 * ledger.h — the durable record of a pipeline's source keys
 * (docs/durable-runs.md): which keys were read, which every sink has
 * committed, which were dead-lettered (with the dead letter), which are
 * held in blocking stages' checkpoints, and what configuration produced
 * them.  One SQLite database in WAL mode per state directory; one writer
 * thread applies what the instances and the coordinator report in batched
 * transactions, so no record waits for an fsync; each source instance reads
 * through its own connection, merging its sorted listing with the ledger.
 */
#ifndef FLOWRUN_LEDGER_H
#define FLOWRUN_LEDGER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "flowrun/plugin.h"
#include "graph.h"

typedef struct ledger ledger;
typedef struct ledger_reader ledger_reader;

/* How a run begins, decided from the ledger and the command line. */
typedef enum ledger_start {
    LEDGER_NEW = 0,         /* nothing recorded (or --fresh): every key is read */
    LEDGER_RESUME = 1,      /* the last run stopped: done keys are skipped */
    LEDGER_INCREMENTAL = 2, /* the last run completed, sinks append: new/changed keys only */
    LEDGER_RERUN = 3,       /* the last run completed, a sink overwrites: a new full run */
} ledger_start;

typedef struct ledger_options {
    int fresh;      /* --fresh: start over (a damaged ledger is kept aside) */
    int retry_dead; /* --retry-dead: dead keys are read again */
    int off;        /* no database: state directories only, emptied (no resume) */
} ledger_options;

/* What the run did with the ledger, for the summary. */
typedef struct ledger_counts {
    ledger_start start;
    uint64_t skipped_done, skipped_dead, skipped_held; /* not read again */
    uint64_t resumed;                                  /* in flight when the last run stopped */
    uint64_t changed;                                  /* read again: a new version */
} ledger_counts;

/* Opens (creating) the ledger in dir for graph g, takes its lock, checks it
 * is sound and writable and the configuration matches, and decides how the
 * run starts.  NULL with a message in err (corrupt, locked by pid N,
 * read-only, disk full, configuration changed since the interrupted run);
 * nothing has been read or written then. */
ledger *ledger_open(const char *dir, const graph *g, const ledger_options *opt, char *err,
                    size_t err_size);

/* The directory of stage instance's state, made (and emptied at a new full
 * run).  Owned by the ledger.  NULL with err. */
const char *ledger_stage_dir(ledger *l, const char *stage, uint32_t instance, char *err,
                             size_t err_size);

/* A file's content hash that stage's results depend on (fr_fingerprint_file),
 * gathered during init (any thread). */
void ledger_add_file(ledger *l, const char *stage, const char *key, const char *hash);
/* Once every stage is ready, before data flows: compares the files with the
 * run being resumed, records the run as running and starts the writer.
 * 0, or -1 with err naming what changed (then nothing was written). */
int ledger_begin(ledger *l, char *err, size_t err_size);
/* Nonzero once recording failed (disk full): the run must stop. */
int ledger_failed(ledger *l, char *err, size_t err_size);

/* Per source instance: its own read connection.  Thread: the instance's. */
ledger_reader *ledger_reader_new(ledger *l, size_t stage_index);
fr_key_state ledger_key_state(ledger_reader *r, const char *key, const char *version);
/* The next question reads a fresh snapshot (after ledger_sync).  NULL: no-op. */
void ledger_reader_refresh(ledger_reader *r);
void ledger_reader_free(ledger_reader *r);

/* What happens to keys, queued for the writer thread (any thread). */
void ledger_key_sent(ledger *l, size_t stage_index, const char *key, const char *version);
void ledger_committed(ledger *l, size_t sink_index, const char *const *ids, size_t n);
void ledger_dead(ledger *l, const char *id, const char *line);
void ledger_checkpoint(ledger *l, size_t stage_index, const char *const *ids, size_t n);
/* Waits until everything queued so far (by any thread) is written: a crash
 * from then on loses none of it, and readers see it.  0, or -1 once
 * recording failed.  NULL, or before the run began: 0 at once. */
int ledger_sync(ledger *l);

/* Ends the run: waits for the writer, records its status (an exit code),
 * writes the dead-letter file from the ledger (atomically), releases the
 * lock and frees l.  Returns 0, or -1 with err (the ledger could not be
 * written: the run's result is not durable). */
int ledger_close(ledger *l, int exit_code, const char *dead_letters, char *err, size_t err_size);

/* `flowrun state`: prints the ledger in dir to out: the last run and per
 * source done/pending/dead/held counts, or (keys not NULL) one line per
 * key in state keys ("pending", "done", "dead", "all").  0, or -1 with
 * err. */
int ledger_inspect(const char *dir, const char *keys, FILE *out, char *err, size_t err_size);

/* What the start means for sinks (fr_run_kind_of).  NULL: FR_RUN_FRESH. */
fr_run_kind ledger_run_kind(const ledger *l);

/* 1 when l keeps keys (not off).  NULL is 0. */
int ledger_is_durable(const ledger *l);

/* The counts so far (any thread). */
ledger_counts ledger_get_counts(ledger *l);

#endif
