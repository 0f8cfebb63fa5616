/* compile_ops.c — operators that create layers or rename tensors. */
#include <stdlib.h>
#include <string.h>

#include "compile.h"

/* The node's INTS attribute name when it has exactly n values, each in
 * [lo, hi], copied into out; absent leaves out as it is.  0 or -1. */
static int window_ints(compiler *c, const char *name, size_t n, int64_t lo, int64_t hi, int *out)
{
    size_t got = 0;
    const int64_t *v = onnx_attr_ints(c->node, name, &got);
    if (!v)
        return 0;
    if (got != n)
        return compile_fail(c, "%s must have %zu values, not %zu", name, n, got);
    for (size_t i = 0; i < n; i++) {
        if (!compile_in_range(c, v[i], lo, hi, name))
            return -1;
        out[i] = (int)v[i];
    }
    return 0;
}

/* SAME_UPPER / SAME_LOWER: the padding that keeps ceil(size / stride). */
static void window_same(const net_tensor *in, const net_layer *l, int upper, int pads[4])
{
    int64_t size[2] = {in->h, in->w}, k[2] = {l->kh, l->kw}, s[2] = {l->sh, l->sw};
    for (int d = 0; d < 2; d++) {
        int64_t out = (size[d] + s[d] - 1) / s[d];
        int64_t total = (out - 1) * s[d] + k[d] - size[d];
        total = total > 0 ? total : 0;
        int small = (int)(total / 2), big = (int)(total - total / 2);
        pads[d] = upper ? small : big;
        pads[d + 2] = upper ? big : small;
    }
}

/* Strides and padding of a 2-D window (Conv, MaxPool, AveragePool), padding
 * from a folded Pad included; sets the output size.  Every attribute is
 * checked before it is used (strides of 0 divide, huge ones overflow), and
 * the arithmetic is in 64 bits on values bounded by COMPILE_MAX_SIDE.
 * l->kh, l->kw are in 1..COMPILE_MAX_SIDE (the callers check).  0 or -1. */
static int window(compiler *c, const sym *x, net_layer *l)
{
    const net_tensor *in = &c->net->tensors[x->tensor];
    int strides[2] = {1, 1}, dil[2] = {1, 1}, pads[4] = {0, 0, 0, 0}; /* t, l, b, r */
    if (window_ints(c, "strides", 2, 1, COMPILE_MAX_SIDE, strides) < 0 ||
        window_ints(c, "dilations", 2, 1, COMPILE_MAX_SIDE, dil) < 0 ||
        window_ints(c, "pads", 4, 0, COMPILE_MAX_SIDE, pads) < 0)
        return -1;
    if (dil[0] != 1 || dil[1] != 1)
        return compile_fail(c, "dilated windows are not supported");
    if (onnx_attr_int(c->node, "ceil_mode", 0))
        return compile_fail(c, "ceil_mode 1 is not supported");
    l->sh = strides[0];
    l->sw = strides[1];
    const onnx_attr *ap = onnx_find_attr(c->node, "auto_pad");
    const char *mode = ap && ap->type == ONNX_ATTR_STRING ? ap->s : "NOTSET";
    if (!strcmp(mode, "SAME_UPPER") || !strcmp(mode, "SAME_LOWER"))
        window_same(in, l, mode[5] == 'U', pads);
    else if (strcmp(mode, "NOTSET") && strcmp(mode, "VALID"))
        return compile_fail(c, "auto_pad \"%s\" is not supported", mode);
    l->pt = pads[0] + x->pt;
    l->pl = pads[1] + x->pl;
    l->pb = pads[2] + x->pb;
    l->pr = pads[3] + x->pr;
    int64_t oh = ((int64_t)in->h + l->pt + l->pb - l->kh) / l->sh + 1;
    int64_t ow = ((int64_t)in->w + l->pl + l->pr - l->kw) / l->sw + 1;
    if ((int64_t)in->h + l->pt + l->pb < l->kh || (int64_t)in->w + l->pl + l->pr < l->kw)
        return compile_fail(c, "window larger than its %dx%d input", in->h, in->w);
    net_tensor *out = &c->net->tensors[l->dst];
    if (!compile_in_range(c, (int64_t)out->c * oh * ow, 1, COMPILE_MAX_ELEMENTS,
                          "elements of the output"))
        return -1;
    out->h = (int)oh;
    out->w = (int)ow;
    return 0;
}

/* Copies n floats out of the model (the net owns its parameters). */
static float *copy_floats(const onnx_tensor *t, size_t n)
{
    float *p = calloc(n ? n : 1, sizeof *p);
    if (p && t)
        memcpy(p, t->data, n * sizeof *p);
    return p;
}

