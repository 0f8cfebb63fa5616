/*
 * s3.h — a small S3 client: the AWS credential chain, SigV4 through libcurl,
 * ListObjectsV2, Get/Head/Put/Delete, multipart upload and concurrent GETs.
 *
 * Knows nothing of the engine: the s3-source plugin and the s3:// sinks use
 * it.  A client is used by one thread at a time (one per stage instance); it
 * keeps its connections open between calls.
 *
 * Failures fill a caller-supplied s3_error whose message names the bucket,
 * key, region and credential source, and whose class tells a caller whether
 * trying again later can help.  Transient failures (5xx, SlowDown, resets,
 * timeouts) are already retried inside with exponential backoff and jitter
 * up to s3_options.max_attempts before they are reported.
 */
#ifndef FLOWRUN_S3_H
#define FLOWRUN_S3_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum s3_error_class {
    S3_ERR_NONE = 0,
    S3_ERR_NOT_FOUND = 1, /* NoSuchKey, NoSuchBucket, 404 */
    S3_ERR_DENIED = 2,    /* 403: credentials, signature, policy */
    S3_ERR_TRANSIENT = 3, /* retries exhausted on 5xx, throttling, network */
    S3_ERR_INVALID = 4,   /* anything else: bad config, short body, bad reply */
    S3_ERR_CANCELLED = 5, /* s3_options.cancelled said stop, or a deadline passed */
} s3_error_class;

typedef struct s3_error {
    s3_error_class cls;
    long http_status;  /* 0 when no reply */
    char code[64];     /* S3 error code ("NoSuchKey"), or "" */
    char message[768]; /* one line: what failed and where */
} s3_error;

typedef struct s3_options {
    /* NULL or "": AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, then
     * https://s3.<region>.amazonaws.com.  Borrowed for s3_client_new. */
    const char *endpoint;
    /* NULL or "": AWS_REGION, AWS_DEFAULT_REGION, the profile's region, us-east-1. */
    const char *region;
    /* "path", "virtual", or NULL/"" for the default: virtual-host on AWS,
     * path style on a custom endpoint (what S3-compatible stores expect). */
    const char *addressing;
    /* NULL or "": AWS_PROFILE, then "default". */
    const char *profile;
    int max_attempts;        /* per request, 0: 5 */
    long stall_timeout_ms;   /* no byte for this long = a timeout; 0: 30000 */
    long connect_timeout_ms; /* 0: 10000 */
    /* Polled about once a second during every transfer and between
     * retries: nonzero aborts the request with S3_ERR_CANCELLED (a run
     * that is stopping).  NULL: never. */
    int (*cancelled)(void *user);
    void *cancel_user;
    /* Bounds on what a server can make the client hold or wait for (a
     * hostile or broken server): the largest XML reply read into memory (a
     * listing page; 0: 16 MiB), the largest error body read (0: 64 KiB; a
     * longer one is cut and the error named by its HTTP status), and the
     * longest a whole s3_list may take, all pages and retries (0: 1 hour). */
    size_t max_reply_bytes;
    size_t max_error_bytes;
    long list_deadline_ms;
    /* The longest one GET of s3_fetch may take (a server that trickles an
     * object byte by byte never stalls); 0: 15 minutes. */
    long object_deadline_ms;
    /* Told of every request for metrics (NULL: nobody), on the thread that
     * makes it: count(count_user, name, n) with name one of
     *   "s3_requests{status=\"S\"}"  a request answered with HTTP status S
     *                  ("200", "503"), or S "failed": no HTTP answer
     *                  (connection, timeout); n = 1;
     *   "s3_retries{status=\"S\"}"   an attempt that will be made again,
     *                  with that attempt's status (n = 1);
     *   "s3_bytes_in", "s3_bytes_out"  body bytes received and sent.
     * The labels are in the form fr_metric_add takes (plugin.h).  name is
     * valid for the call. */
    void (*count)(void *user, const char *name, double n);
    void *count_user;
} s3_options;

typedef struct s3_client s3_client;

/* Resolves endpoint, region and credentials (logging nothing: the caller
 * asks s3_client_credential_source and logs it).  NULL on failure with err
 * filled.  opt may be NULL (all defaults).  Caller owns the client. */
s3_client *s3_client_new(const s3_options *opt, s3_error *err);
void s3_client_free(s3_client *c);

/* Borrowed from the client, valid until s3_client_free. */
const char *s3_client_region(const s3_client *c);
const char *s3_client_endpoint(const s3_client *c);
/* "environment", "shared credentials file /root/.aws/credentials (profile
 * default)", "container credentials", "EC2 instance role web (IMDSv2)": never
 * a secret. */
const char *s3_client_credential_source(const s3_client *c);

/* Splits "s3://bucket/prefix" into its parts (malloc'd, caller frees both).
 * Returns 0, or -1 when url is not an s3:// URL with a bucket. */
int s3_parse_url(const char *url, char **bucket, char **prefix);

/* A growable byte buffer; the owner frees data with s3_buf_free. */
typedef struct s3_buf {
    char *data;
    size_t len, cap;
} s3_buf;
void s3_buf_free(s3_buf *b);

/* ---- objects ---------------------------------------------------------- */

typedef struct s3_object {
    const char *key;           /* borrowed for the callback */
    const char *etag;          /* without quotes */
    const char *last_modified; /* as S3 sends it: 2024-01-31T12:00:00.000Z */
    uint64_t size;
    /* A listing's <Size> was missing or not a decimal number below 2^63:
     * size is then 0 and means nothing. */
    int size_invalid;
} s3_object;

