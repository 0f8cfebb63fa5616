/*
 * top_scrape.c — an HTTP/1.0 GET over a TCP socket (the endpoint is ours and
 * answers with Content-Length and closes), and the few families top shows.
 */
#include "top_scrape.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TOP_TIMEOUT_MS 3000
#define TOP_MAX_BODY   (16u << 20)

void top_sample_free(top_sample *s)
{
    free(s->stages);
    memset(s, 0, sizeof *s);
}

static int connect_to(const char *host, const char *port, char *err, size_t err_size)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res, *a;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, err_size, "cannot reach http://%s:%s/metrics: %s", host, port,
                 gai_strerror(rc));
        return -1;
    }
    int fd = -1, why = 0;
    for (a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            why = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, err_size,
                 "cannot reach http://%s:%s/metrics: %s (is the pipeline running "
                 "with --metrics %s:%s?)",
                 host, port, strerror(why), host, port);
    return fd;
}

/* Reads the whole answer (until the server closes) into a malloc'd string. */
static char *read_all(int fd, char *err, size_t err_size)
{
    size_t len = 0, cap = 65536;
    char *buf = malloc(cap + 1);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (buf) {
        if (poll(&p, 1, TOP_TIMEOUT_MS) <= 0) {
            snprintf(err, err_size, "the metrics endpoint did not answer within %d ms",
                     TOP_TIMEOUT_MS);
            break;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n == 0) {
            buf[len] = '\0';
            return buf;
        }
        if (n < 0) {
            snprintf(err, err_size, "reading the metrics endpoint: %s", strerror(errno));
            break;
        }
        len += (size_t)n;
        if (len == cap) {
            char *grown = cap < TOP_MAX_BODY ? realloc(buf, cap * 2 + 1) : NULL;
            if (!grown) {
                snprintf(err, err_size, "the metrics answer is larger than %u bytes", TOP_MAX_BODY);
                break;
            }
            buf = grown;
            cap *= 2;
        }
    }
    free(buf);
    return NULL;
}

int top_scrape(const char *host, const char *port, top_sample *out, char *err, size_t err_size)
{
    char request[512];
    int fd = connect_to(host, port, err, err_size);
    if (fd < 0)
        return -1;
    int n =
        snprintf(request, sizeof request,
                 "GET /metrics HTTP/1.0\r\nHost: %s:%s\r\nAccept: text/plain\r\n\r\n", host, port);
    char *answer = write(fd, request, (size_t)n) == n ? read_all(fd, err, err_size) : NULL;
    if (!answer && !err[0])
        snprintf(err, err_size, "writing to the metrics endpoint: %s", strerror(errno));
    close(fd);
    if (!answer)
        return -1;
    const char *body = strstr(answer, "\r\n\r\n");
    int status = 0;
    sscanf(answer, "HTTP/%*s %d", &status);
    int rc = -1;
    if (status != 200 || !body)
        snprintf(err, err_size, "http://%s:%s/metrics answered %d, not 200", host, port, status);
    else if ((rc = top_parse(body + 4, out)) != 0)
        snprintf(err, err_size, "out of memory");
    free(answer);
    return rc;
}

/* ---- the text ---------------------------------------------------------- */

/* The value of label key in a sample's labels ("{k=\"v\",...}", end at
 * its '}'), unescaped into out; "" when absent. */
static void label(const char *labels, const char *end, const char *key, char *out, size_t size)
{
    out[0] = '\0';
    const char *p = labels ? labels + 1 : end;
    while (p && p < end) {
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq || eq + 1 >= end || eq[1] != '"')
            return;
        int wanted = (size_t)(eq - p) == strlen(key) && strncmp(p, key, (size_t)(eq - p)) == 0;
        size_t n = 0;
        for (p = eq + 2; p < end && *p != '"'; p++) {
            char c = *p;
            if (c == '\\' && p + 1 < end)
                c = *++p == 'n' ? '\n' : *p;
            if (wanted && n + 1 < size)
                out[n++] = c;
        }
        if (wanted) {
            out[n] = '\0';
            return;
        }
        p += p < end && *p == '"';
        p += p < end && *p == ',';
    }
}

static top_stage *stage_row(top_sample *s, const char *name, const char *plugin)
{
    for (size_t i = 0; i < s->n_stages; i++)
        if (strcmp(s->stages[i].name, name) == 0)
            return &s->stages[i];
    top_stage *grown = realloc(s->stages, (s->n_stages + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    s->stages = grown;
    top_stage *row = &s->stages[s->n_stages++];
    memset(row, 0, sizeof *row);
    snprintf(row->name, sizeof row->name, "%s", name);
    snprintf(row->plugin, sizeof row->plugin, "%s", plugin);
    return row;
}

/* Adds one sample line to s.  0, or -1 out of memory. */
static int take_line(top_sample *s, const char *line, const char *eol)
{
    static const struct {
        const char *name;
        size_t field;
    } fields[] = {
        {"flowrun_component_received_events_total", offsetof(top_stage, received)},
        {"flowrun_component_sent_events_total", offsetof(top_stage, sent)},
        {"flowrun_component_dead_lettered_events_total", offsetof(top_stage, dead)},
        {"flowrun_component_busy_seconds_total", offsetof(top_stage, busy_s)},
        {"flowrun_buffer_events", offsetof(top_stage, queued)},
        {"flowrun_component_instances", offsetof(top_stage, instances)},
    };
    size_t nlen = strcspn(line, "{ ");
    const char *labels = line[nlen] == '{' ? line + nlen : NULL;
    const char *close = labels ? memchr(labels, '}', (size_t)(eol - labels)) : NULL;
    const char *value = close ? close + 1 : line + nlen;
    double v = strtod(value, NULL);
    char stage[96], plugin[96];
    if (nlen == 13 && strncmp(line, "flowrun_ready", 13) == 0) {
        s->ready = v > 0;
        label(labels, close, "pipeline", s->pipeline, sizeof s->pipeline);
    } else if (nlen == 22 && strncmp(line, "flowrun_uptime_seconds", 22) == 0) {
        s->uptime_s = v;
    }
    for (size_t f = 0; labels && close && f < sizeof fields / sizeof *fields; f++) {
        if (strlen(fields[f].name) != nlen || strncmp(line, fields[f].name, nlen) != 0)
            continue;
        label(labels, close, "stage", stage, sizeof stage);
        label(labels, close, "plugin", plugin, sizeof plugin);
        top_stage *row = stage[0] ? stage_row(s, stage, plugin) : NULL;
        if (stage[0] && !row)
            return -1;
        if (row)
            *(double *)((char *)row + fields[f].field) += v;
    }
    return 0;
}

int top_parse(const char *text, top_sample *out)
{
    top_sample_free(out);
    for (const char *line = text; *line;) {
        const char *eol = strchr(line, '\n');
        if (!eol)
            eol = line + strlen(line);
        if (*line != '#' && eol > line && take_line(out, line, eol) != 0)
            return -1;
        line = *eol ? eol + 1 : eol;
    }
    return 0;
}