/* The first max pool's result, or -1. */
static int pooled_stem(const compiler *c)
{
    for (size_t i = 0; i < c->net->n_layers; i++)
        if (c->net->layers[i].kind == NET_MAXPOOL)
            return c->net->layers[i].dst;
    return -1;
}

/* Whether the fp32_layers option names this convolution: by node name, or
 * "stem" (the first convolution), "entry" (those reading the max pool's
 * result, the stem's output), "stage1" (all those reading at the max pool's
 * resolution: the first stage of a ResNet). */
static int keep_fp32(compiler *c, const char *name, int src)
{
    const char *list = c->opts->fp32_layers ? c->opts->fp32_layers : "";
    int pooled = pooled_stem(c);
    const net_tensor *in = &c->net->tensors[src];
    int entry = pooled >= 0 && src == pooled;
    int stage1 =
        pooled >= 0 && in->h == c->net->tensors[pooled].h && in->w == c->net->tensors[pooled].w;
    size_t len = strlen(name);
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        int named = n == len && !strncmp(p, name, n);
        int stem = n == 4 && !strncmp(p, "stem", 4) && !c->stem_done;
        int first = n == 5 && !strncmp(p, "entry", 5) && entry;
        int stage = n == 6 && !strncmp(p, "stage1", 6) && stage1;
        if (named || stem || first || stage)
            return 1;
        p += n + (p[n] == ',');
    }
    return 0;
}

int compile_conv(compiler *c)
{
    const sym *x = compile_act(c, 0, 1);
    sym in = x ? *x : (sym){0};
    const onnx_tensor *w = x ? compile_const(c, 1, -1, 0) : NULL;
    if (!w)
        return -1;
    const net_tensor *src = &c->net->tensors[in.tensor];
    if (w->rank != 4 || w->dims[1] != src->c)
        return compile_fail(c, "weights must be [out, %d, kh, kw]", src->c);
    if (onnx_attr_int(c->node, "group", 1) != 1)
        return compile_fail(c, "grouped convolutions are not supported");
    if (!compile_in_range(c, w->dims[0], 1, COMPILE_MAX_CHANNELS, "output channels") ||
        !compile_in_range(c, w->dims[2], 1, COMPILE_MAX_SIDE, "kernel height") ||
        !compile_in_range(c, w->dims[3], 1, COMPILE_MAX_SIDE, "kernel width"))
        return -1;
    int oc = (int)w->dims[0];
    const onnx_tensor *b = compile_const(c, 2, oc, 1);
    if (!b && c->node->n_inputs > 2 && c->node->inputs[2][0])
        return -1;
    int dst = compile_tensor(c, oc, 1, 1);
    net_layer *l = dst < 0 ? NULL : compile_layer(c, NET_CONV, in.tensor, dst);
    if (!l)
        return -1;
    l->kh = (int)w->dims[2];
    l->kw = (int)w->dims[3];
    l->fp32 = keep_fp32(c, l->name, in.tensor);
    c->stem_done = 1;
    l->weights = copy_floats(w, (size_t)onnx_numel(w));
    l->bias = copy_floats(b, (size_t)oc);
    if (!l->weights || !l->bias)
        return compile_fail(c, "out of memory");
    if (window(c, &in, l) < 0)
        return -1;
    return compile_define(c, (sym){.kind = SYM_ACT, .tensor = dst});
}

int compile_pool(compiler *c)
{
    const sym *x = compile_act(c, 0, 1);
    if (!x)
        return -1;
    sym in = *x;
    int is_max = !strcmp(c->node->op_type, "MaxPool");
    if (c->node->n_outputs > 1 && c->node->outputs[1][0])
        return compile_fail(c, "the Indices output is not supported");
    int padded = in.pt || in.pl || in.pb || in.pr;
    /* A zero Pad before a max pool changes nothing when the input is a
     * ReLU's output (never below zero); otherwise it would. */
    int producer = c->producer[in.tensor];
    if (is_max && padded && (producer < 0 || !c->net->layers[producer].relu))
        return compile_fail(c, "a Pad before MaxPool folds only after a ReLU");
    size_t n = 0;
    const int64_t *k = onnx_attr_ints(c->node, "kernel_shape", &n);
    if (!k || n != 2)
        return compile_fail(c, "kernel_shape must have 2 values");
    if (!compile_in_range(c, k[0], 1, COMPILE_MAX_SIDE, "kernel_shape") ||
        !compile_in_range(c, k[1], 1, COMPILE_MAX_SIDE, "kernel_shape"))
        return -1;
    int count_pad = (int)onnx_attr_int(c->node, "count_include_pad", 0);
    size_t np = 0;
    const int64_t *own = onnx_attr_ints(c->node, "pads", &np);
    int own_pads = own && np == 4 && (own[0] || own[1] || own[2] || own[3]);
    if (!is_max && padded && own_pads && !count_pad)
        return compile_fail(c, "a Pad before a padded AveragePool without count_include_pad");
    const net_tensor *src = &c->net->tensors[in.tensor];
    int dst = compile_tensor(c, src->c, 1, 1);
    net_layer *l =
        dst < 0 ? NULL : compile_layer(c, is_max ? NET_MAXPOOL : NET_AVGPOOL, in.tensor, dst);
    if (!l)
        return -1;
    l->kh = (int)k[0];
    l->kw = (int)k[1];
    l->count_pad = count_pad || padded;
    if (window(c, &in, l) < 0)
        return -1;
    return compile_define(c, (sym){.kind = SYM_ACT, .tensor = dst});
}

