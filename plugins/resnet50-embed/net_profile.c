/* net_profile.c — times the plan's convolutions one by one. */
#include "net_profile.h"

#include <stdlib.h>
#include <time.h>

#include "net_run_priv.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int execute(net_plan *p, const plan_step *s)
{
    return dnnl_primitive_execute(s->prim, p->stream, s->n_args, s->args) == dnnl_success &&
                   dnnl_stream_wait(p->stream) == dnnl_success
               ? 0
               : -1;
}

int net_profile_layers(net_plan *p, int reps, double *seconds)
{
    plan_set_threads(p);
    for (size_t i = 0; i < p->net->n_layers; i++)
        seconds[i] = 0;
    for (size_t i = 0; i < p->n_steps; i++) {
        const plan_step *s = &p->steps[i];
        if (s->is_reorder || p->net->layers[s->layer].kind != NET_CONV)
            continue;
        if (execute(p, s) < 0)
            return -1;
        double t0 = now();
        for (int r = 0; r < reps; r++)
            if (execute(p, s) < 0)
                return -1;
        seconds[s->layer] = (now() - t0) / reps;
    }
    return 0;
}

double net_profile_convs(net_plan *p, int reps)
{
    double *seconds = malloc(p->net->n_layers * sizeof *seconds), total = 0;
    int rc = seconds ? net_profile_layers(p, reps, seconds) : -1;
    for (size_t i = 0; rc == 0 && i < p->net->n_layers; i++)
        total += seconds[i];
    free(seconds);
    return rc == 0 ? total : -1;
}

void net_count_flops(const net *n, net_flops *f)
{
    *f = (net_flops){0};
    for (size_t i = 0; i < n->n_layers; i++) {
        const net_layer *l = &n->layers[i];
        if (l->kind != NET_CONV)
            continue;
        const net_tensor *in = &n->tensors[l->src], *out = &n->tensors[l->dst];
        double flops = 2.0 * out->c * out->h * out->w * in->c * l->kh * l->kw;
        int wino = net_conv_is_3x3_s1(l);
        f->total += flops;
        f->winograd += wino ? flops : 0;
        f->fp32_kept += l->fp32 ? flops : 0;
        f->fp32_kept_winograd += l->fp32 && wino ? flops : 0;
    }
}
