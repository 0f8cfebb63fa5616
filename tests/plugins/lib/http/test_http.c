/*
 * test_http.c — plugins/lib/http against raw sockets: what the layer lets
 * through to the handler, and what it refuses itself (body limits, slow
 * clients, connection limits, malformed requests, oversized headers), each
 * refusal followed by a good request on the same server.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "check.h"
#include "http.h"

static atomic_int handled;           /* handler calls */
static atomic_int refused_413;       /* refusals the layer told of */
static atomic_size_t last_body_size; /* the body the handler saw last */

/* Echoes what it got: {"method", "path", "size", "top"}. */
static void echo(void *ctx, const http_request *req, http_response *res)
{
    (void)ctx;
    size_t size;
    http_body(req, &size);
    atomic_fetch_add(&handled, 1);
    atomic_store(&last_body_size, size);
    const char *top = http_query(req, "top");
    res->body = malloc(256);
    res->size = (size_t)snprintf(res->body, 256,
                                 "{\"method\": \"%s\", \"path\": \"%s\", "
                                 "\"size\": %zu, \"top\": \"%s\"}",
                                 http_method(req), http_path(req), size, top ? top : "");
}

static void told(void *ctx, int status)
{
    (void)ctx;
    if (status == 413)
        atomic_fetch_add(&refused_413, 1);
}

static http_server *start(size_t max_body, unsigned timeout_s, unsigned max_conn, unsigned per_ip)
{
    http_limits l = {.max_body = max_body,
                     .timeout_s = timeout_s,
                     .max_connections = max_conn,
                     .per_ip = per_ip};
    char err[256] = "";
    http_server *s = http_start("127.0.0.1", 0, &l, echo, told, NULL, err, sizeof err);
    if (!s)
        fprintf(stderr, "http_start: %s\n", err);
    return s;
}

/* A connected socket; reads give up after 60 s (a hang guard, not a
 * measurement: every read below waits for an event that must happen). */
