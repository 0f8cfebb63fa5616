/* out.c — partfile_out: what path, mode and the roll limits mean (see partfile.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest.h"
#include "partfile.h"

struct partfile_out {
    partfile_options opt;                   /* path and extension point at the copies below */
    char *path, *extension, *manifest_path; /* owned */
    int parts;                              /* path is a directory of parts */
    unsigned next_seq;
    manifest manifest;

    partfile_sink *sink; /* the open part, or NULL */
    char *part_path;     /* owned: its final name */
    uint64_t rows, bytes;
    int64_t opened_ms;
    char **ids; /* owned: the open part's ids, then the committed ones */
    size_t n_ids, cap_ids;
    idset open_ids; /* the same ids, to find a record that comes twice */
};

int partfile_mode_parse(const char *s)
{
    return strcmp(s, "error") == 0          ? PARTFILE_ERROR
           : strcmp(s, "overwrite") == 0    ? PARTFILE_OVERWRITE
           : strcmp(s, "append-parts") == 0 ? PARTFILE_APPEND_PARTS
                                            : -1;
}

/* "part-<seq>.<ext>" -> seq, or -1. */
static long part_seq(const char *name, const char *ext)
{
    unsigned seq;
    int end = 0;
    if (sscanf(name, "part-%5u.%n", &seq, &end) != 1 || end != 11 || strcmp(name + end, ext))
        return -1;
    return (long)seq;
}

/* ".part-00001.csv.tmp-123", "._manifest.json.tmp-123": a temporary file
 * of an earlier run that stopped before its commit. */
static int stale_temp(const char *name)
{
    return (strncmp(name, ".part-", 6) == 0 || strncmp(name, "._manifest.json.", 16) == 0) &&
           strstr(name, ".tmp-") != NULL;
}

/* Finds the existing parts: removes them (overwrite), continues after them
 * (append-parts), or refuses (error).  append-parts also removes a part the
 * manifest does not list: an earlier run published it but stopped before
 * its manifest (and so its commit) was written; its records are redone. */
static int scan_parts(partfile_out *out, char *err, size_t err_size)
{
    DIR *d = opendir(out->path);
    if (!d) {
        snprintf(err, err_size, "reading directory %s: %s", out->path, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (struct dirent *e; rc == 0 && (e = readdir(d));) {
        long seq = part_seq(e->d_name, out->extension);
        int ours = seq >= 0 || strcmp(e->d_name, "_manifest.json") == 0;
        int orphan = seq >= 0 && out->opt.mode == PARTFILE_APPEND_PARTS &&
                     !idset_has(&out->manifest.files, e->d_name);
        if (out->opt.mode != PARTFILE_ERROR && (orphan || stale_temp(e->d_name))) {
            if (unlinkat(dirfd(d), e->d_name, 0)) {
                snprintf(err, err_size, "removing %s/%s: %s", out->path, e->d_name,
                         strerror(errno));
                rc = -1;
            }
            continue;
        }
        if (!ours)
            continue;
        if (out->opt.mode == PARTFILE_ERROR) {
            snprintf(err, err_size,
                     "%s already holds %s (mode: error; use overwrite or append-parts)", out->path,
                     e->d_name);
            rc = -1;
        } else if (out->opt.mode == PARTFILE_OVERWRITE && unlinkat(dirfd(d), e->d_name, 0)) {
            snprintf(err, err_size, "removing %s/%s: %s", out->path, e->d_name, strerror(errno));
            rc = -1;
        } else if (out->opt.mode == PARTFILE_APPEND_PARTS && seq >= (long)out->next_seq) {
            out->next_seq = (unsigned)seq + 1;
        }
    }
    closedir(d);
    return rc;
}

/* Creating and removing a file is the only test of writability that also
 * holds for root and read-only mounts. */
static int probe_dir(const char *dir, char *err, size_t err_size)
{
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/.flowrun-probe-%ld", dir, (long)getpid());
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, err_size, "cannot write in %s: %s", dir, strerror(errno));
        return -1;
    }
    close(fd);
    unlink(probe);
    return 0;
}

static int prepare_dir(partfile_out *out, char *err, size_t err_size)
{
    if (mkdir(out->path, 0755) && errno != EEXIST) {
        snprintf(err, err_size, "creating directory %s: %s", out->path, strerror(errno));
        return -1;
    }
    size_t size = strlen(out->path) + 20;
    if (!(out->manifest_path = malloc(size))) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    snprintf(out->manifest_path, size, "%s/_manifest.json", out->path);
    if (probe_dir(out->path, err, err_size) ||
        (out->opt.mode == PARTFILE_APPEND_PARTS &&
         manifest_load(&out->manifest, out->manifest_path, err, err_size)))
        return -1;
    return scan_parts(out, err, err_size);
}

static int prepare_file(partfile_out *out, char *err, size_t err_size)
{
    struct stat st;
    if (out->opt.mode == PARTFILE_ERROR && stat(out->path, &st) == 0) {
        snprintf(err, err_size, "%s already exists (mode: error; use overwrite)", out->path);
        return -1;
    }
    char *dir = strdup(out->path);
    if (!dir) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    int rc = probe_dir(slash ? (*dir ? dir : "/") : ".", err, err_size);
    free(dir);
    return rc;
}

