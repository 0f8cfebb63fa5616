/* object.c — the single-object calls: HeadObject, GetObject (with Range),
 * PutObject, DeleteObject. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "s3_private.h"

int s3_head(s3_client *c, const char *bucket, const char *key, s3_object *obj, s3_error *err)
{
    s3_request req = {.method = "HEAD", .bucket = bucket, .key = key, .content_length = -1};
    int rc = s3_request_run(c, &req, "HeadObject", err);
    if (rc == 0) {
        snprintf(c->head_etag, sizeof c->head_etag, "%s", req.etag);
        snprintf(c->head_last_modified, sizeof c->head_last_modified, "%s", req.last_modified);
        *obj = (s3_object){key, c->head_etag, c->head_last_modified,
                           req.content_length < 0 ? 0 : (uint64_t)req.content_length,
                           req.content_length < 0};
    }
    s3_request_done(&req);
    return rc;
}

int s3_get(s3_client *c, const char *bucket, const char *key, uint64_t offset, uint64_t length,
           s3_buf *out, s3_error *err)
{
    char range[64];
    s3_request req = {.method = "GET", .bucket = bucket, .key = key, .content_length = -1};
    if (length) {
        snprintf(range, sizeof range, "bytes=%" PRIu64 "-%" PRIu64, offset, offset + length - 1);
        req.range = range;
    }
    int rc = s3_request_run(c, &req, "GetObject", err);
    if (rc == 0 && s3_buf_append(out, req.resp.data, req.resp.len) < 0) {
        s3_err_set(err, S3_ERR_INVALID, 0, "GetObject s3://%s/%s: out of memory", bucket, key);
        rc = -1;
    }
    s3_request_done(&req);
    return rc;
}

int s3_put(s3_client *c, const char *bucket, const char *key, const void *data, size_t len,
           s3_error *err)
{
    s3_request req = {.method = "PUT",
                      .bucket = bucket,
                      .key = key,
                      .body = data,
                      .body_len = len,
                      .content_length = -1};
    int rc = s3_request_run(c, &req, "PutObject", err);
    s3_request_done(&req);
    return rc;
}

int s3_delete(s3_client *c, const char *bucket, const char *key, s3_error *err)
{
    s3_request req = {.method = "DELETE", .bucket = bucket, .key = key, .content_length = -1};
    int rc = s3_request_run(c, &req, "DeleteObject", err);
    s3_request_done(&req);
    return rc;
}
