/*
 * http.h — flowrun's small HTTP server layer on Debian's libmicrohttpd.
 *
 * One handler gets each request once its whole body has arrived and fills
 * in the response.  What protects the server is enforced here, in one
 * place, for every user (the model server, /metrics, health):
 *   - max_body: a body beyond it is answered 413 and never stored: at once
 *     when the client declared its Content-Length and waits for "100
 *     Continue" (curl does), else after the body was read and discarded
 *     (a client that sends without waiting would miss an early answer);
 *   - timeout: a connection idle that long (a slowloris client that stops
 *     sending, a stalled upload) is closed;
 *   - max_connections and per_ip: further connections are refused at accept;
 *   - header memory per connection is bounded (431-like refusal by MHD).
 * Each connection has its own thread (MHD_USE_THREAD_PER_CONNECTION), so a
 * handler may block (e.g. waiting for a batch) without stalling others; the
 * connection limit bounds the threads.  Error bodies are JSON:
 * {"error": "..."}.
 */
#ifndef FLOWRUN_HTTP_H
#define FLOWRUN_HTTP_H

#include <stddef.h>
#include <stdint.h>

typedef struct http_limits {
    size_t max_body;          /* bytes of request body */
    unsigned timeout_s;       /* idle connection timeout, seconds (>= 1) */
    unsigned max_connections; /* connections at once */
    unsigned per_ip;          /* connections at once from one address; 0: no limit */
} http_limits;

typedef struct http_request http_request; /* opaque; valid during the handler */

const char *http_method(const http_request *r);
const char *http_path(const http_request *r); /* without the query string */
/* A query argument or a header (case-insensitive), or NULL.  Borrowed. */
const char *http_query(const http_request *r, const char *name);
const char *http_header(const http_request *r, const char *name);
/* The body, borrowed for the handler's call. */
const unsigned char *http_body(const http_request *r, size_t *size);

typedef struct http_response {
    int status;               /* 200 when the handler leaves it 0 */
    const char *content_type; /* static string; default application/json */
    char *body;               /* malloc'd, transferred to the server; may be NULL */
    size_t size;
    /* One extra header (e.g. Inference-Header-Content-Length), or NULL name. */
    const char *header_name; /* static string */
    char header_value[32];
} http_response;

/* Fills res with status and {"error": message} (message escaped). */
void http_error(http_response *res, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

typedef void (*http_handler)(void *ctx, const http_request *req, http_response *res);
/* Told of the requests the layer answered itself (413), for metrics. */
typedef void (*http_refused)(void *ctx, int status);

typedef struct http_server http_server;

/* Listens on host:port (port 0: any free port, see http_port) and serves
 * with handler(ctx, ...) on per-connection threads.  host: an IPv4/IPv6
 * literal or "*"/"" (all).  Returns NULL with err. */
http_server *http_start(const char *host, uint16_t port, const http_limits *limits,
                        http_handler handler, http_refused refused, void *ctx, char *err,
                        size_t err_size);
uint16_t http_port(const http_server *s);
/* Stops accepting connections, then waits until no request is in flight
 * (its headers arrived, its answer not yet sent): a draining server answers
 * what it has begun.  Open idle connections are left to http_stop. */
void http_drain(http_server *s);
/* Closes every connection and frees s.  NULL is fine. */
void http_stop(http_server *s);

/* Splits "ADDR:PORT", "[V6]:PORT" or ":PORT" into host (caller's, size) and
 * port.  0, or -1 with err. */
int http_parse_listen(const char *text, char *host, size_t size, uint16_t *port, char *err,
                      size_t err_size);

#endif
