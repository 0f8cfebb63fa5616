/*
 * s3_private.h — what the files of the s3 library share; not installed.
 */
#ifndef FLOWRUN_S3_PRIVATE_H
#define FLOWRUN_S3_PRIVATE_H

#include <curl/curl.h>
#include <time.h>

#include "s3.h"

/* ---- errors (error.c) ---- */
void s3_err_set(s3_error *err, s3_error_class cls, long status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- buffers (buf.c) ---- */
int s3_buf_append(s3_buf *b, const void *data, size_t len);
/* Appends a NUL after len without counting it, so data is a C string. */
int s3_buf_terminate(s3_buf *b);

/* ---- credentials (credentials.c, imds.c) ---- */
typedef enum s3_cred_kind {
    S3_CRED_ENV,
    S3_CRED_FILE,
    S3_CRED_CONTAINER,
    S3_CRED_IMDS,
} s3_cred_kind;

typedef struct s3_creds {
    char access_key[128];
    char secret_key[128];
    char token[2048]; /* session token, "" when none */
    time_t expires;   /* 0: never */
    s3_cred_kind kind;
    char source[1024]; /* for logs and errors; never the secret */
} s3_creds;

/* The standard chain for profile; 0 with *cr filled, -1 with err. */
int s3_creds_resolve(const char *profile, long connect_timeout_ms, s3_creds *cr, s3_error *err);
/* Refetches temporary credentials that expire within 5 minutes. */
int s3_creds_refresh(s3_creds *cr, long connect_timeout_ms, s3_error *err);
/* Container (ECS) and EC2 instance-role (IMDSv2) providers.  Return 1 when
 * they supplied credentials, 0 when they do not apply, -1 on failure. */
int s3_creds_container(long timeout_ms, s3_creds *cr, s3_error *err);
int s3_creds_imds(long timeout_ms, s3_creds *cr, s3_error *err);

/* ---- shared config files (ini.c) ---- */
/* Looks key up in section of the INI file path; 1 found (value copied), 0
 * not found or no file. */
int s3_ini_get(const char *path, const char *section, const char *key, char *out, size_t n);
/* ~/.aws/credentials and ~/.aws/config, honouring AWS_SHARED_CREDENTIALS_FILE
 * and AWS_CONFIG_FILE.  Copies into out. */
void s3_credentials_file(char *out, size_t n);
void s3_config_file(char *out, size_t n);
/* A profile setting: the credentials file's [profile], then the config
 * file's [profile name] ([default] for default). */
int s3_profile_get(const char *profile, const char *key, char *out, size_t n);

/* ---- tiny helpers: json.c, digest.c, uri.c ---- */
/* Copies the string value of "name" in a flat JSON object; 1 found, 0 not. */
int s3_json_string(const char *json, const char *name, char *out, size_t n);
/* "2024-01-31T12:00:00Z" → time_t (UTC); 0 when unparsable. */
time_t s3_parse_iso8601(const char *s);
void s3_sha256_hex(const void *data, size_t len, char out[65]);
void s3_md5_hex(const void *data, size_t len, char out[33]);
void s3_md5(const void *data, size_t len, unsigned char out[16]);
/* Percent-encodes s for a URL path (slash_too=0) or a query value (=1):
 * every byte but A-Za-z0-9-_.~ (and '/' in paths), upper-case hex.
 * Appends to b; -1 when out of memory. */
int s3_uri_encode(s3_buf *b, const char *s, int slash_too);
/* Appends "&name=value" (or "name=value" first) with the value encoded; an
 * empty or NULL value adds nothing.  0 or -1 (out of memory). */
int s3_query_param(s3_buf *q, const char *name, const char *value);

/* ---- plain HTTP for the metadata services (http.c) ---- */
/* method url with extra headers (NULL-terminated, borrowed); body appended
 * to out and NUL-terminated.  Returns the HTTP status, or -1 with err. */
long s3_http(const char *method, const char *url, const char *const *headers, long timeout_ms,
             s3_buf *out, s3_error *err);

/* ---- retries (retry.c) ---- */
/* Whether this outcome is worth another attempt. */
int s3_retry_transient(CURLcode rc, long status, const char *code);
/* Backoff before attempt `attempt` (1-based retry number), full jitter. */
long s3_backoff_ms(int attempt, unsigned *seed);
void s3_sleep_ms(long ms);
/* Sleeps ms unless the client's cancelled() says stop first; -1 then, with
 * err filled naming what (S3_ERR_CANCELLED). */
int s3_client_sleep(s3_client *c, long ms, const char *what, s3_error *err);
/* Whether the client's cancelled() callback says stop. */
int s3_client_cancelled(s3_client *c);
/* CLOCK_MONOTONIC in milliseconds. */
long long s3_now_ms(void);

/* ---- XML replies (xml.c) ---- */
/* Calls fn(user, path, text) at the end of every element; path is
 * "ListBucketResult/Contents/Key", text the element's own text. */
typedef void (*s3_xml_fn)(void *user, const char *path, const char *text);
int s3_xml_parse(const char *data, size_t len, s3_xml_fn fn, void *user);

/* ---- reply parsers: XML from the server (what tests/fuzz drives) ---- */
/* One ListObjectsV2 page: fn per object (as in s3_list), *truncated, and
 * NextContinuationToken into token (reset first; caller frees).  0, 1 when
 * fn asked to stop, -1 when the XML does not parse or memory ran out. */
int s3_list_page(const char *xml, size_t len, s3_list_fn fn, void *user, int *truncated,
                 s3_buf *token);
/* An error reply's Code and Message, "" when absent (request.c). */
void s3_error_reply(const char *xml, size_t len, char *code, size_t code_size, char *message,
                    size_t message_size);
/* CreateMultipartUpload's UploadId into id; 0, or -1 when absent or the XML
 * does not parse (multipart.c). */
int s3_upload_id(const char *xml, size_t len, char *id, size_t id_size);

/* ---- the client and one request (client.c, request.c) ---- */
struct s3_client {
    char *endpoint;  /* scheme://host[:port], no trailing slash */
    char *scheme;    /* "http" / "https" */
    char *authority; /* host[:port] */
    char *region;
    int virtual_host;
    int max_attempts;
    long stall_timeout_ms;
    long connect_timeout_ms;
    s3_creds creds;
    char sigv4[128]; /* "aws:amz:<region>:s3" */
    unsigned seed;   /* backoff jitter */
    int (*cancelled)(void *user);
    void *cancel_user;
    void (*count)(void *user, const char *name, double n); /* s3_options.count */
    void *count_user;
    size_t max_reply_bytes, max_error_bytes;
    long list_deadline_ms, object_deadline_ms;
    char object_deadline_what[96]; /* its message */
    CURL *easy;                    /* reused: keeps the connection open between calls */
    /* s3_head's strings live here until the next call */
    char head_etag[128], head_last_modified[64];
};

typedef struct s3_request {
    const char *method; /* GET HEAD PUT POST DELETE */
    const char *bucket;
    const char *key;    /* NULL: the bucket itself */
    const char *prefix; /* a listing's prefix, named in errors when key is NULL */
    const char *query;  /* canonical query string, "" or NULL for none */
    const void *body;   /* borrowed */
    size_t body_len;
    const char *range; /* "bytes=0-99" or NULL */
    /* the reply */
    long status;
    s3_buf resp; /* body (for GET into memory, XML replies) */
    char etag[128];
    char last_modified[64];
    curl_off_t content_length; /* -1 unknown */
    /* a fixed destination instead of resp: GETs into caller memory */
    char *dst;
    size_t dst_size, dst_len;
    int dst_overflow;
    /* upload cursor */
    size_t sent;
    struct curl_slist *headers;
    /* bounds: resp_max > 0 caps a success body in resp (a longer one is an
     * error); deadline_ms > 0 is the CLOCK_MONOTONIC time (s3_now_ms) after
     * which the request is aborted, named by deadline_what */
    size_t resp_max;
    long long deadline_ms;
    const char *deadline_what;
    /* set by the callbacks: why a transfer was aborted */
    int resp_over;     /* the body passed resp_max or the error-body cap */
    int cancelled;     /* the client's cancelled() said stop */
    int timed_out;     /* deadline_ms passed */
    s3_client *client; /* borrowed, set by s3_request_setup */
} s3_request;

/* Builds the object URL into b (percent-encoded key). */
int s3_url(const s3_client *c, const char *bucket, const char *key, const char *query, s3_buf *b);
/* Configures easy for req (URL, signing, headers, body, sinks); -1 on OOM. */
int s3_request_setup(s3_client *c, CURL *easy, s3_request *req, s3_error *err);
/* After a transfer: turns (curl result, status, reply) into 0 or an error
 * naming bucket/key/region/credential source.  *transient tells whether a
 * retry may help. */
int s3_request_outcome(s3_client *c, s3_request *req, CURLcode rc, const char *what, int *transient,
                       s3_error *err);
/* Blocking request with retries; frees nothing (caller s3_request_done). */
int s3_request_run(s3_client *c, s3_request *req, const char *what, s3_error *err);
/* Frees a request's reply buffers and headers. */
void s3_request_done(s3_request *req);

/* Tells s3_options.count of one attempt's outcome (its status or rc) and its
 * bytes (from easy), and, when retry, that it will be made again. */
void s3_count_attempt(s3_client *c, CURL *easy, long status, CURLcode rc, int retry);

#endif
