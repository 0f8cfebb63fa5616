/* request.c — one signed S3 request on a curl easy handle: libcurl signs
 * with CURLOPT_AWS_SIGV4, and this file does what 7.88 leaves to the caller
 * (docs/platform.md, "libcurl 7.88.1 and SigV4"): the x-amz-content-sha256 header, percent-encoded
 * keys (uri.c), canonical queries (built by the callers), no header-removal
 * lines.  Also turns replies into errors and retries transient ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "s3_private.h"

/* The object, or the listed prefix, that an error names. */
static const char *request_where(const s3_request *req)
{
    return req->key ? req->key : req->prefix ? req->prefix : "";
}

/* Appends to resp up to the cap for this reply: a hostile server cannot
 * make the client hold more (returning 0 aborts the transfer). */
static size_t request_keep(s3_request *req, const char *data, size_t len)
{
    size_t cap = req->status >= 300 ? req->client->max_error_bytes : req->resp_max;
    if (cap && len > cap - (req->resp.len < cap ? req->resp.len : cap)) {
        req->resp_over = 1;
        return 0;
    }
    return s3_buf_append(&req->resp, data, len) < 0 ? 0 : len;
}

static size_t request_write(char *data, size_t size, size_t n, void *ud)
{
    s3_request *req = ud;
    size_t len = size * n;
    if (!req->dst || req->status >= 300) /* an error reply goes to resp, not the object */
        return request_keep(req, data, len);
    if (len > req->dst_size - req->dst_len) {
        req->dst_overflow = 1; /* the object grew since it was listed */
        return 0;
    }
    memcpy(req->dst + req->dst_len, data, len);
    req->dst_len += len;
    return len;
}

static size_t request_read(char *out, size_t size, size_t n, void *ud)
{
    s3_request *req = ud;
    size_t len = req->body_len - req->sent;
    if (len > size * n)
        len = size * n;
    memcpy(out, (const char *)req->body + req->sent, len);
    req->sent += len;
    return len;
}

/* Copies a header's value into out when line is "name: value". */
static void request_header_value(const char *line, size_t len, const char *name, char *out,
                                 size_t n)
{
    size_t nl = strlen(name);
    if (len <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return;
    const char *v = line + nl + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '"'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '"'))
        end--;
    snprintf(out, n, "%.*s", (int)(end - v), v);
}

static size_t request_header(char *line, size_t size, size_t n, void *ud)
{
    s3_request *req = ud;
    size_t len = size * n;
    long status;
    if (strncmp(line, "HTTP/", 5) == 0 && sscanf(line, "HTTP/%*s %ld", &status) == 1)
        req->status = status; /* per response: a 100 Continue comes first */
    request_header_value(line, len, "ETag", req->etag, sizeof req->etag);
    request_header_value(line, len, "Last-Modified", req->last_modified, sizeof req->last_modified);
    return len;
}

/* Called by curl about once a second, also while nothing arrives: where a
 * stopping run and a deadline end a transfer that trickles. */
static int request_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                            curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    s3_request *req = ud;
    if (s3_client_cancelled(req->client))
        return req->cancelled = 1;
    if (req->deadline_ms && s3_now_ms() > req->deadline_ms)
        return req->timed_out = 1;
    return 0;
}

static int request_headers(s3_client *c, s3_request *req)
{
    char line[2200], sha[65];
    s3_sha256_hex(req->body ? req->body : "", req->body_len, sha);
    snprintf(line, sizeof line, "x-amz-content-sha256: %s", sha);
    struct curl_slist *l = curl_slist_append(NULL, line);
    if (l && c->creds.token[0]) {
        snprintf(line, sizeof line, "x-amz-security-token: %s", c->creds.token);
        l = curl_slist_append(req->headers = l, line) ? l : NULL;
    }
    if (l && req->range) {
        snprintf(line, sizeof line, "Range: %s", req->range);
        l = curl_slist_append(req->headers = l, line) ? l : NULL;
    }
    if (!l)
        return -1;
    req->headers = l;
    return 0;
}

