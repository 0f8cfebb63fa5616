/* durable.c — fit: batch's checkpoint in the state directory (see durable.h). */
#include "durable.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHECKPOINT_FORMAT "flowrun-fitted 1 dim=%" SCNu32 " rows=%" SCNu64 " bytes=%" SCNu64 "\n"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* dir/name, malloc'd (the caller frees), or NULL when out of memory. */
static char *join_path(const char *dir, const char *name)
{
    char *p;
    return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

int durable_init(durable *d, const char *dir, int64_t every_ms, uint64_t every_rows, char *err,
                 size_t err_size)
{
    *d = (durable){
        .every_ms = every_ms, .every_rows = every_rows, .last_ms = now_ms(), .ids_fd = -1};
    d->spill_path = join_path(dir, "rows.spill");
    d->checkpoint_path = join_path(dir, "rows.checkpoint");
    d->ids_path = join_path(dir, "stream.ids");
    d->stats_path = join_path(dir, "stream.stats");
    if (d->spill_path && d->checkpoint_path && d->ids_path && d->stats_path)
        return 0;
    snprintf(err, err_size, "out of memory");
    durable_free(d);
    return -1;
}

static void free_ids(char **ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
}

void durable_free(durable *d)
{
    free_ids(d->pending, d->n_pending);
    free_ids(d->held, d->n_held);
    free(d->pending);
    free(d->held);
    free(d->spill_path);
    free(d->checkpoint_path);
    free(d->ids_path);
    free(d->stats_path);
    if (d->ids_fd >= 0)
        close(d->ids_fd);
    *d = (durable){.ids_fd = -1};
}

int durable_find(durable *d, uint32_t *dim, uint64_t *bytes, char *err, size_t err_size)
{
    FILE *f = fopen(d->checkpoint_path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, err_size, "%s: %s", d->checkpoint_path, strerror(errno));
        return -1;
    }
    uint64_t rows;
    int n = fscanf(f, CHECKPOINT_FORMAT, dim, &rows, bytes);
    fclose(f);
    if (n != 3 || *dim == 0) {
        snprintf(err, err_size,
                 "%s: not a checkpoint of this stage (remove the state directory or run with "
                 "--fresh to start over)",
                 d->checkpoint_path);
        return -1;
    }
    return 1;
}

int durable_discard(durable *d, char *err, size_t err_size)
{
    if ((unlink(d->checkpoint_path) == 0 || errno == ENOENT) &&
        (unlink(d->stats_path) == 0 || errno == ENOENT) &&
        (unlink(d->spill_path) == 0 || errno == ENOENT) &&
        (unlink(d->ids_path) == 0 || errno == ENOENT))
        return 0;
    snprintf(err, err_size, "removing an earlier run's checkpoint %s: %s", d->checkpoint_path,
             strerror(errno));
    return -1;
}

/* Appends a copy of id to a list. */
static int push_id(char ***ids, size_t *n, size_t *cap, const char *id)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 256;
        char **p = realloc(*ids, c * sizeof *p);
        if (!p)
            return -1;
        *ids = p;
        *cap = c;
    }
    if (!((*ids)[*n] = strdup(id)))
        return -1;
    (*n)++;
    return 0;
}

int durable_hold(void *ctx, const stats_spill_block *blk, char *err, size_t err_size)
{
    durable *d = ctx;
    for (size_t i = 0; i < blk->n; i++)
        if (push_id(&d->held, &d->n_held, &d->cap_held, blk->strings[3 * i])) {
            snprintf(err, err_size, "out of memory keeping the ids of %s", d->spill_path);
            return -1;
        }
    return 0;
}

