/*
 * net_run.h — runs a compiled net on oneDNN, a fixed number of images at a
 * time.
 *
 * A plan holds everything one batch size needs: the primitives, created once
 * with layouts chosen by oneDNN (format_tag any) and kept from layer to layer,
 * the weights reordered into those layouts, and one arena for activations and
 * scratchpads planned by lifetime.  Running it allocates nothing.
 */
#ifndef RESNET50_EMBED_NET_RUN_H
#define RESNET50_EMBED_NET_RUN_H

#include <stddef.h>

#include "net.h"

typedef enum net_precision {
    NET_FP32 = 0,
    /* bf16 convolutions and activations, fp32 accumulation; layers marked
     * fp32 in the net, the pools' averages and the FC stay fp32. */
    NET_BF16 = 1,
} net_precision;

typedef struct net_plan net_plan;

/* Builds a plan for `batch` images.  n is borrowed and must outlive the plan
 * (biases are used in place).  threads 0: OpenMP's default.  Returns NULL
 * with a message in err naming the layer on failure. */
net_plan *net_plan_new(const net *n, int batch, net_precision precision, int threads, char *err,
                       size_t err_size);

/* Where the caller writes the next batch: batch x h x w x 3 floats, image
 * after image, pixels interleaved (NHWC), channels in the model's order.
 * Owned by the plan; rewritten by the caller before every run. */
float *net_plan_input(net_plan *p);

/* Runs the batch.  0, or -1 with a message in err. */
int net_plan_run(net_plan *p, char *err, size_t err_size);

/* batch x features floats from the last run, each image's output tensor
 * flattened in [c,h,w] order.  Owned by the plan. */
const float *net_plan_output(const net_plan *p);
size_t net_plan_features(const net_plan *p);

/* Layout changes a run executes (the input's and the output's included):
 * tests check that consecutive convolutions need none. */
size_t net_plan_reorders(const net_plan *p);

/* Frees the plan.  NULL is fine. */
void net_plan_free(net_plan *p);

#endif
