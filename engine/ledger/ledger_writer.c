/*
 * ledger_writer.c — the ledger's one writer thread.  Instances and the
 * coordinator queue what happens to keys (a cheap append under a mutex);
 * the thread applies everything queued in one transaction, then the next
 * batch.  In WAL mode with synchronous=NORMAL a commit does not fsync, so
 * no record ever waits on the disk (docs/durable-runs.md says why that is
 * still exactly-once after a power loss).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger_internal.h"
#include "source_id.h"

enum op_type { OP_SENT, OP_COMMITTED, OP_DEAD, OP_HELD };

typedef struct ledger_op {
    enum op_type type;
    size_t stage; /* OP_SENT: the source; OP_COMMITTED: the sink; OP_HELD: the holder */
    char *a;      /* OP_SENT: the key; else the id.  Owned */
    char *b;      /* OP_SENT: the version; OP_DEAD: the dead-letter line.  Owned, or NULL */
} ledger_op;

typedef struct op_queue {
    ledger_op *ops;
    size_t n, cap;
} op_queue;

enum { ST_SENT, ST_COMMITTED, ST_DEAD, ST_HELD, ST_ORPHAN, ST_COUNT };

static const char *const statements[ST_COUNT] = {
    [ST_SENT] = "INSERT INTO keys(source, key, version, state, sinks, held, run) "
                "VALUES (?1, ?2, ?3, 0, 0, 0, ?4) ON CONFLICT(source, key) DO UPDATE SET "
                "state = 0, run = excluded.run, dead = NULL, "
                "sinks = CASE WHEN version = excluded.version THEN sinks ELSE 0 END, "
                "held = CASE WHEN version = excluded.version THEN held ELSE 0 END, "
                "version = excluded.version",
    [ST_COMMITTED] = "UPDATE keys SET sinks = sinks | ?4, state = CASE WHEN state = 0 AND "
                     "((sinks | ?4) & ?5) = ?5 THEN 1 ELSE state END "
                     "WHERE source = ?1 AND key = ?2 AND version = ?3",
    /* A key the source emitted without fr_emit_key has no row yet. */
    [ST_DEAD] = "INSERT INTO keys(source, key, version, state, run, dead) "
                "VALUES (?1, ?2, ?3, 2, ?5, ?4) ON CONFLICT(source, key) DO UPDATE SET "
                "state = 2, dead = excluded.dead WHERE version = excluded.version",
    /* In parentheses: clang takes two literals in an array initializer for
     * a missing comma. */
    [ST_HELD] = ("UPDATE keys SET held = held | ?4 "
                 "WHERE source = ?1 AND key = ?2 AND version = ?3 AND state = 0"),
    /* The dead letter of an id no source stamped: kept for this run's file. */
    [ST_ORPHAN] = "INSERT INTO orphans(run, line) VALUES (?1, ?2)",
};

struct ledger_writer {
    ledger *l;
    pthread_t thread;
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    pthread_cond_t applied_cv; /* broadcast when applied grows or the writer fails */
    op_queue queue;            /* filled by any thread, taken whole by the writer */
    uint64_t queued, applied;  /* ops queued so far; of them, written (ledger_sync) */
    int stopping;
    int failed;
    char error[5000];
    sqlite3_stmt *stmt[ST_COUNT];
};

static void queue_clear(op_queue *q)
{
    for (size_t i = 0; i < q->n; i++) {
        free(q->ops[i].a);
        free(q->ops[i].b);
    }
    q->n = 0;
}

static void fail(ledger_writer *w, const char *what)
{
    pthread_mutex_lock(&w->mutex);
    if (!w->failed)
        snprintf(w->error, sizeof w->error, "ledger %s: %s: %s", w->l->db_path, what,
                 sqlite3_errmsg(w->l->db));
    w->failed = 1;
    pthread_cond_broadcast(&w->applied_cv);
    pthread_mutex_unlock(&w->mutex);
}

/* Binds the id's source, key and version as ?1..?3.  0, or -1 for an id
 * the engine did not stamp (a source that formats its own: not kept). */
