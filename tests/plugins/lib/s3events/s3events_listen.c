/*
 * s3events-listen — the listener of flowrun-s3events as a program, for the
 * tests: prints "listening on PORT", then one JSON line per delivered
 * record ({"kind", "event", "bucket", "key", "etag", "size", "sequencer"})
 * on stdout and "refused STATUS: why" on stderr; stops when stdin closes.
 *   s3events-listen URL BUCKET [FAIL]
 * FAIL: answer the first FAIL deliveries 503 (not durable), so the sender's
 * redelivery shows.  BUCKET "*" accepts any.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3events.h"

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct listen_state {
    long fail; /* deliveries still to refuse */
} listen_state;

static const char *kind_name(s3events_kind k)
{
    return k == S3EVENTS_CREATED ? "created" : k == S3EVENTS_REMOVED ? "removed" : "ignored";
}

static void print_object(const s3events_object *o)
{
    json_t *line =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kind", kind_name(o->kind), "event", o->event,
                  "bucket", o->bucket, "key", o->key, "etag", o->etag, "sequencer", o->sequencer);
    if (o->size != S3EVENTS_SIZE_UNKNOWN)
        json_object_set_new(line, "size", json_integer((json_int_t)o->size));
    char *text = line ? json_dumps(line, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    if (text)
        printf("%s\n", text);
    free(text);
    json_decref(line);
}

static int listen_deliver(void *ctx, const s3events_object *objects, size_t n, char *err,
                          size_t err_size)
{
    listen_state *s = ctx;
    pthread_mutex_lock(&out_lock);
    int refuse = s->fail > 0;
    if (refuse) {
        s->fail--;
        snprintf(err, err_size, "refusing as told (%zu records)", n);
        fprintf(stderr, "not durable: %s\n", err);
    }
    for (size_t i = 0; !refuse && i < n; i++)
        print_object(&objects[i]);
    fflush(stdout);
    fflush(stderr);
    pthread_mutex_unlock(&out_lock);
    return refuse ? -1 : 0;
}

static void listen_refused(void *ctx, int status, const char *why)
{
    (void)ctx;
    pthread_mutex_lock(&out_lock);
    fprintf(stderr, "refused %d: %s\n", status, why);
    fflush(stderr);
    pthread_mutex_unlock(&out_lock);
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: s3events-listen URL BUCKET [FAIL]\n");
        return 2;
    }
    listen_state s = {.fail = argc == 4 ? atol(argv[3]) : 0};
    s3events_options opt = {.bucket = strcmp(argv[2], "*") ? argv[2] : NULL,
                            .encoding = S3EVENTS_KEY_AUTO,
                            .limits = {.max_records = 100, .max_key = 1024},
                            .max_body = 256 * 1024,
                            .timeout_s = 10,
                            .max_connections = 16};
    char err[512];
    s3events_listener *l =
        s3events_listen(argv[1], &opt, listen_deliver, listen_refused, &s, err, sizeof err);
    if (!l) {
        fprintf(stderr, "s3events-listen: %s\n", err);
        return 1;
    }
    printf("listening on %u\n", s3events_port(l));
    fflush(stdout);
    while (getchar() != EOF)
        ;
    s3events_stop(l);
    return 0;
}
