/* multipart.c — streaming uploads: initiate at the first full part, one
 * UploadPart per part, CompleteMultipartUpload at commit (the atomic
 * moment: before it, no object exists), AbortMultipartUpload on any
 * failure so no orphan parts stay billed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_private.h"

enum { PART_MIN = 5 << 20, PART_DEFAULT = 8 << 20 };

struct s3_upload {
    s3_client *c; /* borrowed */
    char *bucket, *key;
    size_t part_size;
    s3_buf part;     /* bytes of the part being filled */
    char *upload_id; /* NULL until initiated */
    s3_buf complete; /* the CompleteMultipartUpload body, grown per part */
    s3_buf md5s;     /* the binary MD5 of every part sent, back to back */
    int parts;
};

typedef struct upload_id_reply {
    char id[512];
} upload_id_reply;

static void upload_id_field(void *user, const char *path, const char *text)
{
    if (strcmp(path, "InitiateMultipartUploadResult/UploadId") == 0)
        snprintf(((upload_id_reply *)user)->id, sizeof((upload_id_reply *)user)->id, "%s", text);
}

int s3_upload_id(const char *xml, size_t len, char *id, size_t id_size)
{
    upload_id_reply r = {""};
    if (s3_xml_parse(xml, len, upload_id_field, &r) < 0 || !r.id[0])
        return -1;
    snprintf(id, id_size, "%s", r.id);
    return 0;
}

/* Runs method on the upload's key with query; the reply stays in req. */
static int upload_call(s3_upload *u, s3_request *req, const char *method, const char *query,
                       const char *what, s3_error *err)
{
    *req = (s3_request){.method = method,
                        .bucket = u->bucket,
                        .key = u->key,
                        .query = query,
                        .content_length = -1,
                        .resp_max = u->c->max_reply_bytes,
                        .body = req->body,
                        .body_len = req->body_len};
    return s3_request_run(u->c, req, what, err);
}

static int upload_initiate(s3_upload *u, s3_error *err)
{
    s3_request req = {0};
    upload_id_reply r = {""};
    int rc = upload_call(u, &req, "POST", "uploads=", "CreateMultipartUpload", err);
    if (rc == 0 && s3_upload_id(req.resp.data, req.resp.len, r.id, sizeof r.id) < 0) {
        s3_err_set(err, S3_ERR_INVALID, req.status,
                   "CreateMultipartUpload s3://%s/%s: no UploadId in the reply", u->bucket, u->key);
        rc = -1;
    }
    s3_request_done(&req);
    if (rc == 0 && !(u->upload_id = strdup(r.id)))
        rc = -1;
    return rc;
}

/* A query with the upload id and optionally a part number, canonical order. */
static int upload_query(s3_upload *u, int part, s3_buf *q)
{
    char num[32];
    q->len = 0;
    snprintf(num, sizeof num, "partNumber=%d&", part);
    if (part && s3_buf_append(q, num, strlen(num)) < 0)
        return -1;
    return s3_buf_append(q, "uploadId=", 9) | s3_uri_encode(q, u->upload_id, 1);
}

static int upload_part(s3_upload *u, s3_error *err)
{
    if (!u->upload_id && upload_initiate(u, err) < 0)
        return -1;
    s3_buf q = {0};
    s3_request req = {.body = u->part.data, .body_len = u->part.len};
    char entry[256];
    int part = u->parts + 1;
    int rc = upload_query(u, part, &q);
    if (rc == 0)
        rc = upload_call(u, &req, "PUT", q.data, "UploadPart", err);
    if (rc == 0) {
        unsigned char md5[16];
        snprintf(entry, sizeof entry, "<Part><PartNumber>%d</PartNumber><ETag>\"%s\"</ETag></Part>",
                 part, req.etag);
        s3_md5(u->part.data ? u->part.data : "", u->part.len, md5);
        rc = s3_buf_append(&u->complete, entry, strlen(entry)) |
             s3_buf_append(&u->md5s, md5, sizeof md5);
    }
    s3_request_done(&req);
    s3_buf_free(&q);
    if (rc == 0) {
        u->parts = part;
        u->part.len = 0;
    }
    return rc;
}

