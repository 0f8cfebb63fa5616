/*
 * server.c — the HTTP layer on libmicrohttpd (http.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "utf8.h"

struct http_server {
    struct MHD_Daemon *daemon;
    http_limits limits;
    http_handler handler;
    http_refused refused;
    void *ctx;
    uint16_t port;
    pthread_mutex_t lock;
    pthread_cond_t idle; /* in_flight fell to 0 */
    unsigned in_flight;  /* requests begun and not completed */
};

/* One request being received: the body so far. */
struct http_request {
    struct MHD_Connection *conn;
    const char *method, *path; /* MHD's, valid for the request */
    unsigned char *body;       /* owned */
    size_t size, cap;
    int too_large; /* the body outgrew max_body: discarded, answered 413 */
};

const char *http_method(const http_request *r)
{
    return r->method;
}

const char *http_path(const http_request *r)
{
    return r->path;
}

const char *http_query(const http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_header(const http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const unsigned char *http_body(const http_request *r, size_t *size)
{
    *size = r->size;
    return r->body ? r->body : (const unsigned char *)"";
}

/* The message as a JSON string body (quotes, backslashes, control bytes
 * escaped). */
static size_t json_escape(const char *in, char *out, size_t size)
{
    size_t o = 0;
    for (const unsigned char *c = (const unsigned char *)in; *c && o + 7 < size; c++) {
        if (*c == '"' || *c == '\\')
            o += (size_t)snprintf(out + o, size - o, "\\%c", *c);
        else if (*c < 0x20)
            o += (size_t)snprintf(out + o, size - o, "\\u%04x", *c);
        else
            out[o++] = (char)*c;
    }
    out[o] = '\0';
    return o;
}

void http_error(http_response *res, int status, const char *fmt, ...)
{
    char msg[1024], esc[6200]; /* each byte escaped in at most 6 */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* Messages quote what clients sent: any bytes; JSON is UTF-8. */
    utf8_buf scratch = {0};
    size_t len = strlen(msg);
    const char *text = utf8_valid(msg, &len, &scratch);
    json_escape(text ? text : "out of memory", esc, sizeof esc);
    utf8_buf_free(&scratch);
    free(res->body);
    res->status = status;
    res->content_type = "application/json";
    res->header_name = NULL;
    res->body = malloc(strlen(esc) + 16);
    res->size = res->body ? (size_t)sprintf(res->body, "{\"error\": \"%s\"}", esc) : 0;
}

static enum MHD_Result http_send(struct MHD_Connection *conn, http_response *res)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(res->size, res->body ? res->body : (void *)"",
                                        res->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(res->body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type",
                            res->content_type ? res->content_type : "application/json");
    if (res->header_name)
        MHD_add_response_header(r, res->header_name, res->header_value);
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)(res->status ? res->status : 200), r);
    MHD_destroy_response(r);
    return ok;
}

/* Appends a piece of the body, unless it outgrows the limit. */
static void http_append(http_request *req, const char *data, size_t n, size_t max)
{
    if (req->too_large || req->size + n > max) {
        req->too_large = 1;
        return;
    }
    if (req->size + n > req->cap) {
        size_t cap = req->cap ? req->cap : 64 * 1024;
        while (cap < req->size + n)
            cap *= 2;
        unsigned char *b = realloc(req->body, cap);
        if (!b) {
            req->too_large = 1;
            return;
        }
        req->body = b;
        req->cap = cap;
    }
    memcpy(req->body + req->size, data, n);
    req->size += n;
}

/* A declared Content-Length above the limit from a client waiting for "100
 * Continue": refused before it sends the body. */
static int http_refuse_early(struct MHD_Connection *conn, size_t max)
{
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Expect");
    char *end;
    unsigned long long n = cl ? strtoull(cl, &end, 10) : 0;
    return cl && n > max && expect && strcasecmp(expect, "100-continue") == 0;
}

/* HTTP/1.1 requires Host (RFC 9112 3.2: a request without it gets 400). */
static int http_without_host(struct MHD_Connection *conn, const char *version)
{
    return strcmp(version, MHD_HTTP_VERSION_1_1) == 0 &&
           !MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
}

static void http_begin(http_server *s)
{
    pthread_mutex_lock(&s->lock);
    s->in_flight++;
    pthread_mutex_unlock(&s->lock);
}

static void http_end(http_server *s)
{
    pthread_mutex_lock(&s->lock);
    if (--s->in_flight == 0)
        pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->lock);
}