static int bind_id(ledger_writer *w, sqlite3_stmt *s, const char *id, size_t *source)
{
    source_id_parts p;
    if (source_id_parse(id, &p) != 0)
        return -1;
    *source = ledger_stage_index(w->l->g, p.stage, p.stage_len);
    if (*source >= w->l->g->n_stages)
        return -1;
    sqlite3_bind_text(s, 1, p.stage, (int)p.stage_len, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, p.key, (int)p.key_len, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, p.version, (int)p.version_len, SQLITE_STATIC);
    return 0;
}

static int apply(ledger_writer *w, const ledger_op *op)
{
    const graph *g = w->l->g;
    size_t source;
    sqlite3_stmt *s;
    switch (op->type) {
    case OP_SENT:
        s = w->stmt[ST_SENT];
        sqlite3_bind_text(s, 1, g->stages[op->stage].cfg->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, op->a, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, op->b, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, w->l->run);
        break;
    case OP_COMMITTED:
        s = w->stmt[ST_COMMITTED];
        if (bind_id(w, s, op->a, &source) != 0)
            return 0;
        sqlite3_bind_int64(s, 4, (sqlite3_int64)(1ull << op->stage));
        sqlite3_bind_int64(s, 5, (sqlite3_int64)w->l->sinks_of[source]);
        break;
    case OP_DEAD:
        s = w->stmt[ST_DEAD];
        if (bind_id(w, s, op->a, &source) != 0) {
            s = w->stmt[ST_ORPHAN];
            sqlite3_bind_int64(s, 1, w->l->run);
            sqlite3_bind_text(s, 2, op->b, -1, SQLITE_STATIC);
            break;
        }
        sqlite3_bind_text(s, 4, op->b, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 5, w->l->run);
        break;
    default:
        s = w->stmt[ST_HELD];
        if (bind_id(w, s, op->a, &source) != 0)
            return 0;
        sqlite3_bind_int64(s, 4, (sqlite3_int64)(1ull << op->stage));
        break;
    }
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* One transaction for the whole batch. */
static void apply_batch(ledger_writer *w, const op_queue *q)
{
    char err[512];
    if (ledger_exec(w->l->db, "BEGIN", err, sizeof err) != 0) {
        fail(w, "cannot begin a transaction");
        return;
    }
    for (size_t i = 0; i < q->n; i++)
        if (apply(w, &q->ops[i]) != 0) {
            fail(w, "cannot record a key");
            ledger_exec(w->l->db, "ROLLBACK", err, sizeof err);
            return;
        }
    if (ledger_exec(w->l->db, "COMMIT", err, sizeof err) != 0)
        fail(w, "cannot commit");
}

static void *writer_main(void *arg)
{
    ledger_writer *w = arg;
    op_queue batch = {0};
    pthread_mutex_lock(&w->mutex);
    for (;;) {
        while (!w->queue.n && !w->stopping)
            pthread_cond_wait(&w->wake, &w->mutex);
        if (!w->queue.n && w->stopping)
            break;
        op_queue taken = w->queue; /* swap: producers go on filling the other array */
        w->queue = batch;
        batch = taken;
        uint64_t upto = w->queued;
        int failed = w->failed;
        pthread_mutex_unlock(&w->mutex);
        if (!failed)
            apply_batch(w, &batch);
        queue_clear(&batch);
        pthread_mutex_lock(&w->mutex);
        w->applied = upto;
        pthread_cond_broadcast(&w->applied_cv);
    }
    pthread_mutex_unlock(&w->mutex);
    free(batch.ops);
    return NULL;
}

/* What start made, in reverse: the queue's array (empty when start
 * failed), the statements, the synchronisation, w. */
static void writer_free(ledger_writer *w)
{
    free(w->queue.ops);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(w->stmt[i]);
    pthread_cond_destroy(&w->wake);
    pthread_cond_destroy(&w->applied_cv);
    pthread_mutex_destroy(&w->mutex);
    free(w);
}

ledger_writer *ledger_writer_start(ledger *l, char *err, size_t err_size)
{
    ledger_writer *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    w->l = l;
    for (int i = 0; i < ST_COUNT; i++)
        if (sqlite3_prepare_v3(l->db, statements[i], -1, SQLITE_PREPARE_PERSISTENT, &w->stmt[i],
                               NULL) != SQLITE_OK) {
            snprintf(err, err_size, "ledger %s: %s", l->db_path, sqlite3_errmsg(l->db));
            for (int k = 0; k < i; k++)
                sqlite3_finalize(w->stmt[k]);
            free(w);
            return NULL;
        }
    pthread_mutex_init(&w->mutex, NULL);
    pthread_cond_init(&w->wake, NULL);
    pthread_cond_init(&w->applied_cv, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        snprintf(err, err_size, "cannot start the ledger's writer thread");
        writer_free(w);
        return NULL;
    }
    return w;
}

int ledger_writer_stop(ledger_writer *w, char *err, size_t err_size)
{
    pthread_mutex_lock(&w->mutex);
    w->stopping = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mutex);
    pthread_join(w->thread, NULL);
    int failed = w->failed;
    if (failed)
        snprintf(err, err_size, "%s", w->error);
    queue_clear(&w->queue);
    writer_free(w);
    return failed ? -1 : 0;
}

