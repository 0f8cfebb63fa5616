/*
 * logreg-train — a sink that trains a logistic-regression classifier on
 * the labelled feature rows it receives (liblinear, plugins/lib/classifier)
 * and writes the model file.
 *
 * Like fit: batch of online-scaler/incremental-pca, it fits once on all
 * rows at the end of the stream; the rows' ids are committed only once the
 * model file is written, so a rerun after a crash trains on every row
 * again.  The record's label is the class; a row without one is rejected.
 * Training accuracy goes into the model file's metrics and the run
 * summary ("training").
 */
#include <flowrun/plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "class_weight.h"
#include "classifier.h"
#include "rows.h"

typedef struct train_state {
    rows rows;
} train_state;

static const fr_param train_params[] = {
    {"model", FR_PARAM_PATH, NULL, 0, 0, NULL,
     "the model file to write (JSON: classes, liblinear weights, metrics)"},
    {"c", FR_PARAM_FLOAT, "1.0", 1e-12, 1e12, NULL,
     "inverse regularisation strength, as scikit-learn's C: smaller is stronger"},
    {"class_weight", FR_PARAM_STRING, "", 0, 0, NULL,
     "per-class multipliers of C: \"\" (all 1), \"balanced\" (n / (classes x count), as "
     "scikit-learn), or \"NAME=W,NAME=W\" (others 1)"},
    {"bias", FR_PARAM_FLOAT, "1.0", -1, 1e6, NULL,
     "value of liblinear's constant bias feature (its weight is the intercept, regularised "
     "with the others); negative: no intercept"},
    {"eps", FR_PARAM_FLOAT, "1e-6", 1e-12, 1, NULL,
     "liblinear's stopping tolerance (scikit-learn's tol, whose default 1e-4 leaves probabilities "
     "~1e-2 from the optimum)"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static fr_status train_init(fr_stage *st, void **state)
{
    /* One model from all the rows: replicas would each fit a part and
     * overwrite one another's file. */
    if (fr_replicas(st) > 1)
        return fr_config_error(st, "replicas", "%u: one model is trained from every row; use 1",
                               fr_replicas(st));
    train_state *s = calloc(1, sizeof *s);
    if (!s)
        return fr_fail(st, FR_FATAL, "out of memory");
    *state = s;
    return FR_OK;
}

static fr_status train_process(void *state, fr_stage *st, const fr_record *in)
{
    train_state *s = state;
    const fr_payload *p = &in->payload;
    if (p->kind != FR_KIND_TENSOR || p->rank != 1 || !p->data || p->dims[0] == 0 ||
        p->size != (size_t)p->dims[0] * sizeof(float) || (s->rows.dim && p->dims[0] != s->rows.dim))
        return fr_fail(st, FR_REJECT, "expected a tensor/f32[%u] payload, got kind %d, rank %u",
                       s->rows.dim, (int)p->kind, p->rank);
    if (!in->label || !in->label[0])
        return fr_fail(st, FR_REJECT, "%s: no label: a training row needs its class", in->key);
    s->rows.dim = p->dims[0];
    if (rows_add(&s->rows, p->data, in->label, in->id) < 0)
        return fr_fail(st, FR_FATAL, "out of memory holding %zu rows", s->rows.n);
    return FR_OK;
}

/* Training accuracy, into the model's metrics and the run summary. */
static int train_metrics(clf_model *m, const rows *r, fr_stage *st, char *err, size_t err_size)
{
    double *prob = malloc(clf_classes(m) * sizeof *prob);
    if (!prob) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    size_t right = 0;
    for (size_t i = 0; i < r->n; i++) {
        uint32_t top;
        clf_predict(m, r->values + i * r->dim, prob);
        clf_top(prob, clf_classes(m), 1, &top);
        right += top == r->classes[i];
    }
    free(prob);
    char training[160], metrics[192];
    snprintf(training, sizeof training, "{\"rows\": %zu, \"classes\": %u, \"accuracy\": %.6f}",
             r->n, clf_classes(m), (double)right / (double)r->n);
    snprintf(metrics, sizeof metrics, "{\"training\": %s}", training);
    fr_report(st, "training", training);
    return clf_set_metrics(m, metrics, err, err_size);
}

static fr_status train_flush(void *state, fr_stage *st)
{
    train_state *s = state;
    rows *r = &s->rows;
    char err[512] = "";
    if (r->n == 0)
        return fr_fail(st, FR_FATAL, "no training rows reached the stage");
    rows_sort_classes(r);
    double *weight = malloc(r->n_names * sizeof *weight);
    const char *spec = fr_config_string(st, "class_weight");
    if (!weight || class_weight_parse(spec, r, weight, err, sizeof err) < 0) {
        free(weight);
        return fr_fail(st, FR_FATAL, "%s", weight ? err : "out of memory");
    }
    clf_options o = {.C = fr_config_double(st, "c"),
                     .eps = fr_config_double(st, "eps"),
                     .bias = fr_config_double(st, "bias"),
                     .class_weight = spec[0] ? weight : NULL};
    clf_data d = {.rows = r->values,
                  .classes = r->classes,
                  .n = r->n,
                  .dim = r->dim,
                  .names = (const char *const *)r->names,
                  .n_classes = r->n_names};
    const char *path = fr_config_string(st, "model");
    clf_model *m = clf_train(&d, &o, err, sizeof err);
    free(weight);
    int ok = m && train_metrics(m, r, st, err, sizeof err) == 0 &&
             clf_save(m, path, err, sizeof err) == 0;
    clf_free(m);
    if (!ok)
        return fr_fail(st, FR_FATAL, "%s", err);
    fr_log(st, FR_LOG_INFO, "trained on %zu rows of %u classes: %s", r->n, r->n_names, path);
    fr_commit(st, (const char *const *)r->ids, r->n);
    return FR_OK;
}

static void train_fini(void *state, fr_stage *st)
{
    (void)st;
    train_state *s = state;
    rows_free(&s->rows);
    free(s);
}

FR_PLUGIN_EXPORT const fr_plugin flowrun_plugin = {
    FR_PLUGIN_HEADER,
    .name = "logreg-train",
    .summary = "Train a logistic-regression classifier (liblinear) on labelled feature rows and "
               "write its model file",
    .version = "1",
    .input = "tensor/f32[n]",
    .output = NULL,
    .params = train_params,
    .init = train_init,
    .process = train_process,
    .flush = train_flush,
    .fini = train_fini,
};
