#include "cluster.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "curve.h"
#include "log.h"
#include "transport.h"

#ifndef FLOWRUN_VERSION
#define FLOWRUN_VERSION "0"
#endif

#define MAX_FRAMES 300 /* a COMMIT carries up to 256 ids (instance.c) */
#define TEXT_MAX   8192

enum peer_state { PEER_ABSENT, PEER_JOINED, PEER_DONE, PEER_LOST };

typedef struct peer {
    enum peer_state state;
    int has_stages;
    uint64_t last_heard_ns;
    char endpoint[ENDPOINT_MAX]; /* its data endpoint, for messages */
} peer;

struct cluster {
    run *r;
    const graph *g;
    cluster_hooks hooks;
    size_t self, coord; /* node indices */
    void *sock;         /* ROUTER on the coordinator, DEALER elsewhere */
    char control_ep[ENDPOINT_MAX];
    char hash[17];  /* of the pipeline file */
    char *plugins;  /* owned: what every node must load alike */
    peer *peers;    /* one per pipeline node */
    uint64_t hb_ns; /* heartbeat interval */
    uint64_t last_sent_ns;
    int go, aborted, stopped, told_stop;
    int watching;    /* a source of some node watches its store (WATCHING heard) */
    int draining;    /* the input of the whole run is ending (DRAIN sent or heard) */
    int verdict;     /* node: from the coordinator, -1 until then */
    int run_kind;    /* node: the coordinator's ledger's fr_run_kind (RUNKIND), -1 until then */
    int remote_code; /* coordinator: worst outcome of the other nodes */
    uint64_t remote_emitted;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const char *node_name(const cluster *cl, size_t i)
{
    return cl->g->pipeline->nodes[i].name;
}

/* ---- identity: what must be alike on every node ------------------------ */

/* FNV-1a 64 of the pipeline file, as hex.  -1 if unreadable. */
static int hash_file(const char *path, char out[17])
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    uint64_t h = 1469598103934665603ull;
    int c;
    while ((c = getc(f)) != EOF)
        h = (h ^ (uint8_t)c) * 1099511628211ull;
    fclose(f);
    snprintf(out, 17, "%016" PRIx64, h);
    return 0;
}

/* "stage=plugin version (ABI M.m); ..." in file order, malloc'd. */
static char *plugin_list(const graph *g)
{
    size_t cap = 64, len = 0;
    char *s = malloc(cap);
    for (size_t i = 0; s && i < g->n_stages; i++) {
        const fr_plugin *d = &g->stages[i].plugin->desc;
        char item[512];
        int n = snprintf(item, sizeof item, "%s%s=%s %s (ABI %u.%u)", i ? "; " : "",
                         g->stages[i].cfg->name, d->name, d->version ? d->version : "-",
                         d->abi_major, d->abi_minor);
        if (n < 0 || (size_t)n >= sizeof item)
            n = (int)strlen(item);
        if (len + (size_t)n + 1 > cap) {
            char *grown = realloc(s, (cap = 2 * (len + (size_t)n + 1)));
            if (!grown) {
                free(s);
                return NULL;
            }
            s = grown;
        }
        memcpy(s + len, item, (size_t)n + 1);
        len += (size_t)n;
    }
    return s;
}

/* The first "; "-separated item where the coordinator's list a and a
 * node's list b differ, described into out. */
static void first_difference(const char *a, const char *b, char *out, size_t size)
{
    const char *pa = a, *pb = b;
    while (pa || pb) {
        const char *ea = pa ? strstr(pa, "; ") : NULL, *eb = pb ? strstr(pb, "; ") : NULL;
        int la = pa ? (int)(ea ? ea - pa : (long)strlen(pa)) : 0;
        int lb = pb ? (int)(eb ? eb - pb : (long)strlen(pb)) : 0;
        if (!pa || !pb || la != lb || strncmp(pa, pb, (size_t)la) != 0) {
            snprintf(out, size, "it has %s%.*s%s, the coordinator %s%.*s%s", pb ? "\"" : "",
                     lb > 200 ? 200 : lb, pb ? pb : "no more stages", pb ? "\"" : "",
                     pa ? "\"" : "", la > 200 ? 200 : la, pa ? pa : "no more stages",
                     pa ? "\"" : "");
            return;
        }
        pa = ea ? ea + 2 : NULL;
        pb = eb ? eb + 2 : NULL;
    }
    snprintf(out, size, "its plugin list differs");
}

