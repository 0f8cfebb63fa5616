/*
 * instance.c — the thread of one stage instance: its sockets, the receive
 * loop (retries, dead letters, end of stream), the source loop, and the
 * backend through which the plugin's emits, rejects and commits leave.
 */
#include "instance.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "buffer.h"
#include "control.h"
#include "log.h"
#include "port_type.h"
#include "transport.h"
#include "wire_check.h"
#include "wire_codec.h"

#define POLL_MS 100 /* how often a blocked instance looks at the stop flag */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const graph_stage *gstage(const instance *in)
{
    return &in->run->graph->stages[in->stage_index];
}

static int stopping(const instance *in)
{
    return atomic_load(&in->run->stopping);
}

/* A sign of life (run_state.h, alive_ns): where a thread wakes from a wait. */
static void alive(instance *in, uint64_t now)
{
    atomic_store_explicit(&in->alive_ns, now, memory_order_relaxed);
}

static void send_control(instance *in, enum control_type type, fr_status status,
                         const char *const *texts, size_t n)
{
    control_header h = {.type = type,
                        .status = (uint8_t)status,
                        .stage = (uint32_t)in->stage_index,
                        .instance = in->index};
    control_send(in->ctl, &h, texts, n);
}

/* ---- sending ---------------------------------------------------------- */

/* Sends to one instance of the consumer stage: the next one with room,
 * else waits until one has room.  buf's reference passes on, whatever
 * happens. */
static fr_status send_to_port(instance *in, out_port *port, const uint8_t *header, size_t size,
                              fr_buffer *buf)
{
    zmq_pollitem_t items[64];
    size_t n_items = port->n < 64 ? port->n : 64;
    for (size_t i = 0; i < n_items; i++)
        items[i] = (zmq_pollitem_t){.socket = port->socks[i], .events = ZMQ_POLLOUT};
    while (!stopping(in)) {
        for (size_t tried = 0; tried < port->n; tried++) {
            void *sock = port->socks[port->next];
            port->next = (port->next + 1) % port->n;
            int rc = transport_send(sock, header, size, buf, ZMQ_DONTWAIT);
            if (rc == 0)
                return FR_OK;
            if (rc == -2)
                return FR_STOP; /* buf released by ZeroMQ */
            if (errno != EAGAIN)
                goto stop;
        }
        uint64_t start = now_ns(); /* every pipe is full: backpressure */
        zmq_poll(items, (int)n_items, POLL_MS);
        uint64_t end = now_ns();
        counter_add(&in->counters.blocked_ns, end - start);
        alive(in, end);
    }
stop:
    buffer_unref(buf);
    return FR_STOP;
}

static fr_status backend_emit(void *ctx, fr_stage *st, const fr_record *rec)
{
    instance *in = ctx;
    fr_buffer *buf = rec->payload.buffer;
    fr_record stamped = *rec;
    char id[1024];
    if (!gstage(in)->plugin->desc.input && !rec->id[0]) {
        /* A source that gives no id gets the documented default. */
        snprintf(id, sizeof id, "%s:%s", gstage(in)->cfg->name, rec->key);
        stamped.id = id;
    }
    size_t size = wire_header_size(&stamped);
    uint8_t small[2048], *header = size <= sizeof small ? small : malloc(size);
    fr_status status = header ? FR_OK : fr_fail(st, FR_FATAL, "out of memory");
    if (header)
        wire_encode(&stamped, FR_WIRE_DATA, header);
    for (size_t k = 0; status == FR_OK && k < in->n_outs; k++)
        status = send_to_port(in, &in->outs[k], header, size, buffer_ref(buf));
    if (status == FR_OK && in->n_outs == 0)
        status = fr_fail(st, FR_FATAL, "a sink cannot emit (plugin %s has no output)",
                         st->plugin->desc.name);
    buffer_unref(buf);
    if (header != small)
        free(header);
    if (status == FR_OK)
        counter_add(&in->counters.out, 1);
    return status;
}

