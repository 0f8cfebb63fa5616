/*
 * precision.h — which precision each convolution runs in.
 */
#ifndef RESNET50_EMBED_PRECISION_H
#define RESNET50_EMBED_PRECISION_H

#include <stddef.h>

#include "net.h"
#include "net_run.h"

/* Every convolution in prec except those the net keeps in fp32 (the
 * fp32_layers option), every other layer fp32.  n_layers entries, owned by
 * the caller (free); NULL when out of memory. */
net_precision *precision_uniform(const net *n, net_precision prec);

/* "fp32", "bf16", "int8". */
const char *precision_name(net_precision p);

/* A line for the run report: how many convolutions run in each precision
 * and the names of those not in the most common one, e.g. "int8 52, fp32 1
 * (conv1)".  Truncated to size. */
void precision_describe(const net *n, const net_precision *layer, char *buf, size_t size);

#endif
