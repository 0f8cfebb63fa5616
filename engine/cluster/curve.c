#include "curve.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "log.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_POLL_MS  100

typedef struct node_key {
    char z85[CURVE_KEY_Z85 + 1];
    uint8_t raw[32];
} node_key;

struct curve {
    const graph *g;
    size_t self;
    node_key *keys; /* one per pipeline node, owned */
    char secret[CURVE_KEY_Z85 + 1];
    void *zap; /* REP, used by the handler thread only */
    pthread_t thread;
    int thread_started;
    atomic_int stop;
};

int curve_read_key(const char *path, int secret, char *out, char *err, size_t err_size)
{
    FILE *f = fopen(path, "r");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) {
        snprintf(err, err_size, "cannot read key file %s: %s", path, strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    char text[128];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' ' || text[n - 1] == '\r'))
        text[--n] = '\0';
    uint8_t raw[32];
    if (n != CURVE_KEY_Z85 || !zmq_z85_decode(raw, text)) {
        snprintf(err, err_size, "key file %s: expected a 40-character Z85 key (flowrun keygen)",
                 path);
        return -1;
    }
    if (secret && (st.st_mode & 077)) {
        snprintf(err, err_size,
                 "secret key file %s is readable by others (mode %03o): chmod 600 it", path,
                 (unsigned)(st.st_mode & 0777));
        return -1;
    }
    memcpy(out, text, CURVE_KEY_Z85 + 1);
    return 0;
}

/* Writes text to path, created with mode; O_EXCL unless overwrite. */
static int write_key_file(const char *path, const char *text, mode_t mode, int overwrite, char *err,
                          size_t err_size)
{
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (overwrite ? O_TRUNC : O_EXCL);
    int fd = open(path, flags, mode);
    size_t len = strlen(text);
    int ok = fd >= 0 && fchmod(fd, mode) == 0 && write(fd, text, len) == (ssize_t)len;
    int saved = errno;
    if (fd >= 0 && close(fd) != 0 && ok) {
        ok = 0;
        saved = errno;
    }
    if (!ok) {
        snprintf(err, err_size, "cannot write %s: %s%s", path, strerror(saved),
                 saved == EEXIST ? " (--force replaces it)" : "");
        return -1;
    }
    return 0;
}

int curve_write_keypair(const char *prefix, int overwrite, char *err, size_t err_size)
{
    char public_key[CURVE_KEY_Z85 + 2], secret_key[CURVE_KEY_Z85 + 2];
    char pub_path[4096], key_path[4096];
    if (zmq_curve_keypair(public_key, secret_key) != 0) {
        snprintf(err, err_size, "cannot make a CURVE key pair: %s", zmq_strerror(zmq_errno()));
        return -1;
    }
    strcat(public_key, "\n");
    strcat(secret_key, "\n");
    snprintf(pub_path, sizeof pub_path, "%s.pub", prefix);
    snprintf(key_path, sizeof key_path, "%s.key", prefix);
    return write_key_file(key_path, secret_key, 0600, overwrite, err, err_size) != 0 ||
                   write_key_file(pub_path, public_key, 0644, overwrite, err, err_size) != 0
               ? -1
               : 0;
}

/* ---- the ZAP handler (RFC 27) ------------------------------------------ */

/* The node whose public key this is, or -1. */
static int node_of_key(const curve *c, const uint8_t *key, size_t size)
{
    for (size_t i = 0; size == 32 && i < c->g->pipeline->n_nodes; i++)
        if (memcmp(c->keys[i].raw, key, 32) == 0)
            return (int)i;
    return -1;
}

