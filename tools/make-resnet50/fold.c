/*
 * fold.c — what torch.onnx does by default (do_constant_folding): every
 * BatchNormalization whose input is a Conv output used by nothing else is
 * merged into that Conv's weights and bias, so the folded model computes the
 * same function with fewer nodes.  Works on any graph, not only ResNet.
 */
#include "fold.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies initializer name from src into dst unless present (or not an
 * initializer).  0, or -1 when out of memory. */
static int copy_init(onnx_model *dst, const onnx_model *src, const char *name)
{
    const onnx_tensor *t = onnx_find_initializer(src, name);
    if (!t || onnx_find_initializer(dst, name))
        return 0;
    return onnx_add_initializer(dst, t->name, t->dtype, t->rank, t->dims, t->data) ? 0 : -1;
}

static int copy_attr(onnx_node *dst, const onnx_attr *a)
{
    switch (a->type) {
    case ONNX_ATTR_INT:
        return onnx_set_int(dst, a->name, a->i);
    case ONNX_ATTR_FLOAT:
        return onnx_set_float(dst, a->name, a->f);
    case ONNX_ATTR_STRING:
        return onnx_set_string(dst, a->name, a->s);
    case ONNX_ATTR_INTS:
        return onnx_set_ints(dst, a->name, a->n, a->ints);
    case ONNX_ATTR_FLOATS:
        return onnx_set_floats(dst, a->name, a->n, a->floats);
    case ONNX_ATTR_TENSOR:
        return onnx_set_tensor(dst, a->name, a->t);
    }
    return -1;
}

/* Appends a copy of node n to dst with its inputs replaced by inputs (NULL:
 * unchanged) and its first output renamed to out (NULL: unchanged). */
static int copy_node(onnx_model *dst, const onnx_node *n, size_t n_inputs,
                     const char *const *inputs, const char *out)
{
    const char *outs[8];
    if (n->n_outputs > 8)
        return -1;
    for (size_t i = 0; i < n->n_outputs; i++)
        outs[i] = i == 0 && out ? out : n->outputs[i];
    onnx_node *c =
        onnx_add_node(dst, n->op_type, n->name, inputs ? n_inputs : n->n_inputs,
                      inputs ? inputs : (const char *const *)n->inputs, n->n_outputs, outs);
    if (!c)
        return -1;
    for (size_t i = 0; i < n->n_attrs; i++)
        if (copy_attr(c, &n->attrs[i]) < 0)
            return -1;
    return 0;
}

/* The index of the only node reading tensor name, or -1 when none or several
 * do, or it is a graph output. */
static long sole_consumer(const onnx_model *m, const char *name)
{
    long found = -1;
    for (size_t o = 0; o < m->n_outputs; o++)
        if (strcmp(m->outputs[o].name, name) == 0)
            return -1;
    for (size_t i = 0; i < m->n_nodes; i++)
        for (size_t k = 0; k < m->nodes[i].n_inputs; k++)
            if (strcmp(m->nodes[i].inputs[k], name) == 0) {
                if (found >= 0)
                    return -1;
                found = (long)i;
            }
    return found;
}

/* Initializer input k of node n as float data, or NULL. */
static const float *param(const onnx_model *m, const onnx_node *n, size_t k, int64_t count)
{
    if (k >= n->n_inputs)
        return NULL;
    const onnx_tensor *t = onnx_find_initializer(m, n->inputs[k]);
    return t && t->dtype == ONNX_FLOAT && onnx_numel(t) == count ? t->data : NULL;
}

/* Emits conv merged with bn (output named as bn's).  1 when folded, 0 when
 * the pair does not fit (then nothing was emitted), -1 when out of memory. */
