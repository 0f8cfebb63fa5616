/*
 * merge.c — `flowrun-stats merge -o OUT [--components K] IN...`: one model
 * file of the rows of all inputs.  The moments merge exactly (up to double
 * rounding), so the result is what one run over all rows would have saved,
 * except for the sign of each PCA component (see merge_usage).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char merge_usage[] =
    "Usage: flowrun-stats merge -o OUT [--components K] IN...\n"
    "\n"
    "Merges the statistics of two or more files saved by the same stage on\n"
    "different shards of the data (e.g. each host with fit: batch and\n"
    "model: host-N.stats) and writes OUT, the model of all their rows, for\n"
    "fit: none + model: OUT.  Inputs must have the same columns and kind: all\n"
    "online-scaler files (column statistics) or all incremental-pca files.\n"
    "\n"
    "PCA files: the PCA is refitted on the merged statistics with K components\n"
    "(default: the inputs' number, which must then agree).  The sign of each\n"
    "merged component follows the loadings rule (its largest-magnitude loading\n"
    "is positive): scikit-learn 1.2's svd_flip, which fit: batch applies, needs\n"
    "the scores of the rows, and a merge has only their statistics.  So a merged\n"
    "PCA equals a single run's up to the sign of each component.\n"
    "\n"
    "OUT's model version is 1 + the largest input version.  OUT is written\n"
    "atomically (it may be one of the inputs).\n"
    "\n"
    "  -o, --output OUT    the merged file (required)\n"
    "  --components K      PCA files: components of the merged PCA (1..columns)\n"
    "  -h, --help          this help\n";

typedef struct merge_args {
    const char *out; /* borrowed (argv) */
    uint32_t k;      /* --components; 0: the inputs' */
    int n;           /* inputs */
    char **in;       /* borrowed (argv), n */
    int help;        /* --help was printed */
} merge_args;

static int merge_components(const char *s, uint32_t *k)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < 1 || v > 65536)
        return fstats_usage_error("merge", "--components takes a whole number from 1 to 65536", s);
    *k = (uint32_t)v;
    return FSTATS_OK;
}

/* Fills a from the command line; returns FSTATS_OK or FSTATS_USAGE. */
static int merge_parse(int argc, char **argv, merge_args *a)
{
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"components", required_argument, NULL, 'k'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(merge_usage, stdout);
            a->help = 1;
            return FSTATS_OK;
        }
        if (c == 'o')
            a->out = optarg;
        else if (c == 'k' && merge_components(optarg, &a->k) != FSTATS_OK)
            return FSTATS_USAGE;
        else if (c != 'k')
            return fstats_usage_error("merge", c == ':' ? "option needs a value" : "bad option",
                                      argv[optind - 1]);
    }
    a->n = argc - optind;
    a->in = argv + optind;
    if (!a->out)
        return fstats_usage_error("merge", "missing -o OUT", NULL);
    if (a->n < 2)
        return fstats_usage_error("merge", "needs at least 2 input files", NULL);
    return FSTATS_OK;
}

/* Whether f may be merged into acc (the first input's state).  Prints why not. */
static int merge_compatible(const fstats_file *acc, const fstats_file *f, const merge_args *a)
{
    uint32_t d = stats_moments_dim(acc->m), fd = stats_moments_dim(f->m);
    if (fd != d || stats_moments_has_cross(f->m) != stats_moments_has_cross(acc->m) ||
        !f->pca.k != !acc->pca.k) {
        fprintf(stderr,
                "flowrun-stats: %s: cannot merge %u columns holding %s into %s: %u columns "
                "holding %s\n",
                f->path, fd, fstats_file_kind(f), acc->path, d, fstats_file_kind(acc));
        return -1;
    }
    if (!a->k && f->pca.k != acc->pca.k) {
        fprintf(stderr,
                "flowrun-stats: %s: %u components, but %s: %u; choose with --components K\n",
                f->path, f->pca.k, acc->path, acc->pca.k);
        return -1;
    }
    return 0;
}

/* Loads the inputs and merges their moments into acc (cleared by the
 * caller, also on failure); *version: the largest input version. */
static int merge_inputs(const merge_args *a, fstats_file *acc, uint64_t *version)
{
    if (fstats_file_load(acc, a->in[0]) < 0)
        return -1;
    *version = acc->version;
    for (int i = 1; i < a->n; i++) {
        fstats_file f = {0};
        char err[512];
        int rc = fstats_file_load(&f, a->in[i]);
        if (rc == 0 && (rc = merge_compatible(acc, &f, a)) == 0 &&
            (rc = stats_moments_merge(acc->m, f.m, err, sizeof err)) < 0)
            fprintf(stderr, "flowrun-stats: %s: %s\n", f.path, err);
        if (rc == 0 && f.version > *version)
            *version = f.version;
        fstats_file_clear(&f);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Refits the PCA (PCA inputs) and saves the merged model as a->out. */
static int merge_write(const merge_args *a, fstats_file *acc, uint64_t version)
{
    char err[1024];
    stats_pca pca = {0};
    int rc = FSTATS_OK;
    if (acc->pca.k && stats_pca_fit(&pca, acc->m, a->k ? a->k : acc->pca.k, err, sizeof err) < 0) {
        fprintf(stderr, "flowrun-stats: %s: PCA of the merged statistics: %s\n", a->out, err);
        rc = FSTATS_FILE_ERROR;
    } else if (stats_save(a->out, acc->m, acc->pca.k ? &pca : NULL, version + 1, err, sizeof err) <
               0) {
        fprintf(stderr, "flowrun-stats: %s\n", err);
        rc = FSTATS_FILE_ERROR;
    }
    stats_pca_clear(&pca);
    return rc;
}

int fstats_merge(int argc, char **argv)
{
    merge_args a = {0};
    int rc = merge_parse(argc, argv, &a);
    if (rc != FSTATS_OK || a.help)
        return rc;
    fstats_file acc = {0};
    uint64_t version = 0;
    if (merge_inputs(&a, &acc, &version) < 0)
        rc = FSTATS_FILE_ERROR;
    else if (a.k && !acc.pca.k)
        rc = fstats_usage_error("merge", "--components: the inputs hold no PCA", acc.path);
    else
        rc = merge_write(&a, &acc, version);
    fstats_file_clear(&acc);
    return rc;
}