/* Calls fn for every object under prefix whose key sorts after start_after
 * (NULL: all), following continuation tokens.  fn returns 0 to go on,
 * nonzero to stop the listing early (s3_list then returns 0).  A server
 * that returns the same continuation token twice, a page larger than
 * max_reply_bytes, or a listing that outlasts list_deadline_ms is an
 * error. */
typedef int (*s3_list_fn)(void *user, const s3_object *obj);
int s3_list(s3_client *c, const char *bucket, const char *prefix, const char *start_after,
            s3_list_fn fn, void *user, s3_error *err);

/* HeadObject: fills *obj (its strings owned by c until the next call). */
int s3_head(s3_client *c, const char *bucket, const char *key, s3_object *obj, s3_error *err);

/* GetObject into out (appended; caller owns out).  length 0 = to the end;
 * otherwise bytes [offset, offset+length) through a Range header.  A body
 * shorter than its Content-Length is an error, never a result. */
int s3_get(s3_client *c, const char *bucket, const char *key, uint64_t offset, uint64_t length,
           s3_buf *out, s3_error *err);

/* PutObject of len bytes (borrowed for the call), signed with their sha256. */
int s3_put(s3_client *c, const char *bucket, const char *key, const void *data, size_t len,
           s3_error *err);

/* DeleteObject; deleting a missing key succeeds, as on S3. */
int s3_delete(s3_client *c, const char *bucket, const char *key, s3_error *err);

/* ---- multipart upload ------------------------------------------------- */

/* Streams one object up: bytes are buffered into parts of part_size (at
 * least 5 MiB, 0: 8 MiB), each sent as it fills.  The object appears only
 * at s3_upload_commit (CompleteMultipartUpload; an object smaller than one
 * part is sent with one PutObject instead).  s3_upload_abort (or a failed
 * write/commit) aborts the upload so no orphan parts remain.  The upload
 * borrows c; bucket and key are copied. */
typedef struct s3_upload s3_upload;
s3_upload *s3_upload_begin(s3_client *c, const char *bucket, const char *key, size_t part_size,
                           s3_error *err);
int s3_upload_write(s3_upload *u, const void *data, size_t len, s3_error *err);
/* Sends every byte written so far (the buffered tail as the last part)
 * without completing: the object does not exist until s3_upload_commit,
 * which then only completes.  After it, no more writes.  On failure the
 * upload stays open for s3_upload_abort. */
int s3_upload_seal(s3_upload *u, s3_error *err);
/* After s3_upload_seal: the ETag the object will have once completed, as
 * S3 computes it for a multipart upload (the MD5 of the parts' MD5s, "-",
 * the number of parts; without quotes) into out.  0, or -1 when not sealed.
 * A bucket whose ETags are not MD5s (SSE-KMS) gives another. */
int s3_upload_etag(const s3_upload *u, char *out, size_t size);
/* Completes and frees u (also on failure, after aborting). */
int s3_upload_commit(s3_upload *u, s3_error *err);
/* Aborts and frees u; NULL is a no-op. */
void s3_upload_abort(s3_upload *u);

/* The incomplete multipart uploads under prefix (ListMultipartUploads,
 * every page): fn(user, key, upload_id) for each; a nonzero return stops.
 * Strings valid for the call.  0, or -1 with err. */
typedef int (*s3_upload_fn)(void *user, const char *key, const char *upload_id);
int s3_list_uploads(s3_client *c, const char *bucket, const char *prefix, s3_upload_fn fn,
                    void *user, s3_error *err);
/* AbortMultipartUpload of upload_id on key (a killed writer's leftover). */
int s3_abort_upload(s3_client *c, const char *bucket, const char *key, const char *upload_id,
                    s3_error *err);

/* ---- concurrent GETs (curl multi) ------------------------------------ */

/* Up to `concurrency` GETs in flight on one thread, each into a caller-owned
 * buffer of the object's listed size, retried like every request. */
typedef struct s3_fetch s3_fetch;

typedef struct s3_fetch_result {
    void *user;  /* as given to s3_fetch_add */
    size_t size; /* bytes received (== the expected size on success) */
    int failed;  /* 0, or 1 with err filled */
    s3_error err;
} s3_fetch_result;

s3_fetch *s3_fetch_new(s3_client *c, int concurrency, s3_error *err);
void s3_fetch_free(s3_fetch *f); /* cancels what is in flight */
/* Nonzero while fewer than `concurrency` GETs are in flight. */
int s3_fetch_has_room(const s3_fetch *f);
size_t s3_fetch_in_flight(const s3_fetch *f);
/* Starts GET bucket/key into dst (borrowed until its result is returned),
 * which holds exactly size bytes.  etag (may be NULL) is checked against the
 * body's MD5 when it is a single-part ETag.  Strings are copied. */
int s3_fetch_add(s3_fetch *f, const char *bucket, const char *key, const char *etag, void *dst,
                 size_t size, void *user, s3_error *err);
/* Waits until one GET has finished (success or final failure) and returns 1
 * with *res filled, or 0 when nothing is in flight. */
int s3_fetch_next(s3_fetch *f, s3_fetch_result *res);

#ifdef __cplusplus
}
#endif
#endif /* FLOWRUN_S3_H */
