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

/* ---- bodies and answers (cli_serve_body.c): no network, no model ---- */

struct json_t;

/* /v1/classify's ?top=K (arg: NULL when absent: 5), at most the classes.
 * 0, or -1 with res (400). */
int serve_v1_top(const server *s, const char *arg, size_t *top, http_response *res);
/* /v1/classify's answer for one photo's probabilities (s->n_classes). */
void serve_v1_answer(const server *s, const float *prob, size_t top, double timing_ms,
                     http_response *res);

/* An infer request's photos. */
typedef struct serve_photos {
    batch_item *items; /* owned, n; each photo borrowed from the body or decoded */
    size_t n;
    unsigned char **decoded; /* owned, n: base64-decoded copies (JSON data) */
} serve_photos;
void serve_photos_free(serve_photos *p);

/* Parses a /v2/models/NAME/infer body of size bytes: the JSON header (all
 * of it, or hlen bytes: the Inference-Header-Content-Length header, NULL
 * when absent) and the photos, into p (borrowing from body).  *req: the
 * request's JSON (the caller decrefs it; NULL when it did not parse).  0, or
 * -1 with res (400, or 500 when out of memory). */
int serve_v2_parse(const server *s, const unsigned char *body, size_t size, const char *hlen,
                   struct json_t **req, serve_photos *p, http_response *res);
/* The answer to req for p's answered photos (every status CHAIN_OK). */
void serve_v2_answer(const server *s, struct json_t *req, const serve_photos *p,
                     http_response *res);

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
void serve_dump(http_response *res, struct json_t *o);
/* A jansson string (not json_string(): libflowrun exports one of its own). */
struct json_t *serve_jstr(const char *s);

#endif
