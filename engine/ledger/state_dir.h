/*
 * state_dir.h — the files of a pipeline's state directory
 * (docs/durable-runs.md): where it is by default, making folders, emptying
 * a stage's state at a new full run.
 */
#ifndef FLOWRUN_STATE_DIR_H
#define FLOWRUN_STATE_DIR_H

#include <stddef.h>

/* The state directory: state_key when the pipeline sets `state:`, else
 * ${XDG_STATE_HOME:-$HOME/.local/state}/flowrun/<name>-<8 hex digits of the
 * pipeline file's absolute path> (two pipelines of the same name in
 * different files never share one).  0, or -1 with err. */
int state_dir_resolve(const char *state_key, const char *pipeline_file, const char *name, char *out,
                      size_t size, char *err, size_t err_size);

/* mkdir -p path (mode 0755).  0, or -1 with errno. */
int state_dir_make(const char *path);

/* Removes everything inside path (not path itself).  0, or -1 with err. */
int state_dir_empty(const char *path, char *err, size_t err_size);

#endif