static int dial(const http_server *s)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(http_port(s))};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {.tv_sec = 60};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const void *data, size_t n)
{
    for (size_t at = 0; at < n;) {
        ssize_t w = send(fd, (const char *)data + at, n - at, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        at += (size_t)w;
    }
    return 0;
}

/* Reads one response (headers, then Content-Length bytes) into buf:
 * its status, 0 when the server closed first, -1 on a read error. */
static int read_response(int fd, char *buf, size_t size)
{
    size_t n = 0;
    char *end = NULL;
    while (n + 1 < size) {
        ssize_t r = recv(fd, buf + n, size - 1 - n, 0);
        if (r == 0 || (r < 0 && errno == ECONNRESET))
            break;
        if (r < 0)
            return -1;
        n += (size_t)r;
        buf[n] = '\0';
        if ((end = strstr(buf, "\r\n\r\n"))) {
            const char *cl = strcasestr(buf, "Content-Length:");
            size_t want = cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0;
            if (n >= (size_t)(end + 4 - buf) + want)
                break;
        }
    }
    buf[n] = '\0';
    int status = 0;
    return sscanf(buf, "HTTP/1.%*d %d", &status) == 1 ? status : 0;
}

/* Sends request on a new connection, returns the status, body in buf. */
static int exchange(const http_server *s, const char *request, size_t len, char *buf, size_t size)
{
    int fd = dial(s);
    if (fd < 0)
        return -1;
    int status = send_all(fd, request, len) == 0 ? read_response(fd, buf, size) : -1;
    close(fd);
    return status;
}

/* The connection is closed by the server without an answer. */
static int closed_silently(int fd)
{
    char c;
    ssize_t r = recv(fd, &c, 1, 0);
    return r == 0 || (r < 0 && errno == ECONNRESET);
}

static const char good[] =
    "GET /v1/classify?top=3 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";

/* The server still answers a good request. */
static int still_serving(const http_server *s)
{
    char buf[4096];
    return exchange(s, good, sizeof good - 1, buf, sizeof buf) == 200 &&
           strstr(buf, "\"top\": \"3\"") != NULL;
}

static void test_good_request(http_server *s)
{
    char buf[4096];
    static const char req[] = "POST /a/b?top=2 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
                              "Connection: close\r\n\r\nhello";
    CHECK_INT(exchange(s, req, sizeof req - 1, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "Content-Type: application/json");
    CHECK_CONTAINS(buf, "{\"method\": \"POST\", \"path\": \"/a/b\", \"size\": 5, \"top\": \"2\"}");
}

static void test_body_limits(http_server *s)
{
    char buf[4096], req[512];
    int before = atomic_load(&handled), told_before = atomic_load(&refused_413);
    /* Declared too large, waiting for 100 Continue: refused before any byte. */
    snprintf(req, sizeof req,
             "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000000\r\n"
             "Expect: 100-continue\r\n\r\n");
    CHECK_INT(exchange(s, req, strlen(req), buf, sizeof buf), 413);
    CHECK_CONTAINS(buf, "{\"error\": \"request body larger than the limit of 1024 bytes\"}");
    /* Sent without waiting: read, discarded, refused. */
    char big[4096];
    int n = snprintf(big, sizeof big,
                     "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 2000\r\n"
                     "Connection: close\r\n\r\n");
    memset(big + n, 'a', 2000);
    CHECK_INT(exchange(s, big, (size_t)n + 2000, buf, sizeof buf), 413);
    /* Chunked, beyond the limit in its second chunk. */
    static const char chunked[] = "POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                                  "Connection: close\r\n\r\n";
    memcpy(big, chunked, sizeof chunked - 1);
    n = (int)sizeof chunked - 1;
    n += snprintf(big + n, sizeof big - (size_t)n, "200\r\n");
    memset(big + n, 'b', 0x200);
    n += 0x200;
    n += snprintf(big + n, sizeof big - (size_t)n, "\r\n300\r\n");
    memset(big + n, 'c', 0x300);
    n += 0x300;
    n += snprintf(big + n, sizeof big - (size_t)n, "\r\n0\r\n\r\n");
    CHECK_INT(exchange(s, big, (size_t)n, buf, sizeof buf), 413);
    CHECK_INT(atomic_load(&handled), before); /* the handler saw none of them */
    CHECK_INT(atomic_load(&refused_413) - told_before, 3);
    /* Exactly the limit, chunked: through whole. */
    n = (int)sizeof chunked - 1;
    n += snprintf(big + n, sizeof big - (size_t)n, "400\r\n");
    memset(big + n, 'd', 0x400);
    n += 0x400;
    n += snprintf(big + n, sizeof big - (size_t)n, "\r\n0\r\n\r\n");
    CHECK_INT(exchange(s, big, (size_t)n, buf, sizeof buf), 200);
    CHECK_INT(atomic_load(&last_body_size), 1024);
    CHECK(still_serving(s));
}

static void test_malformed(http_server *s)
{
    /* What each gets: an answer, or (0) the connection closed without one
     * when the request line itself is not HTTP (libmicrohttpd's choice). */
    static const struct {
        const char *request;
        int status;
    } bad[] = {
        {"GARBAGE\r\n\r\n", 0},
        {"GET / HTTP/1.1\r\nHost t\r\nBroken header line\r\n\r\n", 400},
        {"GET / HTTP/9.9\r\nHost: t\r\n\r\n", 505},
        {"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: -5\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413},
        {"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n0\r\n\r\n",
         400},
        {"GET / HTTP/1.1\r\n\r\n", 400}, /* HTTP/1.1 requires Host */
    };
    int before = atomic_load(&handled);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char buf[4096];
        int status = exchange(s, bad[i].request, strlen(bad[i].request), buf, sizeof buf);
        if (status != bad[i].status)
            fprintf(stderr, "malformed request %zu: %.40s...\n", i, bad[i].request);
        CHECK_INT(status, bad[i].status);
    }
    char buf[4096]; /* the one the layer answers itself (the others: libmicrohttpd) */
    CHECK_INT(exchange(s, bad[6].request, strlen(bad[6].request), buf, sizeof buf), 400);
    CHECK_CONTAINS(buf, "{\"error\": \"HTTP/1.1 request without a Host header\"}");
    CHECK_INT(atomic_load(&handled), before);
    CHECK(still_serving(s));
}

static void test_oversized_headers(http_server *s)
{
    size_t big = 100 * 1024;
    char *req = malloc(big + 256), buf[4096];
    int n = sprintf(req, "GET / HTTP/1.1\r\nHost: t\r\nX-Big: ");
    memset(req + n, 'h', big);
    n += (int)big;
    n += sprintf(req + n, "\r\nConnection: close\r\n\r\n");
    int before = atomic_load(&handled);
    int status = exchange(s, req, (size_t)n, buf, sizeof buf);
    CHECK_INT(status, 431); /* Request Header Fields Too Large (libmicrohttpd 0.9.75) */
    /* A URL beyond the header memory too. */
    n = sprintf(req, "GET /");
    memset(req + n, 'u', big);
    n += (int)big;
    n += sprintf(req + n, " HTTP/1.1\r\nHost: t\r\n\r\n");
    status = exchange(s, req, (size_t)n, buf, sizeof buf);
    CHECK_INT(status, 414); /* URI Too Long */
    CHECK_INT(atomic_load(&handled), before);
    free(req);
    CHECK(still_serving(s));
}

/* A client that stops mid-headers is cut off after the idle timeout; the
 * server answers others meanwhile. */
static void test_slow_client(http_server *s)
{
    int fd = dial(s);
    static const char part[] = "GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ";
    CHECK_INT(send_all(fd, part, sizeof part - 1), 0);
    CHECK(still_serving(s));
    CHECK(closed_silently(fd));
    close(fd);
    /* A body that stalls. */
    fd = dial(s);
    static const char stall[] = "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc";
    CHECK_INT(send_all(fd, stall, sizeof stall - 1), 0);
    CHECK(closed_silently(fd));
    close(fd);
    CHECK(still_serving(s));
}

/* limit connections are served; one more is closed at accept. */
static void test_connection_limit(http_server *s, unsigned limit)
{
    int fd[16];
    for (unsigned i = 0; i < limit; i++)
        fd[i] = dial(s);
    /* The first is served: the server accepted it, and the others queued
     * before the extra one (accept takes them in order). */
    char buf[4096];
    static const char keep[] = "GET /k HTTP/1.1\r\nHost: t\r\n\r\n";
    CHECK_INT(send_all(fd[0], keep, sizeof keep - 1), 0);
    CHECK_INT(read_response(fd[0], buf, sizeof buf), 200);
    int extra = dial(s);
    CHECK(closed_silently(extra));
    close(extra);
    /* Those admitted are still served. */
    CHECK_INT(send_all(fd[limit - 1], keep, sizeof keep - 1), 0);
    CHECK_INT(read_response(fd[limit - 1], buf, sizeof buf), 200);
    for (unsigned i = 0; i < limit; i++)
        close(fd[i]);
}

static void test_error_body(void)
{
    http_response res = {0};
    http_error(&res, 400, "bad \"%s\"\n\\ %d", "q", 7);
    CHECK_INT(res.status, 400);
    CHECK_STR(res.body, "{\"error\": \"bad \\\"q\\\"\\u000a\\\\ 7\"}");
    CHECK_INT(res.size, strlen(res.body));
    free(res.body);
    res.body = NULL;
    http_error(&res, 400, "top: got \"%s\"", "\xff\xc3"); /* a client's bytes, not UTF-8 */
    CHECK_STR(res.body, "{\"error\": \"top: got \\\"\xef\xbf\xbd\xef\xbf\xbd\\\"\"}");
    free(res.body);
}

static void test_parse_listen(void)
{
    char host[64], err[256];
    uint16_t port = 1;
    CHECK_INT(http_parse_listen("127.0.0.1:8080", host, sizeof host, &port, err, sizeof err), 0);
    CHECK_STR(host, "127.0.0.1");
    CHECK_INT(port, 8080);
    CHECK_INT(http_parse_listen("[::1]:0", host, sizeof host, &port, err, sizeof err), 0);
    CHECK_STR(host, "::1");
    CHECK_INT(port, 0);
    CHECK_INT(http_parse_listen(":9", host, sizeof host, &port, err, sizeof err), 0);
    CHECK_STR(host, "");
    static const char *const bad[] = {"8080", "host:", "h:70000", "h:-1", "h:8x", "[::1]8080"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        CHECK_INT(http_parse_listen(bad[i], host, sizeof host, &port, err, sizeof err), -1);
        CHECK_CONTAINS(err, "expected ADDR:PORT");
    }
    http_limits l = {.max_body = 1, .timeout_s = 1, .max_connections = 1};
    CHECK(http_start("not-an-address", 0, &l, echo, told, NULL, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "expected an IPv4 or IPv6 address");
}

int main(void)
{
    test_error_body();
    test_parse_listen();
    http_server *s = start(1024, 1, 64, 0);
    REQUIRE(s);
    test_good_request(s);
    test_body_limits(s);
    test_malformed(s);
    test_oversized_headers(s);
    test_slow_client(s);
    http_stop(s);
    s = start(1024, 30, 3, 0);
    REQUIRE(s);
    test_connection_limit(s, 3);
    http_stop(s);
    s = start(1024, 30, 64, 2); /* per address */
    REQUIRE(s);
    test_connection_limit(s, 2);
    http_stop(s);
    return check_exit();
}
