/*
 * flowrun/plugin.h — the stage plugin ABI.
 *
 * A plugin is a shared object that exports exactly one symbol,
 * FR_PLUGIN_SYMBOL ("flowrun_plugin"): a const fr_plugin descriptor built with
 * designated initializers and FR_PLUGIN_HEADER:
 *
 *     FR_PLUGIN_EXPORT const fr_plugin flowrun_plugin = {
 *         FR_PLUGIN_HEADER,
 *         .name = "resize-224",
 *         .summary = "Resize images, Pillow-exact",
 *         .input = "image/u8[h,w,3]",
 *         .output = "image/u8[${height},${width},3]",
 *         .params = resize_params,
 *         .init = resize_init, .process = resize_process, .fini = resize_fini,
 *     };
 *
 * Versioning (SQLite-style, append-only): FR_ABI_MAJOR changes only when an
 * existing field or call changes meaning; then every plugin must be rebuilt.
 * FR_ABI_MINOR grows when fields are appended to fr_plugin or fr_host_api.
 * The engine loads a plugin whose major equals its own and whose minor is not
 * newer, and reads only the first .size bytes of its descriptor.
 *
 * Growth rule (one): new fields and calls are APPENDED at the end of
 * fr_plugin and fr_host_api, each minor's in one block marked with its
 * version.  A descriptor's .size must equal sizeof(fr_plugin) of the minor it
 * claims (the loader keeps a table of sizes per minor); fields past it read
 * as zero.  fr_plugin's reserved[] is ABI 1.0 padding, always zero, and is
 * never reused.  The host API's .size is the engine's sizeof(fr_host_api);
 * a plugin may call what its own minor declares, since the engine is never
 * older than the plugin.
 *
 * Lifecycle of one stage instance, all calls on that instance's own thread:
 *     init → (process | produce)* → flush → fini
 * A stage with `replicas: N` has N instances, each with its own state; they
 * share nothing unless the plugin makes them (then it locks).
 */
#ifndef FLOWRUN_PLUGIN_H
#define FLOWRUN_PLUGIN_H

#include <math.h> /* HUGE_VAL, for FR_NO_MIN and FR_NO_MAX */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FR_ABI_MAJOR     1
#define FR_ABI_MINOR     2
#define FR_PLUGIN_SYMBOL "flowrun_plugin"

#if defined(__GNUC__)
#define FR_PLUGIN_EXPORT __attribute__((visibility("default")))
#define FR_PRINTF(f, a)  __attribute__((format(printf, f, a)))
#else
#define FR_PLUGIN_EXPORT
#define FR_PRINTF(f, a)
#endif

/* fr_param bounds (ABI 1.1): a side left open, e.g. `.min = 1, .max = FR_NO_MAX`
 * for "at least 1".  Infinities, so an engine of ABI 1.0 checks them right too. */
#define FR_NO_MIN (-HUGE_VAL)
#define FR_NO_MAX HUGE_VAL

/* What a callback tells the engine. */
typedef enum fr_status {
    FR_OK = 0,
    /* Transient failure (network, throttling): the engine calls process
     * again with the same record after a backoff, up to the stage's
     * `retries`, then dead-letters it with the last reason. */
    FR_RETRY = 1,
    /* Permanent failure of this record (corrupt input, wrong shape): the
     * record goes to the dead-letter output with the reason. */
    FR_REJECT = 2,
    /* The stage cannot go on (disk full, lost model): the run stops with an
     * error.  Records in flight are not marked done, so a rerun redoes them. */
    FR_FATAL = 3,
    /* produce(): the source has emitted everything. */
    FR_DONE = 4,
    /* The run is stopping (signal or another stage's error): fr_emit() and
     * fr_idle() return it; pass it up at once. */
    FR_STOP = 5,
} fr_status;

typedef enum fr_log_level {
    FR_LOG_ERROR = 0,
    FR_LOG_WARN = 1,
    FR_LOG_INFO = 2,
    FR_LOG_DEBUG = 3,
} fr_log_level;

/* ---- configuration schema ---------------------------------------------- */

