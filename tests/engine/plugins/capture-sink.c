/*
 * capture-sink — writes one JSON line per record it receives (key, id,
 * label, model version, kind, dims, size, and an FNV-1a hash of the
 * payload) so tests can compare what arrived.  Atomic like the real sinks:
 * written to PATH.tmp, fsync'ed and renamed at the end of the stream, and
 * only then are the ids committed.  A stopped run leaves no PATH.  A
 * resumed or incremental run (fr_run_kind_of) keeps the lines PATH has and
 * acknowledges a record whose id is among them without writing it again.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flowrun/plugin.h"

static const fr_param capture_params[] = {
    {"path", FR_PARAM_PATH, NULL, 0, 0, NULL, "output file of JSON lines"},
    {"delay", FR_PARAM_DURATION, "0", 0, 60000, NULL,
     "work time per record, to act as a slow sink"},
    {0},
};

typedef struct capture {
    FILE *out;
    char *path, *tmp;
    int64_t delay_ms;
    char **ids;
    size_t n_ids, cap_ids;
    char **kept; /* ids of the lines kept from PATH, sorted */
    size_t n_kept;
} capture;

static int by_string(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Copies PATH's lines into the temporary file and remembers their ids (as
 * written: the ids tests use need no JSON escapes). */
static int keep_previous(capture *c)
{
    FILE *in = fopen(c->path, "r");
    if (!in)
        return errno == ENOENT ? 0 : -1;
    char *line = NULL;
    size_t size = 0;
    int ok = 1;
    while (ok && getline(&line, &size, in) > 0) {
        char *id = strstr(line, "\"id\":\""), *end = id ? strchr(id + 6, '"') : NULL;
        char **grown = realloc(c->kept, (c->n_kept + 1) * sizeof *grown);
        ok = id && end && grown && fputs(line, c->out) >= 0;
        if (grown)
            c->kept = grown;
        if (ok && !(c->kept[c->n_kept] = strndup(id + 6, (size_t)(end - id - 6))))
            ok = 0;
        c->n_kept += ok;
    }
    free(line);
    fclose(in);
    if (c->n_kept)
        qsort(c->kept, c->n_kept, sizeof *c->kept, by_string);
    return ok ? 0 : -1;
}

static void capture_fini(void *state, fr_stage *st);

static fr_status capture_init(fr_stage *st, void **state)
{
    capture *c = calloc(1, sizeof *c);
    if (!c)
        return fr_fail(st, FR_FATAL, "out of memory");
    const char *path = fr_config_string(st, "path");
    c->delay_ms = fr_config_int(st, "delay");
    /* Replicas each write their own file: PATH.0, PATH.1, ... */
    size_t len = strlen(path) + 24;
    c->path = malloc(len);
    c->tmp = malloc(len);
    if (c->path && fr_replicas(st) > 1)
        snprintf(c->path, len, "%s.%u", path, fr_instance(st));
    else if (c->path)
        snprintf(c->path, len, "%s", path);
    if (c->tmp && c->path)
        snprintf(c->tmp, len, "%s.tmp", c->path);
    if (!c->path || !c->tmp || !(c->out = fopen(c->tmp, "w"))) {
        fr_status s =
            fr_fail(st, FR_FATAL, "cannot write %s: %s", c->tmp ? c->tmp : path, strerror(errno));
        free(c->path);
        free(c->tmp);
        free(c);
        return s;
    }
    if (fr_run_kind_of(st) != FR_RUN_FRESH && keep_previous(c) != 0) {
        fr_status s =
            fr_fail(st, FR_FATAL, "cannot keep the lines of %s: %s", c->path, strerror(errno));
        capture_fini(c, st); /* init failed: the engine will not call fini */
        return s;
    }
    *state = c;
    return FR_OK;
}

static uint64_t fnv1a(const void *data, size_t size)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < size; i++)
        h = (h ^ ((const unsigned char *)data)[i]) * 1099511628211ull;
    return h;
}

