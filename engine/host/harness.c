/*
 * harness.c — libflowrun-harness: one plugin instance driven by a test on
 * the caller's thread (include/flowrun/harness.h).  It goes through the
 * same loader, schema checks and host API as a pipeline run; only the
 * backend differs: what the plugin emits, rejects and commits is kept here
 * for the test to look at instead of being sent downstream.
 */
#include "flowrun/harness.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buffer.h"
#include "diag.h"
#include "loader.h"
#include "port_type.h"
#include "record_copy.h"
#include "schema.h"
#include "stage.h"
#include "state_dir.h"

typedef struct string_list {
    char **items; /* owned */
    size_t n;
} string_list;

typedef struct record_list {
    fr_record **items;
    char **notes; /* reason per record (rejected) or NULL */
    size_t n;
} record_list;

struct fr_harness {
    loader *loader;
    const loader_plugin *plugin;
    schema_entry *entries;
    size_t n_entries;
    schema_values *config;
    fr_stage stage;
    int set_up;
    record_list outputs;
    record_list rejected;
    char **commits;
    size_t n_commits;
    /* durable runs (ABI 1.1) */
    char *state_dir;      /* owned */
    int state_dir_temp;   /* made by the harness: removed at free */
    string_list held;     /* fr_checkpoint ids */
    string_list ledger;   /* fr_harness_set_key_state: key, version, state as "%d" triples */
    string_list hashes;   /* fr_fingerprint_file: key, hash pairs */
    fr_run_kind run_kind; /* fr_harness_set_run_kind */
};

static int list_push(record_list *list, fr_record *rec, char *note)
{
    fr_record **items = realloc(list->items, (list->n + 1) * sizeof *items);
    if (items)
        list->items = items;
    char **notes = realloc(list->notes, (list->n + 1) * sizeof *notes);
    if (notes)
        list->notes = notes;
    if (!rec || !items || !notes) {
        record_destroy(rec);
        free(note);
        return -1;
    }
    list->items[list->n] = rec;
    list->notes[list->n] = note;
    list->n++;
    return 0;
}

static void list_clear(record_list *list)
{
    for (size_t i = 0; i < list->n; i++) {
        record_destroy(list->items[i]);
        free(list->notes[i]);
    }
    free(list->items);
    free(list->notes);
    *list = (record_list){0};
}

static int strings_push(string_list *list, const char *text)
{
    char **grown = realloc(list->items, (list->n + 1) * sizeof *grown);
    if (!grown)
        return -1;
    list->items = grown;
    if (!(list->items[list->n] = strdup(text)))
        return -1;
    list->n++;
    return 0;
}

static void strings_clear(string_list *list)
{
    for (size_t i = 0; i < list->n; i++)
        free(list->items[i]);
    free(list->items);
    *list = (string_list){0};
}

/* ---- backend: keep everything for the test ---------------------------- */

static fr_status keep_emit(void *ctx, fr_stage *st, const fr_record *rec)
{
    fr_harness *h = ctx;
    if (list_push(&h->outputs, record_clone(rec, rec->payload.buffer), NULL) != 0)
        return fr_fail(st, FR_FATAL, "harness: out of memory");
    return FR_OK;
}

static void keep_reject(void *ctx, fr_stage *st, const fr_record *rec, const char *reason)
{
    fr_harness *h = ctx;
    (void)st;
    list_push(&h->rejected, record_clone(rec, buffer_ref(rec->payload.buffer)),
              strdup(reason ? reason : ""));
}

static void keep_commit(void *ctx, fr_stage *st, const char *const *ids, size_t n)
{
    fr_harness *h = ctx;
    (void)st;
    char **grown = realloc(h->commits, (h->n_commits + n) * sizeof *grown);
    if (!grown)
        return;
    h->commits = grown;
    for (size_t i = 0; i < n; i++)
        if ((h->commits[h->n_commits] = strdup(ids[i])))
            h->n_commits++;
}

static int never_stopping(void *ctx, fr_stage *st)
{
    (void)ctx;
    (void)st;
    return 0;
}

static fr_status idle_returns(void *ctx, fr_stage *st, int64_t timeout_ms)
{
    (void)ctx;
    (void)st;
    (void)timeout_ms;
    return FR_OK;
}

static void keep_checkpoint(void *ctx, fr_stage *st, const char *const *ids, size_t n)
{
    fr_harness *h = ctx;
    (void)st;
    for (size_t i = 0; i < n; i++)
        strings_push(&h->held, ids[i]);
}

/* What the test said of key (fr_harness_set_key_state), else NEW. */
static fr_key_state preset_key_state(void *ctx, fr_stage *st, const char *key, const char *version)
{
    fr_harness *h = ctx;
    (void)st;
    for (size_t i = h->ledger.n; i >= 3; i -= 3) /* the latest setting wins */
        if (strcmp(h->ledger.items[i - 3], key) == 0)
            return strcmp(h->ledger.items[i - 2], version) == 0
                       ? (fr_key_state)atoi(h->ledger.items[i - 1])
                       : FR_KEY_CHANGED;
    return FR_KEY_NEW;
}