partfile_out *partfile_open(const partfile_options *o, char *err, size_t err_size)
{
    partfile_out *out = calloc(1, sizeof *out);
    if (!out || !(out->path = strdup(o->path)) || !(out->extension = strdup(o->extension))) {
        snprintf(err, err_size, "out of memory opening %s", o->path);
        partfile_free(out);
        return NULL;
    }
    out->opt = *o;
    out->opt.path = out->path;
    out->opt.extension = out->extension;
    out->parts = o->max_rows || o->max_bytes || o->max_age_ms || o->mode == PARTFILE_APPEND_PARTS;
    if (out->parts ? prepare_dir(out, err, err_size) : prepare_file(out, err, err_size)) {
        partfile_free(out);
        return NULL;
    }
    return out;
}

static void clear_ids(partfile_out *out)
{
    for (size_t i = 0; i < out->n_ids; i++)
        free(out->ids[i]);
    out->n_ids = 0;
    idset_clear(&out->open_ids);
}

int partfile_begin(partfile_out *out, int64_t now_ms, char *err, size_t err_size)
{
    size_t size = strlen(out->path) + strlen(out->extension) + 32;
    free(out->part_path);
    if (!(out->part_path = malloc(size))) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    if (out->parts)
        snprintf(out->part_path, size, "%s/part-%05u.%s", out->path, out->next_seq, out->extension);
    else
        snprintf(out->part_path, size, "%s", out->path);
    int replace = !out->parts && out->opt.mode == PARTFILE_OVERWRITE;
    if (!(out->sink = partfile_local_open(out->part_path, replace, err, err_size)))
        return -1;
    clear_ids(out);
    out->rows = out->bytes = 0;
    out->opened_ms = now_ms;
    return 0;
}

int partfile_is_open(const partfile_out *out)
{
    return out->sink != NULL;
}

int partfile_write(void *ctx, const void *data, size_t n, char *err, size_t err_size)
{
    partfile_out *out = ctx;
    if (out->sink->ops->write(out->sink, data, n, err, err_size))
        return -1;
    out->bytes += n;
    return 0;
}

int partfile_add_id(partfile_out *out, const char *id, char *err, size_t err_size)
{
    if (out->n_ids == out->cap_ids) {
        size_t cap = out->cap_ids ? out->cap_ids * 2 : 1024;
        char **ids = realloc(out->ids, cap * sizeof *ids);
        if (!ids)
            goto oom;
        out->ids = ids;
        out->cap_ids = cap;
    }
    if (!(out->ids[out->n_ids] = strdup(id ? id : "")))
        goto oom;
    out->n_ids++;
    if (idset_add(&out->open_ids, id ? id : "") < 0)
        goto oom;
    out->rows++;
    return 0;
oom:
    snprintf(err, err_size, "out of memory keeping record ids for %s", out->part_path);
    return -1;
}

int partfile_should_roll(const partfile_out *out, uint64_t pending_bytes, int64_t now_ms)
{
    const partfile_options *o = &out->opt;
    return (o->max_rows && out->rows >= o->max_rows) ||
           (o->max_bytes && out->bytes + pending_bytes >= o->max_bytes) ||
           (o->max_age_ms && now_ms - out->opened_ms >= o->max_age_ms);
}

int partfile_seen(const partfile_out *out, const char *id)
{
    return idset_has(&out->manifest.ids, id) ? 2 : idset_has(&out->open_ids, id) ? 1 : 0;
}

/* Takes back a published part whose manifest could not be written, so the
 * directory holds only what the manifest lists. */
static void unpublish(partfile_out *out)
{
    unlink(out->part_path);
    int fd = open(out->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int partfile_commit(partfile_out *out, char *err, size_t err_size)
{
    partfile_sink *s = out->sink;
    out->sink = NULL;
    if (s->ops->commit(s, err, err_size))
        goto fail;
    if (!out->parts) {
        if (manifest_note(&out->manifest, out->part_path, out->rows, out->bytes)) {
            snprintf(err, err_size, "out of memory listing %s", out->part_path);
            goto fail;
        }
        return 0;
    }
    const char *name = strrchr(out->part_path, '/') + 1;
    const char *const *ids = (const char *const *)out->ids;
    int rc = manifest_commit_part(&out->manifest, out->manifest_path, name, out->rows, out->bytes,
                                  ids, out->n_ids, err, err_size);
    if (rc == -1)
        unpublish(out);
    if (rc != -1)
        out->next_seq++;
    if (rc == 0)
        return 0;
fail:
    clear_ids(out);
    return -1;
}

size_t partfile_committed_ids(const partfile_out *out, const char *const **ids)
{
    *ids = (const char *const *)out->ids;
    return out->n_ids;
}

size_t partfile_part_count(const partfile_out *out)
{
    return out->manifest.files.n;
}

void partfile_abort(partfile_out *out)
{
    if (out->sink)
        out->sink->ops->abort(out->sink);
    out->sink = NULL;
    clear_ids(out);
}

const char *partfile_parts_json(const partfile_out *out)
{
    return out->manifest.json ? out->manifest.json : "[]";
}

void partfile_free(partfile_out *out)
{
    if (!out)
        return;
    partfile_abort(out);
    free(out->ids);
    idset_free(&out->open_ids);
    manifest_free(&out->manifest);
    free(out->part_path);
    free(out->manifest_path);
    free(out->extension);
    free(out->path);
    free(out);
}
