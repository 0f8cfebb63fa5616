/*
 * gen-source — emits `count` records "rec-000000", ... with a payload of
 * `size` bytes (each byte derived from the record number, so a sink can
 * check it), as bytes or as a float tensor.  Test and benchmark input.
 * Keys the ledger has done are skipped (a rerun resumes); `version` is
 * every key's content version, so a test can make them all "changed".
 * `hold` keeps a run open until the test releases it (hold()).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flowrun/plugin.h"

static const fr_param gen_params[] = {
    {"count", FR_PARAM_INT, "100", 0, FR_NO_MAX, NULL,
     "records to emit in all (split over replicas)"},
    {"size", FR_PARAM_SIZE, "64", 0, 1 << 30, NULL, "payload bytes (tensor: a multiple of 4)"},
    {"kind", FR_PARAM_ENUM, "bytes", 0, 0, "bytes|tensor", "payload kind"},
    {"labels", FR_PARAM_INT, "3", 1, 1000, NULL, "labels cycle over class-0 .. class-N-1"},
    {"version", FR_PARAM_STRING, "", 0, 0, NULL,
     "the content version of every key (another value: every key changed)"},
    {"hold", FR_PARAM_STRING, "", 0, 0, NULL,
     "a FIFO: after its last record (or when an emit says the run is stopping), log "
     "\"holding\" and wait until a writer opens it and closes it, so a test looks at a run "
     "that cannot end without it; the gauge held is 1 meanwhile"},
    {0},
};

typedef struct gen {
    uint64_t next, end, step;
    size_t size;
    int tensor;
    int64_t labels;
    const char *version;
    const char *hold; /* "" none */
} gen;

static fr_status gen_init(fr_stage *st, void **state)
{
    gen *g = calloc(1, sizeof *g);
    if (!g)
        return fr_fail(st, FR_FATAL, "out of memory");
    g->end = (uint64_t)fr_config_int(st, "count");
    g->size = (size_t)fr_config_int(st, "size");
    g->tensor = fr_config_enum(st, "kind") == 1; /* "bytes|tensor" */
    g->labels = fr_config_int(st, "labels");
    g->version = fr_config_string(st, "version");
    g->hold = fr_config_string(st, "hold");
    g->next = fr_instance(st);
    g->step = fr_replicas(st);
    if (g->tensor && g->size % 4) {
        size_t size = g->size;
        free(g);
        return fr_fail(st, FR_FATAL, "size %zu is not a multiple of 4 for a tensor", size);
    }
    fr_set_total(st, g->end > g->next ? (g->end - g->next + g->step - 1) / g->step : 0);
    *state = g;
    return FR_OK;
}

static fr_status make_payload(const gen *g, fr_stage *st, fr_payload *p)
{
    if (g->tensor) {
        uint32_t n = (uint32_t)(g->size / 4);
        return fr_payload_alloc(st, p, FR_KIND_TENSOR, 1, &n);
    }
    *p = (fr_payload){.kind = FR_KIND_BYTES, .media = "*", .size = g->size};
    if (!(p->buffer = fr_buffer_new(st, g->size, &p->data)))
        return fr_fail(st, FR_FATAL, "out of memory");
    return FR_OK;
}

/* With hold set, at the end of the records (or of the run): blocks on the
 * FIFO until a writer comes and goes, then returns then.  The test's
 * synchronisation point, not a wait for time. */
static fr_status hold(const gen *g, fr_stage *st, const char *why, fr_status then)
{
    char sink[64];
    fr_gauge_set(st, "held", 1);
    fr_log(st, FR_LOG_INFO, "holding: %s; waiting on %s", why, g->hold);
    int fd = open(g->hold, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fr_fail(st, FR_FATAL, "hold: cannot open %s: %s", g->hold, strerror(errno));
    while (read(fd, sink, sizeof sink) > 0)
        ;
    close(fd);
    fr_gauge_set(st, "held", 0);
    return then;
}

static fr_status gen_produce(void *state, fr_stage *st)
{
    gen *g = state;
    fr_metric_add(st, "produce_calls", 1); /* a plugin counter, for the metrics' tests */
    for (int i = 0; i < 64; i++, g->next += g->step) {
        if (g->next >= g->end)
            return g->hold[0] ? hold(g, st, "every record emitted", FR_DONE) : FR_DONE;
        char key[32], label[32];
        snprintf(key, sizeof key, "rec-%06llu", (unsigned long long)g->next);
        if (fr_key_state_of(st, key, g->version) >= FR_KEY_DONE)
            continue; /* done by an earlier run */
        snprintf(label, sizeof label, "class-%lld", (long long)(g->next % (uint64_t)g->labels));
        fr_record rec = {.key = key, .label = label};
        fr_status s = make_payload(g, st, &rec.payload);
        if (s != FR_OK)
            return s;
        memset(rec.payload.data, (int)(g->next & 0xff), rec.payload.size);
        if ((s = fr_emit_key(st, &rec, g->version)) == FR_STOP && g->hold[0])
            return hold(g, st, "the run is stopping", s);
        if (s != FR_OK)
            return s;
    }
    return FR_OK;
}

static void gen_fini(void *state, fr_stage *st)
{
    (void)st;
    free(state);
}

FR_PLUGIN_EXPORT const fr_plugin flowrun_plugin = {
    FR_PLUGIN_HEADER,
    .name = "gen-source",
    .summary = "Test source: numbered records with a generated payload",
    .output = "*",
    .params = gen_params,
    .init = gen_init,
    .produce = gen_produce,
    .fini = gen_fini,
};
