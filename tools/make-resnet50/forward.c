/*
 * forward.c — reference forward pass over the operators make-resnet50 writes
 * (Transpose, Pad, Conv, BatchNormalization, Relu, Add, MaxPool, ReduceMean,
 * GlobalAveragePool, Flatten, Gemm), NCHW float32, convolutions as im2col +
 * OpenBLAS sgemm.  Written for clarity, not speed: it runs a few images once.
 */
#include "forward.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A live activation: freed when its last reader has run. */
typedef struct {
    const char *name; /* borrowed from the model */
    int rank;
    int64_t d[4];
    float *v;
    int readers;
} act;

typedef struct {
    onnx_model *m;
    act *acts;
    size_t n_acts;
    char *err;
    size_t err_size;
} run;

static int fail(run *r, const onnx_node *n, const char *what)
{
    snprintf(r->err, r->err_size, "node \"%s\" (%s): %s", n->name, n->op_type, what);
    return -1;
}

static int64_t numel(const act *a)
{
    int64_t k = 1;
    for (int i = 0; i < a->rank; i++)
        k *= a->d[i];
    return k;
}

static act *find(run *r, const char *name)
{
    for (size_t i = 0; i < r->n_acts; i++)
        if (r->acts[i].v && strcmp(r->acts[i].name, name) == 0)
            return &r->acts[i];
    return NULL;
}

static int readers_of(const onnx_model *m, const char *name)
{
    int k = 0;
    for (size_t i = 0; i < m->n_nodes; i++)
        for (size_t j = 0; j < m->nodes[i].n_inputs; j++)
            k += strcmp(m->nodes[i].inputs[j], name) == 0;
    return k;
}

/* A new zeroed activation of the given shape.  r->acts has a slot per node
 * from the start, so pointers to activations stay valid during a step. */
static act *new_act(run *r, const char *name, int rank, const int64_t *d)
{
    act *a = &r->acts[r->n_acts];
    *a = (act){name, rank, {0}, NULL, readers_of(r->m, name)};
    memcpy(a->d, d, (size_t)rank * sizeof(*d));
    a->v = calloc((size_t)numel(a) ? (size_t)numel(a) : 1, sizeof(float));
    if (!a->v)
        return NULL;
    r->n_acts++;
    return a;
}

/* Float initializer k of n with count elements, or NULL. */
static float *weight(run *r, const onnx_node *n, size_t k, int64_t count)
{
    if (k >= n->n_inputs)
        return NULL;
    const onnx_tensor *t = onnx_find_initializer(r->m, n->inputs[k]);
    return t && t->dtype == ONNX_FLOAT && onnx_numel(t) == count ? t->data : NULL;
}

static int64_t ints_at(const onnx_node *n, const char *name, size_t i, int64_t dflt)
{
    size_t k;
    const int64_t *v = onnx_attr_ints(n, name, &k);
    return v && i < k ? v[i] : dflt;
}

/* col[(c·kh + i)·kw + j][y·ow + x] = in[c][y·s + i − p][x·s + j − p] or 0. */
static void im2col(const float *in, int64_t c, int64_t h, int64_t w, int64_t k, int64_t s,
                   int64_t pt, int64_t pl, int64_t oh, int64_t ow, float *col)
{
    for (int64_t ch = 0; ch < c; ch++)
        for (int64_t i = 0; i < k; i++)
            for (int64_t j = 0; j < k; j++) {
                float *row = col + ((ch * k + i) * k + j) * oh * ow;
                for (int64_t y = 0; y < oh; y++) {
                    int64_t iy = y * s + i - pt;
                    for (int64_t x = 0; x < ow; x++) {
                        int64_t ix = x * s + j - pl;
                        row[y * ow + x] = iy >= 0 && iy < h && ix >= 0 && ix < w
                                              ? in[(ch * h + iy) * w + ix]
                                              : 0.0f;
                    }
                }
            }
}