/* GlobalAveragePool, and ReduceMean over the two spatial axes. */
int compile_global_pool(compiler *c)
{
    const sym *x = compile_act(c, 0, 0);
    if (!x)
        return -1;
    int t = x->tensor;
    if (!strcmp(c->node->op_type, "ReduceMean")) {
        size_t n = 0;
        const int64_t *axes = onnx_attr_ints(c->node, "axes", &n);
        int hw =
            axes && n == 2 && (axes[0] == 2 || axes[0] == -2) && (axes[1] == 3 || axes[1] == -1);
        if (!hw)
            return compile_fail(c, "only the mean over axes [2, 3] is supported");
    }
    const net_tensor *src = &c->net->tensors[t];
    int dst = compile_tensor(c, src->c, 1, 1);
    net_layer *l = dst < 0 ? NULL : compile_layer(c, NET_AVGPOOL, t, dst);
    if (!l)
        return -1;
    l->kh = c->net->tensors[t].h;
    l->kw = c->net->tensors[t].w;
    return compile_define(c, (sym){.kind = SYM_ACT, .tensor = dst});
}

/* Gemm (A · Bᵀ or A · B, plus C) and MatMul with a constant right side. */
int compile_fc(compiler *c)
{
    const sym *x = compile_act(c, 0, 0);
    const onnx_tensor *w = x ? compile_const(c, 1, -1, 0) : NULL;
    if (!w)
        return -1;
    int t = x->tensor;
    int gemm = !strcmp(c->node->op_type, "Gemm");
    int trans_b = gemm && onnx_attr_int(c->node, "transB", 0);
    if (gemm && (onnx_attr_int(c->node, "transA", 0) || onnx_attr_float(c->node, "alpha", 1) != 1 ||
                 onnx_attr_float(c->node, "beta", 1) != 1))
        return compile_fail(c, "only transA 0, alpha 1 and beta 1 are supported");
    int ic = (int)net_tensor_size(c->net, t);
    if (w->rank != 2 || w->dims[trans_b ? 1 : 0] != ic)
        return compile_fail(c, "weights must be %s with %d inputs",
                            trans_b ? "[out, in]" : "[in, out]", ic);
    if (!compile_in_range(c, w->dims[trans_b ? 0 : 1], 1, COMPILE_MAX_CHANNELS, "outputs"))
        return -1;
    int oc = (int)w->dims[trans_b ? 0 : 1];
    const onnx_tensor *b = gemm ? compile_const(c, 2, oc, 1) : NULL;
    if (gemm && !b && c->node->n_inputs > 2 && c->node->inputs[2][0])
        return -1;
    int dst = compile_tensor(c, oc, 1, 1);
    net_layer *l = dst < 0 ? NULL : compile_layer(c, NET_FC, t, dst);
    if (!l)
        return -1;
    l->weights = malloc((size_t)oc * (size_t)ic * sizeof *l->weights);
    l->bias = copy_floats(b, (size_t)oc);
    if (!l->weights || !l->bias)
        return compile_fail(c, "out of memory");
    const float *src = w->data;
    for (int o = 0; o < oc; o++) /* to [out][in] */
        for (int i = 0; i < ic; i++)
            l->weights[(size_t)o * ic + i] =
                trans_b ? src[(size_t)o * ic + i] : src[(size_t)i * oc + o];
    return compile_define(c, (sym){.kind = SYM_ACT, .tensor = dst, .flat = 1});
}