int s3_request_setup(s3_client *c, CURL *easy, s3_request *req, s3_error *err)
{
    s3_buf url = {0};
    req->resp.len = req->dst_len = req->sent = 0;
    req->dst_overflow = req->resp_over = req->cancelled = req->timed_out = 0;
    req->client = c;
    req->status = 0;
    req->etag[0] = req->last_modified[0] = '\0';
    curl_slist_free_all(req->headers);
    req->headers = NULL;
    if (s3_url(c, req->bucket, req->key, req->query, &url) < 0 || request_headers(c, req) < 0) {
        s3_buf_free(&url);
        s3_err_set(err, S3_ERR_INVALID, 0, "%s s3://%s/%s: out of memory", req->method, req->bucket,
                   request_where(req));
        return -1;
    }
    curl_easy_setopt(easy, CURLOPT_URL, url.data); /* curl copies it */
    s3_buf_free(&url);
    curl_easy_setopt(easy, CURLOPT_AWS_SIGV4, c->sigv4);
    curl_easy_setopt(easy, CURLOPT_USERNAME, c->creds.access_key);
    curl_easy_setopt(easy, CURLOPT_PASSWORD, c->creds.secret_key);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, req->headers);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    /* A stall, not a slow big transfer, is a timeout. */
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, (c->stall_timeout_ms + 999) / 1000);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, request_write);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, req);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, request_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, req);
    curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, request_progress);
    curl_easy_setopt(easy, CURLOPT_XFERINFODATA, req);
    curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
    /* A key is a name, not a path: "a/../b" and "./x" must reach exactly
     * that key (uri.c also encodes the dots of such segments). */
    curl_easy_setopt(easy, CURLOPT_PATH_AS_IS, 1L);
    if (strcmp(req->method, "HEAD") == 0)
        curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    else if (strcmp(req->method, "PUT") == 0 || strcmp(req->method, "POST") == 0) {
        curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(easy, CURLOPT_READFUNCTION, request_read);
        curl_easy_setopt(easy, CURLOPT_READDATA, req);
        curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
    }
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req->method);
    return 0;
}

typedef struct request_error_xml {
    char code[64], message[256];
} request_error_xml;

typedef struct request_error_out {
    char *code, *message;
    size_t code_size, message_size;
} request_error_out;

static void request_error_field(void *user, const char *path, const char *text)
{
    request_error_out *e = user;
    if (strcmp(path, "Error/Code") == 0)
        snprintf(e->code, e->code_size, "%s", text);
    else if (strcmp(path, "Error/Message") == 0)
        snprintf(e->message, e->message_size, "%s", text);
}

void s3_error_reply(const char *xml, size_t len, char *code, size_t code_size, char *message,
                    size_t message_size)
{
    request_error_out e = {code, message, code_size, message_size};
    code[0] = message[0] = '\0';
    if (len)
        s3_xml_parse(xml, len, request_error_field, &e);
}

static s3_error_class request_class(long status, const char *code, int transient)
{
    if (transient)
        return S3_ERR_TRANSIENT;
    if (status == 404 || strcmp(code, "NoSuchKey") == 0 || strcmp(code, "NoSuchBucket") == 0)
        return S3_ERR_NOT_FOUND;
    return status == 403 ? S3_ERR_DENIED : S3_ERR_INVALID;
}

/* The reply was an HTTP error: name it with S3's code and where it happened. */
static void request_http_error(s3_client *c, s3_request *req, const char *what, int *transient,
                               s3_error *err)
{
    request_error_xml e;
    s3_error_reply(req->resp.data, req->resp.len, e.code, sizeof e.code, e.message,
                   sizeof e.message);
    if (!e.code[0])
        snprintf(e.code, sizeof e.code, "%s",
                 req->status == 404   ? (req->key ? "NoSuchKey" : "NoSuchBucket")
                 : req->status == 403 ? "AccessDenied"
                                      : "");
    if (!e.message[0] && strcmp(e.code, "SignatureDoesNotMatch") == 0)
        strcpy(e.message, "the secret key does not match the access key");
    else if (!e.message[0] && strcmp(e.code, "InvalidAccessKeyId") == 0)
        strcpy(e.message, "the server does not know this access key");
    *transient = s3_retry_transient(CURLE_OK, req->status, e.code);
    s3_err_set(err, request_class(req->status, e.code, *transient), req->status,
               "%s s3://%s/%s: HTTP %ld %s%s%s (region %s, endpoint %s, credentials from %s)", what,
               req->bucket, request_where(req), req->status, e.code, e.message[0] ? ": " : "",
               e.message, c->region, c->endpoint, c->creds.source);
    snprintf(err->code, sizeof err->code, "%s", e.code);
}