static int fold_pair(onnx_model *dst, const onnx_model *src, const onnx_node *conv,
                     const onnx_node *bn)
{
    const onnx_tensor *w = conv->n_inputs >= 2 ? onnx_find_initializer(src, conv->inputs[1]) : NULL;
    if (!w || w->dtype != ONNX_FLOAT || w->rank < 1 || bn->n_inputs < 5)
        return 0;
    int64_t cout = w->dims[0], per = onnx_numel(w) / cout;
    const float *gamma = param(src, bn, 1, cout), *beta = param(src, bn, 2, cout),
                *mean = param(src, bn, 3, cout), *var = param(src, bn, 4, cout);
    const float *bias =
        conv->n_inputs >= 3 && conv->inputs[2][0] ? param(src, conv, 2, cout) : NULL;
    if (!gamma || !beta || !mean || !var || (conv->n_inputs >= 3 && conv->inputs[2][0] && !bias))
        return 0;
    double eps = onnx_attr_float(bn, "epsilon", 1e-5f);
    float *fw = malloc((size_t)(cout * per) * sizeof(*fw)),
          *fb = malloc((size_t)cout * sizeof(*fb));
    int rc = -1;
    if (!fw || !fb)
        goto done;
    for (int64_t o = 0; o < cout; o++) {
        double s = gamma[o] / sqrt((double)var[o] + eps);
        for (int64_t i = 0; i < per; i++)
            fw[o * per + i] = (float)(((const float *)w->data)[o * per + i] * s);
        fb[o] = (float)(((bias ? bias[o] : 0.0) - mean[o]) * s + beta[o]);
    }
    char bias_name[256];
    snprintf(bias_name, sizeof(bias_name), "%s", bias ? conv->inputs[2] : conv->name);
    if (!bias)
        strncat(bias_name, "_bias", sizeof(bias_name) - strlen(bias_name) - 1);
    const char *inputs[3] = {conv->inputs[0], w->name, bias_name};
    if (onnx_add_initializer(dst, w->name, ONNX_FLOAT, w->rank, w->dims, fw) &&
        onnx_add_initializer(dst, bias_name, ONNX_FLOAT, 1, &cout, fb) &&
        copy_node(dst, conv, 3, inputs, bn->outputs[0]) == 0)
        rc = 1;
done:
    free(fw);
    free(fb);
    return rc;
}

static int copy_io(onnx_model *dst, const onnx_model *src)
{
    for (size_t i = 0; i < src->n_inputs; i++) {
        const onnx_tensor *t = &src->inputs[i];
        if (!onnx_add_input(dst, t->name, t->dtype, t->rank, t->dims))
            return -1;
    }
    for (size_t i = 0; i < src->n_outputs; i++) {
        const onnx_tensor *t = &src->outputs[i];
        if (!onnx_add_output(dst, t->name, t->dtype, t->rank, t->dims))
            return -1;
    }
    return 0;
}

/* Copies src's nodes into dst, folding each foldable Conv → BN pair; folded
 * BNs are marked in skip. */
static int fold_nodes(onnx_model *dst, const onnx_model *src, char *skip, char *err,
                      size_t err_size)
{
    for (size_t i = 0; i < src->n_nodes; i++) {
        const onnx_node *n = &src->nodes[i];
        if (skip[i])
            continue;
        if (strcmp(n->op_type, "Conv") == 0) {
            long c = sole_consumer(src, n->outputs[0]);
            if (c >= 0 && strcmp(src->nodes[c].op_type, "BatchNormalization") == 0) {
                int rc = fold_pair(dst, src, n, &src->nodes[c]);
                if (rc < 0)
                    goto oom;
                if (rc == 1) {
                    skip[c] = 1;
                    continue;
                }
            }
        }
        if (strcmp(n->op_type, "BatchNormalization") == 0) {
            snprintf(err, err_size, "BatchNormalization \"%s\" does not follow a Conv", n->name);
            return -1;
        }
        for (size_t k = 0; k < n->n_inputs; k++)
            if (copy_init(dst, src, n->inputs[k]) < 0)
                goto oom;
        if (copy_node(dst, n, 0, NULL, NULL) < 0)
            goto oom;
    }
    return 0;
oom:
    snprintf(err, err_size, "out of memory folding BatchNormalization");
    return -1;
}

onnx_model *fold_bn(const onnx_model *kept, char *err, size_t err_size)
{
    onnx_model *m = onnx_model_new(kept->opset, kept->producer, kept->graph_name);
    char *skip = calloc(kept->n_nodes + 1, 1);
    if (!m || !skip || copy_io(m, kept) < 0) {
        snprintf(err, err_size, "out of memory folding BatchNormalization");
        goto fail;
    }
    if (fold_nodes(m, kept, skip, err, err_size) < 0)
        goto fail;
    free(skip);
    return m;
fail:
    free(skip);
    onnx_model_free(m);
    return NULL;
}
