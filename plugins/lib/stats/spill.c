/*
 * spill.c — rows waiting on disk while a batch fit runs (flat memory).
 *
 * One entry per row: u32 number of attributes a; u32 lengths of id, key,
 * label and of each attribute's name and value (3 + 2a); those strings
 * (no NUL); dim float32.  Written and read through stdio buffers, so the
 * RAM used is the buffers and one block of rows read back, whatever the
 * number of rows.  The file has no name from the moment it exists.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define SPILL_IO_BUFFER (1u << 20)

struct stats_spill {
    FILE *f;
    uint32_t dim;
    uint64_t rows;
    int writing; /* 1 while appending: a read must flush and seek first */
    /* The block read back: rows, and the strings of each row in one arena. */
    float *block;
    size_t block_cap;
    char *arena;
    size_t arena_cap;
    const char **strings; /* 3 per row: id, key, label */
    size_t strings_cap;
    fr_attr *attrs; /* of the rows read back */
    size_t attrs_cap;
    uint32_t *attr_first; /* per row + 1: index of its first attribute */
    size_t attr_first_cap;
};

const char *stats_spill_dir(const char *configured)
{
    const char *tmp = getenv("TMPDIR");
    if (configured && configured[0])
        return configured;
    return tmp && tmp[0] ? tmp : "/var/tmp";
}

/* An unnamed file in dir: O_TMPFILE where the filesystem has it, else a
 * named temporary removed at once. */
static int open_unnamed(const char *dir)
{
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
        return fd;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/flowrun-spill.XXXXXX", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0)
        unlink(path);
    return fd;
}

/* The spill around fd (taken over), or NULL with err naming where. */
static stats_spill *spill_on(int fd, const char *mode, const char *where, uint32_t dim, char *err,
                             size_t err_size)
{
    stats_spill *s = fd >= 0 ? calloc(1, sizeof *s) : NULL;
    if (!s || !(s->f = fdopen(fd, mode))) {
        snprintf(err, err_size, "spill file %s: %s", where,
                 fd < 0 || s ? strerror(errno) : "out of memory");
        if (fd >= 0)
            close(fd);
        free(s);
        return NULL;
    }
    setvbuf(s->f, NULL, _IOFBF, SPILL_IO_BUFFER);
    s->dim = dim;
    return s;
}

stats_spill *stats_spill_open(const char *dir, uint32_t dim, char *err, size_t err_size)
{
    char where[4200];
    snprintf(where, sizeof where, "in %s", dir);
    stats_spill *s = spill_on(open_unnamed(dir), "w+b", where, dim, err, err_size);
    if (s)
        s->writing = 1;
    return s;
}

stats_spill *stats_spill_open_file(const char *path, uint32_t dim, uint64_t keep_bytes, char *err,
                                   size_t err_size)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && (uint64_t)st.st_size < keep_bytes) {
        snprintf(err, err_size, "spill file %s: %lld bytes, its checkpoint says %llu", path,
                 (long long)st.st_size, (unsigned long long)keep_bytes);
        close(fd);
        return NULL;
    }
    if (fd >= 0 && ftruncate(fd, (off_t)keep_bytes) != 0) {
        close(fd);
        fd = -1;
    }
    /* not writing: the first append seeks to the end */
    return spill_on(fd, "r+b", path, dim, err, err_size);
}

int stats_spill_sync(stats_spill *s, uint64_t *bytes, char *err, size_t err_size)
{
    off_t end;
    if (fflush(s->f) != 0 || fdatasync(fileno(s->f)) != 0 ||
        (end = lseek(fileno(s->f), 0, SEEK_END)) < 0) {
        snprintf(err, err_size, "syncing the spill file: %s", strerror(errno));
        return -1;
    }
    s->writing = 0; /* the descriptor moved: the next append seeks again */
    *bytes = (uint64_t)end;
    return 0;
}

void spill_set_rows(stats_spill *s, uint64_t rows)
{
    s->rows = rows;
}

void stats_spill_close(stats_spill *s)
{
    if (!s)
        return;
    fclose(s->f);
    free(s->attr_first);
    free(s->attrs);
    free(s->strings);
    free(s->arena);
    free(s->block);
    free(s);
}

uint64_t stats_spill_rows(const stats_spill *s)
{
    return s->rows;
}

int stats_spill_append(stats_spill *s, const float *row, const char *id, const char *key,
                       const char *label, const fr_attr *attrs, uint32_t n_attrs, char *err,
                       size_t err_size)
{
    const char *str[3] = {id ? id : "", key ? key : "", label ? label : ""};
    uint32_t len[3];
    if (!s->writing && fseek(s->f, 0, SEEK_END) != 0)
        goto fail;
    s->writing = 1;
    for (int i = 0; i < 3; i++)
        len[i] = (uint32_t)strlen(str[i]);
    if (fwrite(&n_attrs, sizeof n_attrs, 1, s->f) != 1 || fwrite(len, sizeof len, 1, s->f) != 1)
        goto fail;
    for (uint32_t a = 0; a < n_attrs; a++) {
        uint32_t al[2] = {(uint32_t)strlen(attrs[a].name), (uint32_t)strlen(attrs[a].value)};
        if (fwrite(al, sizeof al, 1, s->f) != 1)
            goto fail;
    }
    for (int i = 0; i < 3; i++)
        if (len[i] && fwrite(str[i], len[i], 1, s->f) != 1)
            goto fail;
    for (uint32_t a = 0; a < n_attrs; a++)
        if (fputs(attrs[a].name, s->f) == EOF || fputs(attrs[a].value, s->f) == EOF)
            goto fail;
    if (fwrite(row, sizeof(float), s->dim, s->f) != s->dim)
        goto fail;
    s->rows++;
    return 0;
fail:
    snprintf(err, err_size, "writing the spill file: %s", strerror(errno ? errno : EIO));
    return -1;
}