s3_upload *s3_upload_begin(s3_client *c, const char *bucket, const char *key, size_t part_size,
                           s3_error *err)
{
    s3_upload *u = calloc(1, sizeof *u);
    if (u) {
        u->c = c;
        u->part_size = part_size ? part_size : PART_DEFAULT;
        u->part_size = u->part_size < PART_MIN ? PART_MIN : u->part_size;
        u->bucket = strdup(bucket);
        u->key = strdup(key);
    }
    if (!u || !u->bucket || !u->key) {
        s3_upload_abort(u);
        s3_err_set(err, S3_ERR_INVALID, 0, "upload s3://%s/%s: out of memory", bucket, key);
        return NULL;
    }
    return u;
}

int s3_upload_write(s3_upload *u, const void *data, size_t len, s3_error *err)
{
    const char *p = data;
    while (len) {
        size_t n = u->part_size - u->part.len;
        n = n < len ? n : len;
        if (s3_buf_append(&u->part, p, n) < 0) {
            s3_err_set(err, S3_ERR_INVALID, 0, "upload s3://%s/%s: out of memory", u->bucket,
                       u->key);
            return -1;
        }
        p += n;
        len -= n;
        if (u->part.len == u->part_size && upload_part(u, err) < 0)
            return -1;
    }
    return 0;
}

static int upload_complete(s3_upload *u, s3_error *err)
{
    static const char open[] = "<CompleteMultipartUpload>", close[] = "</CompleteMultipartUpload>";
    s3_buf body = {0}, q = {0};
    s3_request req = {0};
    int rc = s3_buf_append(&body, open, strlen(open)) |
             s3_buf_append(&body, u->complete.data, u->complete.len) |
             s3_buf_append(&body, close, strlen(close)) | upload_query(u, 0, &q);
    if (rc == 0) {
        req.body = body.data;
        req.body_len = body.len;
        rc = upload_call(u, &req, "POST", q.data, "CompleteMultipartUpload", err);
    }
    /* S3 can answer 200 with an <Error> body once the upload has started. */
    if (rc == 0 && req.resp.len && strstr(req.resp.data, "<Error>")) {
        s3_err_set(err, S3_ERR_TRANSIENT, req.status,
                   "CompleteMultipartUpload s3://%s/%s: error in a 200 reply", u->bucket, u->key);
        rc = -1;
    }
    s3_request_done(&req);
    s3_buf_free(&body);
    s3_buf_free(&q);
    return rc;
}

static void upload_free(s3_upload *u)
{
    free(u->upload_id);
    s3_buf_free(&u->part);
    s3_buf_free(&u->complete);
    s3_buf_free(&u->md5s);
    free(u->bucket);
    free(u->key);
    free(u);
}

int s3_upload_commit(s3_upload *u, s3_error *err)
{
    int rc;
    if (!u->parts) /* smaller than one part: one PutObject is atomic too */
        rc = s3_put(u->c, u->bucket, u->key, u->part.data ? u->part.data : "", u->part.len, err);
    else
        rc = (u->part.len ? upload_part(u, err) : 0) < 0 ? -1 : upload_complete(u, err);
    if (rc < 0) {
        s3_upload_abort(u);
        return -1;
    }
    upload_free(u);
    return 0;
}

int s3_upload_seal(s3_upload *u, s3_error *err)
{
    /* An object smaller than one part gets its one part now: a PutObject
     * would publish it. */
    int rc = u->part.len || !u->parts ? upload_part(u, err) : 0;
    if (rc == 0)
        s3_buf_free(&u->part); /* a sealed upload may wait long: keep only its part list */
    return rc;
}

int s3_upload_etag(const s3_upload *u, char *out, size_t size)
{
    char hex[33];
    if (!u->parts || u->part.len)
        return -1;
    s3_md5_hex(u->md5s.data, u->md5s.len, hex);
    snprintf(out, size, "%s-%d", hex, u->parts);
    return 0;
}

void s3_upload_abort(s3_upload *u)
{
    if (!u)
        return;
    if (u->upload_id) {
        s3_buf q = {0};
        s3_request req = {0};
        s3_error ignored;
        /* Best effort: the caller is already reporting the first failure. */
        if (upload_query(u, 0, &q) == 0)
            upload_call(u, &req, "DELETE", q.data, "AbortMultipartUpload", &ignored);
        s3_request_done(&req);
        s3_buf_free(&q);
    }
    upload_free(u);
}
