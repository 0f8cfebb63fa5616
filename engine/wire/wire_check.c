#include "wire_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *kind_word(fr_kind kind)
{
    static const char *const words[] = {"none", "bytes", "image", "tensor"};
    return (unsigned)kind < sizeof words / sizeof *words ? words[kind] : "unknown";
}

/* prod(dims[0..rank)) * elem, or 0 with *overflow set when it does not fit. */
static size_t declared_size(const fr_payload *p, size_t elem, int *overflow)
{
    size_t n = elem;
    for (uint32_t i = 0; i < p->rank; i++) {
        if (p->dims[i] == 0 || n > SIZE_MAX / p->dims[i]) {
            *overflow = p->dims[i] != 0;
            return 0;
        }
        n *= p->dims[i];
    }
    return n;
}

int wire_check_payload(const fr_payload *p, size_t size, char *err, size_t err_size)
{
    size_t elem = p->kind == FR_KIND_TENSOR ? 4 : 1;
    int overflow = 0;
    switch (p->kind) {
    case FR_KIND_NONE:
        if (size == 0)
            return 0;
        snprintf(err, err_size, "a payload of kind none carries %zu bytes", size);
        return -1;
    case FR_KIND_BYTES:
        return 0;
    case FR_KIND_IMAGE:
    case FR_KIND_TENSOR:
        break;
    default:
        snprintf(err, err_size, "unknown payload kind %u", (unsigned)p->kind);
        return -1;
    }
    if ((p->kind == FR_KIND_IMAGE && p->rank != 3) || p->rank < 1 || p->rank > FR_MAX_RANK) {
        snprintf(err, err_size, "%s of rank %u", kind_word(p->kind), p->rank);
        return -1;
    }
    size_t want = declared_size(p, elem, &overflow);
    if (want != 0 && want == size)
        return 0;
    char dims[64] = "";
    for (uint32_t i = 0, n = 0; i < p->rank && n < sizeof dims; i++)
        n += (uint32_t)snprintf(dims + n, sizeof dims - n, i ? "x%u" : "%u", p->dims[i]);
    if (want == 0)
        snprintf(err, err_size, "%s %s declares %s bytes", kind_word(p->kind), dims,
                 overflow ? "more than 2^64" : "zero");
    else
        snprintf(err, err_size, "%s %s needs %zu bytes, the payload has %zu", kind_word(p->kind),
                 dims, want, size);
    return -1;
}

int eos_senders_init(eos_senders *e, const graph *g, size_t stage, uint32_t replica)
{
    const graph_stage *gs = &g->stages[stage];
    *e = (eos_senders){.g = g, .stage = stage, .replica = replica};
    for (size_t k = 0; k < gs->n_inputs; k++)
        e->n += g->stages[gs->inputs[k]].cfg->replicas;
    e->seen = calloc(e->n ? e->n : 1, 1);
    return e->seen ? 0 : -1;
}

/* Index of the flag for (input stage named name, replica), or e->n. */
static size_t sender_slot(const eos_senders *e, const char *name, size_t name_len,
                          unsigned long replica, size_t *input)
{
    const graph_stage *gs = &e->g->stages[e->stage];
    size_t slot = 0;
    for (size_t k = 0; k < gs->n_inputs; k++) {
        const graph_stage *up = &e->g->stages[gs->inputs[k]];
        if (strlen(up->cfg->name) == name_len && strncmp(up->cfg->name, name, name_len) == 0) {
            *input = gs->inputs[k];
            return replica < up->cfg->replicas ? slot + replica : e->n;
        }
        slot += up->cfg->replicas;
    }
    return e->n;
}

int eos_senders_upstream_node(const eos_senders *e, const char *node)
{
    const graph_stage *gs = &e->g->stages[e->stage];
    for (size_t n = 0; n < e->g->pipeline->n_nodes; n++)
        if (strcmp(e->g->pipeline->nodes[n].name, node) == 0)
            for (size_t k = 0; k < gs->n_inputs; k++)
                if (graph_stage_on_node(e->g, gs->inputs[k], n))
                    return 1;
    return 0;
}

int eos_senders_accept(eos_senders *e, const char *sender, int over_network, const char *peer_node,
                       char *err, size_t err_size)
{
    const char *hash = strrchr(sender, '#');
    char *end = NULL;
    unsigned long replica =
        hash && hash[1] >= '0' && hash[1] <= '9' ? strtoul(hash + 1, &end, 10) : 0;
    size_t input = 0;
    size_t slot =
        end && !*end ? sender_slot(e, sender, (size_t)(hash - sender), replica, &input) : e->n;
    if (slot == e->n) {
        snprintf(err, err_size, "end of stream from \"%.200s\", which is not an upstream instance",
                 sender);
        return -1;
    }
    size_t node = graph_instance_node(e->g, input, (uint32_t)replica);
    if (over_network && node == graph_instance_node(e->g, e->stage, e->replica)) {
        snprintf(err, err_size,
                 "end of stream from \"%.200s\" came over the network, but that instance runs "
                 "on this node",
                 sender);
        return -1;
    }
    if (peer_node && node < e->g->pipeline->n_nodes &&
        strcmp(e->g->pipeline->nodes[node].name, peer_node) != 0) {
        snprintf(err, err_size,
                 "end of stream from \"%.200s\" sent by node \"%.64s\", but that instance runs on "
                 "node \"%s\"",
                 sender, peer_node, e->g->pipeline->nodes[node].name);
        return -1;
    }
    if (e->seen[slot]) {
        snprintf(err, err_size, "second end of stream from \"%.200s\"", sender);
        return -1;
    }
    e->seen[slot] = 1;
    return 0;
}

void eos_senders_free(eos_senders *e)
{
    free(e->seen);
    e->seen = NULL;
}
