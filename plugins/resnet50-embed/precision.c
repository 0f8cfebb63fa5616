/* precision.c — per-layer precisions: uniform ones, and their description. */
#include "precision.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

net_precision *precision_uniform(const net *n, net_precision prec)
{
    net_precision *layer = malloc(n->n_layers * sizeof *layer);
    for (size_t i = 0; layer && i < n->n_layers; i++) {
        const net_layer *l = &n->layers[i];
        layer[i] = l->kind == NET_CONV && !l->fp32 ? prec : NET_FP32;
    }
    return layer;
}

const char *precision_name(net_precision p)
{
    return p == NET_INT8 ? "int8" : p == NET_BF16 ? "bf16" : "fp32";
}

void precision_describe(const net *n, const net_precision *layer, char *buf, size_t size)
{
    int count[3] = {0};
    for (size_t i = 0; i < n->n_layers; i++)
        count[layer[i]] += n->layers[i].kind == NET_CONV;
    net_precision most = NET_FP32;
    for (int k = 1; k < 3; k++)
        most = count[k] > count[most] ? (net_precision)k : most;
    size_t at = 0;
    buf[0] = 0;
    for (int k = 0; k < 3; k++) {
        net_precision pk = k == 0 ? most : (net_precision)((most + k) % 3);
        if (!count[pk] || at >= size)
            continue;
        at += (size_t)snprintf(buf + at, size - at, "%s%s %d", at ? ", " : "", precision_name(pk),
                               count[pk]);
        const char *sep = " (";
        for (size_t i = 0; pk != most && i < n->n_layers && at < size; i++) {
            if (n->layers[i].kind != NET_CONV || layer[i] != pk)
                continue;
            at += (size_t)snprintf(buf + at, size - at, "%s%s", sep, n->layers[i].name);
            sep = " ";
        }
        if (pk != most && at < size)
            at += (size_t)snprintf(buf + at, size - at, ")");
    }
}
