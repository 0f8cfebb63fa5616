/*
 * net_profile.h — the conv-only bound: how fast the network's convolutions
 * alone run, each timed in isolation with warm caches.  A whole network also
 * pools, adds and reorders and runs with colder caches, so this is an upper
 * bound for bench/embed to compare a full run with.
 */
#ifndef RESNET50_EMBED_NET_PROFILE_H
#define RESNET50_EMBED_NET_PROFILE_H

#include "net.h"
#include "net_run.h"

/* Runs every convolution of p once to warm up, then reps times, and returns
 * the sum over convolutions of their mean time per execution, in seconds
 * (one batch).  Returns a negative value if a primitive fails.  The plan's
 * buffers are left with meaningless contents. */
double net_profile_convs(net_plan *p, int reps);

/* The same per layer: seconds[i] (n_layers entries, caller memory) is
 * layer i's mean time per execution if it is a convolution, else 0.
 * 0, or -1 if a primitive fails. */
int net_profile_layers(net_plan *p, int reps, double *seconds);

/* The work of one image through the net's convolutions, in floating-point
 * operations (2 per multiply-add), split the way bench/embed's ceilings
 * need: in 3x3 stride-1 layers (Winograd's), in layers kept in fp32 under
 * bf16 (the fp32 flag set by net_compile), and both. */
typedef struct net_flops {
    double total, winograd, fp32_kept, fp32_kept_winograd;
} net_flops;
void net_count_flops(const net *n, net_flops *f);

#endif
