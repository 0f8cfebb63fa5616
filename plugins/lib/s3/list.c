/* list.c — ListObjectsV2, following continuation tokens past 1,000 keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_private.h"

typedef struct list_page {
    s3_list_fn fn;
    void *user;
    int stopped;
    int truncated;
    s3_buf token; /* NextContinuationToken */
    s3_buf key;   /* of the current Contents */
    char etag[128], last_modified[64];
    uint64_t size;
    int size_invalid;
} list_page;

/* A <Size>: decimal digits for a value below 2^63, nothing else (strtoull
 * would take "-1" as 2^64-1, a size no buffer can hold).  -1 otherwise. */
static int list_size(const char *text, uint64_t *size)
{
    uint64_t v = 0;
    if (!*text)
        return -1;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9' || v > (UINT64_C(1) << 63) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v >= UINT64_C(1) << 63)
        return -1;
    *size = v;
    return 0;
}

/* The fields of one Contents start empty: a missing one never inherits the
 * previous object's. */
static void list_reset_object(list_page *p)
{
    p->key.len = 0;
    if (p->key.data)
        p->key.data[0] = '\0';
    p->etag[0] = p->last_modified[0] = '\0';
    p->size = 0;
    p->size_invalid = 1;
}

static void list_field(void *user, const char *path, const char *text)
{
    list_page *p = user;
    if (strncmp(path, "ListBucketResult/", 17) != 0 || p->stopped)
        return;
    path += 17;
    if (strcmp(path, "Contents/Key") == 0) {
        p->key.len = 0;
        if (s3_buf_append(&p->key, text, strlen(text)) < 0 || s3_buf_terminate(&p->key) < 0)
            p->stopped = -1;
    } else if (strcmp(path, "Contents/ETag") == 0) {
        snprintf(p->etag, sizeof p->etag, "%s", text + (text[0] == '"'));
        p->etag[strcspn(p->etag, "\"")] = '\0';
    } else if (strcmp(path, "Contents/Size") == 0) {
        p->size_invalid = list_size(text, &p->size) < 0;
    } else if (strcmp(path, "Contents/LastModified") == 0) {
        snprintf(p->last_modified, sizeof p->last_modified, "%s", text);
    } else if (strcmp(path, "Contents") == 0) {
        s3_object o = {p->key.data ? p->key.data : "", p->etag, p->last_modified,
                       p->size_invalid ? 0 : p->size, p->size_invalid};
        if (o.key[0]) /* an object without a key names nothing */
            p->stopped = p->fn(p->user, &o) ? 1 : 0;
        list_reset_object(p);
    } else if (strcmp(path, "IsTruncated") == 0) {
        p->truncated = strcmp(text, "true") == 0;
    } else if (strcmp(path, "NextContinuationToken") == 0) {
        p->token.len = 0;
        if (s3_buf_append(&p->token, text, strlen(text)) < 0 || s3_buf_terminate(&p->token) < 0)
            p->stopped = -1;
    }
}

int s3_list_page(const char *xml, size_t len, s3_list_fn fn, void *user, int *truncated,
                 s3_buf *token)
{
    list_page p = {.fn = fn, .user = user, .token = *token};
    p.token.len = 0;
    list_reset_object(&p);
    int rc = s3_xml_parse(xml, len, list_field, &p) < 0 || p.stopped < 0 ? -1 : p.stopped;
    *truncated = p.truncated;
    *token = p.token;
    s3_buf_free(&p.key);
    return rc;
}

/* Appends "&name=value" (or "name=value" first) with the value encoded. */
static int list_param(s3_buf *q, const char *name, const char *value)
{
    if (!value || !*value)
        return 0;
    if ((q->len && s3_buf_append(q, "&", 1) < 0) || s3_buf_append(q, name, strlen(name)) < 0 ||
        s3_buf_append(q, "=", 1) < 0)
        return -1;
    return s3_uri_encode(q, value, 1);
}

/* The canonical query: parameters sorted by name (docs/platform.md, SigV4 rule 3). */
static int list_query(s3_buf *q, const char *token, const char *prefix, const char *start_after)
{
    q->len = 0;
    return list_param(q, "continuation-token", token) | list_param(q, "list-type", "2") |
                   list_param(q, "prefix", prefix) | list_param(q, "start-after", start_after)
               ? -1
               : 0;
}

