/* fold.h — BatchNormalization folded into the preceding convolutions. */
#ifndef MAKE_RESNET50_FOLD_H
#define MAKE_RESNET50_FOLD_H

#include "onnx.h"

#include <stddef.h>

/* A copy of kept (borrowed) with every BatchNormalization folded
 * into the convolution before it: W' = W·γ/√(σ²+ε), b' = (b−μ)·γ/√(σ²+ε) + β.
 * Tensor names downstream of each BN stay the same.  NULL when out of memory
 * or a BN does not follow a Conv (err says which). */
onnx_model *fold_bn(const onnx_model *kept, char *err, size_t err_size);

#endif