/* Spends delay_ms of CPU-free time: a stand-in for a slow disk or network. */
static void work(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static fr_status remember(capture *c, fr_stage *st, const char *id);

/* s as a JSON string: tests feed keys of any bytes (hostile file names),
 * so quotes, backslashes and control bytes are escaped and bytes outside
 * well-formed UTF-8 become U+FFFD (as in the engine's dead letters). */
static void json_text(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        size_t n = *c < 0x80    ? 1
                   : *c >= 0xf5 ? 0
                   : *c >= 0xf0 ? 4
                   : *c >= 0xe0 ? 3
                   : *c >= 0xc2 ? 2
                                : 0;
        for (size_t i = 1; i < n; i++)
            n = (c[i] & 0xc0) == 0x80 ? n : 0;
        if (n > 2 && ((c[0] == 0xe0 && c[1] < 0xa0) || (c[0] == 0xed && c[1] > 0x9f) ||
                      (c[0] == 0xf0 && c[1] < 0x90) || (c[0] == 0xf4 && c[1] > 0x8f)))
            n = 0;
        if (*c == '"' || *c == '\\')
            fprintf(out, "\\%c", *c);
        else if (*c < 0x20 || *c == 0x7f)
            fprintf(out, "\\u%04x", *c);
        else if (!n)
            fputs("\\ufffd", out);
        else
            fwrite(c, 1, n, out);
        c += n ? n - 1 : 0;
    }
    fputc('"', out);
}

static fr_status capture_process(void *state, fr_stage *st, const fr_record *in)
{
    capture *c = state;
    static const char *const kinds[] = {"none", "bytes", "image", "tensor"};
    work(c->delay_ms);
    if (c->n_kept && bsearch(&in->id, c->kept, c->n_kept, sizeof *c->kept, by_string))
        return remember(c, st, in->id); /* written by the run this one resumes */
    fputs("{\"key\":", c->out);
    json_text(c->out, in->key);
    fputs(",\"id\":", c->out);
    json_text(c->out, in->id);
    fputs(",\"label\":", c->out);
    json_text(c->out, in->label);
    fprintf(c->out, ",\"model_version\":%" PRIu64 ",\"kind\":\"%s\",\"media\":", in->model_version,
            kinds[in->payload.kind & 3]);
    json_text(c->out, in->payload.media);
    fputs(",\"dims\":[", c->out);
    for (uint32_t i = 0; i < in->payload.rank; i++)
        fprintf(c->out, "%s%u", i ? "," : "", in->payload.dims[i]);
    fprintf(c->out, "],\"size\":%zu,\"fnv\":\"%016" PRIx64 "\"}\n", in->payload.size,
            fnv1a(in->payload.data, in->payload.size));
    return remember(c, st, in->id);
}

/* The ids to commit at the end. */
static fr_status remember(capture *c, fr_stage *st, const char *id)
{
    if (c->n_ids == c->cap_ids) {
        size_t cap = c->cap_ids ? 2 * c->cap_ids : 256;
        char **grown = realloc(c->ids, cap * sizeof *grown);
        if (!grown)
            return fr_fail(st, FR_FATAL, "out of memory");
        c->ids = grown;
        c->cap_ids = cap;
    }
    if (!(c->ids[c->n_ids] = strdup(id)))
        return fr_fail(st, FR_FATAL, "out of memory");
    c->n_ids++;
    return FR_OK;
}

static fr_status capture_flush(void *state, fr_stage *st)
{
    capture *c = state;
    int ok = fflush(c->out) == 0 && fsync(fileno(c->out)) == 0;
    ok = fclose(c->out) == 0 && ok;
    c->out = NULL;
    if (!ok || rename(c->tmp, c->path) != 0)
        return fr_fail(st, FR_FATAL, "cannot write %s: %s", c->path, strerror(errno));
    fr_commit(st, (const char *const *)c->ids, c->n_ids);
    return FR_OK;
}

static void capture_fini(void *state, fr_stage *st)
{
    capture *c = state;
    (void)st;
    if (c->out) { /* stopped before the end: leave nothing behind */
        fclose(c->out);
        unlink(c->tmp);
    }
    for (size_t i = 0; i < c->n_ids; i++)
        free(c->ids[i]);
    free(c->ids);
    for (size_t i = 0; i < c->n_kept; i++)
        free(c->kept[i]);
    free(c->kept);
    free(c->path);
    free(c->tmp);
    free(c);
}

FR_PLUGIN_EXPORT const fr_plugin flowrun_plugin = {
    FR_PLUGIN_HEADER,
    .name = "capture-sink",
    .summary = "Test sink: writes what it receives as JSON lines, atomically",
    .input = "*",
    .params = capture_params,
    .init = capture_init,
    .process = capture_process,
    .flush = capture_flush,
    .fini = capture_fini,
};
