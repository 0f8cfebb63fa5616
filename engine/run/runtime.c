/*
 * runtime.c — the coordinator of one process (docs/architecture.md, "Runtime and transport"): makes
 * every local instance's sockets, starts the instances stage by stage in
 * topological order (so a type a plugin narrows at init reaches its
 * consumers before they start), lets data flow only when all are ready,
 * then gathers dead letters, commits, end-of-stream and errors until every
 * instance is done, and stops everything cleanly on error or signal.
 */
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "buffer.h"
#include "cluster.h"
#include "commit_tracker.h"
#include "control.h"
#include "curve.h"
#include "instance.h"
#include "ledger.h"
#include "link_window.h"
#include "log.h"
#include "metrics_server.h"
#include "port_type.h"
#include "progress.h"
#include "run_report.h"
#include "service_notify.h"
#include "snapshot_take.h"
#include "state_dir.h"
#include "transport.h"

#define TICK_MS 250 /* progress refresh, snapshots for the metrics */

typedef struct coordinator {
    run *r;
    void *ctl;   /* PULL: every instance's messages */
    void **cmd;  /* PUSH to each instance's command socket, same order as instances */
    int dead_fd; /* dead_letters file, opened at the first one */
    commit_tracker *tracker;
    run_tally tally;
    size_t n_done;
    int failed;      /* a stage failed: exit code 3 */
    int interrupted; /* the signal that stopped us, or 0 */
    int signalled;   /* signals this process got (the first may end the input) */
    char why[1200];  /* why this process stopped early, for the other nodes */
    int flowed;      /* every instance (every node) was ready and got GO */
    int usage;       /* a configuration error (the ledger, dead_letters): exit code 2 */
    progress *progress;
    cluster *cluster;        /* the other nodes of a split run, or NULL */
    struct timespec t0;      /* when the run started */
    snapshot_board board;    /* the snapshots this coordinator publishes */
    metrics_server *metrics; /* --metrics / metrics:, or NULL */
    service_notify *notify;  /* systemd's notify socket, or NULL */
} coordinator;

/* ---- signals ---------------------------------------------------------- */

static int signal_pipe[2] = {-1, -1};

static void on_signal(int signo)
{
    unsigned char b = (unsigned char)signo;
    if (write(signal_pipe[1], &b, 1) < 0) {
        /* nothing to do: a stop is already pending */
    }
}

static int install_signals(void)
{
    if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return -1;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* Past a file-size limit, let write() fail with EFBIG so the sink reports
     * it and removes its temporary file, instead of the process dying. */
    signal(SIGXFSZ, SIG_IGN);
    return 0;
}

static void restore_signals(void)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGXFSZ, SIG_DFL);
    close(signal_pipe[0]);
    close(signal_pipe[1]);
    signal_pipe[0] = signal_pipe[1] = -1;
}

/* ---- set-up ----------------------------------------------------------- */

/* The index of this process's node (0 for a whole-graph run). */
static size_t own_node(const run *r)
{
    for (size_t i = 0; r->opt->node && i < r->graph->pipeline->n_nodes; i++)
        if (strcmp(r->graph->pipeline->nodes[i].name, r->opt->node) == 0)
            return i;
    return 0;
}

int run_is_local(const run *r, size_t stage_index)
{
    return !r->opt->node || graph_stage_on_node(r->graph, stage_index, own_node(r));
}

static int instance_is_local(const run *r, size_t s, uint32_t replica)
{
    return !r->opt->node || graph_instance_node(r->graph, s, replica) == own_node(r);
}

static void *new_socket(run *r, int type)
{
    void *s = zmq_socket(r->zmq, type);
    if (s)
        socket_tune(s, (int)r->opt->queue_depth);
    return s;
}

static int make_instances(run *r)
{
    const graph *g = r->graph;
    for (size_t i = 0; i < g->n_stages; i++)
        for (uint32_t k = 0; k < g->stages[i].cfg->replicas; k++)
            r->n_instances += (size_t)instance_is_local(r, i, k);
    r->instances = calloc(r->n_instances ? r->n_instances : 1, sizeof *r->instances);
    if (!r->instances)
        return -1;
    size_t n = 0;
    for (size_t o = 0; o < g->n_stages; o++) {
        size_t s = g->order[o];
        if (!run_is_local(r, s))
            continue;
        for (uint32_t k = 0; k < g->stages[s].cfg->replicas; k++) {
            if (!instance_is_local(r, s, k))
                continue;
            instance *in = &r->instances[n++];
            char err[4400];
            instance_prepare(in, r, s, k, g->stages[s].input_type);
            in->stage.state_dir =
                ledger_stage_dir(r->ledger, g->stages[s].cfg->name, k, err, sizeof err);
            if (!in->stage.state_dir) {
                log_msg(FR_LOG_ERROR, NULL, "%s", err);
                return -1;
            }
        }
    }
    return 0;
}

