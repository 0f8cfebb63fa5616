/*
 * dir-source — reads every file under a local directory as one record:
 * key = the path relative to the directory, label = the parent folder's
 * name (Fruits-360's Training/<class>/<n>.jpg layout), payload = the bytes.
 * Files come in bytewise-sorted order, so runs are reproducible.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowrun/plugin.h"
#include "fswalk.h"

#define EMITS_PER_CALL 64 /* produce() returns often enough to see a stop */

static const fr_param dir_source_params[] = {
    {"path", FR_PARAM_PATH, NULL, 0, 0, NULL, "directory to read (recursively)"},
    {"suffix", FR_PARAM_STRING, "", 0, 0, NULL,
     "only files whose name ends with this, e.g. .jpg (default: every file)"},
    {"limit", FR_PARAM_INT, "0", 0, FR_NO_MAX, NULL, "read at most this many files (0: all)"},
    {"max_object_size", FR_PARAM_SIZE, "256MiB", 1, FR_NO_MAX, NULL,
     "a file larger than this is dead-lettered, not read into memory"},
    {0},
};

typedef struct dir_source {
    fswalk_list files;
    size_t next; /* files[next] is the next to read */
    size_t end;  /* stop before this index (limit, and the replica's share) */
    size_t step; /* replicas split the list: instance i reads i, i+R, ... */
    const char *root;
    size_t max_size; /* max_object_size */
} dir_source;

/* fswalk's stop(): a run stopping while a huge tree is listed. */
static int dir_stopping(void *st)
{
    return fr_stopping(st);
}

static fr_status dir_init(fr_stage *st, void **state)
{
    dir_source *d = calloc(1, sizeof *d);
    char err[4200];
    if (!d)
        return fr_fail(st, FR_FATAL, "out of memory");
    d->root = fr_config_string(st, "path");
    d->max_size = (size_t)fr_config_int(st, "max_object_size");
    int rc = fswalk_stoppable(d->root, fr_config_string(st, "suffix"), &d->files, err, sizeof err,
                              dir_stopping, st);
    if (rc != 0) {
        free(d);
        return rc > 0 ? FR_STOP : fr_fail(st, FR_FATAL, "cannot list %s", err);
    }
    int64_t limit = fr_config_int(st, "limit");
    d->end = limit > 0 && (size_t)limit < d->files.n ? (size_t)limit : d->files.n;
    d->next = fr_instance(st);
    d->step = fr_replicas(st);
    uint64_t mine = d->end > d->next ? (d->end - d->next + d->step - 1) / d->step : 0;
    fr_set_total(st, mine);
    *state = d;
    return FR_OK;
}

static const char *media_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot && (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg")))
        return "jpeg";
    if (dot && !strcasecmp(dot, ".png"))
        return "png";
    return "*";
}

static fr_status emit_file(dir_source *d, fr_stage *st, const char *rel)
{
    char path[8192], id[4200], label[1024], why[8400];
    snprintf(path, sizeof path, "%s/%s", d->root, rel);
    snprintf(id, sizeof id, "%s:%s", fr_stage_name(st), rel);
    fswalk_parent_name(rel, label, sizeof label);
    fr_record rec = {.id = id, .key = rel, .label = label};
    rec.payload.kind = FR_KIND_BYTES;
    snprintf(rec.payload.media, sizeof rec.payload.media, "%s", media_of(rel));
    if (fswalk_read_max(st, path, d->max_size, &rec.payload, why, sizeof why) != 0) {
        /* Listed but unreadable: a dead letter with the reason, not a silent skip. */
        fr_reject(st, &rec, why);
        return FR_OK;
    }
    return fr_emit(st, &rec);
}

static fr_status dir_produce(void *state, fr_stage *st)
{
    dir_source *d = state;
    for (int i = 0; i < EMITS_PER_CALL; i++) {
        if (d->next >= d->end)
            return FR_DONE;
        const char *rel = d->files.paths[d->next];
        d->next += d->step;
        fr_status s = emit_file(d, st, rel);
        if (s != FR_OK)
            return s;
    }
    return FR_OK;
}

static void dir_fini(void *state, fr_stage *st)
{
    dir_source *d = state;
    (void)st;
    fswalk_free(&d->files);
    free(d);
}

FR_PLUGIN_EXPORT const fr_plugin flowrun_plugin = {
    FR_PLUGIN_HEADER,
    .name = "dir-source",
    .summary = "Read every file under a local directory; label = parent folder name",
    .version = "1.0",
    .output = "bytes/*",
    .params = dir_source_params,
    .init = dir_init,
    .produce = dir_produce,
    .fini = dir_fini,
};
