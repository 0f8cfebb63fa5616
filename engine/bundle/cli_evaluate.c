/*
 * cli_evaluate.c — `flowrun evaluate BUNDLE DIR`: classifies every labelled
 * photo under DIR (the label is the parent folder, as the sources read it)
 * through the bundle's stages and writes accuracy, per-class precision and
 * recall, the confusion matrix (CSV) and a picture of it (PNG, gnuplot).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cli.h"
#include "cli_chain.h"
#include "fswalk.h"
#include "runtime.h"

static const char evaluate_usage[] =
    "usage: flowrun evaluate [options] BUNDLE DIR\n"
    "\n"
    "Classifies every .jpg under DIR (e.g. the Test split; the label of a photo\n"
    "is its parent folder's name) with the bundle, and writes into the output\n"
    "folder: metrics.json (accuracy, per-class precision, recall and support),\n"
    "confusion.csv (rows: true class, columns: predicted) and confusion.png.\n"
    "The metrics are also added to the bundle's manifest as \"test\".\n"
    "\n"
    "options:\n"
    "  --out DIR          output folder (default BUNDLE/evaluation)\n"
    "  --batch N          photos per network run (default 8)\n" CHAIN_OPTIONS_HELP
    "  -h, --help         this help\n";

#define EVALUATE_MAX_BYTES ((size_t)256 << 20)

typedef struct evaluation {
    size_t n_classes;
    size_t *confusion; /* owned, n_classes^2: [true][predicted] */
    size_t refused, unknown;
} evaluation;

static long class_index(const chain *c, const char *name)
{
    for (size_t i = 0; i < chain_classes(c); i++)
        if (strcmp(chain_class(c, i), name) == 0)
            return (long)i;
    return -1;
}

/* One batch of photos (paths relative to root). */
static int evaluate_batch(chain *c, const char *root, char **rel, size_t n, float *prob,
                          evaluation *ev)
{
    chain_photo in[64] = {0};
    chain_answer out[64];
    char paths[64][4200], labels[64][512], err[512];
    void *data[64] = {0};
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/%s", root, rel[i]);
        size_t size;
        if (chain_read_file(paths[i], EVALUATE_MAX_BYTES, &data[m], &size, err, sizeof err) < 0) {
            cli_say(FR_LOG_WARN, "evaluate", "%s", err);
            ev->refused++;
            continue;
        }
        in[m] = (chain_photo){.data = data[m], .size = size, .name = paths[i]};
        out[m] = (chain_answer){.prob = prob + m * ev->n_classes};
        fswalk_parent_name(rel[i], labels[m], sizeof labels[m]);
        m++;
    }
    int rc = chain_classify(c, in, m, out);
    for (size_t i = 0; i < m; i++) {
        free(data[i]);
        long truth = class_index(c, labels[i]);
        uint32_t best;
        if (out[i].status != CHAIN_OK) {
            cli_say(FR_LOG_WARN, "evaluate", "%s", out[i].error);
            ev->refused++;
        } else if (truth < 0) {
            ev->unknown++;
        } else {
            chain_top(out[i].prob, ev->n_classes, 1, &best);
            ev->confusion[(size_t)truth * ev->n_classes + best]++;
        }
    }
    return rc;
}

/* metrics.json's text (malloc'd). */
static char *evaluate_json(const chain *c, const evaluation *ev)
{
    size_t n = ev->n_classes, right = 0, total = 0;
    for (size_t t = 0; t < n; t++)
        for (size_t p = 0; p < n; p++) {
            total += ev->confusion[t * n + p];
            right += t == p ? ev->confusion[t * n + p] : 0;
        }
    json_t *classes = json_array();
    for (size_t k = 0; k < n; k++) {
        size_t tp = ev->confusion[k * n + k], predicted = 0, support = 0;
        for (size_t i = 0; i < n; i++) {
            predicted += ev->confusion[i * n + k];
            support += ev->confusion[k * n + i];
        }
        const char *label = chain_class(c, k);
        json_array_append_new(
            classes, json_pack("{s:o, s:f, s:f, s:I}", "label", json_stringn(label, strlen(label)),
                               "precision", predicted ? (double)tp / (double)predicted : 0.0,
                               "recall", support ? (double)tp / (double)support : 0.0, "support",
                               (json_int_t)support));
    }
    json_t *o =
        json_pack("{s:I, s:f, s:I, s:I, s:o}", "photos", (json_int_t)total, "accuracy",
                  total ? (double)right / (double)total : 0.0, "refused", (json_int_t)ev->refused,
                  "unknown_label", (json_int_t)ev->unknown, "classes", classes);
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(9)) : NULL;
    json_decref(o);
    return text;
}