typedef enum fr_param_type {
    FR_PARAM_STRING = 1,
    FR_PARAM_PATH = 2,     /* a string naming a file, directory or URL */
    FR_PARAM_INT = 3,      /* int64 */
    FR_PARAM_FLOAT = 4,    /* double */
    FR_PARAM_BOOL = 5,     /* true/false/yes/no/on/off */
    FR_PARAM_ENUM = 6,     /* one of .choices */
    FR_PARAM_SIZE = 7,     /* bytes: 4096, 64KiB, 64MiB, 1GB, ... */
    FR_PARAM_DURATION = 8, /* milliseconds: 250ms, 30s, 5m, 1h; plain number = seconds */
    /* ABI 1.1 */
    /* A path to a file the stage reads (a model, a table).  `flowrun
     * validate` and `run` check that it exists, is not a directory and is
     * readable, before any data moves.  .choices may hold one condition
     * "key=value" (e.g. "fit=none"): only when that key has that value is the
     * file read (otherwise the stage writes it), and checked.  "" and URLs
     * ("scheme://...") are not checked. */
    FR_PARAM_INPUT_FILE = 9,
} fr_param_type;

/* One key a stage accepts.  A table of these ends with an entry whose key is
 * NULL.  The engine validates the YAML against the table (types, bounds,
 * choices, unknown keys), applies defaults, and renders `flowrun describe`
 * from it, so the plugin never parses YAML. */
typedef struct fr_param {
    const char *key;
    fr_param_type type;
    /* Default, written as it would be in the YAML.  NULL: the key is
     * required.  "": optional with no value (fr_config_string returns ""). */
    const char *default_value;
    /* Inclusive bounds for INT/FLOAT/SIZE/DURATION (in the type's unit).
     * FR_NO_MIN / FR_NO_MAX leave a side open.  min == max == 0 also means
     * unbounded (ABI 1.0's spelling, kept for the plugins that use it). */
    double min, max;
    /* ENUM: the accepted values separated by '|', e.g. "nearest|bilinear". */
    const char *choices;
    const char *description; /* one line, for `flowrun describe` */
} fr_param;

/* ---- the host: what the engine offers a plugin ------------------------- */

/* How a run starts (ABI 1.1, fr_run_kind_of()). */
typedef enum fr_run_kind {
    FR_RUN_FRESH = 0,       /* from nothing: --fresh, no ledger, or after a completed run
                             * whose sinks overwrite; outputs are replaced */
    FR_RUN_RESUME = 1,      /* continues an interrupted run: keep what it committed */
    FR_RUN_INCREMENTAL = 2, /* after a completed run, append-parts sinks: add to it */
} fr_run_kind;

/* What the ledger knows of a source key (ABI 1.1, fr_key_state()).  A
 * source emits the key when the state is below FR_KEY_DONE. */
typedef enum fr_key_state {
    FR_KEY_NEW = 0,     /* never seen (or a new full run) */
    FR_KEY_CHANGED = 1, /* seen with another version: read again */
    FR_KEY_REDO = 2,    /* in flight when a run stopped, or dead with --retry-dead */
    FR_KEY_DONE = 3,    /* every sink committed it: skip */
    FR_KEY_DEAD = 4,    /* dead-lettered (reason in the ledger): skip */
    FR_KEY_HELD = 5,    /* held in checkpoints of blocking stages: skip */
    FR_KEY_SENT = 6,    /* already emitted by this run (a source that lists again): skip */
} fr_key_state;

/* One stage instance as the engine sees it.  Opaque; valid from init to fini. */
typedef struct fr_stage fr_stage;

