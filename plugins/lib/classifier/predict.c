/*
 * predict.c — class probabilities through liblinear's predict_probability,
 * so training and prediction are one library's arithmetic.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

uint32_t clf_dim(const clf_model *m)
{
    return (uint32_t)m->lin.nr_feature;
}

uint32_t clf_classes(const clf_model *m)
{
    return (uint32_t)m->lin.nr_class;
}

const char *clf_class_name(const clf_model *m, uint32_t i)
{
    return i < clf_classes(m) ? m->names[i] : "";
}

const clf_options *clf_model_options(const clf_model *m)
{
    return &m->opt;
}

/* Rows of up to this many features are converted on the stack. */
#define CLF_STACK_FEATURES 1024

void clf_predict(const clf_model *m, const float *row, double *prob)
{
    uint32_t dim = clf_dim(m), n = clf_classes(m);
    struct feature_node stack_x[CLF_STACK_FEATURES + 2];
    double stack_p[256];
    struct feature_node *x = dim <= CLF_STACK_FEATURES ? stack_x : malloc((dim + 2) * sizeof *x);
    double *p = n <= 256 ? stack_p : malloc(n * sizeof *p);
    if (!x || !p) { /* out of memory: no class is likelier than another */
        for (uint32_t c = 0; c < n; c++)
            prob[c] = 1.0 / n;
        goto done;
    }
    uint32_t j = 0;
    for (; j < dim; j++)
        x[j] = (struct feature_node){.index = (int)j + 1, .value = row[j]};
    if (m->lin.bias >= 0)
        x[j++] = (struct feature_node){.index = (int)dim + 1, .value = m->lin.bias};
    x[j].index = -1;
    predict_probability(&m->lin, x, p);
    /* p is in liblinear's label order; label[i] is our class index. */
    for (uint32_t i = 0; i < n; i++)
        prob[m->lin.label[i]] = p[i];
done:
    if (x != stack_x)
        free(x);
    if (p != stack_p)
        free(p);
}

void clf_top(const double *prob, uint32_t n, uint32_t k, uint32_t *top)
{
    /* Insertion into the sorted top list: classes come in index order, so a
     * tie keeps the lower index first. */
    uint32_t have = 0;
    for (uint32_t c = 0; c < n; c++) {
        if (have == k && !(prob[c] > prob[top[k - 1]]))
            continue;
        uint32_t at = have < k ? have++ : k - 1;
        while (at > 0 && prob[c] > prob[top[at - 1]]) {
            top[at] = top[at - 1];
            at--;
        }
        top[at] = c;
    }
}
