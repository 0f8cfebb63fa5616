#include "fswalk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = suffix ? strlen(suffix) : 0;
    return n >= m && strcasecmp(s + n - m, suffix ? suffix : "") == 0;
}

static int push(fswalk_list *list, const char *path)
{
    char **grown = realloc(list->paths, (list->n + 1) * sizeof *grown);
    if (!grown)
        return -1;
    list->paths = grown;
    if (!(grown[list->n] = strdup(path)))
        return -1;
    list->n++;
    return 0;
}

/* The directories on the path being walked, by device and inode: a
 * linked directory that is one of them would be walked forever. */
typedef struct walk_path {
    dev_t dev[64];
    ino_t ino[64];
    int depth;
    int (*stop)(void *user); /* polled per entry: a huge tree ends when the run stops */
    void *stop_user;
    int stopped;
} walk_path;

static int walk_is_loop(const walk_path *wp, const struct stat *sb)
{
    for (int i = 0; i < wp->depth; i++)
        if (wp->dev[i] == sb->st_dev && wp->ino[i] == sb->st_ino)
            return 1;
    return 0;
}

static int walk(const char *root, const char *rel, const char *suffix, walk_path *wp,
                fswalk_list *out, char *err, size_t err_size);

/* One directory entry: a directory is walked, anything else whose name
 * matches is listed (fswalk_read judges it). */
