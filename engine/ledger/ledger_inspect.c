/*
 * ledger_inspect.c — `flowrun state`: what a pipeline's ledger holds, read
 * without taking the run's lock (WAL lets it read while a run writes).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "ledger_internal.h"

/* "running now (pid N)" when a run holds the lock, else "". */
static void lock_holder(const char *dir, char *out, size_t size)
{
    char path[4200], pid[32] = "";
    snprintf(path, sizeof path, "%s/lock", dir);
    out[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    if (flock(fd, LOCK_SH | LOCK_NB) != 0) {
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        snprintf(out, size, "running now (pid %s)", pid[0] ? pid : "unknown");
    }
    close(fd);
}

static void print_last_run(sqlite3 *db, const char *dir, FILE *out)
{
    sqlite3_stmt *s;
    char holder[64];
    lock_holder(dir, holder, sizeof holder);
    if (sqlite3_prepare_v2(db,
                           "SELECT run, start, status, exit_code, started, finished, pid "
                           "FROM runs ORDER BY run DESC LIMIT 1",
                           -1, &s, NULL) != SQLITE_OK)
        return;
    if (sqlite3_step(s) == SQLITE_ROW) {
        const char *status = (const char *)sqlite3_column_text(s, 2);
        int killed = status && strcmp(status, "running") == 0 && !holder[0];
        fprintf(out, "last run: #%lld (%s), %s", (long long)sqlite3_column_int64(s, 0),
                sqlite3_column_text(s, 1),
                holder[0] ? holder
                : killed  ? "killed"
                          : status);
        if (sqlite3_column_type(s, 3) != SQLITE_NULL)
            fprintf(out, ", exit code %d", sqlite3_column_int(s, 3));
        fprintf(out, ", started %s", sqlite3_column_text(s, 4));
        if (sqlite3_column_type(s, 5) != SQLITE_NULL)
            fprintf(out, ", finished %s", sqlite3_column_text(s, 5));
        fprintf(out, " by pid %lld\n", (long long)sqlite3_column_int64(s, 6));
        if (killed || (status && strcmp(status, "completed") != 0 && !holder[0]))
            fprintf(out, "  the next run resumes it (flowrun run --fresh starts over)\n");
    } else {
        fprintf(out, "last run: none recorded\n");
    }
    sqlite3_finalize(s);
}

static int print_counts(sqlite3 *db, FILE *out)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db,
                           "SELECT source, sum(state = 1), sum(state = 0), sum(state = 2), "
                           "sum(state = 0 AND held != 0) FROM keys GROUP BY source ORDER BY source",
                           -1, &s, NULL) != SQLITE_OK)
        return -1;
    fprintf(out, "%-20s %12s %12s %12s %12s\n", "source", "done", "pending", "dead", "held");
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        fprintf(out, "%-20s %12lld %12lld %12lld %12lld\n", sqlite3_column_text(s, 0),
                (long long)sqlite3_column_int64(s, 1), (long long)sqlite3_column_int64(s, 2),
                (long long)sqlite3_column_int64(s, 3), (long long)sqlite3_column_int64(s, 4));
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* One line per key: source, key, version, state (and the dead letter). */
static int print_keys(sqlite3 *db, const char *which, FILE *out)
{
    static const char *const names[] = {"pending", "done", "dead"};
    int want = -1;
    for (int i = 0; i < 3; i++)
        if (strcmp(which, names[i]) == 0)
            want = i;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db,
                           "SELECT source, key, version, state, dead FROM keys "
                           "WHERE ?1 < 0 OR state = ?1 ORDER BY source, key",
                           -1, &s, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int(s, 1, want);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int state = sqlite3_column_int(s, 3);
        fprintf(out, "%s\t%s\t%s\t%s", sqlite3_column_text(s, 0), sqlite3_column_text(s, 1),
                sqlite3_column_text(s, 2), state >= 0 && state < 3 ? names[state] : "?");
        if (state == KEY_DEAD && sqlite3_column_text(s, 4))
            fprintf(out, "\t%s", sqlite3_column_text(s, 4));
        fputc('\n', out);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

int ledger_inspect(const char *dir, const char *keys, FILE *out, char *err, size_t err_size)
{
    char path[4200];
    sqlite3 *db = NULL;
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    if (access(path, F_OK) != 0) {
        fprintf(out, "state directory: %s\nno ledger yet: the pipeline has not run there\n", dir);
        return 0;
    }
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, err_size, "cannot open the ledger %s: %s", path,
                 db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, 10000);
    int rc = 0;
    if (keys) {
        rc = print_keys(db, keys, out);
    } else {
        fprintf(out, "state directory: %s\n", dir);
        print_last_run(db, dir, out);
        rc = print_counts(db, out);
    }
    if (rc != 0)
        snprintf(err, err_size,
                 "cannot read the ledger %s: %s (a damaged ledger: see `flowrun run --help`, "
                 "docs/durable-runs.md \"Recovery\")",
                 path, sqlite3_errmsg(db));
    sqlite3_close(db);
    return rc;
}