static int compare_ids(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void durable_held_all(durable *d, fr_stage *st)
{
    qsort(d->held, d->n_held, sizeof *d->held, compare_ids);
    fr_checkpoint(st, (const char *const *)d->held, d->n_held);
}

int durable_holds(const durable *d, const char *id)
{
    return d->n_held && bsearch(&id, d->held, d->n_held, sizeof *d->held, compare_ids) != NULL;
}

/* path replaced by text, durably: a temporary file synced, renamed, the
 * directory synced. */
static int replace_file(const char *path, const char *text, char *err, size_t err_size)
{
    char tmp[4200], dir[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t n = strlen(text);
    int rc = fd >= 0 && write(fd, text, n) == (ssize_t)n && fsync(fd) == 0 ? 0 : -1;
    if (fd >= 0 && close(fd) != 0)
        rc = -1;
    if (rc == 0)
        rc = rename(tmp, path);
    int dfd = rc == 0 ? open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (rc == 0 && (dfd < 0 || fsync(dfd) != 0))
        rc = -1;
    if (dfd >= 0)
        close(dfd);
    if (rc != 0) {
        snprintf(err, err_size, "writing %s: %s", path, strerror(errno ? errno : EIO));
        unlink(tmp);
    }
    return rc;
}

int durable_checkpoint(durable *d, fr_stage *st, stats_spill *spill, uint32_t dim, char *err,
                       size_t err_size)
{
    uint64_t bytes;
    char line[160];
    d->last_ms = now_ms();
    if (d->n_pending == 0)
        return 0;
    if (stats_spill_sync(spill, &bytes, err, err_size))
        return -1;
    snprintf(line, sizeof line,
             "flowrun-fitted 1 dim=%" PRIu32 " rows=%" PRIu64 " bytes=%" PRIu64 "\n", dim,
             stats_spill_rows(spill), bytes);
    if (replace_file(d->checkpoint_path, line, err, err_size))
        return -1;
    fr_checkpoint(st, (const char *const *)d->pending, d->n_pending);
    fr_metric_add(st, "checkpoints", 1);
    free_ids(d->pending, d->n_pending);
    d->n_pending = 0;
    return 0;
}

int durable_row(durable *d, fr_stage *st, stats_spill *spill, uint32_t dim, const char *id,
                char *err, size_t err_size)
{
    if (push_id(&d->pending, &d->n_pending, &d->cap_pending, id ? id : "")) {
        snprintf(err, err_size, "out of memory keeping ids for a checkpoint");
        return -1;
    }
    int due = (d->every_rows && d->n_pending >= d->every_rows) ||
              (d->every_ms && now_ms() - d->last_ms >= d->every_ms);
    return due ? durable_checkpoint(d, st, spill, dim, err, err_size) : 0;
}

/* ---- fit: stream -------------------------------------------------------- */

/* "not a checkpoint" for path, with why (may be ""). */
static int damaged(const char *path, const char *why, char *err, size_t err_size)
{
    snprintf(err, err_size,
             "%s: not a checkpoint of this stage%s%s (remove the state directory or run with "
             "--fresh to start over)",
             path, *why ? ": " : "", why);
    return -1;
}

/* The first count ids of stream.ids into held (sorted), the file cut after
 * them and left open for appending. */
static int load_ids(durable *d, uint64_t count, char *err, size_t err_size)
{
    int fd = open(d->ids_path, O_RDWR | O_CLOEXEC);
    struct stat st;
    char *text = NULL;
    size_t at = 0;
    if (fd < 0 || fstat(fd, &st) != 0)
        goto io;
    if (!(text = malloc((size_t)st.st_size + 1)))
        goto oom;
    for (ssize_t n; at < (size_t)st.st_size; at += (size_t)n)
        if ((n = read(fd, text + at, (size_t)st.st_size - at)) <= 0)
            goto io;
    at = 0;
    for (uint64_t i = 0; i < count; i++) {
        char *end = memchr(text + at, '\0', (size_t)st.st_size - at);
        if (!end) {
            close(fd);
            free(text);
            return damaged(d->ids_path, "fewer ids than the statistics' rows", err, err_size);
        }
        if (push_id(&d->held, &d->n_held, &d->cap_held, text + at))
            goto oom;
        at = (size_t)(end - text) + 1;
    }
    free(text);
    text = NULL;
    if (ftruncate(fd, (off_t)at) != 0 || lseek(fd, 0, SEEK_END) < 0)
        goto io;
    d->ids_fd = fd;
    qsort(d->held, d->n_held, sizeof *d->held, compare_ids);
    return 0;
io:
    snprintf(err, err_size, "%s: %s", d->ids_path, strerror(errno ? errno : EIO));
    goto fail;
oom:
    snprintf(err, err_size, "out of memory reading %s", d->ids_path);
fail:
    if (fd >= 0)
        close(fd);
    free(text);
    return -1;
}

int durable_stream_find(durable *d, stats_moments **m, uint64_t *version, char *err,
                        size_t err_size)
{
    char why[4200];
    *m = NULL;
    if (access(d->stats_path, F_OK) != 0) {
        if (errno != ENOENT)
            return damaged(d->stats_path, strerror(errno), err, err_size);
        /* No refit was saved: ids a crashed first refit appended hold nothing. */
        if (unlink(d->ids_path) == 0 || errno == ENOENT)
            return 0;
        snprintf(err, err_size, "removing %s: %s", d->ids_path, strerror(errno));
        return -1;
    }
    if (stats_load(d->stats_path, m, NULL, version, why, sizeof why))
        return damaged(d->stats_path, why, err, err_size);
    if (load_ids(d, stats_moments_count(*m), err, err_size)) {
        stats_moments_free(*m);
        *m = NULL;
        return -1;
    }
    return 1;
}

int durable_stream_ids(void *ctx, const stats_spill_block *blk, char *err, size_t err_size)
{
    durable *d = ctx;
    if (d->ids_fd < 0 &&
        (d->ids_fd = open(d->ids_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0) {
        snprintf(err, err_size, "%s: %s", d->ids_path, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < blk->n; i++) {
        const char *id = blk->strings[3 * i];
        size_t n = strlen(id) + 1; /* with its NUL */
        if (write(d->ids_fd, id, n) != (ssize_t)n) {
            snprintf(err, err_size, "writing %s: %s", d->ids_path, strerror(errno ? errno : EIO));
            return -1;
        }
    }
    return 0;
}

int durable_stream_save(durable *d, fr_stage *st, stats_moments *m, uint64_t version, char *err,
                        size_t err_size)
{
    if (d->ids_fd >= 0 && fdatasync(d->ids_fd) != 0) {
        snprintf(err, err_size, "syncing %s: %s", d->ids_path, strerror(errno));
        return -1;
    }
    if (stats_save(d->stats_path, m, NULL, version, err, err_size))
        return -1;
    fr_metric_add(st, "checkpoints", 1);
    return 0;
}
