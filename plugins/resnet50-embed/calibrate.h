/*
 * calibrate.h — the calibration pass: an fp32 run that records the range
 * of every tensor (net_quant.h), from which int8 layers get their scales.
 */
#ifndef RESNET50_EMBED_CALIBRATE_H
#define RESNET50_EMBED_CALIBRATE_H

#include "net_quant.h"
#include "net_run.h"

/* Runs p, an all-fp32 plan whose input the caller wrote, and widens q's
 * ranges by the input and every layer's result, batch images at a time
 * (q->images grows by the plan's batch).  0, or -1 with a message in err. */
int calibrate_run(net_plan *p, net_quant *q, char *err, size_t err_size);

#endif