static int op_conv(run *r, const onnx_node *n, act *x)
{
    const onnx_tensor *wt = onnx_find_initializer(r->m, n->inputs[1]);
    if (!wt || wt->rank != 4 || wt->dims[2] != wt->dims[3] || wt->dims[1] != x->d[1] ||
        onnx_attr_int(n, "group", 1) != 1 || ints_at(n, "dilations", 0, 1) != 1)
        return fail(r, n, "only square, ungrouped, undilated convolutions are supported");
    int64_t co = wt->dims[0], k = wt->dims[2], s = ints_at(n, "strides", 0, 1);
    int64_t pt = ints_at(n, "pads", 0, 0), pl = ints_at(n, "pads", 1, 0);
    int64_t pb = ints_at(n, "pads", 2, 0), pr = ints_at(n, "pads", 3, 0);
    int64_t ci = x->d[1], h = x->d[2], w = x->d[3];
    int64_t oh = (h + pt + pb - k) / s + 1, ow = (w + pl + pr - k) / s + 1;
    const float *bias = n->n_inputs > 2 && n->inputs[2][0] ? weight(r, n, 2, co) : NULL;
    act *y = new_act(r, n->outputs[0], 4, (int64_t[]){x->d[0], co, oh, ow});
    int64_t kk = ci * k * k;
    float *col = malloc((size_t)(kk * oh * ow) * sizeof(float));
    if (!y || !col) {
        free(col);
        return fail(r, n, "out of memory");
    }
    for (int64_t b = 0; b < x->d[0]; b++) {
        im2col(x->v + b * ci * h * w, ci, h, w, k, s, pt, pl, oh, ow, col);
        float *out = y->v + b * co * oh * ow;
        for (int64_t o = 0; o < co; o++)
            for (int64_t p = 0; p < oh * ow; p++)
                out[o * oh * ow + p] = bias ? bias[o] : 0.0f;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)co, (int)(oh * ow), (int)kk,
                    1.0f, wt->data, (int)kk, col, (int)(oh * ow), 1.0f, out, (int)(oh * ow));
    }
    free(col);
    return 0;
}

/* Sets mean and var of n to the per-channel statistics of x. */
static void calibrate_bn(const act *x, float *mean, float *var)
{
    int64_t c = x->d[1], hw = numel(x) / (x->d[0] * c);
    for (int64_t ch = 0; ch < c; ch++) {
        double s = 0, s2 = 0;
        for (int64_t b = 0; b < x->d[0]; b++) {
            const float *p = x->v + (b * c + ch) * hw;
            for (int64_t i = 0; i < hw; i++) {
                s += p[i];
                s2 += (double)p[i] * p[i];
            }
        }
        double cnt = (double)(x->d[0] * hw), mu = s / cnt;
        mean[ch] = (float)mu;
        var[ch] = (float)fmax(s2 / cnt - mu * mu, 0.0);
    }
}

static int op_bn(run *r, const onnx_node *n, act *x, int calibrate)
{
    int64_t c = x->d[1], hw = numel(x) / (x->d[0] * c);
    float *g = weight(r, n, 1, c), *be = weight(r, n, 2, c), *mu = weight(r, n, 3, c),
          *var = weight(r, n, 4, c);
    if (!g || !be || !mu || !var)
        return fail(r, n, "parameters are not float initializers of the channel count");
    if (calibrate)
        calibrate_bn(x, mu, var);
    act *y = new_act(r, n->outputs[0], x->rank, x->d);
    if (!y)
        return fail(r, n, "out of memory");
    double eps = onnx_attr_float(n, "epsilon", 1e-5f);
    for (int64_t b = 0; b < x->d[0]; b++)
        for (int64_t ch = 0; ch < c; ch++) {
            double s = g[ch] / sqrt(var[ch] + eps), t = be[ch] - mu[ch] * s;
            const float *p = x->v + (b * c + ch) * hw;
            float *q = y->v + (b * c + ch) * hw;
            for (int64_t i = 0; i < hw; i++)
                q[i] = (float)(p[i] * s + t);
        }
    return 0;
}

static int op_maxpool(run *r, const onnx_node *n, act *x)
{
    int64_t k = ints_at(n, "kernel_shape", 0, 1), s = ints_at(n, "strides", 0, 1);
    int64_t pt = ints_at(n, "pads", 0, 0), pl = ints_at(n, "pads", 1, 0);
    int64_t pb = ints_at(n, "pads", 2, 0), pr = ints_at(n, "pads", 3, 0);
    int64_t nc = x->d[0] * x->d[1], h = x->d[2], w = x->d[3];
    int64_t oh = (h + pt + pb - k) / s + 1, ow = (w + pl + pr - k) / s + 1;
    act *y = new_act(r, n->outputs[0], 4, (int64_t[]){x->d[0], x->d[1], oh, ow});
    if (!y)
        return fail(r, n, "out of memory");
    for (int64_t c = 0; c < nc; c++)
        for (int64_t oy = 0; oy < oh; oy++)
            for (int64_t ox = 0; ox < ow; ox++) {
                float best = -FLT_MAX;
                for (int64_t i = 0; i < k; i++)
                    for (int64_t j = 0; j < k; j++) {
                        int64_t iy = oy * s + i - pt, ix = ox * s + j - pl;
                        if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                            best = fmaxf(best, x->v[(c * h + iy) * w + ix]);
                    }
                y->v[(c * oh + oy) * ow + ox] = best;
            }
    return 0;
}