int s3_request_outcome(s3_client *c, s3_request *req, CURLcode rc, const char *what, int *transient,
                       s3_error *err)
{
    err->code[0] = '\0';
    *transient = 0;
    if (s3_buf_terminate(&req->resp) < 0) { /* replies are read as C strings */
        s3_err_set(err, S3_ERR_INVALID, 0, "%s s3://%s: out of memory", what, req->bucket);
        return -1;
    }
    if (req->cancelled) {
        s3_err_set(err, S3_ERR_CANCELLED, 0, "%s s3://%s/%s: cancelled, the run is stopping", what,
                   req->bucket, request_where(req));
        return -1;
    }
    if (req->timed_out) {
        s3_err_set(err, S3_ERR_CANCELLED, 0, "%s s3://%s/%s: %s (endpoint %s)", what, req->bucket,
                   request_where(req), req->deadline_what ? req->deadline_what : "deadline passed",
                   c->endpoint);
        return -1;
    }
    if (req->resp_over && req->status >= 300) {
        *transient = s3_retry_transient(CURLE_OK, req->status, NULL);
        s3_err_set(
            err, *transient ? S3_ERR_TRANSIENT : request_class(req->status, "", 0), req->status,
            "%s s3://%s/%s: HTTP %ld, error body over %zu bytes not read (endpoint %s)", what,
            req->bucket, request_where(req), req->status, c->max_error_bytes, c->endpoint);
        return -1;
    }
    if (req->resp_over) {
        s3_err_set(err, S3_ERR_INVALID, req->status,
                   "%s s3://%s/%s: reply larger than %zu bytes (endpoint %s)", what, req->bucket,
                   request_where(req), req->resp_max, c->endpoint);
        return -1;
    }
    if (req->dst_overflow) {
        s3_err_set(err, S3_ERR_INVALID, req->status,
                   "%s s3://%s/%s: body larger than the %zu bytes listed (object changed)", what,
                   req->bucket, req->key, req->dst_size);
        return -1;
    }
    if (rc != CURLE_OK) {
        *transient = s3_retry_transient(rc, 0, NULL);
        s3_err_set(err, *transient ? S3_ERR_TRANSIENT : S3_ERR_INVALID, 0,
                   "%s s3://%s/%s: %s (endpoint %s)", what, req->bucket, request_where(req),
                   curl_easy_strerror(rc), c->endpoint);
        return -1;
    }
    if (req->status >= 300) {
        request_http_error(c, req, what, transient, err);
        return -1;
    }
    size_t got = req->dst ? req->dst_len : req->resp.len;
    if (strcmp(req->method, "GET") == 0 && req->content_length >= 0 &&
        (curl_off_t)got != req->content_length) {
        *transient = 1; /* curl reports most of these as PARTIAL_FILE already */
        s3_err_set(err, S3_ERR_TRANSIENT, req->status,
                   "%s s3://%s/%s: short body, %zu of %lld bytes", what, req->bucket, req->key, got,
                   (long long)req->content_length);
        return -1;
    }
    return 0;
}

int s3_request_run(s3_client *c, s3_request *req, const char *what, s3_error *err)
{
    for (int attempt = 1;; attempt++) {
        if (s3_client_sleep(c, 0, what, err) < 0 ||
            s3_creds_refresh(&c->creds, c->connect_timeout_ms, err) < 0)
            return -1;
        curl_easy_reset(c->easy);
        if (s3_request_setup(c, c->easy, req, err) < 0)
            return -1;
        CURLcode rc = curl_easy_perform(c->easy);
        curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &req->status);
        curl_easy_getinfo(c->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &req->content_length);
        int transient;
        int ok = s3_request_outcome(c, req, rc, what, &transient, err) == 0;
        s3_count_attempt(c, c->easy, req->status, rc,
                         !ok && transient && attempt < c->max_attempts);
        if (ok)
            return 0;
        if (!transient)
            return -1;
        if (attempt >= c->max_attempts) {
            size_t n = strlen(err->message);
            snprintf(err->message + n, sizeof err->message - n, ", after %d attempts", attempt);
            return -1;
        }
        if (s3_client_sleep(c, s3_backoff_ms(attempt, &c->seed), what, err) < 0)
            return -1;
    }
}

void s3_request_done(s3_request *req)
{
    s3_buf_free(&req->resp);
    curl_slist_free_all(req->headers);
    req->headers = NULL;
}
