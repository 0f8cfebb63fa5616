/* uploads.c — ListMultipartUploads and AbortMultipartUpload by id: finding
 * and removing the incomplete uploads a killed writer left behind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_private.h"

typedef struct uploads_page {
    s3_upload_fn fn;
    void *user;
    int stopped, truncated;
    s3_buf key, id;           /* of the current Upload */
    s3_buf next_key, next_id; /* NextKeyMarker, NextUploadIdMarker */
} uploads_page;

static int set_text(s3_buf *b, const char *text)
{
    b->len = 0;
    return s3_buf_append(b, text, strlen(text)) < 0 || s3_buf_terminate(b) < 0 ? -1 : 0;
}

static void uploads_field(void *user, const char *path, const char *text)
{
    uploads_page *p = user;
    const char *root = "ListMultipartUploadsResult/";
    if (strncmp(path, root, strlen(root)) != 0 || p->stopped)
        return;
    path += strlen(root);
    int bad = 0;
    if (strcmp(path, "Upload/Key") == 0)
        bad = set_text(&p->key, text);
    else if (strcmp(path, "Upload/UploadId") == 0)
        bad = set_text(&p->id, text);
    else if (strcmp(path, "Upload") == 0 && p->key.len && p->id.len)
        p->stopped = p->fn(p->user, p->key.data, p->id.data) ? 1 : 0;
    else if (strcmp(path, "IsTruncated") == 0)
        p->truncated = strcmp(text, "true") == 0;
    else if (strcmp(path, "NextKeyMarker") == 0)
        bad = set_text(&p->next_key, text);
    else if (strcmp(path, "NextUploadIdMarker") == 0)
        bad = set_text(&p->next_id, text);
    if (bad)
        p->stopped = -1;
}

/* The canonical query: parameters sorted by name. */
static int uploads_query(s3_buf *q, const uploads_page *p, const char *prefix)
{
    q->len = 0;
    int bad = s3_query_param(q, "key-marker", p->next_key.len ? p->next_key.data : NULL) |
              s3_query_param(q, "prefix", prefix) |
              s3_query_param(q, "upload-id-marker", p->next_id.len ? p->next_id.data : NULL);
    if (!bad)
        bad = (q->len && s3_buf_append(q, "&", 1) < 0) || s3_buf_append(q, "uploads=", 8) < 0;
    return bad ? -1 : s3_buf_terminate(q);
}

int s3_list_uploads(s3_client *c, const char *bucket, const char *prefix, s3_upload_fn fn,
                    void *user, s3_error *err)
{
    uploads_page p = {.fn = fn, .user = user};
    s3_buf query = {0};
    s3_request req = {.method = "GET", .bucket = bucket, .content_length = -1};
    int rc = 0;
    do {
        p.truncated = 0;
        if (uploads_query(&query, &p, prefix) < 0) {
            s3_err_set(err, S3_ERR_INVALID, 0, "ListMultipartUploads s3://%s: out of memory",
                       bucket);
            rc = -1;
            break;
        }
        req.query = query.data;
        if ((rc = s3_request_run(c, &req, "ListMultipartUploads", err)) < 0)
            break;
        if (s3_xml_parse(req.resp.data, req.resp.len, uploads_field, &p) < 0 || p.stopped < 0) {
            s3_err_set(err, S3_ERR_INVALID, req.status,
                       "ListMultipartUploads s3://%s/%s: unreadable reply from %s", bucket,
                       prefix ? prefix : "", c->endpoint);
            rc = -1;
            break;
        }
    } while (p.truncated && !p.stopped && p.next_key.len);
    s3_request_done(&req);
    s3_buf_free(&query);
    s3_buf_free(&p.key);
    s3_buf_free(&p.id);
    s3_buf_free(&p.next_key);
    s3_buf_free(&p.next_id);
    return rc;
}

int s3_abort_upload(s3_client *c, const char *bucket, const char *key, const char *upload_id,
                    s3_error *err)
{
    s3_buf q = {0};
    s3_request req = {.method = "DELETE", .bucket = bucket, .key = key, .content_length = -1};
    int rc =
        s3_buf_append(&q, "uploadId=", 9) | s3_uri_encode(&q, upload_id, 1) | s3_buf_terminate(&q);
    if (rc) {
        s3_err_set(err, S3_ERR_INVALID, 0, "AbortMultipartUpload s3://%s/%s: out of memory", bucket,
                   key);
    } else {
        req.query = q.data;
        rc = s3_request_run(c, &req, "AbortMultipartUpload", err);
    }
    s3_request_done(&req);
    s3_buf_free(&q);
    return rc;
}
