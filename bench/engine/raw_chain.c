/*
 * raw_chain — the peer of bench/engine: the same chain of stages written
 * directly on libzmq, as a competent user would: one thread per stage,
 * PUSH/PULL, a header frame and a payload frame per record, the payload
 * filled by the source, received messages forwarded without copying.
 * curve: tcp with CurveZMQ on every link (libzmq's own CURVE, one server
 * key pair for the binders, one client key pair; no ZAP handler), the peer
 * of flowrun's `cluster: security: curve`.
 *
 * With `processes` (tcp, curve) every stage runs in a process of its own,
 * as the nodes of flowrun's split run do, instead of a thread.
 *
 * usage: raw_chain inproc|tcp|curve STAGES RECORDS PAYLOAD_BYTES [processes]
 * prints: records wall_s cpu_s (user+system of the process and its children)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define MAX_STAGES 8
#define HWM        16

static void *ctx;
static long records;
static size_t payload_size;
static int stages;
static char endpoints[MAX_STAGES][64];
static int curve;
/* Z85 keys (40 characters and a NUL), made at start when curve is on. */
static char server_public[41], server_secret[41], client_public[41], client_secret[41];

/* CURVE on s: a server with the server's secret key (binders), or a client
 * that expects the server's public key. */
static void secure(void *s, int server)
{
    int on = 1;
    if (server) {
        zmq_setsockopt(s, ZMQ_CURVE_SERVER, &on, sizeof on);
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, server_secret, 40);
        return;
    }
    zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server_public, 40);
    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, client_public, 40);
    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, client_secret, 40);
}

static void *make(int type, int index, int bind)
{
    void *s = zmq_socket(ctx, type);
    int hwm = HWM;
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (curve)
        secure(s, bind);
    if (bind ? zmq_bind(s, endpoints[index]) : zmq_connect(s, endpoints[index])) {
        fprintf(stderr, "raw_chain: %s: %s\n", endpoints[index], zmq_strerror(zmq_errno()));
        exit(1);
    }
    return s;
}

static void *source(void *arg)
{
    (void)arg;
    void *out = make(ZMQ_PUSH, 1, 0);
    char header[96];
    for (long i = 0; i < records; i++) {
        int n = snprintf(header, sizeof header, "src:rec-%06ld", i);
        zmq_msg_t payload;
        zmq_msg_init_size(&payload, payload_size);
        memset(zmq_msg_data(&payload), (int)(i & 0xff), payload_size);
        zmq_send(out, header, (size_t)n, ZMQ_SNDMORE);
        zmq_msg_send(&payload, out, 0);
    }
    zmq_send(out, "EOS", 3, 0);
    zmq_close(out);
    return NULL;
}

/* Stage k receives on endpoint k and, unless it is the sink, forwards. */
static void *relay(void *arg)
{
    int k = (int)(long)arg;
    void *in = make(ZMQ_PULL, k, 1);
    void *out = k + 1 < stages ? make(ZMQ_PUSH, k + 1, 0) : NULL;
    for (;;) {
        zmq_msg_t header, payload;
        zmq_msg_init(&header);
        zmq_msg_recv(&header, in, 0);
        int eos = !zmq_msg_more(&header);
        if (eos) {
            if (out)
                zmq_msg_send(&header, out, 0);
            zmq_msg_close(&header);
            break;
        }
        zmq_msg_init(&payload);
        zmq_msg_recv(&payload, in, 0);
        if (out) {
            zmq_msg_send(&header, out, ZMQ_SNDMORE);
            zmq_msg_send(&payload, out, 0);
        }
        zmq_msg_close(&header);
        zmq_msg_close(&payload);
    }
    zmq_close(in);
    if (out)
        zmq_close(out);
    return NULL;
}

static double cpu_of(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double cpu_seconds(void)
{
    return cpu_of(RUSAGE_SELF) + cpu_of(RUSAGE_CHILDREN);
}

/* Every stage a thread of this process, one ZeroMQ context. */
static void run_threads(void)
{
    pthread_t threads[MAX_STAGES];
    ctx = zmq_ctx_new();
    for (int k = stages - 1; k >= 1; k--) /* binders first */
        pthread_create(&threads[k], NULL, relay, (void *)(long)k);
    pthread_create(&threads[0], NULL, source, NULL);
    for (int k = 0; k < stages; k++)
        pthread_join(threads[k], NULL);
    zmq_ctx_term(ctx);
}

/* Every stage a process with its own context (forked before any exists). */
static void run_processes(void)
{
    pid_t pids[MAX_STAGES];
    for (int k = stages - 1; k >= 0; k--) {
        if ((pids[k] = fork()) < 0) {
            perror("raw_chain: fork");
            exit(1);
        }
        if (pids[k] == 0) {
            ctx = zmq_ctx_new();
            if (k)
                relay((void *)(long)k);
            else
                source(NULL);
            zmq_ctx_term(ctx);
            _exit(0);
        }
    }
    for (int k = 0; k < stages; k++)
        waitpid(pids[k], NULL, 0);
}

int main(int argc, char **argv)
{
    int processes = argc == 6 && !strcmp(argv[5], "processes");
    if ((argc != 5 && !processes) ||
        (strcmp(argv[1], "inproc") && strcmp(argv[1], "tcp") && strcmp(argv[1], "curve")) ||
        (processes && !strcmp(argv[1], "inproc")) || atoi(argv[2]) < 2 ||
        atoi(argv[2]) > MAX_STAGES) {
        fprintf(stderr, "usage: raw_chain inproc|tcp|curve STAGES(2-8) RECORDS PAYLOAD_BYTES "
                        "[processes]\n");
        return 2;
    }
    curve = !strcmp(argv[1], "curve");
    if (curve && (zmq_curve_keypair(server_public, server_secret) != 0 ||
                  zmq_curve_keypair(client_public, client_secret) != 0)) {
        fprintf(stderr, "raw_chain: no CURVE in this libzmq: %s\n", zmq_strerror(zmq_errno()));
        return 1;
    }
    stages = atoi(argv[2]);
    records = atol(argv[3]);
    payload_size = (size_t)atol(argv[4]);
    for (int k = 1; k < stages; k++) {
        if (!strcmp(argv[1], "inproc"))
            snprintf(endpoints[k], sizeof endpoints[k], "inproc://stage%d", k);
        else
            snprintf(endpoints[k], sizeof endpoints[k], "tcp://127.0.0.1:%d", 17600 + k);
    }
    struct timespec t0, t1;
    double cpu0 = cpu_seconds();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (processes)
        run_processes();
    else
        run_threads();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%ld %.6f %.6f\n", records, wall, cpu_seconds() - cpu0);
    return 0;
}
