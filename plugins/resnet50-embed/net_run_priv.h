/*
 * net_run_priv.h — the inside of a plan, shared by net_run.c (which builds
 * and runs it) and net_profile.c (which times its convolutions alone).
 */
#ifndef RESNET50_EMBED_NET_RUN_PRIV_H
#define RESNET50_EMBED_NET_RUN_PRIV_H

#include <oneapi/dnnl/dnnl.h>

#include "net_run.h"

#define PLAN_MAX_ARGS 6

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
} plan_value;

struct net_plan {
    const net *net; /* borrowed */
    int batch, threads;
    net_precision precision;
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
};

/* Sets the calling thread's OpenMP thread count to the plan's (if any). */
void plan_set_threads(const net_plan *p);

#endif
