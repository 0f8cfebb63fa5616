/* net_compile.c — the driver: checks the operators, sets up the input, then
 * compiles node after node (ONNX lists them in topological order) until the
 * output tensor exists. */
#include "net_compile.h"

#include <stdlib.h>
#include <string.h>

#include "compile.h"

static const struct {
    const char *op;
    int (*compile)(compiler *c);
} handlers[] = {
    {"Conv", compile_conv},
    {"BatchNormalization", compile_batchnorm},
    {"Relu", compile_relu},
    {"Add", compile_add},
    {"MaxPool", compile_pool},
    {"AveragePool", compile_pool},
    {"GlobalAveragePool", compile_global_pool},
    {"ReduceMean", compile_global_pool},
    {"Pad", compile_pad},
    {"Flatten", compile_reshape},
    {"Reshape", compile_reshape},
    {"Transpose", compile_transpose},
    {"Gemm", compile_fc},
    {"MatMul", compile_fc},
    {"Identity", compile_identity},
    {"Constant", compile_constant},
};

static int (*handler(const onnx_node *node))(compiler *c)
{
    if (node->domain[0] && strcmp(node->domain, "ai.onnx"))
        return NULL;
    for (size_t i = 0; i < sizeof handlers / sizeof *handlers; i++)
        if (!strcmp(handlers[i].op, node->op_type))
            return handlers[i].compile;
    return NULL;
}

/* Refuses the model before any work if one operator is unknown, or a node
 * names no output (every handler defines output 0). */
static int check_operators(compiler *c)
{
    for (size_t i = 0; i < c->m->n_nodes; i++) {
        const onnx_node *node = &c->m->nodes[i];
        const char *why = !handler(node)                                ? "unsupported operator"
                          : node->n_outputs < 1 || !node->outputs[0][0] ? "no output named"
                                                                        : NULL;
        if (why) {
            c->node = node;
            compile_fail(c, "%s", why);
            c->node = NULL;
            return -1;
        }
    }
    return 0;
}

/* The one image input: [n, 3, h, w], or [n, h, w, 3] behind a Transpose. */
static int setup_input(compiler *c)
{
    if (c->m->n_inputs != 1)
        return compile_fail(c, "the graph must have exactly one input, not %zu", c->m->n_inputs);
    const onnx_tensor *in = &c->m->inputs[0];
    const int64_t *d = in->dims;
    int nchw = in->rank == 4 && d[1] == 3 && d[2] > 0 && d[3] > 0;
    int nhwc = in->rank == 4 && d[3] == 3 && d[1] > 0 && d[2] > 0;
    if (in->dtype != ONNX_FLOAT || (!nchw && !nhwc))
        return compile_fail(c, "input \"%s\" must be float [n, 3, h, w] or [n, h, w, 3]", in->name);
    int64_t h = nchw ? d[2] : d[1], w = nchw ? d[3] : d[2];
    if (!compile_in_range(c, h, 1, COMPILE_MAX_SIDE, "input height") ||
        !compile_in_range(c, w, 1, COMPILE_MAX_SIDE, "input width") ||
        !compile_in_range(c, 3 * h * w, 1, COMPILE_MAX_ELEMENTS, "input elements"))
        return -1;
    int t = nchw ? compile_tensor(c, 3, (int)d[2], (int)d[3])
                 : compile_tensor(c, 3, (int)d[1], (int)d[2]);
    if (t < 0)
        return -1;
    c->net->input = t;
    sym s = {.name = in->name, .kind = nchw ? SYM_ACT : SYM_NHWC_INPUT, .tensor = t};
    return compile_define(c, s);
}

static int produces(const onnx_node *node, const char *name)
{
    for (size_t i = 0; i < node->n_outputs; i++)
        if (!strcmp(node->outputs[i], name))
            return 1;
    return 0;
}

/* The node's activation inputs are read now: count them off. */
static void consume_inputs(compiler *c)
{
    for (size_t i = 0; i < c->node->n_inputs; i++) {
        if (!c->node->inputs[i][0])
            continue;
        for (size_t j = c->n_syms; j-- > 0;) {
            if (!strcmp(c->syms[j].name, c->node->inputs[i])) {
                if (c->syms[j].kind == SYM_ACT)
                    c->uses[c->syms[j].tensor]--;
                break;
            }
        }
    }
}

static int compile_nodes(compiler *c, const char *output)
{
    for (size_t i = 0; i < c->m->n_nodes; i++) {
        c->node = &c->m->nodes[i];
        consume_inputs(c);
        if (handler(c->node)(c) < 0)
            return -1;
        if (produces(c->node, output))
            break;
    }
    c->node = NULL;
    const sym *s = NULL;
    for (size_t j = c->n_syms; j-- > 0 && !s;)
        if (!strcmp(c->syms[j].name, output))
            s = &c->syms[j];
    if (!s)
        return compile_fail(c, "no tensor named \"%s\" (output:)", output);
    if (s->kind != SYM_ACT || s->pt || s->pl || s->pb || s->pr || s->tensor == c->net->input)
        return compile_fail(c, "tensor \"%s\" cannot be the output", output);
    c->net->output = s->tensor;
    return 0;
}

net *net_compile(const onnx_model *m, const net_options *opts, const char *path, char *err,
                 size_t err_size)
{
    compiler c = {.m = m, .opts = opts, .path = path, .err = err, .err_size = err_size};
    const char *output = opts->output && opts->output[0] ? opts->output : NULL;
    if (!output && m->n_outputs > 0)
        output = m->outputs[0].name;
    c.net = calloc(1, sizeof *c.net);
    int rc = !c.net    ? compile_fail(&c, "out of memory")
             : !output ? compile_fail(&c, "the graph has no output")
                       : check_operators(&c);
    if (rc == 0)
        rc = setup_input(&c);
    if (rc == 0)
        rc = compile_nodes(&c, output);
    free(c.syms);
    free(c.uses);
    free(c.producer);
    free(c.last_reader);
    if (rc < 0) {
        net_free(c.net);
        return NULL;
    }
    return c.net;
}
