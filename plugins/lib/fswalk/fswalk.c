#include "fswalk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

/* Walks root/rel (rel "" at the top). */
static int walk(const char *root, const char *rel, const char *suffix, fswalk_list *out, char *err,
                size_t err_size)
{
    char dir_path[4096];
    snprintf(dir_path, sizeof dir_path, "%s%s%s", root, rel[0] ? "/" : "", rel);
    DIR *dir = opendir(dir_path);
    if (!dir) {
        snprintf(err, err_size, "%s: %s", dir_path, strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(dir))) {
        if (e->d_name[0] == '.')
            continue;
        char child[4096], full[8192];
        snprintf(child, sizeof child, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        snprintf(full, sizeof full, "%s/%s", root, child);
        struct stat st;
        if (stat(full, &st) != 0)
            continue; /* a dangling link or a file removed meanwhile: not data */
        if (S_ISDIR(st.st_mode))
            rc = walk(root, child, suffix, out, err, err_size);
        else if (S_ISREG(st.st_mode) && ends_with(e->d_name, suffix) && push(out, child) != 0) {
            snprintf(err, err_size, "%s: out of memory listing files", root);
            rc = -1;
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
    memset(out, 0, sizeof *out);
    if (walk(root, "", suffix, out, err, err_size) != 0) {
        fswalk_free(out);
        return -1;
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

int fswalk_read(fr_stage *st, const char *path, fr_payload *p, char *why, size_t why_size)
{
    struct stat sb;
    void *data = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    p->kind = FR_KIND_BYTES;
    p->rank = 0;
    p->buffer = NULL;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        snprintf(why, why_size, "cannot read %s: %s", path, strerror(errno));
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