int stats_spill_rewind(stats_spill *s, char *err, size_t err_size)
{
    if (fflush(s->f) != 0 || fseek(s->f, 0, SEEK_SET) != 0) {
        snprintf(err, err_size, "rewinding the spill file: %s", strerror(errno));
        return -1;
    }
    s->writing = 0;
    return 0;
}

static int grow(void **p, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    void *q = realloc(*p, need);
    if (!q)
        return -1;
    *p = q;
    *cap = need;
    return 0;
}

/* Reads one string of len bytes into the arena at *used; returns its
 * offset (made a pointer once the arena stops moving), or -1. */
static long read_string(stats_spill *s, uint32_t len, size_t *used)
{
    size_t at = *used;
    if (grow((void **)&s->arena, &s->arena_cap, at + len + 1 + 4096) < 0 ||
        (len && fread(s->arena + at, len, 1, s->f) != 1))
        return -1;
    s->arena[at + len] = '\0';
    *used += len + 1;
    return (long)at;
}

/* Reads one row's strings and attributes; offsets into the arena go into
 * s->strings and s->attrs as (char *)offset until the arena stops moving. */
static int read_texts(stats_spill *s, size_t row, size_t *used, size_t *n_attrs_read)
{
    uint32_t n_attrs, len[3], al[2];
    if (fread(&n_attrs, sizeof n_attrs, 1, s->f) != 1 || fread(len, sizeof len, 1, s->f) != 1 ||
        grow((void **)&s->attrs, &s->attrs_cap, (*n_attrs_read + n_attrs) * sizeof(fr_attr)) < 0)
        return -1;
    fr_attr *attrs = s->attrs + *n_attrs_read;
    for (uint32_t a = 0; a < n_attrs; a++) {
        if (fread(al, sizeof al, 1, s->f) != 1)
            return -1;
        /* lengths for now; replaced by offsets below */
        attrs[a] = (fr_attr){(const char *)(uintptr_t)al[0], (const char *)(uintptr_t)al[1]};
    }
    for (int i = 0; i < 3; i++) {
        long at = read_string(s, len[i], used);
        if (at < 0)
            return -1;
        s->strings[row * 3 + i] = (const char *)(uintptr_t)at;
    }
    for (uint32_t a = 0; a < n_attrs; a++) {
        long name = read_string(s, (uint32_t)(uintptr_t)attrs[a].name, used);
        long value = name < 0 ? -1 : read_string(s, (uint32_t)(uintptr_t)attrs[a].value, used);
        if (value < 0)
            return -1;
        attrs[a] = (fr_attr){(const char *)(uintptr_t)name, (const char *)(uintptr_t)value};
    }
    *n_attrs_read += n_attrs;
    s->attr_first[row + 1] = (uint32_t)*n_attrs_read;
    return 0;
}

long stats_spill_read(stats_spill *s, size_t max, stats_spill_block *blk, char *err,
                      size_t err_size)
{
    size_t used = 0, n = 0, n_attrs_read = 0;
    if (grow((void **)&s->block, &s->block_cap, max * s->dim * sizeof(float)) < 0 ||
        grow((void **)&s->strings, &s->strings_cap, max * 3 * sizeof(char *)) < 0 ||
        grow((void **)&s->attr_first, &s->attr_first_cap, (max + 1) * sizeof(uint32_t)) < 0)
        goto fail;
    s->attr_first[0] = 0;
    for (int c; n < max && (c = fgetc(s->f)) != EOF; n++) {
        ungetc(c, s->f);
        if (read_texts(s, n, &used, &n_attrs_read) < 0 ||
            fread(s->block + n * s->dim, sizeof(float), s->dim, s->f) != s->dim)
            goto fail;
    }
    if (ferror(s->f))
        goto fail;
    for (size_t i = 0; i < n * 3; i++)
        s->strings[i] = s->arena + (uintptr_t)s->strings[i];
    for (size_t i = 0; i < n_attrs_read; i++)
        s->attrs[i] = (fr_attr){s->arena + (uintptr_t)s->attrs[i].name,
                                s->arena + (uintptr_t)s->attrs[i].value};
    *blk = (stats_spill_block){.n = n,
                               .rows = s->block,
                               .strings = s->strings,
                               .attrs = s->attrs,
                               .attr_first = s->attr_first};
    return (long)n;
fail:
    snprintf(err, err_size, "reading the spill file back: %s",
             ferror(s->f) ? strerror(errno) : "truncated or out of memory");
    return -1;
}

int stats_spill_reset(stats_spill *s, char *err, size_t err_size)
{
    if (fflush(s->f) != 0 || ftruncate(fileno(s->f), 0) != 0 || fseek(s->f, 0, SEEK_SET) != 0) {
        snprintf(err, err_size, "emptying the spill file: %s", strerror(errno));
        return -1;
    }
    s->rows = 0;
    s->writing = 1;
    return 0;
}
