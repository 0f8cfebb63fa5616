/* net.c — what a compiled net owns. */
#include "net.h"

#include <stdlib.h>

void net_free(net *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n_layers; i++) {
        free(n->layers[i].name);
        free(n->layers[i].weights);
        free(n->layers[i].bias);
    }
    free(n->layers);
    free(n->tensors);
    free(n);
}
