/*
 * passthrough — forwards each record unchanged, without copying its
 * payload.  Knobs to exercise the engine's failure paths: reject every Nth
 * record, answer RETRY a number of times before succeeding, fail FATAL
 * after N records, or drop records (a buggy stage, to test accounting).
 * For the ledger's tests: `file` is fingerprinted (a model stand-in), and
 * `digest` turns any payload into a one-value tensor (its FNV-1a hash), so
 * tensor sinks (csv, parquet) can write what a bytes source read.
 * `delay` makes it a slow stage (per record, CPU-free): with
 * `delay: ${VAR:-0}` one node of a split run can be slower than another
 * with the same pipeline file.  `stall_at` makes it hang for good at one
 * record, deaf to a stop as a deadlocked plugin is (the systemd watchdog's
 * test; only SIGKILL ends such a run).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flowrun/plugin.h"

static const fr_param pass_params[] = {
    {"reject_every", FR_PARAM_INT, "0", 0, FR_NO_MAX, NULL,
     "REJECT records whose number % N == 0 (0: none)"},
    {"retry_times", FR_PARAM_INT, "0", 0, 100, NULL,
     "answer RETRY this many times per record first"},
    {"fatal_after", FR_PARAM_INT, "0", 0, FR_NO_MAX, NULL, "return FATAL at record N (0: never)"},
    {"drop_every", FR_PARAM_INT, "0", 0, FR_NO_MAX, NULL,
     "silently drop every Nth record (a bug, for tests)"},
    {"file", FR_PARAM_PATH, "", 0, 0, NULL,
     "a file the results depend on: its content is in the run's fingerprint"},
    {"digest", FR_PARAM_BOOL, "false", 0, 0, NULL,
     "emit tensor/f32[1]: the payload's FNV-1a hash modulo 2^24"},
    {"delay", FR_PARAM_DURATION, "0", 0, 60000, NULL,
     "time spent on each record without using the CPU (a slow stage)"},
    {"stall_at", FR_PARAM_INT, "0", 0, FR_NO_MAX, NULL,
     "hang for good at record N, ignoring a stop (a stuck plugin; 0: never)"},
    {0},
};

typedef struct pass {
    int64_t reject_every, retry_times, fatal_after, drop_every, stall_at;
    int64_t seen;
    int64_t retried; /* RETRYs given for the current record */
    int digest;
    int64_t delay_ms;
} pass;

static fr_status pass_init(fr_stage *st, void **state)
{
    pass *p = calloc(1, sizeof *p);
    if (!p)
        return fr_fail(st, FR_FATAL, "out of memory");
    p->reject_every = fr_config_int(st, "reject_every");
    p->retry_times = fr_config_int(st, "retry_times");
    p->fatal_after = fr_config_int(st, "fatal_after");
    p->drop_every = fr_config_int(st, "drop_every");
    p->stall_at = fr_config_int(st, "stall_at");
    p->digest = fr_config_bool(st, "digest");
    p->delay_ms = fr_config_int(st, "delay");
    *state = p;
    if (fr_fingerprint_file(st, "file") != FR_OK) {
        free(p);
        return FR_FATAL; /* the reason is set */
    }
    return p->digest ? fr_set_output_type(st, "tensor/f32[1]") : FR_OK;
}

/* The record number from a gen-source key "rec-000123". */
static int64_t record_number(const fr_record *in)
{
    const char *dash = strrchr(in->key, '-');
    return dash ? atoll(dash + 1) : 0;
}

static fr_status emit_digest(fr_stage *st, const fr_record *in)
{
    uint32_t h = 2166136261u, one = 1;
    for (size_t i = 0; i < in->payload.size; i++)
        h = (h ^ ((const unsigned char *)in->payload.data)[i]) * 16777619u;
    fr_record out = *in;
    fr_status s = fr_payload_alloc(st, &out.payload, FR_KIND_TENSOR, 1, &one);
    if (s != FR_OK)
        return s;
    *(float *)out.payload.data = (float)(h % (1u << 24));
    return fr_emit(st, &out);
}

/* A slow stage: the record's time passes (signals do not cut it short). */
static void take_time(int64_t ms)
{
    struct timespec left = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (ms > 0 && nanosleep(&left, &left) == -1 && errno == EINTR)
        continue;
}

static fr_status pass_process(void *state, fr_stage *st, const fr_record *in)
{
    pass *p = state;
    if (p->retried == 0)
        take_time(p->delay_ms);
    int64_t n = p->reject_every || p->drop_every || p->stall_at ? record_number(in) : 0;
    if (p->stall_at && n == p->stall_at) {
        fr_log(st, FR_LOG_INFO, "stalling at record %lld for good", (long long)n);
        for (;;)
            pause(); /* a stuck plugin: no signal is for this thread */
    }
    if (p->retried < p->retry_times) {
        p->retried++;
        return fr_fail(st, FR_RETRY, "transient failure %lld of %lld", (long long)p->retried,
                       (long long)p->retry_times);
    }
    p->retried = 0;
    if (p->fatal_after && ++p->seen >= p->fatal_after)
        return fr_fail(st, FR_FATAL, "failing on purpose at record %lld", (long long)p->seen);
    if (p->reject_every && n % p->reject_every == 0)
        return fr_fail(st, FR_REJECT, "record %lld rejected on purpose", (long long)n);
    if (p->drop_every && n % p->drop_every == 0)
        return FR_OK;
    fr_record out = *in;
    if (p->digest)
        return emit_digest(st, in);
    fr_buffer_ref(st, in->payload.buffer); /* zero-copy: the emit takes this reference */
    return fr_emit(st, &out);
}

static void pass_fini(void *state, fr_stage *st)
{
    (void)st;
    free(state);
}

FR_PLUGIN_EXPORT const fr_plugin flowrun_plugin = {
    FR_PLUGIN_HEADER,
    .name = "passthrough",
    .summary = "Test stage: forwards records zero-copy; can reject, retry, fail or drop",
    .input = "*",
    .output = "*",
    .params = pass_params,
    .init = pass_init,
    .process = pass_process,
    .fini = pass_fini,
};