static void key_sent_noop(void *ctx, fr_stage *st, const char *key, const char *version)
{
    (void)ctx, (void)st, (void)key, (void)version; /* the id is in the output */
}

static void keep_fingerprint(void *ctx, fr_stage *st, const char *key, const char *hash)
{
    fr_harness *h = ctx;
    (void)st;
    strings_push(&h->hashes, key);
    strings_push(&h->hashes, hash);
}

static fr_run_kind harness_run_kind(void *ctx, fr_stage *st)
{
    (void)st;
    return ((fr_harness *)ctx)->run_kind;
}

static const stage_backend keep_backend = {
    .emit = keep_emit,
    .reject = keep_reject,
    .commit = keep_commit,
    .stopping = never_stopping,
    .idle = idle_returns,
    .checkpoint = keep_checkpoint,
    .key_state = preset_key_state,
    .key_sent = key_sent_noop,
    .fingerprint = keep_fingerprint,
    .run_kind = harness_run_kind,
};

/* ---- set-up ----------------------------------------------------------- */

static int read_config(fr_harness *h, const char *const *config)
{
    size_t n = 0;
    while (config && config[2 * n])
        n++;
    h->entries = calloc(n ? n : 1, sizeof *h->entries);
    if (!h->entries)
        return -1;
    for (size_t i = 0; i < n; i++) {
        h->entries[i].key = strdup(config[2 * i]);
        h->entries[i].value = strdup(config[2 * i + 1] ? config[2 * i + 1] : "");
        h->n_entries++;
        if (!h->entries[i].key || !h->entries[i].value)
            return -1;
    }
    return 0;
}

static const char *config_lookup(void *ctx, const char *key)
{
    return schema_string(ctx, key, NULL);
}

static int expand_type(const char *pattern, const schema_values *config, char *out, size_t size,
                       char *err, size_t err_size)
{
    if (!pattern) {
        out[0] = '\0';
        return 0;
    }
    return port_type_expand(pattern, config_lookup, (void *)config, out, size, err, err_size);
}

static char *fail_message(const char *text)
{
    return strdup(text && *text ? text : "out of memory");
}

fr_harness *fr_harness_new(const char *plugin, const char *const *config, char **err)
{
    char why[1024] = "";
    char in_type[STAGE_TYPE_MAX], out_type[STAGE_TYPE_MAX];
    fr_harness *h = calloc(1, sizeof *h);
    diag *d = diag_new();
    if (!h || !d || !(h->loader = loader_new()) || read_config(h, config) != 0)
        goto fail;
    if (!(h->plugin = loader_get(h->loader, plugin, why, sizeof why)))
        goto fail;
    schema_origin origin = {.plugin = h->plugin->desc.name};
    static const fr_param no_params[] = {{0}};
    const fr_param *params = h->plugin->desc.params ? h->plugin->desc.params : no_params;
    if (!(h->config = schema_apply(params, h->entries, h->n_entries, &origin, d))) {
        char *text = diag_join(d);
        snprintf(why, sizeof why, "%s", text ? text : "");
        free(text);
        goto fail;
    }
    if (expand_type(h->plugin->desc.input, h->config, in_type, sizeof in_type, why, sizeof why) ||
        expand_type(h->plugin->desc.output, h->config, out_type, sizeof out_type, why, sizeof why))
        goto fail;
    stage_setup(&h->stage, h->plugin, h->plugin->desc.name, "harness", 0, 1, h->config,
                h->plugin->desc.input ? in_type : NULL, h->plugin->desc.output ? out_type : NULL,
                &keep_backend, h);
    h->set_up = 1;
    diag_free(d);
    return h;
fail:
    if (err)
        *err = fail_message(why);
    diag_free(d);
    fr_harness_free(h);
    return NULL;
}

void fr_harness_set_input_type(fr_harness *h, const char *type)
{
    snprintf(h->stage.input_type, sizeof h->stage.input_type, "%s", type);
}

void fr_harness_set_state_dir(fr_harness *h, const char *dir)
{
    free(h->state_dir);
    h->state_dir = strdup(dir);
    h->state_dir_temp = 0;
}