/* ---- dead letters and commits ----------------------------------------- */

static void dead_letter(instance *in, const fr_record *rec, dead_class why, const char *reason,
                        unsigned attempts)
{
    char *line = deadletter_format(in->run->graph, in->stage_index, rec, reason, attempts);
    const char *texts[2] = {rec->id ? rec->id : "", line ? line : "{}"};
    send_control(in, CTL_DEAD, FR_REJECT, texts, 2);
    free(line);
    log_key(FR_LOG_DEBUG, in->stage.scope, rec->key, "dead-lettered (%s): %s", dead_class_name(why),
            reason);
    counter_add(&in->counters.dead_by_class[why], 1);
    counter_add(&in->counters.dead, 1);
}

static void backend_reject(void *ctx, fr_stage *st, const fr_record *rec, const char *reason)
{
    (void)st;
    dead_letter(ctx, rec, DEAD_REJECTED, reason, 1);
}

/* One batch of n > 0 records (run_snapshot.h), for the batch-size histogram. */
static void count_batch(instance *in, uint64_t n)
{
    if (!n)
        return;
    counter_add(&in->counters.batches[batch_bucket(n)], 1);
    counter_add(&in->counters.batch_records, n);
}

static void backend_commit(void *ctx, fr_stage *st, const char *const *ids, size_t n)
{
    (void)st;
    count_batch(ctx, n);
    const size_t chunk = 256;
    for (size_t i = 0; i < n; i += chunk)
        send_control(ctx, CTL_COMMIT, FR_OK, ids + i, n - i < chunk ? n - i : chunk);
}

static int backend_stopping(void *ctx, fr_stage *st)
{
    (void)st;
    return stopping(ctx);
}

static int draining(const instance *in)
{
    return atomic_load(&in->run->draining);
}

/* Delivers commit batches waiting on cmd; waits up to timeout_ms for one,
 * for fd (>= 0) to be readable, or for the input to end (draining).  The
 * wait is cut in POLL_MS slices only to see the stop and drain flags. */
static fr_status take_commands(instance *in, int fd, int64_t timeout_ms)
{
    zmq_pollitem_t items[2] = {{.socket = in->cmd, .events = ZMQ_POLLIN},
                               {.fd = fd, .events = ZMQ_POLLIN}};
    int64_t waited = 0;
    for (;;) {
        if (stopping(in))
            return FR_STOP;
        if (draining(in) && timeout_ms > 0)
            return FR_OK;
        long slice = timeout_ms - waited < POLL_MS ? (long)(timeout_ms - waited) : POLL_MS;
        int ready = zmq_poll(items, fd >= 0 ? 2 : 1, slice > 0 ? slice : 0);
        alive(in, now_ns());
        if (ready > 0) {
            if (!(items[0].revents & ZMQ_POLLIN))
                return FR_OK; /* fd */
            control_header h;
            char **ids;
            int n = control_recv(in->cmd, 0, &h, &ids);
            if (n >= 0 && h.type == CTL_COMMITS)
                stage_deliver_commits(&in->stage, (const char *const *)ids, (size_t)n);
            control_texts_free(ids, n);
            return FR_OK;
        }
        waited += slice;
        if (waited >= timeout_ms)
            return FR_OK;
    }
}

static fr_status backend_idle(void *ctx, fr_stage *st, int64_t timeout_ms)
{
    (void)st;
    return take_commands(ctx, -1, timeout_ms);
}

/* ---- continuous sources (ABI 1.2) -------------------------------------- */

static void backend_set_continuous(void *ctx, fr_stage *st)
{
    instance *in = ctx;
    (void)st;
    atomic_store(&in->run->continuous, 1);
}

static fr_status backend_wait(void *ctx, fr_stage *st, int fd, int64_t timeout_ms)
{
    (void)st;
    return take_commands(ctx, fd, timeout_ms);
}

