/*
 * compile.h — the state of one ONNX → net compilation, shared by the driver
 * (net_compile.c), the name table and net building (compile_sym.c), and the
 * operator handlers (compile_ops.c, compile_fuse.c).
 */
#ifndef RESNET50_EMBED_COMPILE_H
#define RESNET50_EMBED_COMPILE_H

#include "net_compile.h"

typedef enum sym_kind {
    SYM_ACT = 1,        /* an activation: a net tensor */
    SYM_CONST = 2,      /* an initializer or Constant */
    SYM_NHWC_INPUT = 3, /* the graph input in NHWC, waiting for its Transpose */
} sym_kind;

/* Bounds on what a model file may ask for, checked before any arithmetic
 * on them (dims, strides, kernels, pads come from the file): a side of any
 * tensor or window, channels, and elements of one image's tensor. */
#define COMPILE_MAX_SIDE     65536
#define COMPILE_MAX_CHANNELS 65536
#define COMPILE_MAX_ELEMENTS ((int64_t)1 << 28)

/* What an ONNX tensor name stands for while compiling. */
typedef struct sym {
    const char *name; /* borrowed from the model */
    sym_kind kind;
    int tensor;               /* ACT */
    int pt, pl, pb, pr;       /* ACT: zero padding of a Pad not yet folded */
    int flat;                 /* ACT: flattened to [n, c*h*w] */
    const onnx_tensor *value; /* CONST, borrowed from the model */
} sym;

typedef struct compiler {
    const onnx_model *m;
    const net_options *opts;
    const char *path;
    char *err;
    size_t err_size;
    const onnx_node *node; /* being compiled, for messages */
    net *net;
    size_t cap_layers, cap_tensors;
    sym *syms;
    size_t n_syms, cap_syms;
    /* Per net tensor: how many node inputs not yet compiled read it, the
     * layer writing it (-1: the image), the last layer reading it. */
    int *uses, *producer, *last_reader;
    int stem_done;
    sym scratch; /* what compile_lookup returns for an initializer */
} compiler;

/* Writes "path: node \"name\" (Op): <fmt>" into the error; returns -1. */
int compile_fail(compiler *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The symbol for name (an initializer becomes a CONST), or NULL after
 * compile_fail when it is unknown. */
const sym *compile_lookup(compiler *c, const char *name);
/* The node's input i as an activation without pending padding unless
 * allow_pad, or NULL after compile_fail. */
const sym *compile_act(compiler *c, size_t i, int allow_pad);
/* The node's input i as a float constant of numel elements (-1: any), or
 * NULL after compile_fail.  Optional inputs ("") give NULL without error
 * when optional is set. */
const onnx_tensor *compile_const(compiler *c, size_t i, int64_t numel, int optional);

/* Whether v is in [lo, hi]; otherwise compile_fail naming what, and 0. */
int compile_in_range(compiler *c, int64_t v, int64_t lo, int64_t hi, const char *what);

/* Binds the node's output 0 to s (copied, name replaced) and counts its
 * readers into the tensor's uses.  0 or -1. */
int compile_define(compiler *c, sym s);
/* A new tensor [ch, h, w], or -1. */
int compile_tensor(compiler *c, int ch, int h, int w);
/* A new layer named after the node, or NULL.  Pointer valid until the next
 * compile_layer. */
net_layer *compile_layer(compiler *c, net_kind kind, int src, int dst);

/* Operator handlers: 0 or -1 after compile_fail. */
int compile_conv(compiler *c);
int compile_pool(compiler *c);
int compile_global_pool(compiler *c);
int compile_fc(compiler *c);
int compile_batchnorm(compiler *c);
int compile_relu(compiler *c);
int compile_add(compiler *c);
int compile_pad(compiler *c);
int compile_reshape(compiler *c);
int compile_transpose(compiler *c);
int compile_identity(compiler *c);
int compile_constant(compiler *c);

#endif