static int bind_data_in(run *r, instance *in)
{
    const graph *g = r->graph;
    char ep[ENDPOINT_MAX], err[256];
    if (!g->stages[in->stage_index].n_inputs)
        return 0;
    if (!(in->data_in = new_socket(r, ZMQ_PULL)))
        return -1;
    endpoint_local(r->run_id, g, in->stage_index, in->index, ep, sizeof ep);
    if (zmq_bind(in->data_in, ep) != 0)
        return -1;
    if (!r->opt->node || !instance_has_remote_input(g, in->stage_index, in->index))
        return 0; /* a whole-graph run keeps every link in the process */
    if (endpoint_remote(g, in->stage_index, in->index, 1, ep, sizeof ep, err, sizeof err) != 0) {
        log_msg(FR_LOG_ERROR, NULL, "%s", err);
        return -1;
    }
    link_window_tune(in->data_in, g->stages[in->stage_index].input_type, r->opt->queue_depth);
    if ((r->curve && curve_server(r->curve, in->data_in, ep) != 0) ||
        zmq_bind(in->data_in, ep) != 0) {
        log_msg(FR_LOG_ERROR, in->stage.scope, "cannot listen on %s: %s", ep,
                zmq_strerror(zmq_errno()));
        return -1;
    }
    snprintf(in->listen_ep, sizeof in->listen_ep, "%s", ep);
    return 0;
}

static int connect_outs(run *r, instance *in)
{
    const graph *g = r->graph;
    const graph_stage *gs = &g->stages[in->stage_index];
    if (!(in->outs = calloc(gs->n_consumers ? gs->n_consumers : 1, sizeof *in->outs)))
        return -1;
    in->n_outs = gs->n_consumers;
    for (size_t k = 0; k < gs->n_consumers; k++) {
        size_t c = gs->consumers[k];
        out_port *port = &in->outs[k];
        port->n = g->stages[c].cfg->replicas;
        if (!(port->socks = calloc(port->n, sizeof *port->socks)))
            return -1;
        for (unsigned j = 0; j < port->n; j++) {
            char ep[ENDPOINT_MAX], err[256];
            size_t node = graph_instance_node(g, c, j);
            int remote = r->opt->node && node != graph_instance_node(g, in->stage_index, in->index);
            if (remote && endpoint_remote(g, c, j, 0, ep, sizeof ep, err, sizeof err) != 0)
                return -1;
            if (!remote)
                endpoint_local(r->run_id, g, c, j, ep, sizeof ep);
            if (!(port->socks[j] = new_socket(r, ZMQ_PUSH)))
                return -1;
            if (remote)
                link_window_tune(port->socks[j], gs->output_type, r->opt->queue_depth);
            if ((remote && r->curve && curve_client(r->curve, port->socks[j], node)) ||
                zmq_connect(port->socks[j], ep))
                return -1;
        }
    }
    return 0;
}

static int make_sockets(coordinator *co)
{
    run *r = co->r;
    char ep[ENDPOINT_MAX];
    snprintf(ep, sizeof ep, "inproc://%s/ctl", r->run_id);
    co->ctl = zmq_socket(r->zmq, ZMQ_PULL);
    if (!co->ctl || zmq_bind(co->ctl, ep) != 0)
        return -1;
    if (!(co->cmd = calloc(r->n_instances ? r->n_instances : 1, sizeof *co->cmd)))
        return -1;
    for (size_t i = 0; i < r->n_instances; i++) {
        instance *in = &r->instances[i];
        char cmd_ep[ENDPOINT_MAX];
        snprintf(cmd_ep, sizeof cmd_ep, "inproc://%s/cmd/%zu/%u", r->run_id, in->stage_index,
                 in->index);
        in->cmd = zmq_socket(r->zmq, ZMQ_PULL);
        in->ctl = zmq_socket(r->zmq, ZMQ_PUSH);
        co->cmd[i] = zmq_socket(r->zmq, ZMQ_PUSH);
        if (!in->cmd || !in->ctl || !co->cmd[i] || zmq_bind(in->cmd, cmd_ep) ||
            zmq_connect(co->cmd[i], cmd_ep) || zmq_connect(in->ctl, ep) || bind_data_in(r, in) != 0)
            return -1;
    }
    for (size_t i = 0; i < r->n_instances; i++)
        if (connect_outs(r, &r->instances[i]) != 0)
            return -1;
    return 0;
}

static void close_socket(void *sock, int linger)
{
    if (!sock)
        return;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(sock);
}