static int backend_ledger_sync(void *ctx, fr_stage *st)
{
    instance *in = ctx;
    (void)st;
    int rc = ledger_sync(in->run->ledger);
    ledger_reader_refresh(in->reader); /* so key_state() sees what was just written */
    return rc;
}

/* ---- durable runs: the ledger ---------------------------------------- */

static void backend_checkpoint(void *ctx, fr_stage *st, const char *const *ids, size_t n)
{
    instance *in = ctx;
    (void)st;
    if (in->run->ledger)
        ledger_checkpoint(in->run->ledger, in->stage_index, ids, n);
}

static fr_key_state backend_key_state(void *ctx, fr_stage *st, const char *key, const char *version)
{
    instance *in = ctx;
    (void)st;
    if (in->run->ledger && !in->reader)
        in->reader = ledger_reader_new(in->run->ledger, in->stage_index);
    /* No ledger (a node of a split run): every key is read; sinks dedupe. */
    return in->reader ? ledger_key_state(in->reader, key, version) : FR_KEY_NEW;
}

static void backend_key_sent(void *ctx, fr_stage *st, const char *key, const char *version)
{
    instance *in = ctx;
    (void)st;
    if (in->run->ledger)
        ledger_key_sent(in->run->ledger, in->stage_index, key, version);
}

static void backend_fingerprint(void *ctx, fr_stage *st, const char *key, const char *hash)
{
    instance *in = ctx;
    (void)st;
    if (in->run->ledger)
        ledger_add_file(in->run->ledger, gstage(in)->cfg->name, key, hash);
}

static fr_run_kind backend_run_kind(void *ctx, fr_stage *st)
{
    instance *in = ctx;
    (void)st;
    return ledger_run_kind(in->run->ledger);
}

static const stage_backend runtime_backend = {
    .emit = backend_emit,
    .reject = backend_reject,
    .commit = backend_commit,
    .stopping = backend_stopping,
    .idle = backend_idle,
    .checkpoint = backend_checkpoint,
    .key_state = backend_key_state,
    .key_sent = backend_key_sent,
    .fingerprint = backend_fingerprint,
    .run_kind = backend_run_kind,
    .set_continuous = backend_set_continuous,
    .wait = backend_wait,
    .ledger_sync = backend_ledger_sync,
};

/* ---- processing one record -------------------------------------------- */