typedef struct fr_host_api {
    uint32_t size; /* sizeof(fr_host_api) of the engine: calls are appended */

    /* Configuration after defaults and ${ENV} substitution.  Strings are
     * owned by the engine and valid until fini.  Asking for a key that is
     * not in the plugin's table is a programming error (logged, returns
     * ""/0).  INT, SIZE (bytes) and DURATION (ms) come from config_int. */
    const char *(*config_string)(fr_stage *st, const char *key);
    int64_t (*config_int)(fr_stage *st, const char *key);
    double (*config_double)(fr_stage *st, const char *key);
    int (*config_bool)(fr_stage *st, const char *key);

    /* Identity.  Strings owned by the engine, valid until fini. */
    const char *(*stage_name)(fr_stage *st);
    const char *(*pipeline_name)(fr_stage *st);
    uint32_t (*instance)(fr_stage *st); /* 0 .. replicas-1 */
    uint32_t (*replicas)(fr_stage *st);
    /* The resolved type of the upstream port (e.g. "image/u8[224,224,3]"),
     * or NULL for a source.  Owned by the engine. */
    const char *(*input_type)(fr_stage *st);
    /* Narrows the declared output type once init knows it (a model's
     * feature size).  Called only from init; the engine re-checks the
     * downstream edges.  type is copied.  Returns FR_OK or FR_FATAL with
     * the reason already reported. */
    fr_status (*set_output_type)(fr_stage *st, const char *type);

    /* Logging, scoped to the stage instance ("[resize#1] ..."). */
    void (*vlog)(fr_stage *st, fr_log_level level, const char *fmt, va_list ap);
    /* Records the reason for the status being returned from the current
     * callback (REJECT/RETRY reason in the dead letter, FATAL message), and
     * returns status, so: `return fr_fail(st, FR_REJECT, "truncated: %s", k)`. */
    fr_status (*vfail)(fr_stage *st, fr_status status, const char *fmt, va_list ap);

    /* Buffers: size bytes, 64-byte aligned, from a pool.  On success *data
     * points at them and the caller owns one reference, which it gives away
     * with fr_emit() or drops with fr_buffer_unref().  NULL when out of
     * memory.  ref/unref may be called from any thread. */
    fr_buffer *(*buffer_new)(fr_stage *st, size_t size, void **data);
    fr_buffer *(*buffer_ref)(fr_buffer *buf);
    void (*buffer_unref)(fr_buffer *buf);

    /* Sends a record downstream.  rec and its strings are borrowed (copied
     * before return); rec->payload.buffer, if not NULL, is transferred.
     * Blocks while downstream is full (backpressure).  Returns FR_OK, or
     * FR_STOP when the run is stopping (the buffer is released either way). */
    fr_status (*emit)(fr_stage *st, const fr_record *rec);

    /* Dead-letters a record other than the one being processed (a batching
     * stage failing one of the records it holds).  Borrowed, copied. */
    void (*reject)(fr_stage *st, const fr_record *rec, const char *reason);

    /* Keeps a record beyond the call: a deep copy owned by the caller, with
     * its own reference to the payload buffer (no pixel copy).  Free with
     * record_free.  NULL when out of memory. */
    fr_record *(*record_keep)(fr_stage *st, const fr_record *rec);
    void (*record_free)(fr_stage *st, fr_record *rec);

    /* Sinks: these record ids are durably written (file renamed, upload
     * completed).  The engine routes them back to their source.  ids are
     * borrowed.  A dead letter counts as committed by the engine itself. */
    void (*commit)(fr_stage *st, const char *const *ids, size_t n);

    /* Sources: nonzero once the run is stopping; return from produce. */
    int (*stopping)(fr_stage *st);
    /* Sources: waits up to timeout_ms for commits (delivered through
     * on_commit) or a stop.  Returns FR_OK or FR_STOP. */
    fr_status (*idle)(fr_stage *st, int64_t timeout_ms);
    /* Sources: how many records this instance will emit in all, if known
     * (for the ETA in the progress line). */
    void (*set_total)(fr_stage *st, uint64_t total);

    /* Metrics: adds value to the stage's counter name (created at first
     * use; shown in the run summary and the metrics endpoint).  name may
     * end in labels, `base{key="value",...}` (up to 4; \" and \\ escaped in
     * a value): the endpoint shows every such counter of one base in one
     * family, flowrun_plugin_<base>_total{stage,plugin,node,key="value"}
     * (docs/operations.md); the run summary shows name as it is.  Copied. */
    void (*metric_add)(fr_stage *st, const char *name, double value);
    /* Adds "name": json to the stage's section of the run summary (e.g. a
     * PCA's explained variance).  json must be a valid JSON value; copied. */
    void (*report)(fr_stage *st, const char *name, const char *json);

    /* ---- ABI 1.1: durable runs (the ledger, checkpoints) ----------------
     * The engine keeps a ledger of source keys per pipeline (docs/durable-
     * runs.md).  A source asks it which listed keys to read and lets the
     * engine stamp their ids; a blocking stage keeps what it accumulated in
     * its state directory and declares the ids it holds there. */

    /* A directory private to this stage instance
     * (<state>/stages/<stage>/<instance>), created by the engine before
     * init, kept across reruns of the same run, emptied by the engine when
     * a new full run starts (--fresh, or a rerun after a completed run with
     * overwrite-mode sinks).  Owned by the engine, valid until fini. */
    const char *(*state_dir)(fr_stage *st);
    /* Blocking stages: these input record ids are durably held in
     * state_dir (the stage fsync'd them before the call).  On a rerun the
     * source does not emit such a key again when every sink path below the
     * source is committed or passes through a stage that checkpointed it;
     * the stage reloads it at init and emits its output at flush.  The
     * ledger's write is batched, so after a kill a key may still arrive
     * again: a stage skips input ids it already holds.  ids borrowed. */
    void (*checkpoint)(fr_stage *st, const char *const *ids, size_t n);
    /* Sources: what the ledger knows of key (the object's name in the
     * source) at version (its content identity: an ETag or version id,
     * "<size>-<mtime ns>" for a local file; "" when there is none).  Emit
     * the key when the answer is below FR_KEY_DONE, skip it otherwise.
     * Cheapest when asked in ascending bytewise key order (a sorted merge
     * with the ledger); any order works.  key and version borrowed. */
    fr_key_state (*key_state)(fr_stage *st, const char *key, const char *version);
    /* Sources: emits rec as emit() does, with its id stamped by the engine
     * from the stage, rec->key and version (rec->id is ignored), and the
     * key recorded in flight in the ledger. */
    fr_status (*emit_key)(fr_stage *st, const fr_record *rec, const char *version);
    /* Sources: dead-letters a listed key that cannot be read (gone, no
     * access), its id stamped as by emit_key.  rec and reason borrowed. */
    void (*reject_key)(fr_stage *st, const fr_record *rec, const char *version, const char *reason);
    /* The file named by config key `key` is read by this stage and its
     * results depend on its content (a model): the engine adds the file's
     * content hash to the run's fingerprint, so a rerun with another file
     * refuses to resume.  Call from init.  Returns FR_OK, or FR_FATAL with
     * the reason set (the file cannot be read). */
    fr_status (*fingerprint_file)(fr_stage *st, const char *key);
    /* How this run relates to the output already there (sinks decide from
     * it whether what the last run committed stays): a fresh run replaces
     * it, a resumed or incremental one keeps it and adds to it. */
    fr_run_kind (*run_kind)(fr_stage *st);

    /* ---- ABI 1.1: configuration ------------------------------------------ */
    /* ENUM keys: the index of the configured value in the param's choices
     * (choices "nearest|bilinear|bicubic", value bilinear: 1), so a plugin
     * compares numbers, not strings.  -1 for an optional ENUM left empty;
     * a key that is not an ENUM of the plugin's table is a programming error
     * (logged, returns -1). */
    int (*config_enum)(fr_stage *st, const char *key);

    /* ---- ABI 1.2 -----------------------------------------------------------
     * Configuration errors found at init.  init: the value of config key `key` is wrong in a way
     * the schema cannot tell (a model file that is not a model, a model whose input does not fit
     * the graph).  Records the reason as vfail does and returns FR_FATAL; the engine reports
     * "file:line:col: stage "x": key "y": reason" at the key's place in the pipeline file (the
     * stage's place when the key is not in the file, or key is NULL: the stage as a whole) and the
     * run exits 2, a configuration error, as `validate` would. */
    fr_status (*vconfig_error)(fr_stage *st, const char *key, const char *fmt, va_list ap);

    /* Continuous sources (docs/plugins.md "Watching"). */
    /* Sources: this source never ends on its own (it watches its store).
     * Call from init.  The run's first SIGTERM or SIGINT then ends the
     * input instead of stopping the run: produce() is not called again,
     * what was emitted is processed and committed, and the run exits as a
     * completed one (0, or 1 with dead letters); a second signal stops it
     * at once (exit 4).  A split run (--node) stops at the first signal. */
    void (*set_continuous)(fr_stage *st);
    /* Sources: as idle(), and returns FR_OK as soon as fd is readable (an
     * eventfd or pipe that another thread of the plugin writes to; -1 for
     * none; the engine does not read it) or the input is ending (above).
     * FR_OK or FR_STOP. */
    fr_status (*wait)(fr_stage *st, int fd, int64_t timeout_ms);
    /* Sources: waits until everything this run handed to the ledger so far
     * (the keys emitted with emit_key) is written in it: from then on a
     * crash cannot lose it and key_state() answers FR_KEY_SENT for it.  0,
     * or -1 when the ledger cannot be written (the run is stopping).  No
     * ledger (--no-ledger, a node of a split run): 0 at once. */
    int (*ledger_sync)(fr_stage *st);

    /* Operations (docs/operations.md).  Metrics: sets the stage's gauge name to value (created at
     * first use), a level that goes up and down (a buffer's fill, a model's batch size), as
     * fr_metric_add keeps a counter.  The run's /metrics shows it as
     * flowrun_plugin_<name>{stage,plugin,node} (docs/operations.md), the sum
     * over the stage's instances in this process; the run summary shows it
     * with the counters.  name: [a-zA-Z0-9_] (others show as '_'), with
     * labels as fr_metric_add's; copied. */
    void (*gauge_set)(fr_stage *st, const char *name, double value);
} fr_host_api;

