/*
 * cli_serve.h — what the model server's parts share: the server state
 * (cli_serve.c), the v1 and KServe v2 endpoints (cli_serve_v1.c,
 * cli_serve_v2.c).
 */
#ifndef FLOWRUN_CLI_SERVE_H
#define FLOWRUN_CLI_SERVE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "cli_serve_batch.h"
#include "cli_serve_metrics.h"
#include "http.h"

typedef struct server {
    const char *model_name; /* borrowed from argv */
    char version[32];       /* the bundle's creation time, compact */
    char **classes;         /* owned */
    size_t n_classes;
    char precision[256];    /* how the network runs (chain_precision) */
    batcher *batcher;       /* owned */
    serve_metrics *metrics; /* owned */
    int64_t request_timeout_ms;
    size_t max_photos; /* per request: the queue's size */
    atomic_int draining;
} server;

/* Classifies n photos of one request: items' answers filled (their prob
 * arrays allocated here, n_classes floats each, freed by serve_items_free).
 * Returns 0, or -1 with res filled with the error (503, 504). */
int serve_classify(server *s, batch_item *items, size_t n, http_response *res);
void serve_items_free(batch_item *items, size_t n);
/* The HTTP status of a refused photo: 400 for a bad photo, 500 otherwise. */
int serve_photo_status(const chain_answer *a);

/* POST /v1/classify */
void serve_v1_classify(server *s, const http_request *req, http_response *res);
/* POST /v2/models/NAME/infer */
void serve_v2_infer(server *s, const http_request *req, http_response *res);
/* GET /v2, /v2/models/NAME */
void serve_v2_server_metadata(server *s, http_response *res);
void serve_v2_model_metadata(server *s, http_response *res);

/* res becomes a JSON body (copied). */
void serve_json(http_response *res, int status, const char *json);
/* res becomes o's JSON text, status 200 (o released; NULL: out of memory). */
struct json_t;
void serve_dump(http_response *res, struct json_t *o);
/* A jansson string (not json_string(): libflowrun exports one of its own). */
struct json_t *serve_jstr(const char *s);

#endif
