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
#include "net_quant.h"

/* How one convolution runs.  Pools follow their source (averages in fp32),
 * fully connected layers stay fp32. */
typedef enum net_precision {
    NET_FP32 = 0, /* fp32; Winograd for 3x3 stride-1 layers */
    NET_BF16 = 1, /* bf16 sources, weights and result, fp32 accumulation */
    /* u8/s8 source, s8 weights with a scale per output channel, int32
     * accumulation; the result in 8 bits when every reader takes 8 bits,
     * else in fp32. */
    NET_INT8 = 2,
} net_precision;

/* The precision of every layer, and the activation ranges int8 layers are
 * quantized with.  Both borrowed for net_plan_new's call only. */
typedef struct net_mix {
    const net_precision *layer; /* n_layers entries; NULL: all fp32 */
    const net_quant *quant;     /* NULL when no layer is int8 */
} net_mix;

typedef struct net_plan net_plan;

/* Builds a plan for `batch` images.  n is borrowed and must outlive the plan
 * (biases are used in place).  mix NULL: all fp32.  threads 0: OpenMP's
 * default.  Returns NULL with a message in err naming the layer on failure. */
net_plan *net_plan_new(const net *n, int batch, const net_mix *mix, int threads, char *err,
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

/* Layers oneDNN runs with its reference (plain C, unvectorized) kernel:
 * no precision that needs one is ever the fast choice. */
size_t net_plan_reference_kernels(const net_plan *p);

/* Frees the plan.  NULL is fine. */
void net_plan_free(net_plan *p);

#endif