static void close_sockets(coordinator *co, int linger)
{
    run *r = co->r;
    for (size_t i = 0; i < r->n_instances; i++) {
        instance *in = &r->instances[i];
        close_socket(in->data_in, linger);
        close_socket(in->ctl, linger);
        close_socket(in->cmd, 0);
        for (size_t k = 0; k < in->n_outs; k++) {
            for (size_t j = 0; j < in->outs[k].n; j++)
                close_socket(in->outs[k].socks[j], linger);
            free(in->outs[k].socks);
        }
        free(in->outs);
        if (co->cmd)
            close_socket(co->cmd[i], 0);
    }
    close_socket(co->ctl, 0);
    free(co->cmd);
}

/* ---- messages from the instances -------------------------------------- */

static void send_command(coordinator *co, size_t i, enum control_type type,
                         const char *const *texts, size_t n)
{
    control_header h = {.type = type,
                        .stage = (uint32_t)co->r->instances[i].stage_index,
                        .instance = co->r->instances[i].index};
    control_send(co->cmd[i], &h, texts, n);
}

/* The stage whose id this is: the text before the first ':'. */
static size_t source_of(const graph *g, const char *id)
{
    const char *colon = strchr(id, ':');
    for (size_t i = 0; colon && i < g->n_stages; i++)
        if (strlen(g->stages[i].cfg->name) == (size_t)(colon - id) &&
            strncmp(g->stages[i].cfg->name, id, colon - id) == 0)
            return i;
    return g->n_stages;
}

/* Counts commits for id; when every sink has it, tells its source. */
static void id_committed(coordinator *co, const char *id, size_t count)
{
    const graph *g = co->r->graph;
    size_t src = source_of(g, id);
    size_t needed = src < g->n_stages ? g->stages[src].sinks_reached : 1;
    if (tracker_add(co->tracker, id, needed, count) != 1)
        return;
    co->tally.done++;
    if (src < g->n_stages)
        co->tally.source_done[src]++;
    if (src == g->n_stages || !g->stages[src].plugin->desc.on_commit)
        return;
    if (co->cluster) /* replicas of the source on other nodes */
        cluster_send_commits(co->cluster, src, id);
    for (size_t i = 0; i < co->r->n_instances; i++)
        if (co->r->instances[i].stage_index == src)
            send_command(co, i, CTL_COMMITS, &id, 1);
}

static void write_dead_letter(coordinator *co, const char *id, const char *line)
{
    const char *path = co->r->graph->pipeline->dead_letters;
    if (ledger_is_durable(co->r->ledger)) {
        ledger_dead(co->r->ledger, id, line); /* the file is written from it at the end */
        return;
    }
    if (co->dead_fd < 0) {
        co->dead_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (co->dead_fd < 0) {
            log_msg(FR_LOG_ERROR, NULL, "cannot write dead letters to %s: %s", path,
                    strerror(errno));
            co->failed = 1;
            return;
        }
    }
    size_t len = strlen(line);
    char *with_newline = malloc(len + 2);
    if (!with_newline)
        return;
    memcpy(with_newline, line, len);
    with_newline[len] = '\n';
    /* One write per line: O_APPEND keeps lines whole when nodes share the file. */
    if (write(co->dead_fd, with_newline, len + 1) != (ssize_t)(len + 1)) {
        log_msg(FR_LOG_ERROR, NULL, "writing dead letters to %s: %s", path, strerror(errno));
        co->failed = 1;
    }
    free(with_newline);
}

/* In a split run, dead letters and commits go to the coordinator node. */
static int forwarded(coordinator *co, const control_header *h, char **texts, int n)
{
    if (!co->cluster || cluster_is_coordinator(co->cluster) ||
        (h->type != CTL_DEAD && h->type != CTL_COMMIT))
        return 0;
    if (h->type == CTL_DEAD)
        co->tally.dead_letters++;
    cluster_forward(co->cluster, h, (const char *const *)texts, n);
    return 1;
}

static void on_message(coordinator *co, const control_header *h, char **texts, int n)
{
    const graph *g = co->r->graph;
    if (h->stage >= g->n_stages || forwarded(co, h, texts, n))
        return;
    const graph_stage *s = &g->stages[h->stage];
    switch (h->type) {
    case CTL_DEAD:
        co->tally.dead_letters++;
        if (n >= 2) {
            write_dead_letter(co, texts[0], texts[1]);
            id_committed(co, texts[0], s->sinks_reached);
        }
        break;
    case CTL_COMMIT:
        if (co->cluster) /* tests of a split run act once something is committed */
            log_msg(FR_LOG_DEBUG, NULL, "stage \"%s\" committed %d ids", s->cfg->name, n);
        co->tally.committed[h->stage] += (uint64_t)n;
        ledger_committed(co->r->ledger, h->stage, (const char *const *)texts, (size_t)n);
        for (int i = 0; i < n; i++)
            id_committed(co, texts[i], 1);
        break;
    case CTL_DONE:
        co->n_done++;
        if (h->status != FR_OK && h->status != FR_STOP) {
            snprintf(co->why, sizeof co->why, "stage \"%s\" failed: %s", s->cfg->name,
                     n > 0 && texts[0][0] ? texts[0] : "(no reason given)");
            log_msg(FR_LOG_ERROR, NULL, "%s", co->why);
            co->failed = 1;
            atomic_store(&co->r->stopping, 1);
        }
        break;
    default:
        break;
    }
}

