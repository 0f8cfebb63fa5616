/*
 * cli_chain_top.c — the k most probable classes (cli_chain.h): apart from
 * the chain, for the model server's answers (cli_serve_body.c), which are
 * fuzzed without a model.
 */
#include "cli_chain.h"

void chain_top(const float *prob, size_t n, size_t k, uint32_t *top)
{
    size_t have = 0;
    for (size_t c = 0; c < n; c++) {
        if (have == k && !(prob[c] > prob[top[k - 1]]))
            continue;
        size_t at = have < k ? have++ : k - 1;
        for (; at > 0 && prob[c] > prob[top[at - 1]]; at--)
            top[at] = top[at - 1];
        top[at] = (uint32_t)c;
    }
}