static void backoff(instance *in, unsigned attempt)
{
    int64_t ms = gstage(in)->cfg->retry_backoff_ms << (attempt < 10 ? attempt : 10);
    ms += rand() % (ms / 4 + 1); /* jitter, so replicas do not retry in lockstep */
    for (int64_t slept = 0; slept < ms && !stopping(in); slept += POLL_MS) {
        long step = ms - slept < POLL_MS ? (long)(ms - slept) : POLL_MS;
        struct timespec ts = {.tv_sec = step / 1000, .tv_nsec = (step % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        alive(in, now_ns());
    }
}

/* A plugin callback: its time, and what it emitted as one batch. */
static fr_status timed(instance *in, fr_status (*call)(fr_stage *, const fr_record *),
                       const fr_record *rec)
{
    uint64_t out = atomic_load_explicit(&in->counters.out, memory_order_relaxed);
    uint64_t start = now_ns();
    fr_status s = call(&in->stage, rec);
    uint64_t end = now_ns();
    counter_add(&in->counters.busy_ns, end - start);
    alive(in, end);
    count_batch(in, atomic_load_explicit(&in->counters.out, memory_order_relaxed) - out);
    return s;
}

static fr_status process_call(fr_stage *st, const fr_record *rec)
{
    return stage_process(st, rec);
}

/* RETRY with backoff up to the stage's retries, then dead-letter. */
static fr_status process_record(instance *in, const fr_record *rec)
{
    unsigned retries = gstage(in)->cfg->retries;
    for (unsigned attempt = 0;; attempt++) {
        fr_status s = timed(in, process_call, rec);
        if (s == FR_OK || s == FR_FATAL || s == FR_STOP)
            return s;
        if (s == FR_RETRY && attempt < retries) {
            counter_add(&in->counters.retries, 1);
            backoff(in, attempt);
            if (stopping(in))
                return FR_STOP;
            continue;
        }
        char reason[1200];
        if (s == FR_RETRY)
            snprintf(reason, sizeof reason, "gave up after %u attempts: %s", attempt + 1,
                     stage_reason(&in->stage));
        else
            snprintf(reason, sizeof reason, "%s",
                     stage_reason(&in->stage)[0] ? stage_reason(&in->stage) : "rejected");
        dead_letter(in, rec, s == FR_RETRY ? DEAD_RETRIES_EXHAUSTED : DEAD_REJECTED, reason,
                    attempt + 1);
        return FR_OK;
    }
}

/* ---- receiving -------------------------------------------------------- */

static fr_status check_payload(instance *in, const fr_record *rec)
{
    if (!port_type_matches_payload(&in->accepts, &rec->payload)) {
        dead_letter(in, rec, DEAD_TYPE_MISMATCH, "payload does not match the stage's input type",
                    1);
        return FR_REJECT;
    }
    return FR_OK;
}

/* Counts and drops a message that fails a check, with a log line naming
 * where it came from; the first hundred per instance, then every power of ten,
 * so a flood cannot fill the log. */
static void drop_malformed(instance *in, zmq_msg_t *header, const char *reason)
{
    counter_add(&in->counters.malformed, 1);
    uint64_t n = atomic_load_explicit(&in->counters.malformed, memory_order_relaxed);
    int log_it = n <= 100;
    for (uint64_t p = 100; !log_it && p <= n; p *= 10)
        log_it = p == n;
    if (!log_it)
        return;
    const char *peer = zmq_msg_gets(header, "Peer-Address");
    log_msg(FR_LOG_WARN, in->stage.scope,
            "dropped a malformed message (%llu so far) from %s%s%s: %s", (unsigned long long)n,
            peer ? peer : "a stage of this process", peer ? " on " : "", peer ? in->listen_ep : "",
            reason);
}

/* Receives the frames after the header: the payload of DATA into payload
 * (*frames counts them).  Frames beyond what the format allows are read
 * and discarded, so the next message starts clean. */
static void receive_rest(instance *in, zmq_msg_t *header, zmq_msg_t *payload, int *frames)
{
    *frames = 1;
    if (!zmq_msg_more(header))
        return;
    if (zmq_msg_recv(payload, in->data_in, 0) < 0)
        return;
    (*frames)++;
    zmq_msg_t extra;
    zmq_msg_init(&extra);
    for (int more = zmq_msg_more(payload); more; more = zmq_msg_more(&extra), (*frames)++)
        if (zmq_msg_recv(&extra, in->data_in, 0) < 0)
            break;
    zmq_msg_close(&extra);
}

/* The checks a message passes before it counts: format, frame count, the
 * EOS sender, the payload size.  Returns 0, or -1 with the reason. */
static int check_message(instance *in, zmq_msg_t *header, zmq_msg_t *payload, int frames, char *err,
                         size_t err_size)
{
    wire_decoded *d = &in->header;
    if (wire_decode(zmq_msg_data(header), zmq_msg_size(header), d, err, err_size) != 0)
        return -1;
    int want = d->type == FR_WIRE_EOS ? 1 : 2;
    if (frames != want) {
        snprintf(err, err_size, "%s message of %d frames, expected %d",
                 d->type == FR_WIRE_EOS ? "end-of-stream" : "data", frames, want);
        return -1;
    }
    const char *peer_node = zmq_msg_gets(header, "User-Id"); /* set under CURVE */
    if (d->type == FR_WIRE_EOS)
        return eos_senders_accept(&in->eos_from, d->rec.key,
                                  zmq_msg_gets(header, "Peer-Address") != NULL, peer_node, err,
                                  err_size);
    if (peer_node && !eos_senders_upstream_node(&in->eos_from, peer_node)) {
        snprintf(err, err_size, "a record from node \"%.64s\", which runs no upstream stage",
                 peer_node);
        return -1;
    }
    return wire_check_payload(&d->rec.payload, zmq_msg_size(payload), err, err_size);
}

/* One message whose header frame is in `header`. */
static fr_status receive_data(instance *in, zmq_msg_t *header)
{
    wire_decoded *d = &in->header;
    char err[512];
    int frames;
    zmq_msg_t payload;
    zmq_msg_init(&payload);
    receive_rest(in, header, &payload, &frames);
    if (check_message(in, header, &payload, frames, err, sizeof err) != 0) {
        drop_malformed(in, header, err);
        zmq_msg_close(&payload);
        return FR_OK;
    }
    if (d->type == FR_WIRE_EOS) {
        in->eos_seen++;
        zmq_msg_close(&payload);
        return FR_OK;
    }
    counter_add(&in->counters.in, 1);
    fr_buffer *buf = zmq_msg_size(&payload) ? buffer_from_zmq(&payload) : NULL;
    zmq_msg_close(&payload);
    d->rec.payload.buffer = buf;
    d->rec.payload.data = buf ? buffer_data(buf) : NULL;
    d->rec.payload.size = buf ? buffer_size(buf) : 0;
    fr_status s = check_payload(in, &d->rec) == FR_OK ? process_record(in, &d->rec) : FR_OK;
    buffer_unref(buf);
    return s;
}

static fr_status tick_call(fr_stage *st, const fr_record *unused)
{
    (void)unused;
    return stage_tick(st);
}

/* Takes the next message if there is one; waits (watching the stop flag)
 * only when there is none, so a busy pipeline pays no poll per message.
 * Every POLL_MS without a message the stage gets a tick (a rolling sink
 * publishes a part that aged meanwhile). */
static fr_status receive_one(instance *in, zmq_msg_t *header)
{
    zmq_pollitem_t item = {.socket = in->data_in, .events = ZMQ_POLLIN};
    for (;;) {
        if (stopping(in))
            return FR_STOP;
        if (zmq_msg_recv(header, in->data_in, ZMQ_DONTWAIT) >= 0)
            return FR_OK;
        if (zmq_errno() != EAGAIN)
            return FR_STOP;
        int ready = zmq_poll(&item, 1, POLL_MS);
        alive(in, now_ns());
        if (ready == 0 && gstage(in)->plugin->desc.tick) {
            fr_status s = timed(in, tick_call, NULL);
            if (s != FR_OK)
                return s;
        }
    }
}

static fr_status receive_loop(instance *in)
{
    char why[128];
    fr_status s = FR_OK;
    if (port_type_parse(in->stage.input_type, &in->accepts, why, sizeof why) != 0)
        in->accepts = (port_type){.any = 1}; /* checked when the graph was built */
    if (eos_senders_init(&in->eos_from, in->run->graph, in->stage_index, in->index) != 0)
        return fr_fail(&in->stage, FR_FATAL, "out of memory");
    while (s == FR_OK && in->eos_seen < in->eos_expected) {
        zmq_msg_t header;
        zmq_msg_init(&header);
        s = receive_one(in, &header);
        if (s == FR_OK)
            s = receive_data(in, &header);
        zmq_msg_close(&header);
    }
    wire_decoded_free(&in->header);
    eos_senders_free(&in->eos_from);
    return s;
}

static fr_status produce_call(fr_stage *st, const fr_record *unused)
{
    (void)unused;
    return stage_produce(st);
}

static fr_status source_loop(instance *in)
{
    for (;;) {
        if (stopping(in))
            return FR_STOP;
        if (draining(in))
            return FR_OK; /* the input ends: flush, EOS, what was emitted is committed */
        fr_status s = take_commands(in, -1, 0);
        if (s != FR_OK)
            return s;
        s = timed(in, produce_call, NULL);
        if (s == FR_DONE)
            return FR_OK;
        if (s != FR_OK)
            return s;
    }
}

static fr_status flush_call(fr_stage *st, const fr_record *unused)
{
    (void)unused;
    return stage_flush(st);
}

/* ---- the thread ------------------------------------------------------- */

/* Waits for room on a full socket, so a peer that died cannot keep the
 * thread from seeing the stop flag. */
static void send_eos(instance *in)
{
    char sender[128];
    snprintf(sender, sizeof sender, "%s#%u", gstage(in)->cfg->name, in->index);
    for (size_t k = 0; k < in->n_outs; k++)
        for (size_t i = 0; i < in->outs[k].n; i++) {
            zmq_pollitem_t item = {.socket = in->outs[k].socks[i], .events = ZMQ_POLLOUT};
            while (transport_send_eos(item.socket, sender, ZMQ_DONTWAIT) != 0 &&
                   zmq_errno() == EAGAIN && !stopping(in)) {
                zmq_poll(&item, 1, POLL_MS);
                alive(in, now_ns());
            }
        }
}

/* Waits for GO or ABORT from the coordinator. */
static int wait_for_go(instance *in)
{
    control_header h;
    char **texts;
    int n = control_recv(in->cmd, 0, &h, &texts);
    control_texts_free(texts, n);
    return n >= 0 && h.type == CTL_GO;
}

static fr_status run_stage(instance *in)
{
    alive(in, now_ns());
    fr_status s = gstage(in)->plugin->desc.input ? receive_loop(in) : source_loop(in);
    if (s == FR_OK)
        s = timed(in, flush_call, NULL);
    if (s == FR_OK)
        send_eos(in);
    alive(in, 0); /* ended: no longer watched */
    return s;
}

static void *instance_main(void *arg)
{
    instance *in = arg;
    fr_status s = stage_init(&in->stage);
    /* READY's texts: the output type; or the reason, and for a configuration
     * error the key it names (the coordinator reports it at its place). */
    const char *ready_texts[2] = {s == FR_OK ? in->stage.output_type : stage_reason(&in->stage),
                                  in->stage.config_key};
    if (s != FR_OK && !stopping(in))
        atomic_store(&in->failed, 1); /* for the metrics: an init that failed */
    send_control(in, CTL_READY, s, ready_texts, s != FR_OK && in->stage.config_error ? 2 : 1);
    if (s == FR_OK && wait_for_go(in))
        s = run_stage(in);
    else
        s = FR_STOP; /* an init failure was reported with READY: say it once */
    const char *reason = stage_reason(&in->stage);
    char done_text[1200];
    snprintf(done_text, sizeof done_text, "%s", reason);
    stage_fini(&in->stage);
    ledger_reader_free(in->reader);
    in->reader = NULL;
    const char *text = done_text;
    if (s != FR_OK && s != FR_STOP)
        atomic_store(&in->failed, 1);
    send_control(in, CTL_DONE, s, &text, 1);
    return NULL;
}

void instance_prepare(instance *in, run *r, size_t stage_index, uint32_t index,
                      const char *input_type)
{
    const graph_stage *gs = &r->graph->stages[stage_index];
    in->run = r;
    in->stage_index = stage_index;
    in->index = index;
    stage_setup(&in->stage, gs->plugin, gs->cfg->name, r->graph->pipeline->name, index,
                gs->cfg->replicas, gs->config, gs->plugin->desc.input ? input_type : NULL,
                gs->plugin->desc.output ? gs->output_type : NULL, &runtime_backend, in);
    for (size_t k = 0; k < gs->n_inputs; k++)
        in->eos_expected += r->graph->stages[gs->inputs[k]].cfg->replicas;
}

int instance_start(instance *in)
{
    in->thread_started = pthread_create(&in->thread, NULL, instance_main, in) == 0;
    return in->thread_started ? 0 : -1;
}
