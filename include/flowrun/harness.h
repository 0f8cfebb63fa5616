/*
 * flowrun/harness.h — test one plugin in-process, the way flowrun tests its own.
 *
 * In the spirit of GstHarness: the harness loads the plugin's .so through the
 * engine's real loader, validates the configuration against the plugin's
 * schema exactly as a pipeline file would be, then lets the test push records
 * in and inspect what came out, what was rejected and what was committed.
 * No threads or sockets: every callback runs on the caller's thread.
 *
 * Link with libflowrun-harness (pkg-config flowrun-plugin, or CMake
 * flowrun::harness).  Plugins are searched on FLOWRUN_PLUGIN_PATH, then in
 * flowrun's plugin directory.
 */
#ifndef FLOWRUN_HARNESS_H
#define FLOWRUN_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fr_harness fr_harness;

/* Loads `plugin` (a name such as "jpeg-decode", or a path to a .so) and
 * validates config: a NULL-terminated list of key, value pairs, values
 * written as YAML scalars ("bilinear", "64MiB", "true").  On failure returns
 * NULL and, if err is not NULL, sets *err to a malloc'd message (caller
 * frees) naming the plugin and key, exactly as `flowrun validate` would. */
fr_harness *fr_harness_new(const char *plugin, const char *const *config, char **err);

/* The resolved upstream type the stage sees (fr_input_type()), e.g.
 * "image/u8[100,100,3]".  Default: the plugin's declared input with names
 * left as they are.  Call before fr_harness_start.  Copied. */
void fr_harness_set_input_type(fr_harness *h, const char *type);

/* Calls init.  Returns its status; on failure fr_harness_reason() says why. */
fr_status fr_harness_start(fr_harness *h);

/* Calls process once with rec (borrowed; a payload without a buffer is
 * copied into an engine buffer first, as a received record would be).
 * Returns the plugin's status; no retry, no dead-lettering: the test sees
 * the status and fr_harness_reason(). */
fr_status fr_harness_push(fr_harness *h, const fr_record *rec);

/* Sources: calls produce until it returns something else than FR_OK and
 * returns that (FR_DONE on a clean end). */
fr_status fr_harness_produce(fr_harness *h);

/* Delivers commits to a source's on_commit, as the engine would. */
void fr_harness_deliver_commits(fr_harness *h, const char *const *ids, size_t n);

/* End of stream: calls flush. */
fr_status fr_harness_flush(fr_harness *h);

/* The reason given with the last non-OK status (fr_fail), or "". */
const char *fr_harness_reason(const fr_harness *h);

/* Records emitted so far, in order.  Owned by the harness, valid until
 * fr_harness_free or fr_harness_clear_outputs. */
size_t fr_harness_output_count(const fr_harness *h);
const fr_record *fr_harness_output(const fr_harness *h, size_t i);
void fr_harness_clear_outputs(fr_harness *h);

/* The output type the plugin set with fr_set_output_type, or its declared
 * one.  Owned by the harness. */
const char *fr_harness_output_type(const fr_harness *h);

/* Records dead-lettered with fr_reject() (not the status returned by push),
 * with their reasons.  Owned by the harness. */
size_t fr_harness_rejected_count(const fr_harness *h);
const fr_record *fr_harness_rejected(const fr_harness *h, size_t i);
const char *fr_harness_rejected_reason(const fr_harness *h, size_t i);

/* Ids committed with fr_commit(), in order.  Owned by the harness. */
size_t fr_harness_commit_count(const fr_harness *h);
const char *fr_harness_commit(const fr_harness *h, size_t i);

/* Sources: what fr_set_total() said, or 0. */
uint64_t fr_harness_total(const fr_harness *h);

/* The value of a metric counter (fr_metric_add), 0 when never added. */
double fr_harness_metric(const fr_harness *h, const char *name);
/* A report (fr_report) by name, or NULL.  Owned by the harness. */
const char *fr_harness_report(const fr_harness *h, const char *name);

/* ---- durable runs (ABI 1.1) ------------------------------------------ */

/* The directory fr_state_dir() gives the stage, made if missing and kept
 * at fr_harness_free (so a second harness on the same directory tests a
 * rerun).  Call before fr_harness_start.  Copied.  Default: a new temporary
 * directory, removed at fr_harness_free. */
void fr_harness_set_state_dir(fr_harness *h, const char *dir);
/* The stage's state directory once started, or NULL.  Owned by the harness. */
const char *fr_harness_state_dir(const fr_harness *h);

/* Sources: what fr_key_state_of() answers for key: state at this version,
 * FR_KEY_CHANGED at another; keys never set are FR_KEY_NEW.  Copied. */
void fr_harness_set_key_state(fr_harness *h, const char *key, const char *version,
                              fr_key_state state);

/* What fr_run_kind_of() answers (default FR_RUN_FRESH).  Call before
 * fr_harness_start. */
void fr_harness_set_run_kind(fr_harness *h, fr_run_kind kind);

/* Ids declared with fr_checkpoint(), in order.  Owned by the harness. */
size_t fr_harness_checkpoint_count(const fr_harness *h);
const char *fr_harness_checkpoint(const fr_harness *h, size_t i);

/* The content hash fr_fingerprint_file() took of config key `key`'s file,
 * or NULL.  Owned by the harness. */
const char *fr_harness_fingerprint(const fr_harness *h, const char *key);

/* Calls fini (if started) and frees everything, outputs included. */
void fr_harness_free(fr_harness *h);

#ifdef __cplusplus
}
#endif
#endif /* FLOWRUN_HARNESS_H */
