/*
 * net_run_priv.h — the inside of a plan, shared by net_run.c (which builds
 * and runs it) and net_profile.c (which times its convolutions alone).
 */
#ifndef RESNET50_EMBED_NET_RUN_PRIV_H
#define RESNET50_EMBED_NET_RUN_PRIV_H

#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>

#include "net_run.h"

#define PLAN_MAX_ARGS 6

/* In a function with char *err, size_t err_size: on failure of call, writes
 * "name: what: why" and returns -1. */
#define CHECK_DNNL_NAMED(call, name_, what)                                                        \
    do {                                                                                           \
        dnnl_status_t s_ = (call);                                                                 \
        if (s_ != dnnl_success) {                                                                  \
            snprintf(err, err_size, "%s: %s: %s", name_, what, dnnl_status_str(s_));               \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)
#define CHECK_DNNL(call, what) CHECK_DNNL_NAMED(call, name, what)

/* One primitive execution. */
typedef struct plan_step {
    dnnl_primitive_t prim; /* owned */
    dnnl_exec_arg_t args[PLAN_MAX_ARGS];
    int n_args;
    int layer;      /* the net layer it computes, or -1 for a reorder */
    int is_reorder; /* a layout or type change */
} plan_step;

/* One buffer the steps read or write. */
typedef struct plan_value {
    dnnl_memory_t mem; /* owned; its handle points into the arena or is owned by oneDNN */
    size_t bytes;
    int first, last; /* steps that write it first and read it last */
    int alias;       /* written in place over this value, or -1 */
    int in_arena;    /* 0: weights, allocated by oneDNN once */
    /* What its numbers mean: real = scale · (q − zero_point); 1 and 0 for
     * floating-point values. */
    float scale;
    int zero_point;
} plan_value;

struct net_plan {
    const net *net; /* borrowed */
    int batch, threads;
    net_precision *layer_precision; /* owned, per layer */
    const net_quant *quant;         /* borrowed while building, then NULL */
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    plan_step *steps;
    size_t n_steps, cap_steps;
    plan_value *values;
    size_t n_values, cap_values;
    int *tensor_value; /* per net tensor: the value holding it, -1 before */
    int input_value, output_value;
    void *arena;
    size_t n_reorders;
    size_t n_reference; /* layers on a reference kernel */
};

/* Sets the calling thread's OpenMP thread count to the plan's (if any). */
void plan_set_threads(const net_plan *p);

/* Building blocks shared by net_run.c and net_int8.c.  Functions returning
 * int give a value index or 0, and -1 with "name: why" in err. */
const char *dnnl_status_str(dnnl_status_t s);
const dnnl_memory_desc_t *value_md(const net_plan *p, int v);
/* A new buffer described by md.  handle: DNNL_MEMORY_NONE for one in the
 * arena, DNNL_MEMORY_ALLOCATE for one oneDNN owns (weights), or borrowed
 * memory that outlives the plan.  Scale 1, zero point 0.  Index or -1. */
int plan_add_value(net_plan *p, const dnnl_memory_desc_t *md, void *handle);
/* Passes value v to step s as arg and extends v's lifetime to s. */
void step_arg(net_plan *p, plan_step *s, int arg, int v);
/* Creates pd's primitive as a new step (scratchpad from the arena); takes
 * pd over.  NULL on failure. */
plan_step *plan_add_primitive(net_plan *p, dnnl_primitive_desc_t pd, int layer, int is_reorder);
dnnl_primitive_attr_t user_scratchpad_attr(void);
/* A step converting value from into value to: layout, type, scale, zero point. */
int plan_add_reorder(net_plan *p, int from, int to, const char *name, char *err, size_t err_size);
/* The value holding tensor t in layout md with numbers of the given form:
 * t's own when it already is, else a new one converted from it. */
int plan_value_as(net_plan *p, int t, const dnnl_memory_desc_t *md, quant_form form,
                  const char *name, char *err, size_t err_size);
/* User weights (fp32, plain, dims) copied once into md, multiplied by
 * per_out_scale[o] along dims[0] first when not NULL (quantizing). */
int plan_weights(net_plan *p, const float *w, const dnnl_dims_t dims, int ndims,
                 const dnnl_memory_desc_t *md, const float *per_out_scale, const char *name,
                 char *err, size_t err_size);
/* Post-ops of a convolution: the residual sum (dst read as sum_type and
 * multiplied by sum_scale), then ReLU. */
dnnl_primitive_attr_t conv_attr(const net_layer *l, float sum_scale, dnnl_data_type_t sum_type);

/* How a layer with weights meets its neighbours. */
typedef struct weighted_io {
    quant_form src;       /* the form the source must be in */
    const float *w_scale; /* per output channel, applied to the weights; NULL: none */
    const float *bias;    /* NULL: the layer's own (borrowed); else copied into the plan */
    dnnl_memory_desc_t dst_md;
    quant_form dst;            /* the result's form */
    dnnl_memory_desc_t sum_md; /* the shortcut is brought into sum_md and sum, then overwritten */
    quant_form sum;
} weighted_io;
/* The step of layer li with primitive descriptor pd (taken over). */
int plan_weighted(net_plan *p, int li, dnnl_primitive_desc_t pd, const dnnl_dims_t w_dims,
                  const dnnl_memory_desc_t *b_md, const weighted_io *io, char *err,
                  size_t err_size);
/* The int8 convolution of layer li (net_int8.c). */
int plan_conv_int8(net_plan *p, int li, char *err, size_t err_size);

#endif