static int op_pad(run *r, const onnx_node *n, act *x)
{
    const onnx_tensor *p = n->n_inputs > 1 ? onnx_find_initializer(r->m, n->inputs[1]) : NULL;
    if (!p || p->dtype != ONNX_INT64 || onnx_numel(p) != 8 || x->rank != 4)
        return fail(r, n, "only 4-D constant Pad with initializer pads is supported");
    const int64_t *pads = p->data;
    int64_t d[4];
    for (int i = 0; i < 4; i++)
        d[i] = x->d[i] + pads[i] + pads[i + 4];
    act *y = new_act(r, n->outputs[0], 4, d);
    if (!y)
        return fail(r, n, "out of memory");
    for (int64_t a = 0; a < x->d[0]; a++)
        for (int64_t b = 0; b < x->d[1]; b++)
            for (int64_t c = 0; c < x->d[2]; c++)
                memcpy(y->v + (((a + pads[0]) * d[1] + b + pads[1]) * d[2] + c + pads[2]) * d[3] +
                           pads[3],
                       x->v + ((a * x->d[1] + b) * x->d[2] + c) * x->d[3],
                       (size_t)x->d[3] * sizeof(float));
    return 0;
}

static int op_transpose(run *r, const onnx_node *n, act *x)
{
    int64_t perm[4], d[4], st[4] = {x->d[1] * x->d[2] * x->d[3], x->d[2] * x->d[3], x->d[3], 1};
    for (int i = 0; i < 4; i++) {
        perm[i] = ints_at(n, "perm", (size_t)i, 3 - i);
        if (x->rank != 4 || perm[i] < 0 || perm[i] > 3)
            return fail(r, n, "only 4-D Transpose is supported");
        d[i] = x->d[perm[i]];
    }
    act *y = new_act(r, n->outputs[0], 4, d);
    if (!y)
        return fail(r, n, "out of memory");
    float *q = y->v;
    for (int64_t a = 0; a < d[0]; a++)
        for (int64_t b = 0; b < d[1]; b++)
            for (int64_t c = 0; c < d[2]; c++)
                for (int64_t e = 0; e < d[3]; e++)
                    *q++ =
                        x->v[a * st[perm[0]] + b * st[perm[1]] + c * st[perm[2]] + e * st[perm[3]]];
    return 0;
}

/* GlobalAveragePool (keep [N,C,1,1]), ReduceMean over axes 2,3, Flatten:
 * all are "mean over space, then some shape". */
static int op_spatial_mean(run *r, const onnx_node *n, act *x)
{
    int flatten = strcmp(n->op_type, "Flatten") == 0;
    int reduce = strcmp(n->op_type, "ReduceMean") == 0;
    if (reduce && (ints_at(n, "axes", 0, -1) != 2 || ints_at(n, "axes", 1, -1) != 3))
        return fail(r, n, "only ReduceMean over axes [2, 3] is supported");
    int64_t c = numel(x) / x->d[0], hw = flatten ? 1 : x->d[2] * x->d[3];
    c /= hw;
    int keep = !flatten && !(reduce && onnx_attr_int(n, "keepdims", 1) == 0);
    act *y = new_act(r, n->outputs[0], keep ? 4 : 2, (int64_t[]){x->d[0], c, 1, 1});
    if (!y)
        return fail(r, n, "out of memory");
    for (int64_t i = 0; i < x->d[0] * c; i++) {
        double s = 0;
        for (int64_t j = 0; j < hw; j++)
            s += x->v[i * hw + j];
        y->v[i] = (float)(s / (double)hw);
    }
    return 0;
}