/* Zero padding of the spatial axes, remembered until the next layer. */
int compile_pad(compiler *c)
{
    const sym *x = compile_act(c, 0, 1);
    if (!x)
        return -1;
    sym out = *x;
    const onnx_attr *mode = onnx_find_attr(c->node, "mode");
    if (mode && mode->type == ONNX_ATTR_STRING && strcmp(mode->s, "constant"))
        return compile_fail(c, "only constant padding is supported, not \"%s\"", mode->s);
    size_t n = 0;
    const int64_t *pads = onnx_attr_ints(c->node, "pads", &n);
    const sym *p = NULL;
    if (!pads && c->node->n_inputs > 1 && (p = compile_lookup(c, c->node->inputs[1])) &&
        p->kind == SYM_CONST && p->value->dtype == ONNX_INT64) {
        pads = p->value->data;
        n = (size_t)onnx_numel(p->value);
    }
    if (!pads || n != 8 || pads[0] || pads[1] || pads[4] || pads[5])
        return compile_fail(c, "pads must be a constant padding only height and width");
    float value = onnx_attr_float(c->node, "value", 0);
    const onnx_tensor *v = c->node->n_inputs > 2 ? compile_const(c, 2, 1, 1) : NULL;
    if (v)
        value = *(const float *)v->data;
    if (value != 0)
        return compile_fail(c, "only zero padding is supported");
    for (int i = 2; i < 8; i += i == 3 ? 3 : 1) /* 2, 3, 6, 7: height and width */
        if (!compile_in_range(c, pads[i], 0, COMPILE_MAX_SIDE, "pads"))
            return -1;
    if (!compile_in_range(c, (int64_t)out.pt + pads[2] + out.pb + pads[6], 0, COMPILE_MAX_SIDE,
                          "total padding") ||
        !compile_in_range(c, (int64_t)out.pl + pads[3] + out.pr + pads[7], 0, COMPILE_MAX_SIDE,
                          "total padding"))
        return -1;
    out.pt += (int)pads[2];
    out.pl += (int)pads[3];
    out.pb += (int)pads[6];
    out.pr += (int)pads[7];
    return compile_define(c, out);
}

/* Flatten(axis 1), and Reshape to [batch, -1]: the data stays as it is. */
int compile_reshape(compiler *c)
{
    const sym *x = compile_act(c, 0, 0);
    if (!x)
        return -1;
    sym out = *x;
    int64_t numel = (int64_t)net_tensor_size(c->net, x->tensor);
    if (!strcmp(c->node->op_type, "Flatten")) {
        if (onnx_attr_int(c->node, "axis", 1) != 1)
            return compile_fail(c, "only axis 1 is supported");
    } else {
        const sym *s = c->node->n_inputs > 1 ? compile_lookup(c, c->node->inputs[1]) : NULL;
        const int64_t *d =
            s && s->kind == SYM_CONST && s->value->dtype == ONNX_INT64 && onnx_numel(s->value) == 2
                ? s->value->data
                : NULL;
        if (!d || !((d[1] == -1 || d[1] == numel) && (d[0] == -1 || d[0] == 0 || d[0] >= 1)) ||
            (d[0] == -1 && d[1] == -1))
            return compile_fail(c, "only a reshape to [batch, %lld] is supported",
                                (long long)numel);
    }
    out.flat = 1;
    return compile_define(c, out);
}

/* The NHWC image's Transpose to NCHW is absorbed by the input layout. */
int compile_transpose(compiler *c)
{
    if (c->node->n_inputs < 1)
        return compile_fail(c, "input 0 is missing");
    const sym *x = compile_lookup(c, c->node->inputs[0]);
    if (!x)
        return -1;
    size_t n = 0;
    const int64_t *perm = onnx_attr_ints(c->node, "perm", &n);
    int to_nchw = perm && n == 4 && perm[0] == 0 && perm[1] == 3 && perm[2] == 1 && perm[3] == 2;
    if (x->kind != SYM_NHWC_INPUT || !to_nchw)
        return compile_fail(c, "only the NHWC→NCHW transpose of the input image is supported");
    return compile_define(c, (sym){.kind = SYM_ACT, .tensor = c->net->input});
}

int compile_identity(compiler *c)
{
    if (c->node->n_inputs < 1)
        return compile_fail(c, "input 0 is missing");
    const sym *x = compile_lookup(c, c->node->inputs[0]);
    return x ? compile_define(c, *x) : -1;
}

int compile_constant(compiler *c)
{
    const onnx_attr *v = onnx_find_attr(c->node, "value");
    if (!v || v->type != ONNX_ATTR_TENSOR)
        return compile_fail(c, "only a tensor \"value\" is supported");
    return compile_define(c, (sym){.kind = SYM_CONST, .value = v->t});
}
