/*
 * tool.h — shared by the flowrun-stats subcommands: the exit codes and one
 * loaded model file.
 */
#ifndef FLOWRUN_STATS_TOOL_H
#define FLOWRUN_STATS_TOOL_H

#include <stdint.h>

#include "stats.h"

/* Exit codes: as the flowrun CLI's, 2 is a usage error. */
enum { FSTATS_OK = 0, FSTATS_FILE_ERROR = 1, FSTATS_USAGE = 2 };

/* One model file as stats_load reads it. */
typedef struct fstats_file {
    const char *path; /* borrowed (argv) */
    stats_moments *m; /* owned until fstats_file_clear */
    stats_pca pca;    /* owned until fstats_file_clear; k 0 without a PCA */
    uint64_t version; /* the model version stamped in the file */
} fstats_file;

/* Loads path into f (which must be zeroed or cleared).  On failure prints
 * the library's message, which names the file, and returns -1. */
int fstats_file_load(fstats_file *f, const char *path);
void fstats_file_clear(fstats_file *f);
/* "PCA statistics (cross-product)" or "scaler statistics": what f holds. */
const char *fstats_file_kind(const fstats_file *f);

/* Prints "flowrun-stats CMD: <msg>" and "try --help"; returns FSTATS_USAGE. */
int fstats_usage_error(const char *cmd, const char *msg, const char *arg);

/* The subcommands: argv[0] is the subcommand's name.  Return an exit code. */
int fstats_show(int argc, char **argv);
int fstats_merge(int argc, char **argv);

#endif /* FLOWRUN_STATS_TOOL_H */