static int op_gemm(run *r, const onnx_node *n, act *x)
{
    const onnx_tensor *w = onnx_find_initializer(r->m, n->inputs[1]);
    if (!w || w->rank != 2 || !onnx_attr_int(n, "transB", 0) || w->dims[1] != x->d[1])
        return fail(r, n, "only Gemm with a transposed [out, in] initializer is supported");
    int64_t o = w->dims[0], in = w->dims[1];
    const float *b = weight(r, n, 2, o);
    act *y = new_act(r, n->outputs[0], 2, (int64_t[]){x->d[0], o});
    if (!y)
        return fail(r, n, "out of memory");
    for (int64_t i = 0; i < x->d[0]; i++)
        for (int64_t j = 0; j < o; j++)
            y->v[i * o + j] = b ? b[j] : 0.0f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)x->d[0], (int)o, (int)in, 1.0f, x->v,
                (int)in, w->data, (int)in, 1.0f, y->v, (int)o);
    return 0;
}

static int op_elementwise(run *r, const onnx_node *n, act *x)
{
    int add = strcmp(n->op_type, "Add") == 0;
    act *b = add ? find(r, n->inputs[1]) : NULL;
    if (add && (!b || numel(b) != numel(x)))
        return fail(r, n, "only Add of two same-shape activations is supported");
    act *y = new_act(r, n->outputs[0], x->rank, x->d);
    if (!y)
        return fail(r, n, "out of memory");
    for (int64_t i = 0; i < numel(x); i++)
        y->v[i] = add ? x->v[i] + b->v[i] : fmaxf(x->v[i], 0.0f);
    return 0;
}

/* Runs node n; x is its first input. */
static int step(run *r, const onnx_node *n, int calibrate)
{
    act *x = find(r, n->inputs[0]);
    if (!x)
        return fail(r, n, "input is not a computed activation");
    const char *op = n->op_type;
    if (strcmp(op, "Conv") == 0)
        return op_conv(r, n, x);
    if (strcmp(op, "BatchNormalization") == 0)
        return op_bn(r, n, x, calibrate);
    if (strcmp(op, "Relu") == 0 || strcmp(op, "Add") == 0)
        return op_elementwise(r, n, x);
    if (strcmp(op, "MaxPool") == 0)
        return op_maxpool(r, n, x);
    if (strcmp(op, "Pad") == 0)
        return op_pad(r, n, x);
    if (strcmp(op, "Transpose") == 0)
        return op_transpose(r, n, x);
    if (strcmp(op, "GlobalAveragePool") == 0 || strcmp(op, "ReduceMean") == 0 ||
        strcmp(op, "Flatten") == 0)
        return op_spatial_mean(r, n, x);
    if (strcmp(op, "Gemm") == 0)
        return op_gemm(r, n, x);
    return fail(r, n, "operator not supported by make-resnet50's forward pass");
}

/* Drops activations whose readers have all run (inputs of node n). */
static void release_inputs(run *r, const onnx_node *n, const char *keep)
{
    for (size_t i = 0; i < n->n_inputs; i++) {
        act *a = find(r, n->inputs[i]);
        if (a && --a->readers <= 0 && strcmp(a->name, keep) != 0) {
            free(a->v);
            a->v = NULL;
        }
    }
}

float *forward_run(onnx_model *m, const float *x, int n, const char *output, int calibrate,
                   size_t *count, char *err, size_t err_size)
{
    run r = {m, calloc(m->n_nodes + 1, sizeof(act)), 0, err, err_size};
    float *result = NULL;
    const onnx_tensor *in = m->n_inputs ? &m->inputs[0] : NULL;
    if (!in || in->rank != 4) {
        snprintf(err, err_size, "the model has no 4-D input");
        free(r.acts);
        return NULL;
    }
    int64_t d[4] = {n, in->dims[1], in->dims[2], in->dims[3]};
    act *a = r.acts ? new_act(&r, in->name, 4, d) : NULL;
    if (!a) {
        snprintf(err, err_size, "out of memory");
        goto done;
    }
    memcpy(a->v, x, (size_t)numel(a) * sizeof(float));
    for (size_t i = 0; i < m->n_nodes; i++) {
        if (step(&r, &m->nodes[i], calibrate) < 0)
            goto done;
        release_inputs(&r, &m->nodes[i], output);
    }
    a = find(&r, output);
    if (!a) {
        snprintf(err, err_size, "no tensor \"%s\" computed", output);
        goto done;
    }
    result = a->v;
    a->v = NULL;
    *count = (size_t)numel(a);
done:
    for (size_t i = 0; i < r.n_acts; i++)
        free(r.acts[i].v);
    free(r.acts);
    return result;
}