/* Every fr_stage starts with the pointer to its host API, so the inline
 * wrappers below need no linking against libflowrun. */
struct fr_stage_head {
    const fr_host_api *api;
};
#define FR_API(st) (((const struct fr_stage_head *)(const void *)(st))->api)

/* ---- the descriptor: what a plugin offers the engine ------------------- */

typedef struct fr_plugin {
    uint32_t abi_major;
    uint32_t abi_minor;
    uint32_t size;  /* sizeof(fr_plugin) in the headers the plugin was built with */
    uint32_t flags; /* reserved, 0 */

    const char *name;    /* "jpeg-decode": [a-z0-9-], matches the .so name */
    const char *summary; /* one line */
    const char *version; /* the plugin's own version, free form */

    /* Port types, checked on every edge before data moves:
     *   bytes/<media>        bytes/jpeg, or bytes with media "*" for any
     *   image/u8[h,w,c]      dims are numbers or names; a name matches any
     *   tensor/f32[n]        size and binds it, so "tensor/f32[n]" in and out
     *   *                    anything (debug sinks)
     * A dim may be ${key}, replaced by the stage's config value.
     * input NULL: a source; output NULL: a sink. */
    const char *input;
    const char *output;
    const fr_param *params; /* NULL-key terminated; may be NULL */

    /* Creates the instance state.  Return FR_OK, or FR_FATAL via fr_fail()
     * with a message naming what is wrong (the engine prefixes the stage). */
    fr_status (*init)(fr_stage *st, void **state);
    /* Transforms and sinks: one record in.  in is borrowed for the call.
     * Emit zero or more records; return OK, RETRY, REJECT, FATAL or STOP. */
    fr_status (*process)(void *state, fr_stage *st, const fr_record *in);
    /* Sources: emit some records and return FR_OK to be called again, or
     * FR_DONE at the end, FR_STOP when fr_emit said so, FR_FATAL. */
    fr_status (*produce)(void *state, fr_stage *st);
    /* End of stream: every upstream instance has finished.  Emit what is
     * held (the tail batch), sinks commit their last file.  May be NULL. */
    fr_status (*flush)(void *state, fr_stage *st);
    /* Frees the state.  Called once after a successful init, whatever
     * happened since, including after a stop.  May be NULL. */
    void (*fini)(void *state, fr_stage *st);
    /* Sources: these ids (from this instance) are done: every sink has
     * committed them, or they were dead-lettered.  ids borrowed.  May be NULL. */
    void (*on_commit)(void *state, fr_stage *st, const char *const *ids, size_t n);

    /* ABI 1.0 padding: always zero, never used.  Fields are appended after
     * it (see "Growth rule" at the top). */
    void *reserved[8];

    /* ABI 1.2 */
    /* Transforms and sinks: called on the instance's thread when no record
     * arrived for a while (about every 100 ms while the input is idle), so
     * a sink can publish a part whose max_age passed while nothing comes
     * (a continuous run between uploads).  OK, or FATAL.  May be NULL. */
    fr_status (*tick)(void *state, fr_stage *st);
} fr_plugin;