/* The state directory the stage sees: the test's, or a new temporary one. */
static fr_status prepare_state_dir(fr_harness *h)
{
    if (!h->state_dir) {
        const char *tmp = getenv("TMPDIR");
        char path[4096];
        snprintf(path, sizeof path, "%s/flowrun-harness-state-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(path) || !(h->state_dir = strdup(path)))
            return fr_fail(&h->stage, FR_FATAL, "harness: cannot make a state directory in %s: %s",
                           tmp && *tmp ? tmp : "/tmp", strerror(errno));
        h->state_dir_temp = 1;
    } else if (state_dir_make(h->state_dir) != 0) {
        return fr_fail(&h->stage, FR_FATAL, "harness: cannot make the state directory %s: %s",
                       h->state_dir, strerror(errno));
    }
    h->stage.state_dir = h->state_dir;
    return FR_OK;
}

fr_status fr_harness_start(fr_harness *h)
{
    fr_status s = prepare_state_dir(h);
    return s == FR_OK ? stage_init(&h->stage) : s;
}

void fr_harness_set_key_state(fr_harness *h, const char *key, const char *version,
                              fr_key_state state)
{
    char number[16];
    snprintf(number, sizeof number, "%d", (int)state);
    strings_push(&h->ledger, key);
    strings_push(&h->ledger, version ? version : "");
    strings_push(&h->ledger, number);
}

void fr_harness_set_run_kind(fr_harness *h, fr_run_kind kind)
{
    h->run_kind = kind;
}

const char *fr_harness_state_dir(const fr_harness *h)
{
    return h->state_dir;
}

size_t fr_harness_checkpoint_count(const fr_harness *h)
{
    return h->held.n;
}

const char *fr_harness_checkpoint(const fr_harness *h, size_t i)
{
    return i < h->held.n ? h->held.items[i] : NULL;
}

const char *fr_harness_fingerprint(const fr_harness *h, const char *key)
{
    for (size_t i = 0; i + 1 < h->hashes.n; i += 2)
        if (strcmp(h->hashes.items[i], key) == 0)
            return h->hashes.items[i + 1];
    return NULL;
}

fr_status fr_harness_push(fr_harness *h, const fr_record *rec)
{
    fr_record in = *rec;
    fr_buffer *copy = NULL;
    if (!in.payload.buffer && in.payload.kind != FR_KIND_NONE) {
        void *data;
        if (!(copy = buffer_new(in.payload.size, &data)))
            return FR_FATAL;
        if (in.payload.size)
            memcpy(data, rec->payload.data, in.payload.size);
        in.payload.data = data;
        in.payload.buffer = copy;
    }
    fr_status s = stage_process(&h->stage, &in);
    buffer_unref(copy);
    return s;
}

fr_status fr_harness_produce(fr_harness *h)
{
    fr_status s;
    while ((s = stage_produce(&h->stage)) == FR_OK)
        ;
    return s;
}

void fr_harness_deliver_commits(fr_harness *h, const char *const *ids, size_t n)
{
    stage_deliver_commits(&h->stage, ids, n);
}

fr_status fr_harness_flush(fr_harness *h)
{
    return stage_flush(&h->stage);
}

const char *fr_harness_reason(const fr_harness *h)
{
    return stage_reason(&h->stage);
}

size_t fr_harness_output_count(const fr_harness *h)
{
    return h->outputs.n;
}

const fr_record *fr_harness_output(const fr_harness *h, size_t i)
{
    return i < h->outputs.n ? h->outputs.items[i] : NULL;
}

void fr_harness_clear_outputs(fr_harness *h)
{
    list_clear(&h->outputs);
}

const char *fr_harness_output_type(const fr_harness *h)
{
    return h->stage.output_type;
}

size_t fr_harness_rejected_count(const fr_harness *h)
{
    return h->rejected.n;
}

const fr_record *fr_harness_rejected(const fr_harness *h, size_t i)
{
    return i < h->rejected.n ? h->rejected.items[i] : NULL;
}

const char *fr_harness_rejected_reason(const fr_harness *h, size_t i)
{
    return i < h->rejected.n ? h->rejected.notes[i] : NULL;
}

size_t fr_harness_commit_count(const fr_harness *h)
{
    return h->n_commits;
}

const char *fr_harness_commit(const fr_harness *h, size_t i)
{
    return i < h->n_commits ? h->commits[i] : NULL;
}

uint64_t fr_harness_total(const fr_harness *h)
{
    return h->stage.total;
}

double fr_harness_metric(const fr_harness *h, const char *name)
{
    return stage_metric_value((fr_stage *)&h->stage, name);
}

const char *fr_harness_report(const fr_harness *h, const char *name)
{
    return stage_report_json((fr_stage *)&h->stage, name);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

void fr_harness_free(fr_harness *h)
{
    if (!h)
        return;
    if (h->set_up) {
        stage_fini(&h->stage);
        stage_cleanup(&h->stage);
    }
    list_clear(&h->outputs);
    list_clear(&h->rejected);
    for (size_t i = 0; i < h->n_commits; i++)
        free(h->commits[i]);
    free(h->commits);
    if (h->state_dir && h->state_dir_temp)
        nftw(h->state_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(h->state_dir);
    strings_clear(&h->held);
    strings_clear(&h->ledger);
    strings_clear(&h->hashes);
    schema_values_free(h->config);
    for (size_t i = 0; i < h->n_entries; i++) {
        free(h->entries[i].key);
        free(h->entries[i].value);
    }
    free(h->entries);
    loader_free(h->loader);
    free(h);
}