/* Ends the input of a continuous run: sources stop, what is in flight is
 * committed, the run completes.  why: the signal, or the node whose signal
 * it was. */
static void start_drain(coordinator *co, const char *why)
{
    if (atomic_exchange(&co->r->draining, 1))
        return;
    service_notify_stopping(co->notify); /* systemd: the service is on its way down */
    log_msg(FR_LOG_WARN, NULL,
            "%s: ending the input; committing what is in flight (signal again to stop at once)",
            why);
}

/* The first signal this process gets in a continuous run (a source
 * watches its store; in a split run, a source of any node) ends the input,
 * on every node.  Any other signal stops the run at once. */
static int begin_drain(coordinator *co, int signo)
{
    if (co->signalled++)
        return 0;
    if (co->cluster ? !cluster_end_input(co->cluster, strsignal(signo))
                    : !atomic_load(&co->r->continuous))
        return 0;
    start_drain(co, strsignal(signo));
    return 1;
}

static void take_signal(coordinator *co)
{
    unsigned char b;
    while (read(signal_pipe[0], &b, 1) == 1)
        if (!co->interrupted && !begin_drain(co, b)) {
            co->interrupted = b;
            snprintf(co->why, sizeof co->why, "interrupted by %s", strsignal(b));
            log_msg(FR_LOG_WARN, NULL, "%s: stopping; outputs of this run are not committed",
                    strsignal(b));
            atomic_store(&co->r->stopping, 1);
            service_notify_stopping(co->notify);
        }
}

/* Waits up to timeout_ms for one control message or a signal, serving the
 * other nodes meanwhile. */
static void poll_once(coordinator *co, long timeout_ms)
{
    zmq_pollitem_t items[3] = {
        {.socket = co->ctl, .events = ZMQ_POLLIN},
        {.fd = signal_pipe[0], .events = ZMQ_POLLIN},
        {.socket = co->cluster ? cluster_socket(co->cluster) : NULL, .events = ZMQ_POLLIN}};
    int ready = zmq_poll(items, co->cluster ? 3 : 2, timeout_ms);
    if (co->cluster) {
        cluster_service(co->cluster);
        if (atomic_load(&co->r->stopping) && (co->failed || co->interrupted))
            cluster_local_stop(co->cluster, co->interrupted ? EXIT_INTERRUPTED : EXIT_FAILED,
                               co->why);
    }
    if (ready <= 0)
        return;
    if (items[1].revents & ZMQ_POLLIN)
        take_signal(co);
    if (items[0].revents & ZMQ_POLLIN) {
        control_header h;
        char **texts;
        int n = control_recv(co->ctl, 0, &h, &texts);
        if (n >= 0)
            on_message(co, &h, texts, n);
        control_texts_free(texts, n);
    }
}

/* ---- start-up: stage by stage ----------------------------------------- */

/* The input type of stage s now that its upstream stages have initialised. */
static int refresh_input_type(coordinator *co, size_t first, size_t count)
{
    run *r = co->r;
    const graph *g = r->graph;
    const graph_stage *s = &g->stages[r->instances[first].stage_index];
    if (!s->n_inputs)
        return 0;
    const char *narrowed = NULL;
    for (size_t i = 0; i < first && !narrowed; i++)
        if (r->instances[i].stage_index == s->inputs[0])
            narrowed = r->instances[i].stage.output_type;
    if (!narrowed)
        return 0; /* upstream on another node: the graph's type stands */
    port_type declared, emitted;
    char why[256];
    if (port_type_parse(s->plugin->desc.input, &declared, why, sizeof why) == 0 &&
        port_type_parse(narrowed, &emitted, why, sizeof why) == 0 &&
        !port_type_accepts(&declared, &emitted, why, sizeof why)) {
        log_msg(FR_LOG_ERROR, NULL, "stage \"%s\": input \"%s\" emits %s, but %s takes %s (%s)",
                s->cfg->name, g->stages[s->inputs[0]].cfg->name, narrowed, s->plugin->desc.name,
                s->plugin->desc.input, why);
        return -1;
    }
    for (size_t i = first; i < first + count; i++)
        snprintf(r->instances[i].stage.input_type, sizeof r->instances[i].stage.input_type, "%s",
                 narrowed);
    return 0;
}

/* A stage's init found its configuration wrong (fr_config_error): said as
 * the schema says it, at the key's place in the file (the stage's when the
 * key is not written there), and the run exits 2 as validate would. */
