/*
 * ledger.c — opening a pipeline's ledger (lock, soundness, room on disk),
 * deciding how the run starts (new, resumed, incremental, a new full run),
 * the stages' state directories, and closing (the run's status, the
 * dead-letter file written from the ledger).  docs/durable-runs.md.
 */
#include "ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "ledger_internal.h"
#include "state_dir.h"

#define MIN_FREE_BYTES (32ull << 20) /* below this the state directory counts as full */

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS keys(source TEXT NOT NULL, key TEXT NOT NULL,"
    " version TEXT NOT NULL, state INTEGER NOT NULL, sinks INTEGER NOT NULL DEFAULT 0,"
    " held INTEGER NOT NULL DEFAULT 0, run INTEGER NOT NULL, dead TEXT,"
    " PRIMARY KEY(source, key)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS config(item TEXT PRIMARY KEY, value TEXT NOT NULL,"
    " origin TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS orphans(run INTEGER NOT NULL, line TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS runs(run INTEGER PRIMARY KEY, pid INTEGER, started TEXT,"
    " finished TEXT, start TEXT, status TEXT, exit_code INTEGER, skipped INTEGER,"
    " resumed INTEGER);";

/* ---- small helpers ---------------------------------------------------- */

int ledger_exec(sqlite3 *db, const char *sql, char *err, size_t err_size)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    snprintf(err, err_size, "%s", msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return -1;
}

size_t ledger_stage_index(const graph *g, const char *name, size_t len)
{
    for (size_t i = 0; i < g->n_stages; i++)
        if (strlen(g->stages[i].cfg->name) == len && memcmp(g->stages[i].cfg->name, name, len) == 0)
            return i;
    return g->n_stages;
}

void ledger_add_counts(ledger *l, const ledger_counts *c)
{
    pthread_mutex_lock(&l->lock);
    l->counts.skipped_done += c->skipped_done;
    l->counts.skipped_dead += c->skipped_dead;
    l->counts.skipped_held += c->skipped_held;
    l->counts.resumed += c->resumed;
    l->counts.changed += c->changed;
    pthread_mutex_unlock(&l->lock);
}

/* meta's value for name, malloc'd, or NULL when absent. */
static char *meta_get(sqlite3 *db, const char *name)
{
    sqlite3_stmt *s;
    char *value = NULL;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE name = ?1", -1, &s, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
        value = strdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return value;
}

static int meta_set(sqlite3 *db, const char *name, const char *value)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta(name, value) VALUES (?1, ?2)", -1, &s,
                           NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

static void now_utc(char *out, size_t size)
{
    time_t t = time(NULL);
    struct tm tm;
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
}

/* Per stage, the sinks at or below it (bit = stage index). */
static uint64_t sinks_below(const graph *g, size_t stage)
{
    const graph_stage *s = &g->stages[stage];
    if (!s->n_consumers)
        return 1ull << stage;
    uint64_t mask = 0;
    for (size_t k = 0; k < s->n_consumers; k++)
        mask |= sinks_below(g, s->consumers[k]);
    return mask;
}

/* ---- opening: room, lock, soundness ----------------------------------- */

static int check_room(const ledger *l, char *err, size_t err_size)
{
    struct statvfs vfs;
    if (state_dir_make(l->dir) != 0) {
        snprintf(err, err_size, "cannot make the state directory %s: %s", l->dir, strerror(errno));
        return -1;
    }
    if (access(l->dir, W_OK) != 0) {
        snprintf(err, err_size,
                 "state directory %s is not writable: %s (set `state:` in the pipeline to a "
                 "writable directory)",
                 l->dir, strerror(errno));
        return -1;
    }
    if (statvfs(l->dir, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < MIN_FREE_BYTES) {
        snprintf(err, err_size,
                 "state directory %s is full: %llu KiB free, the ledger needs at least %llu MiB "
                 "before data moves",
                 l->dir, (unsigned long long)((uint64_t)vfs.f_bavail * vfs.f_frsize >> 10),
                 (unsigned long long)(MIN_FREE_BYTES >> 20));
        return -1;
    }
    return 0;
}

/* flock on <dir>/lock, holding our pid; the holder's pid in the refusal. */
static int take_lock(ledger *l, char *err, size_t err_size)
{
    char path[4200], holder[32] = "";
    snprintf(path, sizeof path, "%s/lock", l->dir);
    l->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (l->lock_fd < 0) {
        snprintf(err, err_size, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(l->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        ssize_t n = pread(l->lock_fd, holder, sizeof holder - 1, 0);
        holder[n > 0 ? n : 0] = '\0';
        holder[strcspn(holder, "\n")] = '\0';
        snprintf(err, err_size,
                 "state directory %s is in use by another flowrun (pid %s): one run at a time "
                 "per ledger; wait for it to end, or give this run another `state:`",
                 l->dir, holder[0] ? holder : "unknown");
        return -1;
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(l->lock_fd, 0) != 0 || pwrite(l->lock_fd, pid, (size_t)len, 0) != len) {
        snprintf(err, err_size, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static void corrupt_message(const ledger *l, const char *what, char *err, size_t err_size)
{
    snprintf(err, err_size,
             "ledger %s is damaged (%s): flowrun will not guess what was done.  To recover the "
             "readable part: sqlite3 %s .recover | sqlite3 %s.recovered && mv %s.recovered %s; "
             "or start over with `flowrun run --fresh %s` (the damaged file is kept as %s.damaged)",
             l->db_path, what, l->db_path, l->db_path, l->db_path, l->db_path, l->g->pipeline->file,
             l->db_path);
}

/* Moves a damaged ledger (and its WAL) aside for --fresh. */
static void keep_damaged(const ledger *l)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char from[4300], to[4400];
        snprintf(from, sizeof from, "%s%s", l->db_path, suffixes[i]);
        snprintf(to, sizeof to, "%s.damaged%s", l->db_path, suffixes[i]);
        rename(from, to);
    }
}

/* Opens the database and checks it: 0, -1 (err set), or 1 when damaged. */
static int open_db(ledger *l, char *err, size_t err_size)
{
    struct stat st;
    if (stat(l->db_path, &st) == 0 && st.st_size == 0) {
        corrupt_message(l, "empty file", err, err_size);
        return 1;
    }
    if (sqlite3_open_v2(l->db_path, &l->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        snprintf(err, err_size, "cannot open the ledger %s: %s", l->db_path,
                 l->db ? sqlite3_errmsg(l->db) : "out of memory");
        return -1;
    }
    sqlite3_busy_timeout(l->db, 10000);
    sqlite3_stmt *s;
    char what[512] = "";
    if (sqlite3_prepare_v2(l->db, "PRAGMA quick_check", -1, &s, NULL) != SQLITE_OK) {
        snprintf(what, sizeof what, "%s", sqlite3_errmsg(l->db));
    } else {
        int rc = sqlite3_step(s);
        const char *r = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0) : NULL;
        if (!r || strcmp(r, "ok") != 0)
            snprintf(what, sizeof what, "%s", r ? r : sqlite3_errmsg(l->db));
        sqlite3_finalize(s);
    }
    if (what[0]) {
        corrupt_message(l, what, err, err_size);
        return 1;
    }
    char why[512];
    if (ledger_exec(l->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", why,
                    sizeof why) != 0 ||
        ledger_exec(l->db, schema_sql, why, sizeof why) != 0) {
        snprintf(err, err_size, "cannot write the ledger %s: %s", l->db_path, why);
        return -1;
    }
    return 0;
}

/* The ledger belongs to this pipeline and this flowrun understands it. */
static int check_owner(ledger *l, char *err, size_t err_size)
{
    char *schema = meta_get(l->db, "schema"), *name = meta_get(l->db, "pipeline");
    int rc = 0;
    if (schema && atoi(schema) != LEDGER_SCHEMA) {
        snprintf(err, err_size, "ledger %s has format %s; this flowrun reads format %d", l->db_path,
                 schema, LEDGER_SCHEMA);
        rc = -1;
    } else if (name && strcmp(name, l->g->pipeline->name) != 0) {
        snprintf(err, err_size,
                 "state directory %s belongs to pipeline \"%s\", not \"%s\": give this "
                 "pipeline its own `state:`",
                 l->dir, name, l->g->pipeline->name);
        rc = -1;
    }
    free(schema);
    free(name);
    return rc;
}

/* ---- how the run starts ----------------------------------------------- */

/* 1 when every sink appends parts: a completed run then grows
 * incrementally; any other sink makes its output anew. */
static int sinks_append(const graph *g)
{
    for (size_t i = 0; i < g->n_stages; i++) {
        const graph_stage *s = &g->stages[i];
        int found = 0;
        if (s->n_consumers)
            continue;
        const char *mode = "";
        for (const fr_param *p = s->plugin->desc.params; p && p->key; p++)
            if (strcmp(p->key, "mode") == 0)
                mode = schema_string(s->config, "mode", &found);
        if (strcmp(mode, "append-parts") != 0)
            return 0;
    }
    return 1;
}

static int clear_keys(ledger *l, char *err, size_t err_size)
{
    char why[512];
    if (ledger_exec(l->db, "DELETE FROM keys; DELETE FROM config; DELETE FROM orphans;", why,
                    sizeof why) != 0) {
        snprintf(err, err_size, "cannot clear the ledger %s: %s", l->db_path, why);
        return -1;
    }
    return 0;
}

static int refuse_changed(ledger *l, const char *status, int files, char *err, size_t err_size)
{
    fp_list now = {0};
    char diff[3000];
    if (!files && fingerprint_config(l->g, &now) != 0) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    int rc = fingerprint_compare(l->db, files ? &l->files : &now, files, diff, sizeof diff);
    fingerprint_free(&now);
    if (rc == 0)
        return 0;
    if (rc < 0)
        snprintf(err, err_size, "cannot read the ledger %s: %s", l->db_path, diff);
    else
        snprintf(err, err_size,
                 "%s: the %s run recorded in %s had another configuration:%s\n"
                 "Continuing would mix results of two configurations.  Restore it to continue, "
                 "or start over with `flowrun run --fresh %s`.",
                 l->g->pipeline->file, status, l->dir, diff, l->g->pipeline->file);
    return -1;
}

static int decide_start(ledger *l, char *err, size_t err_size)
{
    char *status = meta_get(l->db, "status"), *run = meta_get(l->db, "run");
    int rc = 0;
    l->run = (run ? atoll(run) : 0) + 1;
    if (l->opt.fresh || !status) {
        l->start = LEDGER_NEW;
        rc = l->opt.fresh ? clear_keys(l, err, err_size) : 0;
    } else if (strcmp(status, "completed") != 0) {
        l->start = LEDGER_RESUME;
        rc = refuse_changed(l, "unfinished", 0, err, err_size);
    } else if (sinks_append(l->g)) {
        l->start = LEDGER_INCREMENTAL;
        rc = refuse_changed(l, "completed", 0, err, err_size);
    } else {
        l->start = LEDGER_RERUN;
        rc = clear_keys(l, err, err_size);
    }
    l->counts.start = l->start;
    free(status);
    free(run);
    return rc;
}

static int open_durable(ledger *l, char *err, size_t err_size)
{
    snprintf(l->db_path, sizeof l->db_path, "%s/ledger.db", l->dir);
    int rc = open_db(l, err, err_size);
    if (rc > 0 && l->opt.fresh) { /* damaged, and the user says start over */
        sqlite3_close(l->db);
        l->db = NULL;
        keep_damaged(l);
        rc = open_db(l, err, err_size);
    }
    if (rc != 0 || check_owner(l, err, err_size) != 0 ||
        fingerprint_input_files(l->g, &l->files, err, err_size) != 0 ||
        decide_start(l, err, err_size) != 0)
        return -1;
    return 0;
}

ledger *ledger_open(const char *dir, const graph *g, const ledger_options *opt, char *err,
                    size_t err_size)
{
    ledger *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    snprintf(l->dir, sizeof l->dir, "%s", dir);
    l->g = g;
    l->opt = *opt;
    l->lock_fd = -1;
    pthread_mutex_init(&l->lock, NULL);
    if (!opt->off && g->n_stages > LEDGER_MAX_STAGES) {
        snprintf(err, err_size, "%s: the ledger handles at most %d stages (this pipeline has %zu)",
                 g->pipeline->file, LEDGER_MAX_STAGES, g->n_stages);
        ledger_close(l, -1, NULL, NULL, 0);
        return NULL;
    }
    for (size_t i = 0; !opt->off && i < g->n_stages; i++)
        l->sinks_of[i] = sinks_below(g, i);
    /* Off (a node of a split run other than the coordinator node: nodes on
     * one machine share the directory, each with its own stages): no ledger
     * to guard, no lock. */
    if (check_room(l, err, err_size) != 0 ||
        (!opt->off && (take_lock(l, err, err_size) != 0 || open_durable(l, err, err_size) != 0))) {
        ledger_close(l, -1, NULL, NULL, 0);
        return NULL;
    }
    return l;
}

/* ---- stage directories ------------------------------------------------- */

const char *ledger_stage_dir(ledger *l, const char *stage, uint32_t instance, char *err,
                             size_t err_size)
{
    char path[4400];
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
    /* Checkpoints serve only the run they were made in: a run that starts
     * from nothing (or without a ledger to skip their keys, unless it
     * follows a coordinator node's) drops them. */
    if (ledger_run_kind(l) == FR_RUN_FRESH && state_dir_empty(path, err, err_size) != 0)
        return NULL;
    if (!(l->stage_dirs[l->n_stage_dirs] = strdup(path))) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    return l->stage_dirs[l->n_stage_dirs++];
}

/* ---- the run begins ----------------------------------------------------- */

void ledger_add_file(ledger *l, const char *stage, const char *key, const char *hash)
{
    char item[512], origin[4200];
    snprintf(item, sizeof item, "%s.%s%s", stage, key, FINGERPRINT_CONTENT);
    fingerprint_origin(l->g, stage, key, origin, sizeof origin);
    pthread_mutex_lock(&l->lock);
    fingerprint_add(&l->files, item, hash, origin);
    pthread_mutex_unlock(&l->lock);
}

static const char *start_name(ledger_start s)
{
    static const char *const names[] = {"new", "resumed", "incremental", "rerun"};
    return names[s];
}

/* Records the run as running (one transaction). */
static int record_running(ledger *l, char *err, size_t err_size)
{
    char why[512] = "", number[32], pid[32], when[32];
    fp_list config = {0};
    int fresh = l->start == LEDGER_NEW || l->start == LEDGER_RERUN;
    snprintf(number, sizeof number, "%lld", (long long)l->run);
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    now_utc(when, sizeof when);
    sqlite3_stmt *s = NULL;
    int ok = ledger_exec(l->db, "BEGIN IMMEDIATE", why, sizeof why) == 0;
    if (ok && fresh)
        ok = fingerprint_config(l->g, &config) == 0 && fingerprint_store(l->db, &config, 0) == 0;
    ok = ok && fingerprint_store(l->db, &l->files, 1) == 0;
    char schema[16];
    snprintf(schema, sizeof schema, "%d", LEDGER_SCHEMA);
    ok = ok && meta_set(l->db, "schema", schema) == 0 &&
         meta_set(l->db, "pipeline", l->g->pipeline->name) == 0 &&
         meta_set(l->db, "file", l->g->pipeline->file) == 0 &&
         meta_set(l->db, "status", "running") == 0 && meta_set(l->db, "run", number) == 0;
    ok = ok && sqlite3_prepare_v2(l->db,
                                  "INSERT OR REPLACE INTO runs(run, pid, started, start, status) "
                                  "VALUES (?1, ?2, ?3, ?4, 'running')",
                                  -1, &s, NULL) == SQLITE_OK;
    if (ok) {
        sqlite3_bind_int64(s, 1, l->run);
        sqlite3_bind_int64(s, 2, getpid());
        sqlite3_bind_text(s, 3, when, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, start_name(l->start), -1, SQLITE_STATIC);
        ok = sqlite3_step(s) == SQLITE_DONE;
    }
    sqlite3_finalize(s);
    fingerprint_free(&config);
    if (ok)
        ok = ledger_exec(l->db, "COMMIT", why, sizeof why) == 0;
    if (!ok) {
        snprintf(err, err_size, "cannot write the ledger %s: %s", l->db_path,
                 why[0] ? why : sqlite3_errmsg(l->db));
        ledger_exec(l->db, "ROLLBACK", why, sizeof why);
        return -1;
    }
    return 0;
}

int ledger_begin(ledger *l, char *err, size_t err_size)
{
    if (!l->db)
        return 0;
    int resumed = l->start == LEDGER_RESUME || l->start == LEDGER_INCREMENTAL;
    if (resumed && refuse_changed(l, l->start == LEDGER_RESUME ? "unfinished" : "completed", 1, err,
                                  err_size) != 0)
        return -1;
    if (record_running(l, err, err_size) != 0)
        return -1;
    l->begun = 1;
    return (l->writer = ledger_writer_start(l, err, err_size)) ? 0 : -1;
}

int ledger_failed(ledger *l, char *err, size_t err_size)
{
    return l && l->writer && ledger_writer_failed(l->writer, err, err_size);
}

/* ---- the end ------------------------------------------------------------- */

/* Replaces the dead-letter file by the ledger's dead letters (temporary
 * file, fsync, rename): never destroyed before it is replaced. */
static int write_dead_letters(ledger *l, const char *path, char *err, size_t err_size)
{
    sqlite3_stmt *s;
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    if (sqlite3_prepare_v2(l->db,
                           "SELECT dead FROM (SELECT source, key, dead FROM keys WHERE state = 2 "
                           "UNION ALL SELECT '', '', line FROM orphans WHERE run = ?1) "
                           "ORDER BY source, key",
                           -1, &s, NULL) != SQLITE_OK) {
        snprintf(err, err_size, "cannot read the ledger %s: %s", l->db_path, sqlite3_errmsg(l->db));
        return -1;
    }
    sqlite3_bind_int64(s, 1, l->run);
    FILE *f = NULL;
    int rc, ok = 1;
    size_t lines = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && ok) {
        const char *line = (const char *)sqlite3_column_text(s, 0);
        if (!f && !(f = fopen(tmp, "we")))
            ok = 0;
        else if (line && fprintf(f, "%s\n", line) < 0)
            ok = 0;
        lines++;
    }
    sqlite3_finalize(s);
    if (f && (fflush(f) != 0 || fsync(fileno(f)) != 0))
        ok = 0;
    if (f && fclose(f) != 0)
        ok = 0;
    if (ok && rc == SQLITE_DONE && lines)
        ok = rename(tmp, path) == 0;
    else if (ok && rc == SQLITE_DONE)
        unlink(path); /* no dead letters now: the file says none */
    if (!ok || (rc != SQLITE_DONE && rc != SQLITE_ROW)) {
        snprintf(err, err_size, "cannot write dead letters to %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static const char *status_of(int exit_code)
{
    if (exit_code == 0 || exit_code == 1)
        return "completed";
    return exit_code == 4 ? "interrupted" : "failed";
}

static int record_end(ledger *l, int exit_code, char *err, size_t err_size)
{
    char when[32], why[512] = "";
    sqlite3_stmt *s = NULL;
    now_utc(when, sizeof when);
    uint64_t skipped = l->counts.skipped_done + l->counts.skipped_dead + l->counts.skipped_held;
    int ok = ledger_exec(l->db, "BEGIN IMMEDIATE", why, sizeof why) == 0 &&
             meta_set(l->db, "status", status_of(exit_code)) == 0 &&
             sqlite3_prepare_v2(l->db,
                                "UPDATE runs SET finished = ?2, status = ?3, exit_code = ?4, "
                                "skipped = ?5, resumed = ?6 WHERE run = ?1",
                                -1, &s, NULL) == SQLITE_OK;
    if (ok) {
        sqlite3_bind_int64(s, 1, l->run);
        sqlite3_bind_text(s, 2, when, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, status_of(exit_code), -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 4, exit_code);
        sqlite3_bind_int64(s, 5, (sqlite3_int64)skipped);
        sqlite3_bind_int64(s, 6, (sqlite3_int64)l->counts.resumed);
        ok = sqlite3_step(s) == SQLITE_DONE;
    }
    sqlite3_finalize(s);
    ok = ok && ledger_exec(l->db, "COMMIT", why, sizeof why) == 0;
    if (!ok) {
        snprintf(err, err_size, "cannot write the ledger %s: %s", l->db_path,
                 why[0] ? why : sqlite3_errmsg(l->db));
        ledger_exec(l->db, "ROLLBACK", why, sizeof why);
    }
    return ok ? 0 : -1;
}

int ledger_close(ledger *l, int exit_code, const char *dead_letters, char *err, size_t err_size)
{
    int rc = 0;
    if (!l)
        return 0;
    if (l->writer && ledger_writer_stop(l->writer, err, err_size) != 0)
        rc = -1;
    l->writer = NULL;
    if (l->db && l->begun && rc == 0) {
        /* A failed ledger write leaves the status "running": the next run resumes. */
        rc = record_end(l, rc == 0 ? exit_code : 3, err, err_size);
        if (rc == 0 && dead_letters)
            rc = write_dead_letters(l, dead_letters, err, err_size);
    }
    sqlite3_close(l->db);
    if (l->lock_fd >= 0)
        close(l->lock_fd); /* releases the flock */
    for (size_t i = 0; i < l->n_stage_dirs; i++)
        free(l->stage_dirs[i]);
    free(l->stage_dirs);
    fingerprint_free(&l->files);
    pthread_mutex_destroy(&l->lock);
    free(l);
    return rc;
}

void ledger_follow(ledger *l, fr_run_kind kind)
{
    if (!l->db)
        l->followed = kind;
}

fr_run_kind ledger_run_kind(const ledger *l)
{
    if (!l || !l->db)
        return l ? l->followed : FR_RUN_FRESH;
    if (l->start == LEDGER_RESUME)
        return FR_RUN_RESUME;
    return l->start == LEDGER_INCREMENTAL ? FR_RUN_INCREMENTAL : FR_RUN_FRESH;
}

int ledger_is_durable(const ledger *l)
{
    return l && l->db;
}

ledger_counts ledger_get_counts(ledger *l)
{
    pthread_mutex_lock(&l->lock);
    ledger_counts c = l->counts;
    pthread_mutex_unlock(&l->lock);
    return c;
}
