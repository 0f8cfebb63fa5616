/*
 * cluster.h — the control plane of a run split over nodes (flowrun run
 * --node NAME, one process per node).  One node coordinates (the YAML's
 * cluster: coordinator, or the first node): it binds a ROUTER on its
 * control endpoint (transport.h), every other node connects a DEALER named
 * after itself.  The coordinator
 *   - admits a node only if it runs the same pipeline file, flowrun version
 *     and plugins (name, version, ABI), and lets data flow only when every
 *     node that has stages joined (cluster: join_timeout);
 *   - receives the other nodes' dead letters, commits and failures (the
 *     instances' control messages, forwarded as they are), so the dead
 *     letter file, the commit tracker and the verdict live in one place;
 *     sends each source's completed commits to the node that runs it;
 *   - exchanges heartbeats with every node: a node silent for node_timeout
 *     is lost, and the run stops everywhere with an error naming it;
 *   - sends every node the run's verdict, which each node exits with.
 * Every message is a list of frames, the first a word (JOIN, GO, CTL, ...);
 * each is checked on arrival like a data message (the sender is a node that
 * joined, the stage runs on that node, the counts parse).
 */
#ifndef FLOWRUN_CLUSTER_H
#define FLOWRUN_CLUSTER_H

#include <stdint.h>

#include "control.h"
#include "run_state.h"

typedef struct cluster cluster;

/* What the cluster asks of the process's own coordinator (runtime.c). */
typedef struct cluster_hooks {
    void *ctx;
    /* Coordinator: an instance message forwarded by another node (DEAD or
     * COMMIT), already checked. */
    void (*control)(void *ctx, const control_header *h, char **texts, int n);
    /* Node: ids whose commits are complete, for the local instances of the
     * source stage. */
    void (*commits)(void *ctx, size_t stage, const char *const *ids, size_t n);
    /* Either: the run must stop now; the reason was logged. */
    void (*stop)(void *ctx);
    /* Either: 1 if this process was asked to stop (SIGINT/SIGTERM), checked
     * while the cluster waits (joining, waiting for the other nodes). */
    int (*interrupted)(void *ctx);
    /* Either: another node asked to end the input of a watching run (its
     * SIGTERM): end the local sources' input, drain, commit.  why names the
     * node and the signal. */
    void (*drain)(void *ctx, const char *why);
} cluster_hooks;

/* NULL (nothing to do) unless the run is split over nodes; sets *failed
 * when the control socket cannot be made (logged). */
cluster *cluster_new(run *r, const cluster_hooks *hooks, int *failed);
void cluster_free(cluster *cl);

int cluster_is_coordinator(const cluster *cl);
/* 1 if node i (of the pipeline's nodes) is this process, or joined and not
 * lost (for the metrics' node liveness). */
int cluster_node_up(const cluster *cl, size_t i);
void *cluster_socket(const cluster *cl); /* to poll for ZMQ_POLLIN */

/* The kind of run (fr_run_kind) the coordinator node's ledger decided: the
 * coordinator's own; a node asks it (KIND) before it makes its stages,
 * waiting up to join_timeout.  -1 when no answer came (logged). */
int cluster_run_kind(cluster *cl);

/* Joins the run once the local instances are ready (local_ok) or failed.
 * Returns 1 when every node joined and data may flow, 0 otherwise (the
 * reason logged: a refusal, a missing node, a failure elsewhere). */
int cluster_join(cluster *cl, int local_ok);

/* Handles every message waiting on the socket, then heartbeats and timeouts.
 * Call it whenever the socket polls readable, and at least every 250 ms. */
void cluster_service(cluster *cl);

/* Node: sends an instance's DEAD or COMMIT to the coordinator. */
void cluster_forward(cluster *cl, const control_header *h, const char *const *texts, int n);

/* Coordinator: sends an id done to every other node that runs a replica
 * of source stage `stage` (the local ones are the caller's). */
void cluster_send_commits(cluster *cl, size_t stage, const char *id);

/* A signal asks this process to end the input (why: the signal's name).
 * In a watching run (a source on some node watches its store) that has
 * started, every node ends its input, drains and commits: the coordinator
 * tells every node (DRAIN), another node tells the coordinator, which tells
 * the rest; returns 1, and the caller drains its own part.  Returns 0 when
 * the run is not watching or has not started: the caller stops at once. */
int cluster_end_input(cluster *cl, const char *why);

/* The local part stopped early (a stage failed, a signal): tells the rest. */
void cluster_local_stop(cluster *cl, int code, const char *why);

/* The local instances are done: `emitted` records left its sources,
 * `code` is its own outcome (EXIT_FAILED, EXIT_INTERRUPTED or 0).
 * Node: sends them and waits for the verdict, which it returns.
 * Coordinator: waits for every other node's outcome, adds the records
 * their sources emitted to *emitted, and returns the worst of their codes
 * (0, EXIT_FAILED or EXIT_INTERRUPTED). */
int cluster_finish(cluster *cl, uint64_t *emitted, int code);

/* Coordinator: the run's exit code, sent to every node. */
void cluster_send_verdict(cluster *cl, int code);

#endif