static enum MHD_Result http_too_large(http_server *s, struct MHD_Connection *conn)
{
    http_response res = {0};
    http_error(&res, 413, "request body larger than the limit of %zu bytes", s->limits.max_body);
    if (s->refused)
        s->refused(s->ctx, 413);
    return http_send(conn, &res);
}

static enum MHD_Result http_access(void *cls, struct MHD_Connection *conn, const char *url,
                                   const char *method, const char *version, const char *upload_data,
                                   size_t *upload_data_size, void **con_cls)
{
    http_server *s = cls;
    http_request *req = *con_cls;
    http_response res = {0};
    if (!req) {
        if (!(req = calloc(1, sizeof *req)))
            return MHD_NO;
        *req = (http_request){.conn = conn, .method = method, .path = url};
        *con_cls = req;
        http_begin(s); /* ended in http_completed */
        if (http_without_host(conn, version)) {
            http_error(&res, 400, "HTTP/1.1 request without a Host header");
            return http_send(conn, &res);
        }
        return http_refuse_early(conn, s->limits.max_body) ? http_too_large(s, conn) : MHD_YES;
    }
    if (*upload_data_size) {
        http_append(req, upload_data, *upload_data_size, s->limits.max_body);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->too_large)
        return http_too_large(s, conn);
    s->handler(s->ctx, req, &res);
    return http_send(conn, &res);
}

static void http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                           enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    http_request *req = *con_cls;
    if (req) {
        free(req->body);
        free(req);
        *con_cls = NULL;
        http_end(cls);
    }
}

/* The address to bind: host literal (v4 or v6) or all. */
static int http_address(const char *host, uint16_t port, struct sockaddr_storage *sa, int *v6)
{
    memset(sa, 0, sizeof *sa);
    struct sockaddr_in *in4 = (struct sockaddr_in *)sa;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
    *v6 = 0;
    if (!host[0] || strcmp(host, "*") == 0 || inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons(port);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        *v6 = 1;
        return 0;
    }
    return -1;
}

http_server *http_start(const char *host, uint16_t port, const http_limits *limits,
                        http_handler handler, http_refused refused, void *ctx, char *err,
                        size_t err_size)
{
    struct sockaddr_storage sa;
    int v6;
    if (http_address(host, port, &sa, &v6) < 0) {
        snprintf(err, err_size, "listen address \"%s\": expected an IPv4 or IPv6 address", host);
        return NULL;
    }
    http_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    *s = (http_server){.limits = *limits, .handler = handler, .refused = refused, .ctx = ctx};
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->idle, NULL);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ITC | (v6 ? MHD_USE_IPv6 : 0);
    s->daemon = MHD_start_daemon(
        flags, port, NULL, NULL, http_access, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)limits->timeout_s, MHD_OPTION_CONNECTION_LIMIT,
        limits->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT, limits->per_ip,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024, MHD_OPTION_NOTIFY_COMPLETED,
        http_completed, s, MHD_OPTION_END);
    if (!s->daemon) {
        snprintf(err, err_size, "cannot listen on %s:%u: %s", host[0] ? host : "*", port,
                 errno ? strerror(errno) : "libmicrohttpd refused the options");
        pthread_cond_destroy(&s->idle);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : port;
    return s;
}

uint16_t http_port(const http_server *s)
{
    return s->port;
}

void http_drain(http_server *s)
{
    MHD_socket fd = MHD_quiesce_daemon(s->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    pthread_mutex_lock(&s->lock);
    while (s->in_flight)
        pthread_cond_wait(&s->idle, &s->lock);
    pthread_mutex_unlock(&s->lock);
}

void http_stop(http_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->daemon);
    pthread_cond_destroy(&s->idle);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

int http_parse_listen(const char *text, char *host, size_t size, uint16_t *port, char *err,
                      size_t err_size)
{
    const char *colon = strrchr(text, ':');
    const char *h = text, *h_end = colon;
    if (text[0] == '[') {
        h = text + 1;
        h_end = strchr(text, ']');
        if (!h_end || h_end[1] != ':')
            colon = NULL;
    }
    char *end;
    long p = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || colon[1] == '\0' || *end || p < 0 || p > 65535 || (size_t)(h_end - h) >= size) {
        snprintf(err, err_size, "--listen \"%s\": expected ADDR:PORT, [IPV6]:PORT or :PORT", text);
        return -1;
    }
    memcpy(host, h, (size_t)(h_end - h));
    host[h_end - h] = '\0';
    *port = (uint16_t)p;
    return 0;
}
