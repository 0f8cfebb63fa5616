/*
 * stats_file.c — one model file loaded for the subcommands, and their usage
 * errors.
 */
#include <stdio.h>
#include <string.h>

#include "tool.h"

int fstats_file_load(fstats_file *f, const char *path)
{
    char err[1024] = "";
    f->path = path;
    if (stats_load(path, &f->m, &f->pca, &f->version, err, sizeof err) < 0) {
        fprintf(stderr, "flowrun-stats: %s\n", err);
        return -1;
    }
    return 0;
}

void fstats_file_clear(fstats_file *f)
{
    stats_moments_free(f->m);
    stats_pca_clear(&f->pca);
    *f = (fstats_file){0};
}

const char *fstats_file_kind(const fstats_file *f)
{
    if (f->pca.k)
        return "a PCA (incremental-pca)";
    return stats_moments_has_cross(f->m) ? "a cross-product without PCA"
                                         : "column statistics only (online-scaler)";
}

int fstats_usage_error(const char *cmd, const char *msg, const char *arg)
{
    fprintf(stderr, "flowrun-stats%s%s: %s%s%s\nTry 'flowrun-stats%s%s --help'.\n", cmd ? " " : "",
            cmd ? cmd : "", msg, arg ? ": " : "", arg ? arg : "", cmd ? " " : "", cmd ? cmd : "");
    return FSTATS_USAGE;
}