static void report_config_error(coordinator *co, size_t stage, const char *key, const char *why)
{
    const config_stage *cs = co->r->graph->stages[stage].cfg;
    int line = cs->line, col = cs->col;
    for (size_t i = 0; key[0] && i < cs->n_entries; i++)
        if (strcmp(cs->entries[i].key, key) == 0 && cs->entries[i].line) {
            line = cs->entries[i].line;
            col = cs->entries[i].col;
        }
    char where[64] = "", text[2048];
    if (key[0])
        snprintf(where, sizeof where, "key \"%.40s\": ", key);
    snprintf(text, sizeof text, "%s:%d:%d: stage \"%s\": %s%s", co->r->graph->pipeline->file, line,
             col, cs->name, where, why[0] ? why : "invalid configuration");
    log_place at = {co->r->graph->pipeline->file, line, col, cs->name, key[0] ? key : NULL};
    if (log_get_format() == LOG_JSON)
        log_diag(FR_LOG_ERROR, &at, text); /* the place as fields, as before the run */
    else
        log_msg(FR_LOG_ERROR, NULL, "%s", text);
    co->usage = 1;
}

/* Starts the instances [first, first+count) and waits for their READY. */
static int start_stage(coordinator *co, size_t first, size_t count)
{
    run *r = co->r;
    if (refresh_input_type(co, first, count) != 0) {
        co->usage = 1; /* the graph's types do not fit: as validate would say */
        return -1;
    }
    for (size_t i = first; i < first + count; i++)
        if (instance_start(&r->instances[i]) != 0)
            return -1;
    int ok = 1;
    for (size_t ready = 0; ready < count;) {
        /* A signal while stages initialise stops the run too: the flag
         * tells their init (fr_stopping) to give up. */
        zmq_pollitem_t items[2] = {{.socket = co->ctl, .events = ZMQ_POLLIN},
                                   {.fd = signal_pipe[0], .events = ZMQ_POLLIN}};
        if (zmq_poll(items, 2, -1) < 0 && zmq_errno() != EINTR)
            return -1;
        if (items[1].revents & ZMQ_POLLIN)
            take_signal(co);
        if (!(items[0].revents & ZMQ_POLLIN))
            continue;
        control_header h;
        char **texts;
        int n = control_recv(co->ctl, 0, &h, &texts);
        if (n < 0)
            return -1;
        if (h.type == CTL_READY) {
            ready++;
            if (h.status != FR_OK && co->interrupted) {
                ok = 0; /* its init gave up because of the signal */
            } else if (h.status != FR_OK && n == 2) {
                report_config_error(co, h.stage, texts[1], texts[0]);
                ok = 0;
            } else if (h.status != FR_OK) {
                log_msg(FR_LOG_ERROR, NULL, "stage \"%s\": %s", r->graph->stages[h.stage].cfg->name,
                        n > 0 && texts[0][0] ? texts[0] : "init failed");
                ok = 0;
            }
        } else {
            on_message(co, &h, texts, n);
        }
        control_texts_free(texts, n);
    }
    return ok && !co->interrupted ? 0 : -1;
}

static int start_all(coordinator *co)
{
    run *r = co->r;
    for (size_t first = 0; first < r->n_instances;) {
        size_t count = 1;
        while (first + count < r->n_instances &&
               r->instances[first + count].stage_index == r->instances[first].stage_index)
            count++;
        if (start_stage(co, first, count) != 0)
            return -1;
        first += count;
    }
    return 0;
}

static size_t started_count(const run *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_instances; i++)
        n += r->instances[i].thread_started;
    return n;
}

/* ---- snapshots ---------------------------------------------------------- */

static double seconds_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - t0->tv_sec) + (now.tv_nsec - t0->tv_nsec) / 1e9;
}

static snap_phase phase_now(const coordinator *co, snap_phase phase)
{
    if (co->failed || co->usage)
        return SNAP_FAILED;
    if (atomic_load(&co->r->stopping) && phase != SNAP_FINISHED)
        return SNAP_STOPPING;
    return phase;
}

/* Takes a snapshot of the run and publishes it (the previous one, on the
 * board and written only by this thread, is what counters are clamped to). */
static void publish(coordinator *co, snap_phase phase, int final)
{
    run_snapshot snap;
    co->tally.phase = phase_now(co, phase);
    if (!final) /* the final one keeps the run's time, measured when it ended */
        co->tally.wall_seconds = seconds_since(&co->t0);
    if (phase == SNAP_FLOWING && !co->tally.flowing_at)
        co->tally.flowing_at = co->tally.wall_seconds;
    if (snapshot_take(co->r, &co->tally, co->cluster, &co->board.current, final, &snap) == 0)
        snapshot_board_publish(&co->board, &snap);
}

/* ---- the run ---------------------------------------------------------- */

