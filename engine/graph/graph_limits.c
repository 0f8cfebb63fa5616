/*
 * graph_limits.c — what the machine allows a graph: every instance takes
 * ZeroMQ sockets (its command and control pair, its input, one PUSH per
 * consumer instance), and ZeroMQ refuses sockets past ZMQ_MAX_SOCKETS (and
 * each needs a file descriptor).  `replicas` multiply: 256 x 256 replicas
 * ask for 65,000 sockets.  Found by validate, not as "Too many open files"
 * once the run starts.
 */
#include <stdint.h>
#include <sys/resource.h>
#include <zmq.h>

#include "graph.h"

/* Sockets the runtime opens on node (runtime.c's make_sockets). */
static uint64_t sockets_on_node(const graph *g, size_t node, size_t *widest)
{
    uint64_t n = 1, most = 0; /* the coordinator's control socket */
    for (size_t i = 0; i < g->n_stages; i++) {
        const graph_stage *s = &g->stages[i];
        if (s->node != node)
            continue;
        uint64_t per = 3 + (s->n_inputs > 0);
        for (size_t k = 0; k < s->n_consumers; k++)
            per += g->stages[s->consumers[k]].cfg->replicas;
        uint64_t all = per * s->cfg->replicas;
        if (all > most) {
            most = all;
            *widest = i;
        }
        n += all;
    }
    return n;
}

/* The sockets one process may open: ZeroMQ's limit, and the open files
 * allowed (less a margin for the rest of the process). */
static uint64_t socket_limit(void)
{
    void *ctx = zmq_ctx_new();
    int max = ctx ? zmq_ctx_get(ctx, ZMQ_MAX_SOCKETS) : 1023;
    if (ctx)
        zmq_ctx_term(ctx);
    uint64_t limit = max > 0 ? (uint64_t)max : 1023;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur > 64 &&
        rl.rlim_cur - 64 < limit)
        limit = rl.rlim_cur - 64;
    return limit;
}

void graph_check_limits(const graph *g, diag *d)
{
    size_t nodes = g->pipeline->n_nodes ? g->pipeline->n_nodes : 1;
    uint64_t limit = socket_limit();
    for (size_t node = 0; node < nodes; node++) {
        size_t widest = 0;
        uint64_t need = sockets_on_node(g, node, &widest);
        if (need <= limit)
            continue;
        const config_stage *s = g->stages[widest].cfg;
        diag_error(d, g->pipeline->file, s->line, s->col,
                   "stage \"%s\": replicas %u: node \"%s\" would need %llu ZeroMQ sockets, "
                   "above the %llu this process may open (ZMQ_MAX_SOCKETS and the open-files "
                   "limit): lower replicas here or on the stages it feeds",
                   s->name, s->replicas,
                   g->pipeline->n_nodes ? g->pipeline->nodes[node].name : "local",
                   (unsigned long long)need, (unsigned long long)limit);
    }
}