int ledger_writer_failed(ledger_writer *w, char *err, size_t err_size)
{
    pthread_mutex_lock(&w->mutex);
    int failed = w->failed;
    if (failed)
        snprintf(err, err_size, "%s", w->error);
    pthread_mutex_unlock(&w->mutex);
    return failed;
}

/* Queues one op (a and b copied).  Out of memory: the op is lost, which
 * only means the key is read again by the next run; the writer says so. */
static void push(ledger_writer *w, enum op_type type, size_t stage, const char *a, const char *b)
{
    ledger_op op = {type, stage, strdup(a), b ? strdup(b) : NULL};
    pthread_mutex_lock(&w->mutex);
    op_queue *q = &w->queue;
    if (q->n == q->cap) {
        size_t cap = q->cap ? 2 * q->cap : 1024;
        ledger_op *grown = realloc(q->ops, cap * sizeof *grown);
        if (grown) {
            q->ops = grown;
            q->cap = cap;
        }
    }
    if (q->n < q->cap && op.a && (op.b || !b)) {
        q->ops[q->n++] = op;
        w->queued++;
        pthread_cond_signal(&w->wake);
    } else {
        free(op.a);
        free(op.b);
        if (!w->failed)
            snprintf(w->error, sizeof w->error, "ledger %s: out of memory", w->l->db_path);
        w->failed = 1;
    }
    pthread_mutex_unlock(&w->mutex);
}

void ledger_key_sent(ledger *l, size_t stage_index, const char *key, const char *version)
{
    if (l && l->writer)
        push(l->writer, OP_SENT, stage_index, key, version);
}

void ledger_committed(ledger *l, size_t sink_index, const char *const *ids, size_t n)
{
    for (size_t i = 0; l && l->writer && i < n; i++)
        push(l->writer, OP_COMMITTED, sink_index, ids[i], NULL);
}

void ledger_dead(ledger *l, const char *id, const char *line)
{
    if (l && l->writer)
        push(l->writer, OP_DEAD, 0, id, line);
}

void ledger_checkpoint(ledger *l, size_t stage_index, const char *const *ids, size_t n)
{
    for (size_t i = 0; l && l->writer && i < n; i++)
        push(l->writer, OP_HELD, stage_index, ids[i], NULL);
}

int ledger_sync(ledger *l)
{
    if (!l || !l->writer)
        return 0;
    ledger_writer *w = l->writer;
    pthread_mutex_lock(&w->mutex);
    uint64_t target = w->queued;
    while (w->applied < target && !w->failed)
        pthread_cond_wait(&w->applied_cv, &w->mutex);
    int failed = w->failed;
    pthread_mutex_unlock(&w->mutex);
    return failed ? -1 : 0;
}
