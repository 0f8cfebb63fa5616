/*
 * dir-source — reads every file under a local directory as one record:
 * key = the path relative to the directory, label = the parent folder's
 * name (Fruits-360's Training/<class>/<n>.jpg layout), payload = the bytes.
 * Files come in bytewise-sorted order, so runs are reproducible.  The SDK
 * source base (plugins/lib/source) does the work: replicas' split, the
 * ledger (a rerun skips files done by an earlier run; a file rewritten
 * since is read again), ids stamped by the engine.
 */
#include <stdlib.h>

#include "flowrun/plugin.h"
#include "source.h"

static const fr_param dir_source_params[] = {
    {"path", FR_PARAM_PATH, NULL, 0, 0, NULL, "directory to read (recursively)"},
    {"suffix", FR_PARAM_STRING, "", 0, 0, NULL,
     "only files whose name ends with this, e.g. .jpg (default: every file)"},
    {"limit", FR_PARAM_INT, "0", 0, FR_NO_MAX, NULL, "read at most this many files (0: all)"},
    {"max_object_size", FR_PARAM_SIZE, "256MiB", 1, 1099511627776.0, NULL,
     "a file larger than this is dead-lettered, not read into memory"},
    SOURCE_WATCH_PARAMS,
    {0},
};

static fr_status dir_init(fr_stage *st, void **state)
{
    char err[4200];
    source_local *l =
        source_local_open(st, fr_config_string(st, "path"), fr_config_string(st, "suffix"),
                          (uint64_t)fr_config_int(st, "limit"), "*",
                          (size_t)fr_config_int(st, "max_object_size"), err, sizeof err);
    if (!l) /* NULL when the run stops during the listing, too */
        return fr_stopping(st) ? FR_STOP : fr_fail(st, FR_FATAL, "cannot list %s", err);
    *state = l;
    return FR_OK;
}

static fr_status dir_produce(void *state, fr_stage *st)
{
    (void)st;
    return source_local_produce(state);
}

static void dir_fini(void *state, fr_stage *st)
{
    (void)st;
    source_local_free(state);
}

FR_PLUGIN_EXPORT const fr_plugin flowrun_plugin = {
    FR_PLUGIN_HEADER,
    .name = "dir-source",
    .summary = "Read every file under a local directory; label = parent folder name",
    .version = "1.1",
    .output = "bytes/*",
    .params = dir_source_params,
    .init = dir_init,
    .produce = dir_produce,
    .fini = dir_fini,
};
