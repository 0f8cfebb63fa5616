/*
 * local.c — the local-folder source on the base: the files under a root
 * listed by fswalk (sorted bytewise, as S3 lists), each with its version
 * "<size>-<mtime ns>" (a file rewritten in place is read again), read one
 * by one.  dir-source is this; s3-source reads a file:// url with it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fswalk.h"
#include "source.h"

#define EMITS_PER_CALL 64 /* produce returns often enough to see a stop */

struct source_local {
    fr_stage *st;
    char *root; /* owned */
    source_base *base;
    size_t max_size;
    fswalk_list files; /* watching: this round's listing, offered a page at a time */
    size_t offered;    /* files[0..offered) were offered */
    int walked;        /* files holds this round's listing */
};

void source_local_free(source_local *l)
{
    if (!l)
        return;
    fswalk_free(&l->files);
    source_base_free(l->base);
    free(l->root);
    free(l);
}

/* root/rel, malloc'd. */
static char *join(const char *root, const char *rel)
{
    size_t n = strlen(root) + strlen(rel) + 2;
    char *path = malloc(n);
    if (path)
        snprintf(path, n, "%s/%s", root, rel);
    return path;
}

/* Offers the listed files from *next on to the base, each with its
 * version, until the base says stop (the limit, or a watching base's
 * page); *next is where to go on. */
/* The file's mtime as S3 writes a LastModified (2024-01-31T12:00:00.000Z):
 * the upload's time, for the lag and the sinks' max_age. */
static const char *mtime_text(const struct stat *st, char *out, size_t size)
{
    struct tm tm;
    char seconds[24];
    if (!gmtime_r(&st->st_mtim.tv_sec, &tm) ||
        !strftime(seconds, sizeof seconds, "%Y-%m-%dT%H:%M:%S", &tm))
        return NULL;
    snprintf(out, size, "%s.%03ldZ", seconds, st->st_mtim.tv_nsec / 1000000);
    return out;
}

static int offer(source_local *l, const fswalk_list *files, size_t *next, char *err,
                 size_t err_size)
{
    while (*next < files->n) {
        size_t i = (*next)++;
        struct stat st;
        char *path = join(l->root, files->paths[i]), version[64];
        if (!path) {
            snprintf(err, err_size, "out of memory listing %s", l->root);
            return -1;
        }
        if (stat(path, &st) != 0) /* gone since listed: read, and dead-lettered, later */
            st = (struct stat){0};
        free(path);
        snprintf(version, sizeof version, "%" PRIu64 "-%" PRIu64, (uint64_t)st.st_size,
                 (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec);
        char modified[40];
        int rc =
            source_base_add(l->base, files->paths[i], version, (uint64_t)st.st_size,
                            st.st_mtim.tv_sec ? mtime_text(&st, modified, sizeof modified) : NULL);
        if (rc < 0) {
            snprintf(err, err_size, "out of memory listing %s", l->root);
            return -1;
        }
        if (rc > 0)
            break; /* the limit, or a page */
    }
    return 0;
}

/* fswalk's stop(): a run stopping while a huge tree is listed. */
static int local_stopping(void *st)
{
    return fr_stopping(st);
}

source_local *source_local_open(fr_stage *st, const char *root, const char *suffix, uint64_t limit,
                                const char *media, size_t max_size, char *err, size_t err_size)
{
    fswalk_list files = {0};
    source_local *l = calloc(1, sizeof *l);
    if (!l || !(l->root = strdup(root)) || !(l->base = source_base_new(st, suffix, limit, media))) {
        snprintf(err, err_size, "out of memory");
        source_local_free(l);
        return NULL;
    }
    l->st = st;
    l->max_size = max_size;
    int rc = source_base_watch_config(l->base, err, err_size);
    if (rc != 0) { /* watching: rounds list as produce goes */
        if (rc > 0)
            return l;
        source_local_free(l);
        return NULL;
    }
    size_t next = 0;
    rc = fswalk_stoppable(root, suffix, &files, err, err_size, local_stopping, st);
    if (rc > 0)
        snprintf(err, err_size, "%s: the run is stopping", root);
    if (rc == 0)
        rc = offer(l, &files, &next, err, err_size);
    fswalk_free(&files);
    if (rc != 0) {
        source_local_free(l);
        return NULL;
    }
    source_base_listed(l->base);
    return l;
}

static fr_status read_one(source_local *l, source_item *it)
{
    char *path = join(l->root, it->key), why[8400];
    if (!path)
        return fr_fail(l->st, FR_FATAL, "out of memory for %s/%s", l->root, it->key);
    fr_payload p = {0};
    int failed = fswalk_read_max(l->st, path, l->max_size, &p, why, sizeof why);
    free(path);
    if (failed) { /* listed but unreadable: a dead letter with the reason */
        source_base_reject(l->base, it, why, NULL, 0);
        return FR_OK;
    }
    it->size = p.size; /* what was read, should the file have changed since listed */
    return source_base_emit(l->base, it, p.buffer, p.data, NULL, 0);
}

/* Watching: lists the next page of the round (the tree is walked at the
 * round's start).  A tree that cannot be walked is logged and tried again
 * at the next round. */
static void list_page(source_local *l)
{
    char err[4200];
    int rc = 0;
    if (!l->walked) {
        rc = fswalk_stoppable(l->root, "", &l->files, err, sizeof err, local_stopping, l->st);
        l->walked = rc == 0;
        l->offered = 0;
    }
    if (rc == 0)
        rc = offer(l, &l->files, &l->offered, err, sizeof err);
    if (rc == 0 && l->offered < l->files.n)
        return; /* a page: the rest at the next call */
    if (rc < 0)
        fr_log(l->st, FR_LOG_WARN, "cannot list %s (listing again next round)", err);
    fswalk_free(&l->files);
    l->files = (fswalk_list){0};
    l->walked = 0;
    if (rc == 0)
        source_base_listed(l->base);
    else
        source_base_list_failed(l->base);
}

fr_status source_local_produce(source_local *l)
{
    for (int i = 0; i < EMITS_PER_CALL; i++) {
        if (fr_stopping(l->st))
            return FR_STOP;
        if (source_base_list_due(l->base))
            list_page(l);
        source_item *it = source_base_next(l->base);
        if (!it)
            return source_base_watching(l->base) ? source_base_wait(l->base) : FR_DONE;
        fr_status s = read_one(l, it);
        if (s != FR_OK)
            return s;
    }
    return FR_OK;
}
