/*
 * flowrun-stats — inspects and merges the statistics files that the
 * online-scaler and incremental-pca stages save to their `model:` file, so
 * that hosts which each fitted their shard of the data (fit: batch) can
 * share one model of all rows (fit: none).
 */
#include <stdio.h>
#include <string.h>

#include "tool.h"

static const char usage[] =
    "Usage: flowrun-stats COMMAND [OPTIONS] FILE...\n"
    "\n"
    "Inspects and merges the model files of the online-scaler and incremental-pca\n"
    "stages (their `model:` key): count, sums and cross-product of the rows, and\n"
    "the fitted PCA.\n"
    "\n"
    "Commands:\n"
    "  show FILE...                         columns, rows, model version, PCA and\n"
    "                                       its explained variance (--json: JSON)\n"
    "  merge -o OUT [--components K] IN...  one model of the rows of all inputs,\n"
    "                                       e.g. of hosts that each fitted a shard\n"
    "\n"
    "Options: -h, --help (also after a command).\n"
    "Exit codes: 0 done, 1 a file could not be read, merged or written, 2 usage.\n";

int main(int argc, char **argv)
{
    if (argc < 2)
        return fstats_usage_error(NULL, "missing command", NULL);
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
        fputs(usage, stdout);
        return FSTATS_OK;
    }
    if (strcmp(cmd, "show") == 0)
        return fstats_show(argc - 1, argv + 1);
    if (strcmp(cmd, "merge") == 0)
        return fstats_merge(argc - 1, argv + 1);
    return fstats_usage_error(NULL, "unknown command", cmd);
}
