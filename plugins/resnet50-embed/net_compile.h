/*
 * net_compile.h — turns an ONNX graph into a net (net.h).
 *
 * Accepts the operators of ResNet-style networks (Conv, BatchNormalization,
 * Relu, Add, MaxPool, AveragePool, GlobalAveragePool, ReduceMean, Pad,
 * Flatten, Reshape, Transpose, Gemm, MatMul, Identity, Constant) and refuses
 * anything else, or any use of them it cannot fold, naming the operator and
 * the node.  Folds batch-norm into the convolution before it, Pad into the
 * padding of the layer after it, the NHWC input's Transpose into the input
 * layout, ReLU and residual Add into the convolution that produces them.
 */
#ifndef RESNET50_EMBED_NET_COMPILE_H
#define RESNET50_EMBED_NET_COMPILE_H

#include <stddef.h>

#include "net.h"
#include "onnx.h"

typedef struct net_options {
    /* The tensor to compute, by ONNX name; NULL or "": the graph's first
     * output.  Nodes after the one producing it are not compiled. */
    const char *output;
    /* Comma-separated node names of convolutions kept in fp32 when running
     * in bf16; "stem" names the first convolution, "entry" those reading a
     * max pool's result.  NULL: none. */
    const char *fp32_layers;
} net_options;

/* Compiles m (borrowed; the net copies what it keeps).  path is only used in
 * messages.  Returns NULL with "path: node \"name\" (Op): why" in err. */
net *net_compile(const onnx_model *m, const net_options *opts, const char *path, char *err,
                 size_t err_size);

#endif
