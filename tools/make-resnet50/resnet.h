/* resnet.h — ResNet50 as an onnx_model, Keras v1 or torchvision v1.5. */
#ifndef MAKE_RESNET50_RESNET_H
#define MAKE_RESNET50_RESNET_H

#include "onnx.h"

#include <stdint.h>

typedef enum { RESNET_KERAS, RESNET_TORCHVISION } resnet_variant;

/* The tensor holding the 2048 pooled features, [N, 2048]: the graph output
 * without a head, an inner tensor with one. */
#define RESNET_FEATURES "features"
/* The classifier output when built with a head, [N, 1000]. */
#define RESNET_LOGITS "logits"

/* Builds the network with BatchNormalization nodes and weights drawn from
 * seed (BN statistics: mean 0, variance 1, to be calibrated).
 *   keras:       NHWC input [N,224,224,3] → Transpose → Pad + 7×7/2 conv,
 *                Pad + 3×3/2 max pool, conv biases, BN eps 1.001e-5, stride on
 *                the first 1×1 conv of downsampling blocks, ReduceMean pool;
 *   torchvision: NCHW input [N,3,224,224], padding inside Conv/MaxPool, no conv
 *                biases, BN eps 1e-5, stride on the 3×3 conv, GlobalAveragePool
 *                + Flatten.
 * head adds a 1000-way Gemm after the features.  Returns a model the caller
 * frees, or NULL when out of memory. */
onnx_model *resnet_build(resnet_variant variant, int head, uint64_t seed);

#endif