/* A ledger that cannot record (disk full) stops the run: what it does
 * would not be durable. */
static void check_ledger(coordinator *co)
{
    char err[5000];
    if (co->failed || !ledger_failed(co->r->ledger, err, sizeof err))
        return;
    log_msg(FR_LOG_ERROR, NULL, "%s; stopping", err);
    co->failed = 1;
    atomic_store(&co->r->stopping, 1);
}

static void wait_all_done(coordinator *co, size_t expected, snap_phase phase)
{
    struct timespec last;
    clock_gettime(CLOCK_MONOTONIC, &last);
    while (co->n_done < expected) {
        poll_once(co, TICK_MS);
        check_ledger(co);
        if (seconds_since(&last) < TICK_MS / 1000.0)
            continue; /* a busy control socket: a snapshot per tick is enough */
        clock_gettime(CLOCK_MONOTONIC, &last);
        publish(co, phase, 0);
        if (co->progress)
            progress_update(co->progress, &co->board.current);
    }
}

static void join_all(run *r)
{
    for (size_t i = 0; i < r->n_instances; i++)
        if (r->instances[i].thread_started)
            pthread_join(r->instances[i].thread, NULL);
}

static int exit_code(const coordinator *co)
{
    if (co->usage)
        return EXIT_USAGE;
    if (co->interrupted)
        return EXIT_INTERRUPTED;
    if (co->failed)
        return EXIT_FAILED;
    if (co->tally.unaccounted)
        return EXIT_FAILED;
    return co->tally.dead_letters ? EXIT_DEAD_LETTERS : EXIT_DELIVERED;
}

/* Records emitted but neither committed by every sink nor dead-lettered. */
static void count_unaccounted(coordinator *co)
{
    uint64_t emitted = co->tally.records_in;
    if (!co->interrupted && !co->failed && emitted > co->tally.done) {
        co->tally.unaccounted = emitted - co->tally.done;
        log_msg(FR_LOG_ERROR, NULL,
                "%llu of %llu records were neither delivered to every sink nor dead-lettered "
                "(a stage dropped them)",
                (unsigned long long)co->tally.unaccounted, (unsigned long long)emitted);
    }
}

static void finish_tally(coordinator *co)
{
    run *r = co->r;
    uint64_t emitted = 0;
    for (size_t i = 0; i < r->n_instances; i++)
        if (!r->graph->stages[r->instances[i].stage_index].n_inputs)
            emitted += atomic_load(&r->instances[i].counters.out);
    co->tally.records_in = emitted;
    /* Only a process that runs the whole graph sees every commit; in a split
     * run the coordinator does, once every node is done (split_verdict). */
    if (!r->opt->node)
        count_unaccounted(co);
}

/* A split run's exit code, the same on every node: the coordinator adds
 * the other nodes' outcomes and records to its own and sends the verdict;
 * another node returns what the coordinator sent. */
static int split_verdict(coordinator *co)
{
    int own = co->interrupted ? EXIT_INTERRUPTED : co->failed ? EXIT_FAILED : 0;
    uint64_t emitted = co->tally.records_in;
    if (own)
        cluster_local_stop(co->cluster, own, co->why);
    int others = cluster_finish(co->cluster, &emitted, own);
    if (!cluster_is_coordinator(co->cluster))
        return others;
    co->tally.records_in = emitted;
    if (others == EXIT_INTERRUPTED && !co->failed)
        co->interrupted = SIGTERM;
    else if (others == EXIT_FAILED && !co->interrupted)
        co->failed = 1;
    count_unaccounted(co);
    int code = exit_code(co);
    cluster_send_verdict(co->cluster, code);
    return code;
}

