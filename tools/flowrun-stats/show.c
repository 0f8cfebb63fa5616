/*
 * show.c — `flowrun-stats show [--json] FILE...`: what each model file holds.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "tool.h"

/* Components whose explained variance ratio the text output lists. */
#define SHOW_FIRST 5

static const char show_usage[] =
    "Usage: flowrun-stats show [--json] FILE...\n"
    "\n"
    "For each statistics file written by online-scaler or incremental-pca: its\n"
    "columns, rows, model version, whether it holds a PCA, and if so the number of\n"
    "components and the explained variance ratio of the first ones with their\n"
    "cumulative sum (variance over the trace of the covariance).\n"
    "\n"
    "  --json      one JSON object per file and line instead, with the ratio and\n"
    "              cumulative sum of every component\n"
    "  -h, --help  this help\n";

/* s (borrowed) as a JSON string. */
static void show_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

/* Explained variance ratio of component j. */
static double show_ratio(const stats_pca *p, uint32_t j)
{
    return p->total_variance > 0 ? p->variance[j] / p->total_variance : 0;
}

/* The ratio of the first n components (n <= k), or their cumulative sums, as a JSON array. */
static void show_json_ratios(const stats_pca *p, uint32_t n, int cumulative)
{
    double sum = 0;
    putchar('[');
    for (uint32_t j = 0; j < n; j++) {
        double r = show_ratio(p, j);
        sum += r;
        printf("%s%.17g", j ? "," : "", cumulative ? sum : r);
    }
    putchar(']');
}

static void show_json(const fstats_file *f)
{
    fputs("{\"path\":", stdout);
    show_json_string(f->path);
    printf(",\"columns\":%u,\"rows\":%llu,\"model_version\":%llu,\"cross_product\":%s",
           stats_moments_dim(f->m), (unsigned long long)stats_moments_count(f->m),
           (unsigned long long)f->version, stats_moments_has_cross(f->m) ? "true" : "false");
    printf(",\"pca\":%s,\"components\":%u", f->pca.k ? "true" : "false", f->pca.k);
    if (f->pca.k) {
        printf(",\"total_variance\":%.17g,\"explained_variance_ratio\":", f->pca.total_variance);
        show_json_ratios(&f->pca, f->pca.k, 0);
        fputs(",\"cumulative_explained_variance_ratio\":", stdout);
        show_json_ratios(&f->pca, f->pca.k, 1);
    }
    puts("}");
}

static void show_text(const fstats_file *f)
{
    printf("%s\n  columns        %u\n  rows           %llu\n  model version  %llu\n", f->path,
           stats_moments_dim(f->m), (unsigned long long)stats_moments_count(f->m),
           (unsigned long long)f->version);
    printf("  holds          %s\n", fstats_file_kind(f));
    if (!f->pca.k)
        return;
    uint32_t n = f->pca.k < SHOW_FIRST ? f->pca.k : SHOW_FIRST;
    printf("  components     %u\n  explained variance ratio (first %u of %u):\n", f->pca.k, n,
           f->pca.k);
    double sum = 0;
    for (uint32_t j = 0; j < n; j++) {
        double r = show_ratio(&f->pca, j);
        sum += r;
        printf("    component %-4u %.6f  cumulative %.6f\n", j + 1, r, sum);
    }
}

/* Shows every file, going on past one that fails to load. */
static int show_files(int json, int n, char **paths)
{
    int rc = FSTATS_OK;
    for (int i = 0; i < n; i++) {
        fstats_file f = {0};
        if (fstats_file_load(&f, paths[i]) < 0) {
            rc = FSTATS_FILE_ERROR;
            continue;
        }
        if (json)
            show_json(&f);
        else
            show_text(&f);
        fstats_file_clear(&f);
    }
    return rc;
}

int fstats_show(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int json = 0, c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(show_usage, stdout);
            return FSTATS_OK;
        }
        if (c != 'j')
            return fstats_usage_error("show", "unknown option", argv[optind - 1]);
        json = 1;
    }
    if (optind >= argc)
        return fstats_usage_error("show", "no FILE given", NULL);
    return show_files(json, argc - optind, argv + optind);
}
