/* local.c — the local-file byte sink: temporary name, fsync, rename, fsync dir. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "failpoint.h"
#include "partfile.h"

enum { BUFFER_SIZE = 256 << 10 }; /* fewer write calls for small rows */

typedef struct local_sink {
    partfile_sink base;
    int fd; /* -1 once sealed */
    int replace;
    char *final_path, *tmp_path; /* owned */
    size_t used;
    unsigned char *buffer; /* owned, BUFFER_SIZE; freed once sealed (staged parts wait long) */
} local_sink;

static void local_free(local_sink *s)
{
    if (s->fd >= 0)
        close(s->fd);
    free(s->buffer);
    free(s->final_path);
    free(s->tmp_path);
    free(s);
}

static int drain(local_sink *s, char *err, size_t err_size)
{
    size_t done = 0;
    while (done < s->used) {
        ssize_t n = write(s->fd, s->buffer + done, s->used - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(err, err_size, "writing %s: %s", s->tmp_path,
                     n < 0 ? strerror(errno) : "no progress");
            return -1;
        }
        done += (size_t)n;
    }
    s->used = 0;
    return 0;
}

static int local_write(partfile_sink *base, const void *data, size_t n, char *err, size_t err_size)
{
    local_sink *s = (local_sink *)base;
    const unsigned char *p = data;
    while (n) {
        size_t k = BUFFER_SIZE - s->used < n ? BUFFER_SIZE - s->used : n;
        memcpy(s->buffer + s->used, p, k);
        s->used += k;
        p += k;
        n -= k;
        if (s->used == BUFFER_SIZE && drain(s, err, err_size))
            return -1;
    }
    return 0;
}

/* The rename is durable only once the directory entry is on disk. */
static int fsync_dir(const char *path, char *err, size_t err_size)
{
    char *copy = strdup(path);
    int fd = copy ? open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    int rc = fd >= 0 && fsync(fd) == 0 ? 0 : -1;
    if (rc)
        snprintf(err, err_size, "syncing the directory of %s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    free(copy);
    return rc;
}

/* Without replace, link() publishes only if the final name is free. */
static int publish(local_sink *s, char *err, size_t err_size)
{
    if (s->replace ? rename(s->tmp_path, s->final_path) : link(s->tmp_path, s->final_path)) {
        snprintf(err, err_size, "publishing %s: %s", s->final_path, strerror(errno));
        return -1;
    }
    if (!s->replace)
        unlink(s->tmp_path);
    return 0;
}

/* The bytes on disk under the temporary name: drained, synced, closed. */
static int local_seal(partfile_sink *base, char *err, size_t err_size)
{
    local_sink *s = (local_sink *)base;
    if (s->fd < 0)
        return 0;
    if (drain(s, err, err_size))
        return -1;
    int rc = fsync(s->fd);
    rc = close(s->fd) || rc;
    s->fd = -1;
    free(s->buffer);
    s->buffer = NULL;
    if (rc)
        snprintf(err, err_size, "syncing %s: %s", s->tmp_path, strerror(errno));
    return rc ? -1 : 0;
}

/* Seals, then (at a failpoint's pass if given) publishes; frees s. */
static int seal_and_publish(partfile_sink *base, const char *point, char *err, size_t err_size)
{
    local_sink *s = (local_sink *)base;
    int rc = local_seal(base, err, err_size);
    if (rc == 0) {
        if (point)
            failpoint(point);
        rc = publish(s, err, err_size) ? -1 : fsync_dir(s->final_path, err, err_size);
    }
    unlink(s->tmp_path); /* gone already after rename; a leftover after a failure */
    local_free(s);
    return rc;
}

static int local_commit(partfile_sink *base, char *err, size_t err_size)
{
    return seal_and_publish(base, "sink-commit", err, err_size);
}

static void local_abort(partfile_sink *base)
{
    local_sink *s = (local_sink *)base;
    unlink(s->tmp_path);
    local_free(s);
}

static int local_identity(partfile_sink *base, char *out, size_t size, char *err, size_t err_size)
{
    local_sink *s = (local_sink *)base;
    struct stat st;
    if (stat(s->tmp_path, &st) != 0) {
        snprintf(err, err_size, "%s: %s", s->tmp_path, strerror(errno));
        return -1;
    }
    partfile_local_identity(&st, out, size);
    return 0;
}

void partfile_local_identity(const struct stat *st, char *out, size_t size)
{
    snprintf(out, size, "%lld:%lld", (long long)st->st_size,
             (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec);
}

static const partfile_sink_ops local_ops = {.write = local_write,
                                            .seal = local_seal,
                                            .identity = local_identity,
                                            .commit = local_commit,
                                            .abort = local_abort};

/* ".<name>.tmp-<pid>" in the final file's directory: hidden from globs of
 * the final extension, and on the same filesystem so rename is atomic. */
static char *temp_name(const char *final_path)
{
    const char *slash = strrchr(final_path, '/');
    size_t dir_len = slash ? (size_t)(slash - final_path) + 1 : 0;
    size_t size = strlen(final_path) + 32;
    char *tmp = malloc(size);
    if (tmp)
        snprintf(tmp, size, "%.*s.%s.tmp-%ld", (int)dir_len, final_path, final_path + dir_len,
                 (long)getpid());
    return tmp;
}

int partfile_local_stale(const char *name)
{
    const char *tag = strstr(name, ".tmp-");
    char *end;
    if (name[0] != '.' || !tag || tag[5] < '0' || tag[5] > '9')
        return 0;
    long pid = strtol(tag + 5, &end, 10);
    if (*end || pid <= 0)
        return 0;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

partfile_sink *partfile_local_open(const char *final_path, int replace, char *err, size_t err_size)
{
    local_sink *s = malloc(sizeof *s);
    if (!s) {
        snprintf(err, err_size, "out of memory opening %s", final_path);
        return NULL;
    }
    *s = (local_sink){.base = {&local_ops}, .fd = -1, .replace = replace};
    s->final_path = strdup(final_path);
    s->tmp_path = temp_name(final_path);
    s->buffer = malloc(BUFFER_SIZE);
    if (!s->final_path || !s->tmp_path || !s->buffer) {
        snprintf(err, err_size, "out of memory opening %s", final_path);
        local_free(s);
        return NULL;
    }
    s->fd = open(s->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (s->fd < 0) {
        snprintf(err, err_size, "creating %s: %s", s->tmp_path, strerror(errno));
        local_free(s);
        return NULL;
    }
    return &s->base;
}

int partfile_write_small(const char *path, const char *text, char *err, size_t err_size)
{
    partfile_sink *s = partfile_local_open(path, 1, err, err_size);
    if (!s)
        return -1;
    if (local_write(s, text, strlen(text), err, err_size)) {
        local_abort(s);
        return -1;
    }
    return seal_and_publish(s, NULL, err, err_size);
}