static int write_text(const char *path, const char *text, char *err, size_t err_size)
{
    FILE *f = fopen(path, "w");
    int written = f && fputs(text, f) >= 0;
    /* fclose once, whatever happened: a second fclose after a failed one is undefined. */
    if (!f || fclose(f) != 0 || !written) {
        snprintf(err, err_size, "%.900s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* confusion.csv, and the gnuplot picture of it. */
static int evaluate_confusion(const chain *c, const evaluation *ev, const char *out, char *err,
                              size_t err_size)
{
    char path[4200], png[4200], script[4200];
    size_t n = ev->n_classes;
    snprintf(path, sizeof path, "%s/confusion.csv", out);
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, err_size, "%.900s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "true\\predicted");
    for (size_t p = 0; p < n; p++)
        fprintf(f, ",\"%s\"", chain_class(c, p));
    for (size_t t = 0; t < n; t++) {
        fprintf(f, "\n\"%s\"", chain_class(c, t));
        for (size_t p = 0; p < n; p++)
            fprintf(f, ",%zu", ev->confusion[t * n + p]);
    }
    fprintf(f, "\n");
    if (fclose(f) != 0) {
        snprintf(err, err_size, "%.900s: %s", path, strerror(errno));
        return -1;
    }
    snprintf(png, sizeof png, "%s/confusion.png", out);
    snprintf(script, sizeof script, "%s/confusion.gnuplot", out);
    f = fopen(script, "w");
    if (!f) {
        snprintf(err, err_size, "%.900s: %s", script, strerror(errno));
        return -1;
    }
    int px = 360 + (int)n * 28;
    fprintf(f,
            "set terminal pngcairo size %d,%d font 'sans,9'\nset output '%s'\n"
            "set datafile separator ','\nset title 'Confusion matrix (rows: true class, columns: "
            "predicted)'\nset xtics rotate by 60 right\nset yrange [%zu-0.5:-0.5]\n"
            "set xrange [-0.5:%zu-0.5]\nset palette defined (0 'white', 1 '#3060c0')\n"
            "set xlabel 'predicted'\nset ylabel 'true'\nset size ratio -1\n"
            "plot '%s' matrix rowheaders columnheaders with image notitle, \\\n"
            "     '' matrix rowheaders columnheaders using 1:2:($3 > 0 ? sprintf('%%d', $3) : '') "
            "with labels notitle\n",
            px, px, png, n, n, path);
    fclose(f);
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "gnuplot '%s' 2>&1", script);
    int status = system(cmd);
    if (status != 0) {
        snprintf(err, err_size, "gnuplot %.900s failed (status %d): is gnuplot installed?", script,
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return -1;
    }
    return 0;
}

typedef struct evaluate_args {
    const char *bundle, *dir, *onnx;
    char out[4096];
    chain_options chain;
} evaluate_args;

static int evaluate_parse(int argc, char **argv, evaluate_args *a)
{
    *a = (evaluate_args){.chain = {.batch = 8, .max_pixels = 50000000}};
    const char *out = NULL;
    int n = 0;
    for (int i = 1; i < argc; i++) { /* options before or after BUNDLE DIR */
        if (argv[i][0] != '-') {
            if (n == 2) {
                cli_usage_error(evaluate_usage);
                return -1;
            }
            *(n++ ? &a->dir : &a->bundle) = argv[i];
            continue;
        }
        int r = chain_option(argc, argv, &i, &a->chain, &a->onnx);
        if (r < 0)
            return -1;
        if (r == 0 && strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (r == 0) {
            cli_say(FR_LOG_ERROR, "evaluate", "unknown or incomplete option '%s'", argv[i]);
            return -1;
        }
    }
    if (n != 2) {
        cli_usage_error(evaluate_usage);
        return -1;
    }
    if (out)
        snprintf(a->out, sizeof a->out, "%s", out);
    else
        snprintf(a->out, sizeof a->out, "%s/evaluation", a->bundle);
    return 0;
}

static int evaluate_run(const evaluate_args *a, chain *c, const fswalk_list *files, char *err,
                        size_t err_size)
{
    evaluation ev = {.n_classes = chain_classes(c)};
    ev.confusion = calloc(ev.n_classes * ev.n_classes, sizeof *ev.confusion);
    float *prob = malloc((size_t)a->chain.batch * ev.n_classes * sizeof *prob);
    int rc = ev.confusion && prob ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < files->n; i += (size_t)a->chain.batch) {
        size_t m = files->n - i < (size_t)a->chain.batch ? files->n - i : (size_t)a->chain.batch;
        rc = evaluate_batch(c, a->dir, files->paths + i, m, prob, &ev);
    }
    char *json = rc == 0 ? evaluate_json(c, &ev) : NULL;
    char path[4200];
    snprintf(path, sizeof path, "%s/metrics.json", a->out);
    if (rc < 0 || !json)
        snprintf(err, err_size, "evaluation failed (see above)");
    else if (write_text(path, json, err, err_size) == 0 &&
             evaluate_confusion(c, &ev, a->out, err, err_size) == 0 &&
             bundle_add_metrics(a->bundle, "test", json, err, err_size) == 0)
        printf("%s\nwritten: %s, %s/confusion.csv, %s/confusion.png\n", json, path, a->out, a->out);
    else
        rc = -1;
    free(json);
    free(prob);
    free(ev.confusion);
    return rc;
}

int cli_evaluate(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, evaluate_usage))
        return EXIT_DELIVERED;
    evaluate_args a;
    if (evaluate_parse(argc, argv, &a) < 0)
        return EXIT_USAGE;
    char err[1024];
    bundle b;
    fswalk_list files = {0};
    if (cli_mkdirs(a.out) != 0) {
        cli_say(FR_LOG_ERROR, "evaluate", "creating %s: %s", a.out, strerror(errno));
        return EXIT_USAGE;
    }
    if (fswalk(a.dir, ".jpg", &files, err, sizeof err) < 0 ||
        bundle_open(&b, a.bundle, a.onnx, err, sizeof err) < 0) {
        cli_say(FR_LOG_ERROR, "evaluate", "%s", err);
        fswalk_free(&files);
        return EXIT_USAGE;
    }
    chain *c = chain_new(&b, &a.chain, err, sizeof err);
    bundle_free(&b);
    int code = EXIT_USAGE;
    if (c)
        code = evaluate_run(&a, c, &files, err, sizeof err) == 0 ? EXIT_DELIVERED : EXIT_FAILED;
    if (code != EXIT_DELIVERED)
        cli_say(FR_LOG_ERROR, "evaluate", "%s", err);
    chain_free(c);
    fswalk_free(&files);
    return code;
}