/* mkdir -p of path's parent directory.  Returns 0 or -1 with errno. */
static int make_parent_dirs(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(dir, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(dir, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* With the ledger, dead letters are kept in it and the file is replaced
 * from it (atomically) when the run ends; without (a node of a split run,
 * --no-ledger) lines are appended to the file as they happen.  Whether the
 * file can be written is known now, before any record could be lost, and
 * nothing is removed: a run that fails early leaves the last run's file.
 * Its folder is made, as the sinks make theirs. */
static int prepare_dead_letters(const run *r)
{
    const char *path = r->graph->pipeline->dead_letters;
    char probe[4200];
    snprintf(probe, sizeof probe, "%s.probe-%ld", path, (long)getpid());
    const char *tried = ledger_is_durable(r->ledger) ? probe : path;
    int existed = access(tried, F_OK) == 0;
    int fd = make_parent_dirs(path) == 0
                 ? open(tried, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)
                 : -1;
    if (fd < 0) {
        log_msg(FR_LOG_ERROR, NULL, "cannot write dead letters to %s: %s", path, strerror(errno));
        return -1;
    }
    close(fd);
    if (!existed)
        unlink(tried); /* only what this probe made: no dead letters, no new file */
    return 0;
}

/* ---- hooks for the other nodes (cluster.h) ------------------------------- */

static void on_remote_control(void *ctx, const control_header *h, char **texts, int n)
{
    on_message(ctx, h, texts, n);
}

static void on_remote_commits(void *ctx, size_t stage, const char *const *ids, size_t n)
{
    coordinator *co = ctx;
    for (size_t i = 0; i < co->r->n_instances; i++)
        if (co->r->instances[i].stage_index == stage)
            send_command(co, i, CTL_COMMITS, ids, n);
}

static void on_cluster_stop(void *ctx)
{
    coordinator *co = ctx;
    atomic_store(&co->r->stopping, 1);
}

static int on_cluster_wait(void *ctx)
{
    coordinator *co = ctx;
    take_signal(co);
    return co->interrupted != 0;
}

static void on_cluster_drain(void *ctx, const char *why)
{
    start_drain(ctx, why);
}

static int coordinate(coordinator *co)
{
    run *r = co->r;
    int failed = 0;
    if (r->opt->node && !(r->curve = curve_new(r->graph, own_node(r), r->zmq, &failed)) && failed)
        return -1;
    const cluster_hooks hooks = {.ctx = co,
                                 .control = on_remote_control,
                                 .commits = on_remote_commits,
                                 .stop = on_cluster_stop,
                                 .interrupted = on_cluster_wait,
                                 .drain = on_cluster_drain};
    co->cluster = cluster_new(r, &hooks, &failed);
    if (failed)
        return -1;
    /* A node's stages resume when the coordinator node's ledger resumes:
     * known before their state directories are made. */
    int kind = co->cluster ? cluster_run_kind(co->cluster) : 0;
    if (kind < 0)
        return -1;
    ledger_follow(r->ledger, (fr_run_kind)kind);
    if (make_instances(r) != 0 || make_sockets(co) != 0) {
        log_msg(FR_LOG_ERROR, NULL, "cannot set up the run's sockets: %s",
                zmq_strerror(zmq_errno()));
        return -1;
    }
    publish(co, SNAP_STARTING, 0); /* health answers "starting" from now on */
    int owner = !co->cluster || cluster_is_coordinator(co->cluster);
    if (owner && prepare_dead_letters(r) != 0) {
        co->usage = 1; /* dead_letters: names a place that cannot be written */
        return -1;
    }
    char why[4400];
    int started = start_all(co) == 0;
    if (started && ledger_begin(r->ledger, why, sizeof why) != 0) {
        log_msg(FR_LOG_ERROR, NULL, "%s", why); /* a model changed: nothing has flowed */
        co->usage = 1;
        started = 0;
    }
    if (co->cluster) { /* data flows once every node is ready */
        publish(co, SNAP_JOINING, 0);
        started = cluster_join(co->cluster, started);
    }
    for (size_t i = 0; i < r->n_instances; i++)
        if (r->instances[i].thread_started)
            send_command(co, i, started ? CTL_GO : CTL_ABORT, NULL, 0);
    co->flowed = started;
    snap_phase phase = started ? SNAP_FLOWING : SNAP_STOPPING;
    publish(co, phase, 0);
    if (started) { /* tests wait for this line before they signal a run */
        service_notify_ready(co->notify);
        log_msg(FR_LOG_DEBUG, NULL, "%zu instances ready; data flowing", r->n_instances);
    }
    co->progress = r->opt->progress ? progress_start(&co->board.current) : NULL;
    wait_all_done(co, started_count(r), phase);
    progress_stop(co->progress);
    join_all(r);
    return started ? 0 : -1;
}

/* A split run's ledger is the coordinator node's, where every commit and
 * dead letter arrives; the sources ask it about keys, so it needs them on
 * that node too.  1 when this node keeps it. */
static int keeps_split_ledger(const run *r)
{
    const graph *g = r->graph;
    const config_pipeline *p = g->pipeline;
    const char *coord = p->cluster.coordinator ? p->cluster.coordinator : p->nodes[0].name;
    if (strcmp(r->opt->node, coord) != 0)
        return 0;
    for (size_t s = 0; s < g->n_stages; s++)
        for (uint32_t k = 0; g->stages[s].n_inputs == 0 && k < g->stages[s].cfg->replicas; k++)
            if (strcmp(p->nodes[graph_instance_node(g, s, k)].name, coord) != 0) {
                log_msg(FR_LOG_WARN, NULL,
                        "no ledger: source stage \"%s\" runs on node \"%s\", not on coordinator "
                        "node \"%s\"; a rerun after a failure starts over",
                        g->stages[s].cfg->name, p->nodes[graph_instance_node(g, s, k)].name, coord);
                return 0;
            }
    return 1;
}

/* The ledger in the pipeline's state directory; off (state directories
 * only) with --no-ledger and on a node of a split run that does not keep it
 * (keeps_split_ledger). */
static ledger *open_ledger(const run *r)
{
    const config_pipeline *p = r->graph->pipeline;
    char dir[4096], err[4400];
    ledger_options lo = {.fresh = r->opt->fresh,
                         .retry_dead = r->opt->retry_dead,
                         .off = r->opt->no_ledger || (r->opt->node && !keeps_split_ledger(r))};
    ledger *l = NULL;
    if (state_dir_resolve(p->state, p->file, p->name, dir, sizeof dir, err, sizeof err) == 0)
        l = ledger_open(dir, r->graph, &lo, err, sizeof err);
    if (!l)
        log_msg(FR_LOG_ERROR, NULL, "%s", err);
    return l;
}

/* Records the run's end in the ledger and writes the dead-letter file. */
static int close_ledger(run *r, int code)
{
    char err[4400];
    if (!r->ledger)
        return code;
    if (ledger_close(r->ledger, code, r->graph->pipeline->dead_letters, err, sizeof err) != 0) {
        log_msg(FR_LOG_ERROR, NULL, "%s", err);
        code = code == EXIT_DELIVERED || code == EXIT_DEAD_LETTERS ? EXIT_FAILED : code;
    }
    r->ledger = NULL;
    return code;
}

/* The metrics endpoint and systemd's notify socket, both optional; a
 * metrics address that cannot be served is a usage error. */
static int start_operations(coordinator *co)
{
    const runtime_options *opt = co->r->opt;
    const char *listen = opt->metrics ? opt->metrics : co->r->graph->pipeline->metrics;
    char err[512];
    co->notify = service_notify_open(&co->board);
    if (!listen)
        return 0;
    co->metrics = metrics_server_start(listen, &co->board, err, sizeof err);
    if (!co->metrics) {
        log_msg(FR_LOG_ERROR, NULL, "metrics: %s", err);
        co->usage = 1;
        return -1;
    }
    log_msg(FR_LOG_DEBUG, NULL, "metrics on http://%s:%u/metrics", metrics_server_host(co->metrics),
            (unsigned)metrics_server_port(co->metrics));
    return 0;
}

static void stop_operations(coordinator *co)
{
    metrics_server_stop(co->metrics);
    service_notify_close(co->notify);
}

int runtime_run(const graph *g, const runtime_options *opt)
{
    run r = {.graph = g, .opt = opt};
    coordinator co = {.r = &r, .dead_fd = -1};
    clock_gettime(CLOCK_MONOTONIC, &co.t0);
    snapshot_board_init(&co.board);
    if (!(r.ledger = open_ledger(&r))) {
        snapshot_board_free(&co.board);
        return EXIT_USAGE; /* nothing has started: the ledger said why */
    }
    snprintf(r.run_id, sizeof r.run_id, "fr%ld", (long)getpid());
    r.zmq = zmq_ctx_new();
    co.tracker = tracker_new();
    if (!r.zmq || !co.tracker || run_tally_init(&co.tally, g) != 0 || install_signals() != 0) {
        log_msg(FR_LOG_ERROR, NULL, "cannot start the run: %s", strerror(errno));
        co.failed = 1;
    } else if (start_operations(&co) != 0 || coordinate(&co) != 0) {
        co.failed = 1;
    }
    co.tally.wall_seconds = seconds_since(&co.t0);
    finish_tally(&co);
    int code = co.cluster && co.flowed ? split_verdict(&co) : exit_code(&co);
    /* After a split run's verdict nothing queued is needed any more (a peer
     * that is gone must not hold the exit); data sockets linger otherwise,
     * so what was sent reaches its consumers. */
    close_sockets(&co, atomic_load(&r.stopping) || co.cluster ? 0 : -1);
    co.tally.ledger = ledger_get_counts(r.ledger);
    code = close_ledger(&r, code);
    publish(&co, code == EXIT_FAILED || code == EXIT_USAGE ? SNAP_FAILED : SNAP_FINISHED, 1);
    run_report_print(&co.board.current, code);
    if (opt->summary_path && run_report_write_json(&co.board.current, code, opt->summary_path) != 0)
        code = code == EXIT_DELIVERED ? EXIT_FAILED : code;
    stop_operations(&co);
    if (signal_pipe[0] >= 0)
        restore_signals();
    if (co.dead_fd >= 0)
        close(co.dead_fd);
    cluster_free(co.cluster);
    curve_free(r.curve);
    tracker_free(co.tracker);
    run_tally_free(&co.tally);
    snapshot_board_free(&co.board);
    for (size_t i = 0; i < r.n_instances; i++)
        stage_cleanup(&r.instances[i].stage);
    free(r.instances);
    if (r.zmq)
        zmq_ctx_term(r.zmq);
    buffer_pool_drain();
    return code;
}
