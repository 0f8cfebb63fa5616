/* compile_fuse.c — operators folded into the convolution that produces
 * their input: BatchNormalization, Relu, Add (residual or bias). */
#include <math.h>
#include <string.h>

#include "compile.h"

/* The layer writing activation x if the node may fold into it: x is that
 * layer's latest result (nothing else reads it), and nothing was applied
 * after the convolution yet when `plain` is set.  NULL after compile_fail. */
static net_layer *fusable(compiler *c, const sym *x, int plain, const char *what)
{
    int li = c->producer[x->tensor];
    net_layer *l = li >= 0 ? &c->net->layers[li] : NULL;
    if (!l || (l->kind != NET_CONV && l->kind != NET_FC) || c->uses[x->tensor] != 0 ||
        (plain && (l->relu || l->sum >= 0))) {
        compile_fail(c, "%s must directly follow a convolution whose result nothing else reads",
                     what);
        return NULL;
    }
    if (c->opts->output && !strcmp(c->opts->output, x->name)) {
        compile_fail(c, "the output \"%s\" would be overwritten by folding this node", x->name);
        return NULL;
    }
    return l;
}

int compile_batchnorm(compiler *c)
{
    const sym *x = compile_act(c, 0, 0);
    net_layer *l = x ? fusable(c, x, 1, "BatchNormalization") : NULL;
    if (!l)
        return -1;
    if (l->kind != NET_CONV)
        return compile_fail(c, "BatchNormalization folds only into a convolution");
    int oc = c->net->tensors[l->dst].c;
    const onnx_tensor *p[4]; /* scale, bias, mean, variance */
    for (int i = 0; i < 4; i++)
        if (!(p[i] = compile_const(c, (size_t)i + 1, oc, 0)))
            return -1;
    const float *scale = p[0]->data, *shift = p[1]->data, *mean = p[2]->data, *var = p[3]->data;
    double eps = onnx_attr_float(c->node, "epsilon", 1e-5f);
    for (int o = 0; o < oc; o++)
        if (!((double)var[o] + eps > 0) || !isfinite(eps))
            return compile_fail(c, "variance + epsilon of channel %d is not positive", o);
    size_t per_out = (size_t)l->kh * (size_t)l->kw * (size_t)c->net->tensors[l->src].c;
    for (int o = 0; o < oc; o++) {
        /* y = (conv + b - mean) · s + shift, with s = scale / sqrt(var + eps):
         * computed in double, rounded once. */
        double s = scale[o] / sqrt((double)var[o] + eps);
        float *w = l->weights + (size_t)o * per_out;
        for (size_t i = 0; i < per_out; i++)
            w[i] = (float)(w[i] * s);
        l->bias[o] = (float)(((double)l->bias[o] - mean[o]) * s + shift[o]);
    }
    return compile_define(c, (sym){.kind = SYM_ACT, .tensor = x->tensor});
}

int compile_relu(compiler *c)
{
    const sym *x = compile_act(c, 0, 0);
    net_layer *l = x ? fusable(c, x, 0, "Relu") : NULL;
    if (!l)
        return -1;
    if (l->kind != NET_CONV || l->relu)
        return compile_fail(c, "Relu folds only into a convolution without one");
    l->relu = 1;
    return compile_define(c, (sym){.kind = SYM_ACT, .tensor = x->tensor});
}

/* Adding a per-channel constant to a layer's result: into its bias. */
static int add_bias(compiler *c, const sym *x, const onnx_tensor *k)
{
    net_layer *l = fusable(c, x, 1, "Add of a constant");
    if (!l)
        return -1;
    int oc = c->net->tensors[l->dst].c;
    if (k->dtype != ONNX_FLOAT || onnx_numel(k) != oc)
        return compile_fail(c, "the constant must hold one float per channel (%d)", oc);
    for (int o = 0; o < oc; o++)
        l->bias[o] += ((const float *)k->data)[o];
    return compile_define(c, (sym){.kind = SYM_ACT, .tensor = x->tensor});
}

/* The layer that can add `shortcut` as a sum post-op to its result x, or -1:
 * it is a plain convolution, nothing else reads x, and the shortcut is
 * complete before that layer runs and never read after it (the layer writes
 * over it in place). */
static int residual_layer(const compiler *c, const sym *x, const sym *shortcut)
{
    int li = c->producer[x->tensor], t = shortcut->tensor;
    if (li < 0 || x->tensor == t)
        return -1;
    const net_layer *l = &c->net->layers[li];
    const net_tensor *a = &c->net->tensors[x->tensor], *b = &c->net->tensors[t];
    int same_shape = a->c == b->c && a->h == b->h && a->w == b->w;
    int plain = l->kind == NET_CONV && !l->relu && l->sum < 0 && c->uses[x->tensor] == 0;
    int ready = c->producer[t] < li && c->last_reader[t] < li && c->uses[t] == 0;
    int keeps_output = c->opts->output && !strcmp(c->opts->output, x->name);
    return same_shape && plain && ready && !keeps_output ? li : -1;
}

int compile_add(compiler *c)
{
    if (c->node->n_inputs != 2)
        return compile_fail(c, "Add needs 2 inputs");
    const sym *s0 = compile_lookup(c, c->node->inputs[0]);
    sym a = s0 ? *s0 : (sym){0};
    const sym *s1 = s0 ? compile_lookup(c, c->node->inputs[1]) : NULL;
    if (!s1)
        return -1;
    sym b = *s1;
    if (a.kind == SYM_CONST || b.kind == SYM_CONST) {
        const sym *x = compile_act(c, a.kind == SYM_CONST ? 1 : 0, 0);
        return x ? add_bias(c, x, (a.kind == SYM_CONST ? a : b).value) : -1;
    }
    if (!compile_act(c, 0, 0) || !compile_act(c, 1, 0))
        return -1;
    int la = residual_layer(c, &a, &b), lb = residual_layer(c, &b, &a);
    if (la < 0 && lb < 0)
        return compile_fail(c, "the sum can be fused only into the convolution producing one "
                               "operand, with the other read by nothing after it");
    /* The later convolution: the shortcut is then surely complete. */
    int into_a = la > lb;
    c->net->layers[into_a ? la : lb].sum = (into_a ? b : a).tensor;
    c->last_reader[(into_a ? b : a).tensor] = into_a ? la : lb;
    return compile_define(c, (sym){.kind = SYM_ACT, .tensor = (into_a ? a : b).tensor});
}