static void zap_reply(void *sock, zmq_msg_t *req_id, const char *status, const char *text,
                      const char *user)
{
    zmq_send(sock, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(sock, zmq_msg_data(req_id), zmq_msg_size(req_id), ZMQ_SNDMORE);
    zmq_send(sock, status, strlen(status), ZMQ_SNDMORE);
    zmq_send(sock, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(sock, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(sock, "", 0, 0);
}

/* Request frames: version, request id, domain, address, identity,
 * mechanism, credentials (the client's public key for CURVE). */
static void zap_answer(curve *c)
{
    zmq_msg_t f[8];
    int n = 0, more = 1;
    while (more && n < 8) {
        zmq_msg_init(&f[n]);
        if (zmq_msg_recv(&f[n], c->zap, 0) < 0)
            break;
        more = zmq_msg_more(&f[n++]);
    }
    if (n == 7 && !more) {
        char domain[256], address[256], key[CURVE_KEY_Z85 + 1] = "(none)";
        snprintf(domain, sizeof domain, "%.*s", (int)zmq_msg_size(&f[2]),
                 (const char *)zmq_msg_data(&f[2]));
        snprintf(address, sizeof address, "%.*s", (int)zmq_msg_size(&f[3]),
                 (const char *)zmq_msg_data(&f[3]));
        if (zmq_msg_size(&f[6]) == 32)
            zmq_z85_encode(key, zmq_msg_data(&f[6]), 32);
        int node = node_of_key(c, zmq_msg_data(&f[6]), zmq_msg_size(&f[6]));
        if (node >= 0) {
            zap_reply(c->zap, &f[1], "200", "OK", c->g->pipeline->nodes[node].name);
        } else {
            log_msg(FR_LOG_WARN, NULL,
                    "refused a connection to %s from %s: CURVE key %s is not a node of this "
                    "pipeline",
                    domain, address, key);
            zap_reply(c->zap, &f[1], "400", "not a node of this pipeline", "");
        }
    }
    for (int i = 0; i < n; i++)
        zmq_msg_close(&f[i]);
}

static void *zap_main(void *arg)
{
    curve *c = arg;
    zmq_pollitem_t item = {.socket = c->zap, .events = ZMQ_POLLIN};
    while (!atomic_load(&c->stop))
        if (zmq_poll(&item, 1, ZAP_POLL_MS) > 0)
            zap_answer(c);
    return NULL;
}

/* ---- sockets -------------------------------------------------------------- */

int curve_server(const curve *c, void *sock, const char *endpoint)
{
    int on = 1;
    return zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &on, sizeof on) ||
                   zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, c->secret, CURVE_KEY_Z85) ||
                   zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, endpoint, strlen(endpoint))
               ? -1
               : 0;
}

int curve_client(const curve *c, void *sock, size_t server)
{
    return zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, c->keys[server].z85, CURVE_KEY_Z85) ||
                   zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, c->keys[c->self].z85, CURVE_KEY_Z85) ||
                   zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, c->secret, CURVE_KEY_Z85)
               ? -1
               : 0;
}

/* ---- set-up ----------------------------------------------------------------- */

static int read_keys(curve *c)
{
    const config_pipeline *p = c->g->pipeline;
    char err[512];
    for (size_t i = 0; i < p->n_nodes; i++) {
        if (curve_read_key(p->nodes[i].public_key, 0, c->keys[i].z85, err, sizeof err) != 0) {
            log_msg(FR_LOG_ERROR, NULL, "node \"%s\": %s", p->nodes[i].name, err);
            return -1;
        }
        zmq_z85_decode(c->keys[i].raw, c->keys[i].z85);
    }
    const config_node *me = &p->nodes[c->self];
    if (!me->secret_key) {
        log_msg(FR_LOG_ERROR, NULL,
                "node \"%s\": missing key \"secret_key\" (cluster: security: curve)", me->name);
        return -1;
    }
    if (curve_read_key(me->secret_key, 1, c->secret, err, sizeof err) != 0) {
        log_msg(FR_LOG_ERROR, NULL, "node \"%s\": %s", me->name, err);
        return -1;
    }
    char derived[CURVE_KEY_Z85 + 1];
    if (zmq_curve_public(derived, c->secret) != 0 || strcmp(derived, c->keys[c->self].z85)) {
        log_msg(FR_LOG_ERROR, NULL, "node \"%s\": secret key %s does not belong to public key %s",
                me->name, me->secret_key, me->public_key);
        return -1;
    }
    return 0;
}

curve *curve_new(const graph *g, size_t self, void *zmq_ctx, int *failed)
{
    *failed = 0;
    if (!g->pipeline->cluster.curve)
        return NULL;
    curve *c = calloc(1, sizeof *c);
    if (c)
        c->keys = calloc(g->pipeline->n_nodes ? g->pipeline->n_nodes : 1, sizeof *c->keys);
    if (!c || !c->keys) {
        log_msg(FR_LOG_ERROR, NULL, "out of memory");
        goto fail;
    }
    c->g = g;
    c->self = self;
    if (!zmq_has("curve")) {
        log_msg(FR_LOG_ERROR, NULL, "security: curve, but this libzmq was built without CURVE");
        goto fail;
    }
    if (read_keys(c) != 0)
        goto fail;
    c->zap = zmq_socket(zmq_ctx, ZMQ_REP);
    if (!c->zap || zmq_bind(c->zap, ZAP_ENDPOINT) != 0 ||
        pthread_create(&c->thread, NULL, zap_main, c) != 0) {
        log_msg(FR_LOG_ERROR, NULL, "cannot start the CURVE authentication handler: %s",
                zmq_strerror(zmq_errno()));
        goto fail;
    }
    c->thread_started = 1;
    return c;
fail:
    *failed = 1;
    curve_free(c);
    return NULL;
}

void curve_free(curve *c)
{
    if (!c)
        return;
    atomic_store(&c->stop, 1);
    if (c->thread_started)
        pthread_join(c->thread, NULL);
    if (c->zap) {
        int linger = 0;
        zmq_setsockopt(c->zap, ZMQ_LINGER, &linger, sizeof linger);
        zmq_close(c->zap);
    }
    free(c->keys);
    free(c);
}
