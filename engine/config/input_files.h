/*
 * input_files.h — the files a pipeline's stages will read (keys of type
 * FR_PARAM_INPUT_FILE), checked before any data moves: a missing model is
 * reported by `flowrun validate` and `run --dry-run`, not when the run is
 * already under way.
 */
#ifndef FLOWRUN_INPUT_FILES_H
#define FLOWRUN_INPUT_FILES_H

#include "diag.h"
#include "graph.h"

/* Checks every INPUT_FILE key of the stages this host runs: all of them when
 * node is NULL, else those placed on node.  A key whose condition
 * ("key=value" in the param's .choices) does not hold, an empty value and a
 * URL ("scheme://...") are skipped.  Each file that does not exist, is a
 * directory or cannot be read is reported to d as
 * `file:line:col: stage "x": key "y": cannot read "path": reason`.
 * Returns the number of problems reported. */
size_t input_files_check(const graph *g, const char *node, diag *d);

/* 1 when the stage reads the file of INPUT_FILE param p (its condition
 * holds in config); the ledger fingerprints that file's content. */
int input_file_is_read(const fr_param *p, const schema_values *config);

#endif