#define FR_PLUGIN_HEADER                                                                           \
    .abi_major = FR_ABI_MAJOR, .abi_minor = FR_ABI_MINOR, .size = sizeof(fr_plugin)

/* ---- convenience wrappers ----------------------------------------------- */

static inline const char *fr_config_string(fr_stage *st, const char *key)
{
    return FR_API(st)->config_string(st, key);
}
static inline int64_t fr_config_int(fr_stage *st, const char *key)
{
    return FR_API(st)->config_int(st, key);
}
static inline double fr_config_double(fr_stage *st, const char *key)
{
    return FR_API(st)->config_double(st, key);
}
static inline int fr_config_bool(fr_stage *st, const char *key)
{
    return FR_API(st)->config_bool(st, key);
}
static inline const char *fr_stage_name(fr_stage *st)
{
    return FR_API(st)->stage_name(st);
}
static inline const char *fr_pipeline_name(fr_stage *st)
{
    return FR_API(st)->pipeline_name(st);
}
static inline uint32_t fr_instance(fr_stage *st)
{
    return FR_API(st)->instance(st);
}
static inline uint32_t fr_replicas(fr_stage *st)
{
    return FR_API(st)->replicas(st);
}
static inline const char *fr_input_type(fr_stage *st)
{
    return FR_API(st)->input_type(st);
}
static inline fr_status fr_set_output_type(fr_stage *st, const char *type)
{
    return FR_API(st)->set_output_type(st, type);
}

