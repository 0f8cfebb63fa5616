/*
 * train.c — trains with liblinear: rows become liblinear's sparse rows
 * (every feature listed, so zeros too, plus the bias node), classes its
 * integer labels, class weights its per-label C multipliers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* liblinear prints its iterations to stdout unless told otherwise. */
static void clf_quiet(const char *s)
{
    (void)s;
}

int clf_weight_vectors(const clf_model *m)
{
    return m->lin.nr_class == 2 ? 1 : m->lin.nr_class;
}

size_t clf_weight_count(const clf_model *m)
{
    size_t n = (size_t)m->lin.nr_feature + (m->lin.bias >= 0);
    return n * (size_t)clf_weight_vectors(m);
}

clf_model *clf_alloc(const char *const *names, uint32_t n)
{
    clf_model *m = calloc(1, sizeof *m);
    if (!m || !(m->names = calloc(n, sizeof *m->names))) {
        free(m);
        return NULL;
    }
    m->lin.nr_class = (int)n;
    for (uint32_t i = 0; i < n; i++)
        if (!(m->names[i] = strdup(names[i]))) {
            clf_free(m);
            return NULL;
        }
    return m;
}

void clf_free(clf_model *m)
{
    if (!m)
        return;
    for (int i = 0; m->names && i < m->lin.nr_class; i++)
        free(m->names[i]);
    free(m->names);
    free(m->lin.w);
    free(m->lin.label);
    free(m->weight);
    free(m->metrics);
    free(m);
}

/* The problem in liblinear's form.  nodes: n x (dim + 2) owned by the
 * caller, y: n; the row pointers go into x (n). */
static void clf_problem(const clf_data *d, double bias, struct feature_node *nodes,
                        struct feature_node **x, double *y, struct problem *p)
{
    for (size_t i = 0; i < d->n; i++) {
        struct feature_node *row = nodes + i * (d->dim + 2);
        const float *v = d->rows + i * d->dim;
        uint32_t j = 0;
        for (; j < d->dim; j++)
            row[j] = (struct feature_node){.index = (int)j + 1, .value = v[j]};
        if (bias >= 0)
            row[j++] = (struct feature_node){.index = (int)d->dim + 1, .value = bias};
        row[j].index = -1;
        x[i] = row;
        y[i] = d->classes[i];
    }
    *p = (struct problem){
        .l = (int)d->n, .n = (int)d->dim + (bias >= 0), .y = y, .x = x, .bias = bias};
}

/* Copies liblinear's trained model into ours (liblinear's own is freed by
 * the caller). */
static int clf_adopt(clf_model *m, const struct model *t, const clf_options *o, uint32_t n_classes)
{
    m->lin = (struct model){.param = {.solver_type = L2R_LR, .C = o->C, .eps = o->eps},
                            .nr_class = t->nr_class,
                            .nr_feature = t->nr_feature,
                            .bias = t->bias};
    size_t nw = clf_weight_count(m);
    m->lin.w = malloc(nw * sizeof *m->lin.w);
    m->lin.label = malloc((size_t)t->nr_class * sizeof *m->lin.label);
    if (o->class_weight)
        m->weight = malloc(n_classes * sizeof *m->weight);
    if (!m->lin.w || !m->lin.label || (o->class_weight && !m->weight))
        return -1;
    memcpy(m->lin.w, t->w, nw * sizeof *m->lin.w);
    memcpy(m->lin.label, t->label, (size_t)t->nr_class * sizeof *m->lin.label);
    if (o->class_weight)
        memcpy(m->weight, o->class_weight, n_classes * sizeof *m->weight);
    m->opt = *o;
    m->opt.class_weight = m->weight;
    return 0;
}

/* liblinear's per-label weights, or none. */
static void clf_param(const clf_options *o, uint32_t n_classes, int *labels,
                      struct parameter *param)
{
    *param = (struct parameter){.solver_type = L2R_LR, .C = o->C, .eps = o->eps};
    if (!o->class_weight)
        return;
    for (uint32_t i = 0; i < n_classes; i++)
        labels[i] = (int)i;
    param->nr_weight = (int)n_classes;
    param->weight_label = labels;
    param->weight = (double *)o->class_weight;
}

/* Every class must have rows: liblinear would silently leave it out. */
static int clf_check_classes(const clf_data *d, char *err, size_t err_size)
{
    size_t *count = calloc(d->n_classes, sizeof *count);
    if (!count) {
        snprintf(err, err_size, "out of memory counting classes");
        return -1;
    }
    for (size_t i = 0; i < d->n; i++)
        count[d->classes[i]]++;
    int rc = 0;
    for (uint32_t c = 0; c < d->n_classes && rc == 0; c++)
        if (!count[c]) {
            snprintf(err, err_size, "class \"%s\" has no training rows", d->names[c]);
            rc = -1;
        }
    free(count);
    return rc;
}

clf_model *clf_train(const clf_data *d, const clf_options *o, char *err, size_t err_size)
{
    if (d->n_classes < 2 || d->n == 0 || d->dim == 0) {
        snprintf(err, err_size,
                 "training needs rows of at least two classes (got %zu rows, %u "
                 "classes)",
                 d->n, d->n_classes);
        return NULL;
    }
    if (clf_check_classes(d, err, err_size) < 0)
        return NULL;
    struct feature_node *nodes = malloc(d->n * (d->dim + 2) * sizeof *nodes);
    struct feature_node **x = malloc(d->n * sizeof *x);
    double *y = malloc(d->n * sizeof *y);
    int *labels = malloc(d->n_classes * sizeof *labels);
    clf_model *m = clf_alloc(d->names, d->n_classes);
    struct model *t = NULL;
    if (!nodes || !x || !y || !labels || !m) {
        snprintf(err, err_size, "out of memory for %zu rows of %u features", d->n, d->dim);
        goto fail;
    }
    struct problem prob;
    struct parameter param;
    clf_problem(d, o->bias, nodes, x, y, &prob);
    clf_param(o, d->n_classes, labels, &param);
    const char *why = check_parameter(&prob, &param);
    if (why) {
        snprintf(err, err_size, "liblinear: %s", why);
        goto fail;
    }
    set_print_string_function(clf_quiet);
    t = train(&prob, &param);
    if (!t || clf_adopt(m, t, o, d->n_classes) < 0) {
        snprintf(err, err_size, "liblinear: training failed (out of memory)");
        goto fail;
    }
    free_and_destroy_model(&t);
    free(labels);
    free(y);
    free(x);
    free(nodes);
    return m;
fail:
    if (t)
        free_and_destroy_model(&t);
    clf_free(m);
    free(labels);
    free(y);
    free(x);
    free(nodes);
    return NULL;
}

void clf_balanced_weights(const size_t *counts, uint32_t n_classes, double *weight)
{
    size_t n = 0;
    for (uint32_t c = 0; c < n_classes; c++)
        n += counts[c];
    for (uint32_t c = 0; c < n_classes; c++)
        weight[c] = counts[c] ? (double)n / ((double)n_classes * (double)counts[c]) : 1.0;
}