static void list_nothing(void *user, const char *path, const char *text)
{
    (void)user, (void)path, (void)text;
}

/* One page into req.resp: retried like any request, and also when the reply
 * does not parse (a body cut short behind a matching Content-Length), which
 * is checked before fn sees any key of the page, so no key is seen twice. */
static int list_fetch_page(s3_client *c, s3_request *req, const char *prefix, s3_error *err)
{
    for (int attempt = 1;; attempt++) {
        if (s3_request_run(c, req, "ListObjectsV2", err) < 0)
            return -1;
        if (req->deadline_ms && s3_now_ms() > req->deadline_ms) {
            s3_err_set(err, S3_ERR_CANCELLED, 0, "ListObjectsV2 s3://%s/%s: %s (endpoint %s)",
                       req->bucket, prefix ? prefix : "", req->deadline_what, c->endpoint);
            return -1;
        }
        if (s3_xml_parse(req->resp.data, req->resp.len, list_nothing, NULL) == 0)
            return 0;
        s3_err_set(err, S3_ERR_TRANSIENT, req->status,
                   "ListObjectsV2 s3://%s/%s: unreadable reply from %s, after %d attempts",
                   req->bucket, prefix ? prefix : "", c->endpoint, attempt);
        if (attempt >= c->max_attempts ||
            s3_client_sleep(c, s3_backoff_ms(attempt, &c->seed), "ListObjectsV2", err) < 0)
            return -1;
    }
}

/* A server that hands out the same continuation token again would be
 * listed forever. */
static int list_token_repeats(const s3_buf *token, const s3_buf *previous)
{
    return token->len && token->len == previous->len &&
           memcmp(token->data, previous->data, token->len) == 0;
}

int s3_list(s3_client *c, const char *bucket, const char *prefix, const char *start_after,
            s3_list_fn fn, void *user, s3_error *err)
{
    s3_buf query = {0}, previous = {0}, token = {0};
    int truncated = 0, stopped = 0;
    char deadline[96];
    snprintf(deadline, sizeof deadline, "the listing took longer than its deadline of %ld s",
             (c->list_deadline_ms + 999) / 1000);
    s3_request req = {.method = "GET",
                      .bucket = bucket,
                      .prefix = prefix,
                      .content_length = -1,
                      .resp_max = c->max_reply_bytes,
                      .deadline_ms = s3_now_ms() + c->list_deadline_ms,
                      .deadline_what = deadline};
    int rc = 0;
    do {
        previous.len = 0;
        if (token.len && s3_buf_append(&previous, token.data, token.len) < 0) {
            s3_err_set(err, S3_ERR_INVALID, 0, "ListObjectsV2 s3://%s: out of memory", bucket);
            rc = -1;
            break;
        }
        if (list_query(&query, token.len ? token.data : NULL, prefix, start_after) < 0) {
            s3_err_set(err, S3_ERR_INVALID, 0, "ListObjectsV2 s3://%s: out of memory", bucket);
            rc = -1;
            break;
        }
        req.query = query.data;
        if ((rc = list_fetch_page(c, &req, prefix, err)) < 0)
            break;
        if ((stopped = s3_list_page(req.resp.data, req.resp.len, fn, user, &truncated, &token)) <
            0) {
            s3_err_set(err, S3_ERR_INVALID, req.status,
                       "ListObjectsV2 s3://%s/%s: out of memory reading the reply from %s", bucket,
                       prefix ? prefix : "", c->endpoint);
            rc = -1;
            break;
        }
        if (truncated && !stopped && list_token_repeats(&token, &previous)) {
            s3_err_set(err, S3_ERR_INVALID, req.status,
                       "ListObjectsV2 s3://%s/%s: %s returned the same continuation token twice "
                       "(the listing would never end)",
                       bucket, prefix ? prefix : "", c->endpoint);
            rc = -1;
            break;
        }
    } while (truncated && !stopped && token.len);
    s3_request_done(&req);
    s3_buf_free(&previous);
    s3_buf_free(&query);
    s3_buf_free(&token);
    return rc;
}