static inline FR_PRINTF(3, 4) void fr_log(fr_stage *st, fr_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    FR_API(st)->vlog(st, level, fmt, ap);
    va_end(ap);
}
static inline FR_PRINTF(3, 4) fr_status
    fr_fail(fr_stage *st, fr_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fr_status s = FR_API(st)->vfail(st, status, fmt, ap);
    va_end(ap);
    return s;
}

static inline fr_buffer *fr_buffer_new(fr_stage *st, size_t size, void **data)
{
    return FR_API(st)->buffer_new(st, size, data);
}
static inline fr_buffer *fr_buffer_ref(fr_stage *st, fr_buffer *buf)
{
    return FR_API(st)->buffer_ref(buf);
}
static inline void fr_buffer_unref(fr_stage *st, fr_buffer *buf)
{
    FR_API(st)->buffer_unref(buf);
}
static inline fr_status fr_emit(fr_stage *st, const fr_record *rec)
{
    return FR_API(st)->emit(st, rec);
}
static inline void fr_reject(fr_stage *st, const fr_record *rec, const char *reason)
{
    FR_API(st)->reject(st, rec, reason);
}
static inline fr_record *fr_record_keep(fr_stage *st, const fr_record *rec)
{
    return FR_API(st)->record_keep(st, rec);
}
static inline void fr_record_free(fr_stage *st, fr_record *rec)
{
    FR_API(st)->record_free(st, rec);
}
static inline void fr_commit(fr_stage *st, const char *const *ids, size_t n)
{
    FR_API(st)->commit(st, ids, n);
}
static inline int fr_stopping(fr_stage *st)
{
    return FR_API(st)->stopping(st);
}
static inline fr_status fr_idle(fr_stage *st, int64_t timeout_ms)
{
    return FR_API(st)->idle(st, timeout_ms);
}
static inline void fr_set_total(fr_stage *st, uint64_t total)
{
    FR_API(st)->set_total(st, total);
}
static inline void fr_metric_add(fr_stage *st, const char *name, double value)
{
    FR_API(st)->metric_add(st, name, value);
}
static inline void fr_report(fr_stage *st, const char *name, const char *json)
{
    FR_API(st)->report(st, name, json);
}

