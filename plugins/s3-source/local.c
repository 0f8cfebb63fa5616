/* local.c — s3-source's fallback for a file:// or plain-path url: the files
 * under a local folder, listed by plugins/lib/fswalk (as dir-source lists
 * them), read as the same records dir-source makes: key = the path relative
 * to the folder, label = the parent folder's name, id "<stage>:<key>".  So a
 * pipeline moves between a laptop and S3 by changing the url alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fswalk.h"
#include "s3_source.h"

#define LOCAL_EMITS_PER_CALL 64 /* produce() returns often enough to see a stop */

struct source_local {
    char *root; /* owned */
    fswalk_list files;
    size_t next, end, step; /* replicas read next, next+step, ... before end */
    const char *media;      /* static; "*": from each file's extension */
    size_t max_size;        /* max_object_size */
};

int source_local_root(const char *url, char **root)
{
    *root = NULL;
    if (strncmp(url, "s3://", 5) == 0)
        return 0;
    const char *path = url;
    if (strncmp(url, "file://", 7) == 0) {
        path = url + 7;
        if (strncmp(path, "localhost/", 10) == 0)
            path += 9;
        if (path[0] != '/')
            return -1; /* file://otherhost/... */
    } else if (strstr(url, "://")) {
        return -1;
    }
    if (!path[0])
        return -1;
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    return (*root = strndup(path, n)) ? 1 : -1;
}

/* fswalk's stop(): a run stopping while a huge tree is listed. */
static int local_stopping(void *st)
{
    return fr_stopping(st);
}

source_local *source_local_open(fr_stage *st, char *root, const char *suffix, uint64_t limit,
                                const char *media, char *err, size_t err_size)
{
    source_local *l = calloc(1, sizeof *l);
    if (!l) {
        free(root);
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    l->root = root;
    l->media = media;
    l->max_size = (size_t)fr_config_int(st, "max_object_size");
    if (fswalk_stoppable(root, suffix, &l->files, err, err_size, local_stopping, st) != 0) {
        source_local_free(l);
        return NULL;
    }
    l->end = limit && limit < l->files.n ? (size_t)limit : l->files.n;
    l->next = fr_instance(st);
    l->step = fr_replicas(st) ? fr_replicas(st) : 1;
    fr_set_total(st, l->end > l->next ? (l->end - l->next + l->step - 1) / l->step : 0);
    return l;
}

void source_local_free(source_local *l)
{
    if (!l)
        return;
    fswalk_free(&l->files);
    free(l->root);
    free(l);
}

static fr_status local_emit(source_local *l, fr_stage *st, const char *rel)
{
    size_t n = strlen(l->root) + strlen(rel) + 2, idn = strlen(fr_stage_name(st)) + strlen(rel) + 2;
    char *path = malloc(n), *id = malloc(idn), label[1024], why[8400];
    if (!path || !id) {
        free(path);
        free(id);
        return fr_fail(st, FR_FATAL, "out of memory for %s/%s", l->root, rel);
    }
    snprintf(path, n, "%s/%s", l->root, rel);
    snprintf(id, idn, "%s:%s", fr_stage_name(st), rel);
    fswalk_parent_name(rel, label, sizeof label);
    const char *dot = strrchr(rel, '.');
    const char *media = strcmp(l->media, "*") || !dot ? l->media : source_media(dot);
    fr_record rec = {.id = id, .key = rel, .label = label};
    rec.payload.kind = FR_KIND_BYTES;
    snprintf(rec.payload.media, sizeof rec.payload.media, "%s", media);
    fr_status s = FR_OK;
    if (fswalk_read_max(st, path, l->max_size, &rec.payload, why, sizeof why) != 0) {
        rec.payload = (fr_payload){.kind = FR_KIND_NONE};
        fr_reject(st, &rec, why);
        fr_metric_add(st, "objects_failed", 1);
    } else {
        fr_metric_add(st, "objects", 1);
        fr_metric_add(st, "bytes", (double)rec.payload.size);
        s = fr_emit(st, &rec);
    }
    free(path);
    free(id);
    return s;
}

fr_status source_local_produce(source_local *l, fr_stage *st)
{
    for (int i = 0; i < LOCAL_EMITS_PER_CALL; i++) {
        if (fr_stopping(st))
            return FR_STOP;
        if (l->next >= l->end)
            return FR_DONE;
        const char *rel = l->files.paths[l->next];
        l->next += l->step;
        fr_status s = local_emit(l, st, rel);
        if (s != FR_OK)
            return s;
    }
    return FR_OK;
}