/* ---- sending ----------------------------------------------------------- */

/* Sends words as frames (to node `to` first when on the ROUTER).  Never
 * blocks: the control sockets queue without limit. */
static void send_frames(cluster *cl, size_t to, const char *const *words, size_t n)
{
    if (cluster_is_coordinator(cl)) {
        if (to == cl->self || cl->peers[to].state == PEER_LOST)
            return;
        const char *id = node_name(cl, to);
        zmq_send(cl->sock, id, strlen(id), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    }
    for (size_t i = 0; i < n; i++)
        zmq_send(cl->sock, words[i], strlen(words[i]),
                 (i + 1 < n ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT);
    cl->last_sent_ns = now_ns();
}

static void send2(cluster *cl, size_t to, const char *word, const char *text)
{
    const char *words[2] = {word, text};
    send_frames(cl, to, words, text ? 2 : 1);
}

/* Coordinator: sends word + text to every other node still there. */
static void broadcast(cluster *cl, const char *word, const char *text)
{
    for (size_t i = 0; i < cl->g->pipeline->n_nodes; i++)
        if (i != cl->self && cl->peers[i].state != PEER_ABSENT)
            send2(cl, i, word, text);
}

/* ---- stopping ---------------------------------------------------------- */

/* Stops the local part; the coordinator tells every node.  code 3 or 4. */
static void stop_run(cluster *cl, int code, const char *why)
{
    if (cl->stopped)
        return;
    cl->stopped = 1;
    if (cluster_is_coordinator(cl)) {
        char text[TEXT_MAX];
        snprintf(text, sizeof text, "%d %s", code, why);
        broadcast(cl, "STOP", text);
        if (code > cl->remote_code)
            cl->remote_code = code;
    } else if (cl->verdict < 0) {
        cl->verdict = code;
    }
    cl->hooks.stop(cl->hooks.ctx);
}

void cluster_local_stop(cluster *cl, int code, const char *why)
{
    if (cl->told_stop)
        return;
    cl->told_stop = 1;
    if (cluster_is_coordinator(cl)) {
        char text[TEXT_MAX];
        snprintf(text, sizeof text, "node \"%s\": %s", node_name(cl, cl->self), why);
        stop_run(cl, code, text);
        return;
    }
    char text[TEXT_MAX];
    snprintf(text, sizeof text, "%d %s", code, why);
    send2(cl, cl->coord, "FAIL", text);
}

/* ---- ending the input of a watching run ---------------------------------- */

static int run_watching(const cluster *cl)
{
    return cl->watching || atomic_load(&cl->r->continuous);
}

/* Another node asked to end the input: the coordinator passes it on to
 * every node, each node drains its own part. */
static void drain_run(cluster *cl, const char *why)
{
    if (cl->draining || cl->stopped)
        return;
    cl->draining = 1;
    if (cluster_is_coordinator(cl))
        broadcast(cl, "DRAIN", why);
    cl->hooks.drain(cl->hooks.ctx, why);
}

int cluster_end_input(cluster *cl, const char *why)
{
    if (!cl->go || cl->stopped || !run_watching(cl))
        return 0;
    if (cl->draining)
        return 1;
    cl->draining = 1;
    char text[TEXT_MAX];
    snprintf(text, sizeof text, "node \"%s\": %s", node_name(cl, cl->self), why);
    if (cluster_is_coordinator(cl))
        broadcast(cl, "DRAIN", text);
    else
        send2(cl, cl->coord, "DRAIN", why);
    return 1;
}

/* ---- receiving ---------------------------------------------------------- */

typedef struct message {
    size_t from;              /* node index (coordinator side), else the coordinator */
    char *frames[MAX_FRAMES]; /* NUL-terminated copies, owned */
    size_t n;
    int too_long;
    char user[64]; /* the node CURVE authenticated (ZAP User-Id), "" without CURVE */
} message;

static void message_free(message *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->frames[i]);
    m->n = 0;
}

/* Reads one whole message; frames past MAX_FRAMES or TEXT_MAX set too_long. */
static int message_recv(cluster *cl, message *m)
{
    memset(m, 0, sizeof *m);
    zmq_msg_t f;
    zmq_msg_init(&f);
    int more = 1;
    while (more) {
        if (zmq_msg_recv(&f, cl->sock, m->n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            zmq_msg_close(&f);
            return m->n ? 0 : -1;
        }
        more = zmq_msg_more(&f);
        const char *user = zmq_msg_gets(&f, "User-Id");
        if (user && !m->user[0])
            snprintf(m->user, sizeof m->user, "%s", user);
        size_t size = zmq_msg_size(&f);
        if (m->n == MAX_FRAMES || size > TEXT_MAX) {
            m->too_long = 1;
            continue;
        }
        char *t = malloc(size + 1);
        if (!t) {
            m->too_long = 1;
            continue;
        }
        memcpy(t, zmq_msg_data(&f), size);
        t[size] = '\0';
        m->frames[m->n++] = t;
    }
    zmq_msg_close(&f);
    return 0;
}

static void drop(const cluster *cl, const char *who, const char *why)
{
    log_msg(FR_LOG_WARN, NULL, "control: dropped a message from %s on %s: %s", who, cl->control_ep,
            why);
}

/* Parses "<int> <rest>"; *rest points into text. */
static int parse_code(const char *text, int *code, const char **rest)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (end == text || v < 0 || v > 4)
        return -1;
    *code = (int)v;
    *rest = *end == ' ' ? end + 1 : end;
    return 0;
}

/* ---- coordinator side --------------------------------------------------- */

static int node_index(const cluster *cl, const char *name)
{
    for (size_t i = 0; i < cl->g->pipeline->n_nodes; i++)
        if (strcmp(node_name(cl, i), name) == 0)
            return (int)i;
    return -1;
}

/* JOIN hash version plugins ok reason */
static void on_join(cluster *cl, size_t from, message *m)
{
    peer *p = &cl->peers[from];
    char why[1200] = "";
    if (m->n != 7)
        snprintf(why, sizeof why, "a JOIN of %zu frames", m->n);
    else if (strcmp(m->frames[3], FLOWRUN_VERSION) != 0)
        snprintf(why, sizeof why, "it runs flowrun %.100s, the coordinator %s", m->frames[3],
                 FLOWRUN_VERSION);
    else if (strcmp(m->frames[2], cl->hash) != 0)
        snprintf(why, sizeof why,
                 "its pipeline file differs (hash %.20s, the coordinator's %s): every node must "
                 "run the same file",
                 m->frames[2], cl->hash);
    else if (strcmp(m->frames[4], cl->plugins) != 0)
        first_difference(cl->plugins, m->frames[4], why, sizeof why);
    if (why[0]) {
        log_msg(FR_LOG_ERROR, NULL, "node \"%s\" (%s) refused: %s", node_name(cl, from),
                p->endpoint, why);
        send2(cl, from, "REFUSED", why);
        cl->aborted = 1;
        return;
    }
    if (strcmp(m->frames[5], "1") != 0) {
        log_msg(FR_LOG_ERROR, NULL, "node \"%s\" could not start: %.1000s", node_name(cl, from),
                m->frames[6]);
        cl->aborted = 1;
    }
    if (p->state == PEER_ABSENT)
        log_msg(FR_LOG_DEBUG, NULL, "node \"%s\" joined", node_name(cl, from));
    p->state = PEER_JOINED;
}

/* CTL type stage instance status texts...: an instance's message from a node. */
static void on_forwarded(cluster *cl, size_t from, message *m)
{
    const graph *g = cl->g;
    char *end;
    control_header h = {0};
    unsigned long v[4];
    const char *p = m->n >= 2 ? m->frames[1] : "";
    for (int i = 0; i < 4; i++) {
        v[i] = strtoul(p, &end, 10);
        if (end == p) {
            drop(cl, node_name(cl, from), "a CTL message without its header");
            return;
        }
        p = end;
    }
    h = (control_header){.type = (uint8_t)v[0],
                         .stage = (uint32_t)v[1],
                         .instance = (uint32_t)v[2],
                         .status = (uint8_t)v[3]};
    int known = h.type == CTL_DEAD || h.type == CTL_COMMIT;
    if (!known || v[1] >= g->n_stages || v[2] >= g->stages[v[1]].cfg->replicas ||
        graph_instance_node(g, v[1], (uint32_t)v[2]) != from || (h.type == CTL_DEAD && m->n != 4)) {
        drop(cl, node_name(cl, from), "a CTL message for a stage that node does not run");
        return;
    }
    cl->hooks.control(cl->hooks.ctx, &h, m->frames + 2, (int)(m->n - 2));
}

/* DONE "<code> <records its sources emitted>" */
static void on_node_done(cluster *cl, size_t from, message *m)
{
    int code = 0;
    const char *rest = "";
    char *end = NULL;
    unsigned long long emitted = 0;
    if (m->n == 2 && parse_code(m->frames[1], &code, &rest) == 0)
        emitted = strtoull(rest, &end, 10);
    if (!end || end == rest || *end) {
        drop(cl, node_name(cl, from), "a malformed DONE");
        return;
    }
    cl->peers[from].state = PEER_DONE;
    cl->remote_emitted += emitted;
    if (code > cl->remote_code)
        cl->remote_code = code;
    if (code) { /* it said why with FAIL; make sure the others stop */
        char why[300];
        snprintf(why, sizeof why, "node \"%s\" ended with exit code %d", node_name(cl, from), code);
        stop_run(cl, code, why);
    }
}

static void coordinator_on(cluster *cl, message *m)
{
    /* frame 0 is the sender's routing id: the node name it connected with */
    int from = m->n >= 2 && m->frames[0][0] ? node_index(cl, m->frames[0]) : -1;
    if (from < 0 || (size_t)from == cl->self) {
        drop(cl, m->n ? m->frames[0] : "?", "not a node of this pipeline");
        return;
    }
    if (cl->r->curve && strcmp(m->user, m->frames[0]) != 0) {
        drop(cl, m->frames[0], "its CURVE key belongs to another node");
        return;
    }
    peer *p = &cl->peers[from];
    const char *word = m->frames[1];
    /* Shift the routing id away so frames[0] is the word. */
    free(m->frames[0]);
    memmove(m->frames, m->frames + 1, (m->n - 1) * sizeof *m->frames);
    m->n--;
    if (p->state == PEER_LOST)
        return; /* declared lost: what it says no longer counts */
    p->last_heard_ns = now_ns();
    if (strcmp(word, "JOIN") == 0) {
        on_join(cl, (size_t)from, m);
        return;
    }
    if (strcmp(word, "KIND") == 0) { /* before JOIN: what this node's stages resume */
        char kind[16];
        snprintf(kind, sizeof kind, "%d", (int)ledger_run_kind(cl->r->ledger));
        send2(cl, (size_t)from, "RUNKIND", kind);
        return;
    }
    if (strcmp(word, "HB") == 0) /* also while it waits for RUNKIND */
        return;
    if (strcmp(word, "WATCHING") == 0) { /* just before its JOIN */
        cl->watching = 1;
        return;
    }
    if (p->state == PEER_ABSENT) {
        drop(cl, node_name(cl, (size_t)from), "it has not joined");
        return;
    }
    if (strcmp(word, "CTL") == 0) {
        on_forwarded(cl, (size_t)from, m);
    } else if (strcmp(word, "DONE") == 0) {
        on_node_done(cl, (size_t)from, m);
    } else if (strcmp(word, "DRAIN") == 0 && m->n == 2) {
        char why[TEXT_MAX + 100];
        snprintf(why, sizeof why, "node \"%s\": %s", node_name(cl, (size_t)from), m->frames[1]);
        drain_run(cl, why);
    } else if (strcmp(word, "FAIL") == 0 && m->n == 2) {
        int code = 0;
        const char *rest = "";
        char why[TEXT_MAX + 100];
        if (parse_code(m->frames[1], &code, &rest) != 0)
            code = EXIT_FAILED;
        snprintf(why, sizeof why, "node \"%s\": %s", node_name(cl, (size_t)from), rest);
        log_msg(FR_LOG_ERROR, NULL, "%s; stopping the run", why);
        stop_run(cl, code == EXIT_INTERRUPTED ? EXIT_INTERRUPTED : EXIT_FAILED, why);
    } else {
        drop(cl, node_name(cl, (size_t)from), "unknown message");
    }
}

/* ---- node side ---------------------------------------------------------- */

static void node_on(cluster *cl, message *m)
{
    const char *word = m->n ? m->frames[0] : "";
    const char *coord = node_name(cl, cl->coord);
    cl->peers[cl->coord].last_heard_ns = now_ns();
    int code = 0;
    const char *rest = "";
    if (strcmp(word, "HB") == 0) {
        return;
    } else if (strcmp(word, "GO") == 0) {
        cl->go = 1;
    } else if (strcmp(word, "REFUSED") == 0 && m->n == 2) {
        log_msg(FR_LOG_ERROR, NULL, "coordinator \"%s\" refused node \"%s\": %s", coord,
                node_name(cl, cl->self), m->frames[1]);
        cl->aborted = 1;
    } else if (strcmp(word, "ABORT") == 0 && m->n == 2) {
        log_msg(FR_LOG_ERROR, NULL, "coordinator \"%s\" aborted the run: %s", coord, m->frames[1]);
        cl->aborted = 1;
    } else if (strcmp(word, "STOP") == 0 && m->n == 2 &&
               parse_code(m->frames[1], &code, &rest) == 0) {
        if (!cl->told_stop)
            log_msg(FR_LOG_ERROR, NULL, "stopping: %s", rest);
        cl->told_stop = 1;
        stop_run(cl, code ? code : EXIT_FAILED, rest);
    } else if (strcmp(word, "WATCHING") == 0) {
        cl->watching = 1;
    } else if (strcmp(word, "DRAIN") == 0 && m->n == 2) {
        drain_run(cl, m->frames[1]);
    } else if (strcmp(word, "RUNKIND") == 0 && m->n == 2 &&
               parse_code(m->frames[1], &code, &rest) == 0 && code <= FR_RUN_INCREMENTAL) {
        cl->run_kind = code;
    } else if (strcmp(word, "VERDICT") == 0 && m->n == 2 &&
               parse_code(m->frames[1], &code, &rest) == 0) {
        cl->verdict = code;
    } else if (strcmp(word, "COMMITS") == 0 && m->n >= 3) {
        char *end;
        unsigned long s = strtoul(m->frames[1], &end, 10);
        if (*end || s >= cl->g->n_stages || !graph_stage_on_node(cl->g, s, cl->self))
            drop(cl, coord, "COMMITS for a stage this node does not run");
        else
            cl->hooks.commits(cl->hooks.ctx, s, (const char *const *)m->frames + 2, m->n - 2);
    } else {
        drop(cl, coord, "unknown message");
    }
}

/* ---- heartbeats and timeouts -------------------------------------------- */

static void lost(cluster *cl, size_t i)
{
    char why[1200];
    const config_cluster *cc = &cl->g->pipeline->cluster;
    snprintf(why, sizeof why, "node \"%s\" (%s) lost: nothing heard for %.1f s (node_timeout)",
             node_name(cl, i), cl->peers[i].endpoint, cc->node_timeout_ms / 1000.0);
    log_msg(FR_LOG_ERROR, NULL, "%s; stopping the run", why);
    cl->peers[i].state = PEER_LOST;
    stop_run(cl, EXIT_FAILED, why);
}

static void check_timeouts(cluster *cl)
{
    uint64_t now = now_ns();
    uint64_t limit = (uint64_t)cl->g->pipeline->cluster.node_timeout_ms * 1000000u;
    if (now - cl->last_sent_ns >= cl->hb_ns) {
        if (cluster_is_coordinator(cl))
            broadcast(cl, "HB", NULL);
        else
            send2(cl, cl->coord, "HB", NULL);
    }
    if (!cl->go) /* before GO, join_timeout applies */
        return;
    for (size_t i = 0; i < cl->g->pipeline->n_nodes; i++) {
        peer *p = &cl->peers[i];
        int watched = cluster_is_coordinator(cl) ? i != cl->self && (p->state == PEER_JOINED)
                                                 : i == cl->coord && p->state != PEER_LOST;
        if (watched && now - p->last_heard_ns > limit)
            lost(cl, i);
    }
}

void cluster_service(cluster *cl)
{
    message m;
    while (message_recv(cl, &m) == 0) {
        if (m.too_long)
            drop(cl, m.n ? m.frames[0] : "?", "too many or too long frames");
        else if (cluster_is_coordinator(cl))
            coordinator_on(cl, &m);
        else if (m.n)
            node_on(cl, &m);
        message_free(&m);
    }
    check_timeouts(cl);
}

/* Serves the socket for up to ns.  Returns 1 when this process was
 * interrupted meanwhile: the caller stops waiting, the others are told. */
static int wait_a_beat(cluster *cl, uint64_t ns)
{
    zmq_pollitem_t item = {.socket = cl->sock, .events = ZMQ_POLLIN};
    zmq_poll(&item, 1, (long)(ns / 1000000u) + 1);
    cluster_service(cl);
    if (!cl->hooks.interrupted(cl->hooks.ctx))
        return 0;
    cluster_local_stop(cl, EXIT_INTERRUPTED, "interrupted by a signal");
    return 1;
}

/* ---- joining ------------------------------------------------------------- */

static void send_join(cluster *cl, int local_ok)
{
    const char *words[7] = {"JOIN",
                            node_name(cl, cl->self),
                            cl->hash,
                            FLOWRUN_VERSION,
                            cl->plugins,
                            local_ok ? "1" : "0",
                            local_ok ? "" : "a stage failed to start (see its log)"};
    send_frames(cl, cl->coord, words, 7);
}

int cluster_node_up(const cluster *cl, size_t i)
{
    const peer *p = &cl->peers[i];
    return i == cl->self || p->state == PEER_JOINED || p->state == PEER_DONE;
}

static int all_joined(const cluster *cl, char *missing, size_t size)
{
    size_t n = 0;
    missing[0] = '\0';
    for (size_t i = 0; i < cl->g->pipeline->n_nodes; i++) {
        const peer *p = &cl->peers[i];
        if (i == cl->self || !p->has_stages || p->state == PEER_JOINED)
            continue;
        n += (size_t)snprintf(missing + n, n < size ? size - n : 0, "%s\"%s\" (%s)", n ? ", " : "",
                              node_name(cl, i), p->endpoint);
    }
    return missing[0] == '\0';
}

static int coordinator_join(cluster *cl, int local_ok)
{
    const config_cluster *cc = &cl->g->pipeline->cluster;
    uint64_t deadline = now_ns() + (uint64_t)cc->join_timeout_ms * 1000000u;
    char missing[4096];
    if (!local_ok)
        cl->aborted = 1;
    else if (!all_joined(cl, missing, sizeof missing)) /* tests wait for this line */
        log_msg(FR_LOG_DEBUG, NULL, "waiting on %s for nodes %s", cl->control_ep, missing);
    while (!cl->aborted && !cl->stopped && !all_joined(cl, missing, sizeof missing)) {
        if (now_ns() > deadline) {
            log_msg(FR_LOG_ERROR, NULL, "nodes not joined after join_timeout %.1f s: %s",
                    cc->join_timeout_ms / 1000.0, missing);
            cl->aborted = 1;
            break;
        }
        if (wait_a_beat(cl, cl->hb_ns))
            break;
    }
    if (cl->aborted || cl->stopped) {
        broadcast(cl, "ABORT", "the run did not start (see the coordinator's log)");
        return 0;
    }
    uint64_t now = now_ns();
    for (size_t i = 0; i < cl->g->pipeline->n_nodes; i++)
        cl->peers[i].last_heard_ns = now;
    if (run_watching(cl)) /* before GO: a node's signal may end the input from then on */
        broadcast(cl, "WATCHING", NULL);
    broadcast(cl, "GO", NULL);
    cl->go = 1;
    log_msg(FR_LOG_DEBUG, NULL, "every node joined");
    return 1;
}

static int node_join(cluster *cl, int local_ok)
{
    const config_cluster *cc = &cl->g->pipeline->cluster;
    uint64_t deadline = now_ns() + (uint64_t)cc->join_timeout_ms * 1000000u;
    if (local_ok && atomic_load(&cl->r->continuous)) /* known by the coordinator before GO */
        send2(cl, cl->coord, "WATCHING", NULL);
    send_join(cl, local_ok);
    if (!local_ok)
        return 0;
    log_msg(FR_LOG_DEBUG, NULL, "joining coordinator \"%s\" at %s", node_name(cl, cl->coord),
            cl->control_ep);
    while (!cl->go && !cl->aborted && !cl->stopped) {
        if (now_ns() > deadline) {
            log_msg(FR_LOG_ERROR, NULL,
                    "coordinator node \"%s\" at %s did not start the run within join_timeout "
                    "%.1f s",
                    node_name(cl, cl->coord), cl->control_ep, cc->join_timeout_ms / 1000.0);
            return 0;
        }
        if (wait_a_beat(cl, cl->hb_ns))
            return 0;
    }
    cl->peers[cl->coord].last_heard_ns = now_ns();
    return cl->go && !cl->aborted && !cl->stopped;
}

int cluster_run_kind(cluster *cl)
{
    const config_cluster *cc = &cl->g->pipeline->cluster;
    uint64_t deadline = now_ns() + (uint64_t)cc->join_timeout_ms * 1000000u;
    if (cluster_is_coordinator(cl))
        return ledger_run_kind(cl->r->ledger);
    send2(cl, cl->coord, "KIND", NULL);
    while (cl->run_kind < 0 && !cl->aborted && !cl->stopped) {
        if (now_ns() > deadline) {
            log_msg(FR_LOG_ERROR, NULL,
                    "coordinator node \"%s\" at %s did not answer within join_timeout %.1f s",
                    node_name(cl, cl->coord), cl->control_ep, cc->join_timeout_ms / 1000.0);
            return -1;
        }
        if (wait_a_beat(cl, cl->hb_ns))
            return -1;
    }
    return cl->run_kind;
}

int cluster_join(cluster *cl, int local_ok)
{
    return cluster_is_coordinator(cl) ? coordinator_join(cl, local_ok) : node_join(cl, local_ok);
}

/* ---- during and after the run -------------------------------------------- */

void cluster_forward(cluster *cl, const control_header *h, const char *const *texts, int n)
{
    const char *words[MAX_FRAMES];
    char head[64];
    snprintf(head, sizeof head, "%u %u %u %u", h->type, h->stage, h->instance, h->status);
    words[0] = "CTL";
    words[1] = head;
    size_t k = 2;
    for (int i = 0; i < n && k < MAX_FRAMES; i++)
        words[k++] = texts[i];
    send_frames(cl, cl->coord, words, k);
}

void cluster_send_commits(cluster *cl, size_t stage, const char *id)
{
    char s[32];
    snprintf(s, sizeof s, "%zu", stage);
    const char *words[3] = {"COMMITS", s, id};
    for (size_t node = 0; node < cl->g->pipeline->n_nodes; node++)
        if (node != cl->self && graph_stage_on_node(cl->g, stage, node))
            send_frames(cl, node, words, 3);
}

static int others_done(const cluster *cl)
{
    for (size_t i = 0; i < cl->g->pipeline->n_nodes; i++)
        if (i != cl->self && cl->peers[i].state == PEER_JOINED)
            return 0;
    return 1;
}

int cluster_finish(cluster *cl, uint64_t *emitted, int code)
{
    if (cluster_is_coordinator(cl)) {
        while (!others_done(cl))
            if (wait_a_beat(cl, cl->hb_ns))
                return EXIT_INTERRUPTED;
        *emitted += cl->remote_emitted;
        return cl->remote_code;
    }
    char text[64];
    snprintf(text, sizeof text, "%d %" PRIu64, code, *emitted);
    send2(cl, cl->coord, "DONE", text);
    while (cl->verdict < 0)
        if (wait_a_beat(cl, cl->hb_ns))
            return EXIT_INTERRUPTED;
    return cl->verdict;
}

void cluster_send_verdict(cluster *cl, int code)
{
    char text[16];
    snprintf(text, sizeof text, "%d", code);
    broadcast(cl, "VERDICT", text);
}

/* ---- set-up --------------------------------------------------------------- */

int cluster_is_coordinator(const cluster *cl)
{
    return cl->self == cl->coord;
}

void *cluster_socket(const cluster *cl)
{
    return cl->sock;
}

static int open_socket(cluster *cl)
{
    int unlimited = 0, on = 1, linger = 2000;
    cl->sock = zmq_socket(cl->r->zmq, cluster_is_coordinator(cl) ? ZMQ_ROUTER : ZMQ_DEALER);
    if (!cl->sock)
        return -1;
    zmq_setsockopt(cl->sock, ZMQ_SNDHWM, &unlimited, sizeof unlimited);
    zmq_setsockopt(cl->sock, ZMQ_RCVHWM, &unlimited, sizeof unlimited);
    zmq_setsockopt(cl->sock, ZMQ_LINGER, &linger, sizeof linger);
    const curve *keys = cl->r->curve;
    if (cluster_is_coordinator(cl)) {
        zmq_setsockopt(cl->sock, ZMQ_ROUTER_HANDOVER, &on, sizeof on);
        if (keys && curve_server(keys, cl->sock, cl->control_ep) != 0)
            return -1;
        return zmq_bind(cl->sock, cl->control_ep);
    }
    const char *id = node_name(cl, cl->self);
    zmq_setsockopt(cl->sock, ZMQ_ROUTING_ID, id, strlen(id));
    if (keys && curve_client(keys, cl->sock, cl->coord) != 0)
        return -1;
    return zmq_connect(cl->sock, cl->control_ep);
}

static size_t coordinator_node(const graph *g)
{
    const char *name = g->pipeline->cluster.coordinator;
    for (size_t i = 0; name && i < g->pipeline->n_nodes; i++)
        if (strcmp(g->pipeline->nodes[i].name, name) == 0)
            return i;
    return 0;
}

/* tcp://127.x, localhost, [::1] and ipc:// stay on this host. */
static int is_loopback(const char *ep)
{
    return strncmp(ep, "ipc://", 6) == 0 || strncmp(ep, "tcp://127.", 10) == 0 ||
           strncmp(ep, "tcp://localhost:", 16) == 0 || strncmp(ep, "tcp://[::1]:", 12) == 0;
}

static void warn_if_open(const cluster *cl)
{
    const config_pipeline *p = cl->g->pipeline;
    for (size_t i = 0; !p->cluster.curve && i < p->n_nodes; i++)
        if (!is_loopback(p->nodes[i].endpoint))
            log_msg(FR_LOG_WARN, NULL,
                    "node \"%s\" listens on %s without authentication: anyone who reaches it can "
                    "inject records (set cluster: security: curve)",
                    p->nodes[i].name, p->nodes[i].endpoint);
}

static int setup(cluster *cl)
{
    const graph *g = cl->g;
    char err[256];
    cl->coord = coordinator_node(g);
    for (size_t i = 0; i < g->pipeline->n_nodes; i++)
        if (strcmp(g->pipeline->nodes[i].name, cl->r->opt->node) == 0)
            cl->self = i;
    for (size_t s = 0; s < g->n_stages; s++)
        for (uint32_t k = 0; k < g->stages[s].cfg->replicas; k++)
            cl->peers[graph_instance_node(g, s, k)].has_stages = 1;
    for (size_t i = 0; i < g->pipeline->n_nodes; i++)
        snprintf(cl->peers[i].endpoint, ENDPOINT_MAX, "%s", g->pipeline->nodes[i].endpoint);
    int listens = cluster_is_coordinator(cl);
    if (endpoint_control(g, cl->coord, listens, cl->control_ep, sizeof cl->control_ep, err,
                         sizeof err)) {
        log_msg(FR_LOG_ERROR, NULL, "%s", err);
        return -1;
    }
    if (hash_file(g->pipeline->file, cl->hash) != 0 || !(cl->plugins = plugin_list(g))) {
        log_msg(FR_LOG_ERROR, NULL, "cannot read %s: %s", g->pipeline->file, strerror(errno));
        return -1;
    }
    warn_if_open(cl);
    if (open_socket(cl) != 0) {
        log_msg(FR_LOG_ERROR, NULL, "control endpoint %s of coordinator node \"%s\": %s",
                cl->control_ep, node_name(cl, cl->coord), zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

cluster *cluster_new(run *r, const cluster_hooks *hooks, int *failed)
{
    if (!r->opt->node)
        return NULL;
    cluster *cl = calloc(1, sizeof *cl);
    size_t n_nodes = r->graph->pipeline->n_nodes;
    if (cl)
        cl->peers = calloc(n_nodes ? n_nodes : 1, sizeof *cl->peers);
    if (!cl || !cl->peers) {
        log_msg(FR_LOG_ERROR, NULL, "out of memory");
        free(cl);
        *failed = 1;
        return NULL;
    }
    cl->r = r;
    cl->g = r->graph;
    cl->hooks = *hooks;
    cl->verdict = -1;
    cl->run_kind = -1;
    int64_t hb_ms = r->graph->pipeline->cluster.node_timeout_ms / 5;
    cl->hb_ns = (uint64_t)(hb_ms < 50 ? 50 : hb_ms > 1000 ? 1000 : hb_ms) * 1000000u;
    if (setup(cl) != 0) {
        *failed = 1;
        cluster_free(cl);
        return NULL;
    }
    return cl;
}

void cluster_free(cluster *cl)
{
    if (!cl)
        return;
    if (cl->sock)
        zmq_close(cl->sock);
    free(cl->plugins);
    free(cl->peers);
    free(cl);
}
