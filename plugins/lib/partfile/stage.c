/* stage.c — the shared sink stage driving a partfile_out (see partfile.h). */
#include "failpoint.h"
#include "partfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

struct partfile_stage {
    const partfile_format *format;
    void *fmt; /* owned */
    partfile_out *out;
    unsigned columns; /* PARTFILE_COL_* */
    uint32_t width;   /* features per row; 0 until known */
    float *scratch;   /* image payloads converted to floats */
    size_t scratch_len;
    uint64_t parts;
    int64_t max_age_ms;
    int64_t publish_ms; /* what a publish takes (partfile_publish_estimate) */
};

static int64_t clock_ms(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_ms(void)
{
    return clock_ms(CLOCK_MONOTONIC);
}

/* "tensor/f32[200]" fixes the width before any record arrives. */
static uint32_t declared_width(fr_stage *st)
{
    const char *type = fr_input_type(st);
    unsigned n = 0;
    char close = 0;
    if (type && sscanf(type, "tensor/f32[%u%c", &n, &close) == 2 && close == ']')
        return n;
    return 0;
}

/* The run this stage writes for: a token kept in its state directory
 * across the reruns that resume or extend it (fr_run_kind_of), made anew
 * when a fresh run starts.  "" without a state directory. */
static int run_token(fr_stage *st, char *token, size_t size, char *err, size_t err_size)
{
    const char *dir = fr_state_dir(st);
    char path[4200];
    token[0] = '\0';
    if (!dir || !*dir)
        return 0;
    snprintf(path, sizeof path, "%s/run-token", dir);
    FILE *f = fr_run_kind_of(st) == FR_RUN_FRESH ? NULL : fopen(path, "r");
    if (f) {
        int ok = fgets(token, (int)size, f) != NULL;
        fclose(f);
        token[strcspn(token, "\n")] = '\0';
        if (ok && *token)
            return 0;
    }
    unsigned char random[12];
    if (getrandom(random, sizeof random, 0) != (ssize_t)sizeof random) {
        snprintf(err, err_size, "%s: no random bytes for a run token: %s", path, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < sizeof random && 2 * i + 2 < size; i++)
        snprintf(token + 2 * i, 3, "%02x", random[i]);
    return partfile_write_small(path, token, err, err_size);
}

/* The S3 client's requests, retries and bytes (an s3:// path), as the
 * stage's metrics. */
static void s3_count_metric(void *st, const char *name, double n)
{
    fr_metric_add(st, name, n);
}

fr_status partfile_stage_init(fr_stage *st, const partfile_format *format, void *fmt,
                              const char *extension, partfile_stage **out)
{
    char err[4400];
    partfile_stage *s = calloc(1, sizeof *s);
    if (!s) {
        format->free(fmt);
        return fr_fail(st, FR_FATAL, "out of memory");
    }
    *s = (partfile_stage){.format = format,
                          .fmt = fmt,
                          .width = declared_width(st),
                          .max_age_ms = fr_config_int(st, "max_age")};
    s->columns = (fr_config_bool(st, "model_version") ? PARTFILE_COL_MODEL_VERSION : 0u) |
                 (fr_config_bool(st, "version_column") ? PARTFILE_COL_VERSION : 0u);
    char run[64];
    if (run_token(st, run, sizeof run, err, sizeof err)) {
        partfile_stage_fini(s, st);
        return fr_fail(st, FR_FATAL, "%s", err);
    }
    partfile_options o = {.path = fr_config_string(st, "path"),
                          .extension = extension,
                          .mode = (partfile_mode)partfile_mode_parse(fr_config_string(st, "mode")),
                          .max_rows = (uint64_t)fr_config_int(st, "max_rows"),
                          .max_bytes = (uint64_t)fr_config_int(st, "max_bytes"),
                          .max_age_ms = s->max_age_ms,
                          .endpoint = fr_config_string(st, "endpoint"),
                          .region = fr_config_string(st, "region"),
                          .addressing = fr_config_string(st, "addressing"),
                          .profile = fr_config_string(st, "profile"),
                          .count = s3_count_metric,
                          .count_user = st,
                          .run = run,
                          .state_dir = fr_state_dir(st)};
    if (fr_replicas(st) > 1) {
        partfile_stage_fini(s, st);
        return fr_config_error(st, "replicas", "%u: a file sink writes one output; use 1",
                               fr_replicas(st));
    }
    if (!(s->out = partfile_open(&o, err, sizeof err))) {
        partfile_stage_fini(s, st);
        return fr_fail(st, FR_FATAL, "%s", err);
    }
    if (partfile_describe(s->out))
        fr_log(st, FR_LOG_INFO, "%s", partfile_describe(s->out));
    *out = s;
    return FR_OK;
}

/* The record's features: a tensor as it is, an image's bytes as floats. */
static const float *features(partfile_stage *s, fr_stage *st, const fr_record *in, uint32_t *n)
{
    if (in->payload.kind == FR_KIND_TENSOR) {
        *n = (uint32_t)(in->payload.size / sizeof(float));
        return in->payload.data;
    }
    if (in->payload.kind != FR_KIND_IMAGE)
        return NULL;
    if (s->scratch_len < in->payload.size) {
        float *p = realloc(s->scratch, in->payload.size * sizeof *p);
        if (!p)
            return NULL;
        s->scratch = p;
        s->scratch_len = in->payload.size;
    }
    const uint8_t *px = in->payload.data;
    for (size_t i = 0; i < in->payload.size; i++)
        s->scratch[i] = px[i];
    *n = (uint32_t)in->payload.size;
    return s->scratch;
}

/* Tells the engine which ids the files just published hold. */
static void acknowledge(partfile_stage *s, fr_stage *st)
{
    const char *const *ids;
    size_t n = partfile_committed_ids(s->out, &ids);
    if (n == 0)
        return;
    failpoint("sink-ack");
    fr_commit(st, ids, n);
}

/* Ends the open part: published (and acknowledged) now, or staged until
 * the run's end (see partfile_commit). */
static fr_status commit_part(partfile_stage *s, fr_stage *st)
{
    char err[512];
    int64_t started = now_ms();
    if (s->format->end(s->fmt, err, sizeof err)) {
        s->format->discard(s->fmt);
        partfile_abort(s->out);
        return fr_fail(st, FR_FATAL, "%s", err);
    }
    if (partfile_commit(s->out, err, sizeof err))
        return fr_fail(st, FR_FATAL, "%s", err);
    const char *const *ids;
    size_t published = partfile_committed_ids(s->out, &ids);
    acknowledge(s, st);
    s->publish_ms = partfile_publish_estimate(s->publish_ms, now_ms() - started);
    partfile_set_min_open(s->out, PARTFILE_OPEN_PER_PUBLISH * s->publish_ms);
    s->parts++;
    fr_metric_add(st, "parts", 1);
    if (published) /* a rolling output's part is out: tests and operators follow it */
        fr_log(st, FR_LOG_DEBUG, "published a part of %zu rows", published);
    return FR_OK;
}

static fr_status begin_part(partfile_stage *s, fr_stage *st)
{
    char err[512];
    if (partfile_begin(s->out, now_ms(), err, sizeof err) ||
        s->format->begin(s->fmt, s->out, s->width, s->columns, err, sizeof err)) {
        partfile_abort(s->out);
        return fr_fail(st, FR_FATAL, "%s", err);
    }
    return FR_OK;
}

/* A row's upload time (its "uploaded_ms" attribute) may make the open
 * part due before its max_age (partfile_due). */
static void note_upload(partfile_stage *s, const fr_record *in)
{
    const char *text = s->max_age_ms ? fr_record_attr(in, "uploaded_ms") : NULL;
    char *end = NULL;
    long long uploaded = text ? strtoll(text, &end, 10) : 0;
    if (uploaded <= 0 || *end)
        return;
    partfile_note_due(s->out, partfile_row_due(now_ms(), clock_ms(CLOCK_REALTIME), uploaded,
                                               s->max_age_ms, s->publish_ms));
}

fr_status partfile_stage_process(void *state, fr_stage *st, const fr_record *in)
{
    partfile_stage *s = state;
    /* A record this output already holds: an earlier run committed it (its
     * id is in the manifest), so acknowledge it again without a second row;
     * or the open part has it, and its commit will cover it. */
    int seen = in->id && *in->id ? partfile_seen(s->out, in->id) : 0;
    if (seen) {
        if (seen == 2)
            fr_commit(st, &in->id, 1);
        fr_metric_add(st, "duplicates_skipped", 1);
        return FR_OK;
    }
    uint32_t n = 0;
    const float *f = features(s, st, in, &n);
    if (!f)
        return in->payload.kind == FR_KIND_IMAGE
                   ? fr_fail(st, FR_FATAL, "out of memory converting an image")
                   : fr_fail(st, FR_REJECT, "record %s: a %s payload has no features to write",
                             in->id, in->payload.kind == FR_KIND_BYTES ? "bytes" : "empty");
    if (s->width == 0)
        s->width = n;
    if (n != s->width || n == 0)
        return fr_fail(st, FR_REJECT, "record %s: %u features, the output has %u", in->id, n,
                       s->width);
    fr_status rc;
    if (!partfile_is_open(s->out) && (rc = begin_part(s, st)) != FR_OK)
        return rc;
    char err[512];
    if (s->format->row(s->fmt, in, f, err, sizeof err) ||
        partfile_add_id(s->out, in->id, err, sizeof err)) {
        s->format->discard(s->fmt);
        partfile_abort(s->out);
        return fr_fail(st, FR_FATAL, "%s", err);
    }
    fr_metric_add(st, "rows", 1);
    note_upload(s, in);
    if (partfile_should_roll(s->out, s->format->pending(s->fmt), now_ms()))
        return commit_part(s, st);
    return FR_OK;
}

fr_status partfile_stage_tick(void *state, fr_stage *st)
{
    partfile_stage *s = state;
    /* Rows and bytes are checked as records come; only time passes idle. */
    if (!partfile_is_open(s->out))
        return FR_OK;
    int64_t due = partfile_due(s->out), now = now_ms();
    if (due > now && due - now <= PARTFILE_TICK_MS && !fr_stopping(st)) {
        /* Due before the next tick would come: publish on time, not up to
         * a tick late.  Records arriving meanwhile wait at most this. */
        struct timespec at = {.tv_sec = due / 1000, .tv_nsec = due % 1000 * 1000000};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR)
            ;
        now = due;
    }
    return due <= now ? commit_part(s, st) : FR_OK;
}

fr_status partfile_stage_flush(void *state, fr_stage *st)
{
    partfile_stage *s = state;
    fr_status rc = FR_OK;
    /* An output without any row is still written, as an empty table with
     * its header or schema: a reader then learns the run produced nothing.
     * Its width is the input type's, or 1 when that is not fixed.  Not when
     * earlier parts exist (append-parts): they already say what it is. */
    if (!partfile_is_open(s->out) && s->parts == 0 && partfile_part_count(s->out) == 0) {
        if (s->width == 0)
            s->width = 1;
        if ((rc = begin_part(s, st)) != FR_OK)
            return rc;
    }
    if (partfile_is_open(s->out))
        rc = commit_part(s, st);
    char err[512];
    if (rc == FR_OK && partfile_publish(s->out, err, sizeof err))
        rc = fr_fail(st, FR_FATAL, "%s", err);
    if (rc == FR_OK)
        acknowledge(s, st);
    fr_report(st, "parts", partfile_parts_json(s->out));
    return rc;
}

void partfile_stage_fini(void *state, fr_stage *st)
{
    partfile_stage *s = state;
    if (!s)
        return;
    if (s->out && partfile_is_open(s->out))
        s->format->discard(s->fmt);
    partfile_free(s->out);
    s->format->free(s->fmt);
    free(s->scratch);
    free(s);
}
