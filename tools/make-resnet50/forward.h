/* forward.h — a straightforward float32 forward pass over an onnx_model,
 * used to calibrate BN statistics and to check the generated models. */
#ifndef MAKE_RESNET50_FORWARD_H
#define MAKE_RESNET50_FORWARD_H

#include "onnx.h"

#include <stddef.h>

/* Runs m on n inputs x (borrowed, laid out as m's first input with its
 * symbolic batch dimension = n) and returns a malloc'd copy of tensor
 * `output` (caller frees; *count = its element count), or NULL with err set
 * (unsupported operator or attribute, unknown tensor, out of memory).
 * With calibrate set, every BatchNormalization first replaces its mean and
 * variance initializers in m by the statistics of its actual input over
 * batch and space, so layer after layer sees normalised inputs. */
float *forward_run(onnx_model *m, const float *x, int n, const char *output, int calibrate,
                   size_t *count, char *err, size_t err_size);

#endif