/* ABI 1.1: durable runs. */
static inline const char *fr_state_dir(fr_stage *st)
{
    return FR_API(st)->state_dir(st);
}
static inline void fr_checkpoint(fr_stage *st, const char *const *ids, size_t n)
{
    FR_API(st)->checkpoint(st, ids, n);
}
static inline fr_key_state fr_key_state_of(fr_stage *st, const char *key, const char *version)
{
    return FR_API(st)->key_state(st, key, version);
}
static inline fr_status fr_emit_key(fr_stage *st, const fr_record *rec, const char *version)
{
    return FR_API(st)->emit_key(st, rec, version);
}
static inline void fr_reject_key(fr_stage *st, const fr_record *rec, const char *version,
                                 const char *reason)
{
    FR_API(st)->reject_key(st, rec, version, reason);
}
static inline fr_status fr_fingerprint_file(fr_stage *st, const char *key)
{
    return FR_API(st)->fingerprint_file(st, key);
}
static inline fr_run_kind fr_run_kind_of(fr_stage *st)
{
    return FR_API(st)->run_kind(st);
}

/* ABI 1.1: configuration. */
static inline int fr_config_enum(fr_stage *st, const char *key)
{
    return FR_API(st)->config_enum(st, key);
}

/* From init: `return fr_config_error(st, "model", "%s: not an ONNX file", path);`
 * (ABI 1.2). */
static inline FR_PRINTF(3, 4) fr_status
    fr_config_error(fr_stage *st, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fr_status s = FR_API(st)->vconfig_error(st, key, fmt, ap);
    va_end(ap);
    return s;
}

/* ABI 1.2: continuous sources. */
static inline void fr_set_continuous(fr_stage *st)
{
    FR_API(st)->set_continuous(st);
}
static inline fr_status fr_wait(fr_stage *st, int fd, int64_t timeout_ms)
{
    return FR_API(st)->wait(st, fd, timeout_ms);
}
static inline int fr_ledger_sync(fr_stage *st)
{
    return FR_API(st)->ledger_sync(st);
}

/* ABI 1.2: operations. */
static inline void fr_gauge_set(fr_stage *st, const char *name, double value)
{
    FR_API(st)->gauge_set(st, name, value);
}

/* Allocates a payload for a record to emit: the buffer and its shape in one
 * call.  Returns FR_OK; FR_FATAL with the reason set when rank is above
 * FR_MAX_RANK (a bug in the plugin) or memory is out; FR_REJECT with the
 * reason when the dims' product overflows size_t (a shape no record can
 * have, e.g. read from a corrupt header).  *p is all zero unless FR_OK. */
static inline fr_status fr_payload_alloc(fr_stage *st, fr_payload *p, fr_kind kind, uint32_t rank,
                                         const uint32_t *dims)
{
    size_t n = kind == FR_KIND_TENSOR ? sizeof(float) : 1;
    *p = (fr_payload){.kind = FR_KIND_NONE};
    if (rank > FR_MAX_RANK)
        return fr_fail(st, FR_FATAL, "payload rank %u is above FR_MAX_RANK (%d)", (unsigned)rank,
                       FR_MAX_RANK);
    for (uint32_t i = 0; i < rank; i++) {
        if (dims[i] && n > SIZE_MAX / dims[i])
            return fr_fail(st, FR_REJECT, "payload of %u dims overflows size_t at dim %u (%u)",
                           (unsigned)rank, (unsigned)i, (unsigned)dims[i]);
        n *= dims[i];
    }
    *p = (fr_payload){.kind = kind, .rank = rank};
    for (uint32_t i = 0; i < rank; i++)
        p->dims[i] = dims[i];
    p->size = n;
    p->buffer = fr_buffer_new(st, n, &p->data);
    if (!p->buffer)
        return fr_fail(st, FR_FATAL, "out of memory allocating %zu bytes", n);
    return FR_OK;
}

#ifdef __cplusplus
}
#endif
#endif /* FLOWRUN_PLUGIN_H */