static int walk_entry(const char *root, const char *child, const char *name, const char *suffix,
                      walk_path *wp, fswalk_list *out, char *err, size_t err_size)
{
    char full[8192];
    snprintf(full, sizeof full, "%s/%s", root, child);
    struct stat sb;
    if (stat(full, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        if (walk_is_loop(wp, &sb))
            return 0; /* its files are listed where the walk met it first */
        if (wp->depth == 64) {
            snprintf(err, err_size, "%s: folders nested deeper than 64 levels", full);
            return -1;
        }
        wp->dev[wp->depth] = sb.st_dev;
        wp->ino[wp->depth++] = sb.st_ino;
        int rc = walk(root, child, suffix, wp, out, err, err_size);
        wp->depth--;
        return rc;
    }
    if (ends_with(name, suffix) && push(out, child) != 0) {
        snprintf(err, err_size, "%s: out of memory listing files", root);
        return -1;
    }
    return 0;
}

/* Walks root/rel (rel "" at the top). */
static int walk(const char *root, const char *rel, const char *suffix, walk_path *wp,
                fswalk_list *out, char *err, size_t err_size)
{
    char dir_path[4096], child[4096];
    if ((size_t)snprintf(dir_path, sizeof dir_path, "%s%s%s", root, rel[0] ? "/" : "", rel) >=
        sizeof dir_path) {
        snprintf(err, err_size, "%s/%.200s...: path longer than 4095 bytes", root, rel);
        return -1;
    }
    DIR *dir = opendir(dir_path);
    if (!dir) {
        snprintf(err, err_size, "%s: %s", dir_path, strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(dir))) {
        if (wp->stop && wp->stop(wp->stop_user)) {
            snprintf(err, err_size, "%s: listing stopped, the run is stopping", root);
            wp->stopped = 1;
            rc = -1;
            break;
        }
        if (e->d_name[0] == '.')
            continue;
        if ((size_t)snprintf(child, sizeof child, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name) >=
            sizeof child) {
            snprintf(err, err_size, "%s/%.200s...: path longer than 4095 bytes", root, rel);
            rc = -1;
        } else {
            rc = walk_entry(root, child, e->d_name, suffix, wp, out, err, err_size);
        }
    }
    closedir(dir);
    return rc;
}

static int by_bytes(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int fswalk(const char *root, const char *suffix, fswalk_list *out, char *err, size_t err_size)
{
    return fswalk_stoppable(root, suffix, out, err, err_size, NULL, NULL);
}

int fswalk_stoppable(const char *root, const char *suffix, fswalk_list *out, char *err,
                     size_t err_size, int (*stop)(void *user), void *user)
{
    memset(out, 0, sizeof *out);
    walk_path wp = {.depth = 0, .stop = stop, .stop_user = user};
    struct stat sb;
    if (stat(root, &sb) == 0) {
        wp.dev[0] = sb.st_dev;
        wp.ino[0] = sb.st_ino;
        wp.depth = 1;
    }
    if (walk(root, "", suffix, &wp, out, err, err_size) != 0) {
        fswalk_free(out);
        return wp.stopped ? 1 : -1;
    }
    if (out->n)
        qsort(out->paths, out->n, sizeof *out->paths, by_bytes);
    return 0;
}

void fswalk_free(fswalk_list *list)
{
    for (size_t i = 0; i < list->n; i++)
        free(list->paths[i]);
    free(list->paths);
    memset(list, 0, sizeof *list);
}

void fswalk_parent_name(const char *relative, char *out, size_t size)
{
    const char *last = strrchr(relative, '/');
    if (!last) {
        snprintf(out, size, "%s", "");
        return;
    }
    const char *start = last;
    while (start > relative && start[-1] != '/')
        start--;
    snprintf(out, size, "%.*s", (int)(last - start), start);
}

/* Why the file behind path is not read, or NULL for a regular file. */
static const char *read_kind(const struct stat *sb)
{
    if (S_ISREG(sb->st_mode))
        return NULL;
    if (S_ISDIR(sb->st_mode))
        return "a directory";
    if (S_ISFIFO(sb->st_mode))
        return "a FIFO";
    if (S_ISSOCK(sb->st_mode))
        return "a socket";
    if (S_ISCHR(sb->st_mode) || S_ISBLK(sb->st_mode))
        return "a device";
    return "not a regular file";
}

int fswalk_read(fr_stage *st, const char *path, fr_payload *p, char *why, size_t why_size)
{
    return fswalk_read_max(st, path, FSWALK_MAX_SIZE, p, why, why_size);
}

int fswalk_read_max(fr_stage *st, const char *path, size_t max_size, fr_payload *p, char *why,
                    size_t why_size)
{
    struct stat sb;
    void *data = NULL;
    const char *kind;
    /* O_NONBLOCK: a FIFO swapped in after the listing must not hang the
     * stage (regular files ignore the flag). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    p->kind = FR_KIND_BYTES;
    p->rank = 0;
    p->buffer = NULL;
    if (fd < 0 && errno == ENOENT && lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode)) {
        snprintf(why, why_size, "cannot read %s: a dangling symbolic link", path);
        goto fail;
    }
    if (fd < 0 || fstat(fd, &sb) != 0) {
        snprintf(why, why_size, "cannot read %s: %s", path, strerror(errno));
        goto fail;
    }
    if ((kind = read_kind(&sb))) {
        snprintf(why, why_size, "cannot read %s: %s, not a regular file", path, kind);
        goto fail;
    }
    if ((uint64_t)sb.st_size > max_size) {
        snprintf(why, why_size, "cannot read %s: %lld bytes, above max_object_size %zu", path,
                 (long long)sb.st_size, max_size);
        goto fail;
    }
    p->size = (size_t)sb.st_size;
    if (!(p->buffer = fr_buffer_new(st, p->size, &data))) {
        snprintf(why, why_size, "out of memory reading %s (%zu bytes)", path, p->size);
        goto fail;
    }
    p->data = data;
    for (size_t got = 0; got < p->size;) {
        ssize_t n = read(fd, (char *)data + got, p->size - got);
        if (n <= 0) {
            snprintf(why, why_size, "cannot read %s: %s", path,
                     n < 0 ? strerror(errno) : "file shrank while reading");
            goto fail;
        }
        got += (size_t)n;
    }
    close(fd);
    return 0;
fail:
    if (p->buffer)
        fr_buffer_unref(st, p->buffer);
    p->buffer = NULL;
    p->data = NULL;
    p->size = 0;
    if (fd >= 0)
        close(fd);
    return -1;
}
