/* compile_sym.c — the name table of a compilation, and growing the net. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"

int compile_fail(compiler *c, const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (c->node)
        snprintf(c->err, c->err_size, "%s: node \"%s\" (%s): %s", c->path, c->node->name,
                 c->node->op_type, why);
    else
        snprintf(c->err, c->err_size, "%s: %s", c->path, why);
    return -1;
}

int compile_in_range(compiler *c, int64_t v, int64_t lo, int64_t hi, const char *what)
{
    if (v >= lo && v <= hi)
        return 1;
    compile_fail(c, "%s %lld is outside %lld..%lld", what, (long long)v, (long long)lo,
                 (long long)hi);
    return 0;
}

/* NaN or Inf in a weight poisons every feature silently: refused. */
static int finite_floats(const onnx_tensor *t)
{
    const float *f = t->data;
    int64_t n = onnx_numel(t);
    for (int64_t i = 0; f && i < n; i++)
        if (!isfinite(f[i]))
            return 0;
    return 1;
}

const sym *compile_lookup(compiler *c, const char *name)
{
    /* Latest definition first: names are unique in valid ONNX, but the
     * search order costs nothing. */
    for (size_t i = c->n_syms; i-- > 0;)
        if (strcmp(c->syms[i].name, name) == 0)
            return &c->syms[i];
    const onnx_tensor *t = onnx_find_initializer(c->m, name);
    if (t) {
        c->scratch = (sym){.name = t->name, .kind = SYM_CONST, .value = t};
        return &c->scratch;
    }
    compile_fail(c, "input \"%s\" is not produced by any earlier node", name);
    return NULL;
}

const sym *compile_act(compiler *c, size_t i, int allow_pad)
{
    if (i >= c->node->n_inputs || !c->node->inputs[i][0]) {
        compile_fail(c, "input %zu is missing", i);
        return NULL;
    }
    const sym *s = compile_lookup(c, c->node->inputs[i]);
    if (!s)
        return NULL;
    if (s->kind == SYM_NHWC_INPUT) {
        compile_fail(c, "reads the NHWC image before its Transpose to NCHW");
        return NULL;
    }
    if (s->kind != SYM_ACT) {
        compile_fail(c, "input \"%s\" is a constant where an activation is expected", s->name);
        return NULL;
    }
    if (!allow_pad && (s->pt || s->pl || s->pb || s->pr)) {
        compile_fail(c, "input \"%s\" comes from a Pad that cannot be folded here", s->name);
        return NULL;
    }
    return s;
}

const onnx_tensor *compile_const(compiler *c, size_t i, int64_t numel, int optional)
{
    if (i >= c->node->n_inputs || !c->node->inputs[i][0]) {
        if (!optional)
            compile_fail(c, "input %zu is missing", i);
        return NULL;
    }
    const sym *s = compile_lookup(c, c->node->inputs[i]);
    if (!s)
        return NULL;
    if (s->kind != SYM_CONST) {
        compile_fail(c, "input \"%s\" must be a constant (an initializer)", s->name);
        return NULL;
    }
    if (s->value->dtype != ONNX_FLOAT || (numel >= 0 && onnx_numel(s->value) != numel)) {
        compile_fail(c, "constant \"%s\" must hold %lld floats", s->name, (long long)numel);
        return NULL;
    }
    if (!finite_floats(s->value)) {
        compile_fail(c, "constant \"%s\" holds NaN or infinity", s->name);
        return NULL;
    }
    return s->value;
}

/* How many node inputs of the whole graph read name. */
static int readers(const onnx_model *m, const char *name)
{
    int n = 0;
    for (size_t i = 0; i < m->n_nodes; i++)
        for (size_t j = 0; j < m->nodes[i].n_inputs; j++)
            n += strcmp(m->nodes[i].inputs[j], name) == 0;
    return n;
}

int compile_define(compiler *c, sym s)
{
    if (c->n_syms == c->cap_syms) {
        size_t cap = c->cap_syms ? 2 * c->cap_syms : 256;
        sym *n = realloc(c->syms, cap * sizeof *n);
        if (!n)
            return compile_fail(c, "out of memory");
        c->syms = n;
        c->cap_syms = cap;
    }
    if (c->node)
        s.name = c->node->outputs[0];
    if (s.kind == SYM_ACT)
        c->uses[s.tensor] += readers(c->m, s.name);
    c->syms[c->n_syms++] = s;
    return 0;
}

static int grow(compiler *c, void **array, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? 2 * *cap : 128;
    void *a = realloc(*array, ncap * size);
    if (!a)
        return -1;
    *array = a;
    *cap = ncap;
    return 0;
}

int compile_tensor(compiler *c, int ch, int h, int w)
{
    net *n = c->net;
    size_t cap = c->cap_tensors;
    if (grow(c, (void **)&n->tensors, &c->cap_tensors, n->n_tensors, sizeof *n->tensors) < 0)
        return compile_fail(c, "out of memory");
    /* The per-tensor bookkeeping grows with the tensors. */
    if (c->cap_tensors != cap) {
        int *u = realloc(c->uses, c->cap_tensors * sizeof *u);
        if (u)
            c->uses = u;
        int *p = u ? realloc(c->producer, c->cap_tensors * sizeof *p) : NULL;
        if (p)
            c->producer = p;
        int *r = p ? realloc(c->last_reader, c->cap_tensors * sizeof *r) : NULL;
        if (!r)
            return compile_fail(c, "out of memory");
        c->last_reader = r;
    }
    int t = (int)n->n_tensors++;
    n->tensors[t] = (net_tensor){.c = ch, .h = h, .w = w};
    c->uses[t] = 0;
    c->producer[t] = -1;
    c->last_reader[t] = -1;
    return t;
}

net_layer *compile_layer(compiler *c, net_kind kind, int src, int dst)
{
    net *n = c->net;
    if (grow(c, (void **)&n->layers, &c->cap_layers, n->n_layers, sizeof *n->layers) < 0) {
        compile_fail(c, "out of memory");
        return NULL;
    }
    net_layer *l = &n->layers[n->n_layers];
    *l = (net_layer){.kind = kind, .src = src, .dst = dst, .sum = -1, .sh = 1, .sw = 1};
    l->name = strdup(c->node->name[0] ? c->node->name : c->node->outputs[0]);
    if (!l->name) {
        compile_fail(c, "out of memory");
        return NULL;
    }
    int li = (int)n->n_layers++;
    c->producer[dst] = li;
    c->last_reader[src] = li;
    return l;
}
