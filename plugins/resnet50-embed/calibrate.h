/*
 * calibrate.h — the calibration pass: an fp32 run that records the range
 * of every tensor (net_quant.h), from which int8 layers get their scales.
 */
#ifndef RESNET50_EMBED_CALIBRATE_H
#define RESNET50_EMBED_CALIBRATE_H

#include "net_quant.h"
#include "net_run.h"

/* The whole calibration: count preprocessed images (net_plan_input's
 * layout, image after image) through p (all fp32) twice, for the ranges and
 * then their histograms, then the clipped ranges (net_quant_clip).  A short
 * last batch is padded with its first image.  Returns the ranges (owned by
 * the caller) or NULL with a message in err. */
net_quant *calibrate_images(net_plan *p, const net *n, const float *images, int count, char *err,
                            size_t err_size);

#endif
