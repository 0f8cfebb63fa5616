/*
 * s3events.h — S3 bucket-notification events pushed over HTTP (Ceph
 * radosgw's push endpoint of an SNS-compatible topic, or any sender of the
 * S3 event JSON), parsed and classified, with no knowledge of the engine.
 *
 *   parse     one request body: {"Records": [{eventName, eventSource,
 *             s3.bucket.name, s3.object.{key, size, eTag, versionId,
 *             sequencer}}, ...]} (s3events_parse);
 *   classify  each record is a finished object (ObjectCreated:Put, Post,
 *             Copy, CompleteMultipartUpload), a removal (ObjectRemoved:*),
 *             or ignored with its reason: a multipart upload's initiation
 *             (ObjectCreated:Post without an ETag: the object does not exist
 *             yet, never a finished object) and any other event;
 *   keys      AWS and MinIO URL-encode the key ('+' for a space, %XX
 *             bytes); Ceph radosgw (eventSource "ceph:s3", measured on
 *             16.2.15) sends it as it is, so decoding "a+b.jpg" would name
 *             another object.  S3EVENTS_KEY_AUTO decodes unless the record
 *             says it comes from Ceph;
 *   listen    an HTTP listener on flowrun-http (s3events_listen): POST
 *             bodies are parsed and handed to the caller's deliver(), which
 *             returns once the objects are durably recorded; only then the
 *             sender gets 200, so a crash loses no event (a persistent topic
 *             delivers again what was not answered 2xx).  Hostile input gets
 *             a 4xx with the reason, never a crash: bounded body, bounded
 *             records, bounded key length, checked UTF-8 JSON.
 */
#ifndef FLOWRUN_S3EVENTS_H
#define FLOWRUN_S3EVENTS_H

#include <stddef.h>
#include <stdint.h>

/* What a record means for a reader of the bucket. */
typedef enum s3events_kind {
    S3EVENTS_CREATED = 0, /* a finished object: read it */
    S3EVENTS_REMOVED = 1, /* deleted (ObjectRemoved:Delete, DeleteMarkerCreated) */
    S3EVENTS_IGNORED = 2, /* nothing to read; why in s3events_object.why */
} s3events_kind;

/* How record keys are encoded (the choices "auto|url|none", in order). */
typedef enum s3events_key_encoding {
    S3EVENTS_KEY_AUTO = 0, /* raw when eventSource is "ceph:s3", else URL-encoded */
    S3EVENTS_KEY_URL = 1,  /* always URL-decode ('+' is a space) */
    S3EVENTS_KEY_NONE = 2, /* keys as sent */
} s3events_key_encoding;

/* One record.  Strings owned by the batch, valid until s3events_free. */
typedef struct s3events_object {
    s3events_kind kind;
    const char *event;     /* eventName without "s3:", e.g. "ObjectCreated:Put" */
    const char *bucket;    /* s3.bucket.name */
    const char *key;       /* decoded: the object's name in the bucket */
    const char *etag;      /* s3.object.eTag without quotes, or "" */
    const char *version;   /* s3.object.versionId, or "" */
    const char *sequencer; /* s3.object.sequencer, or "" */
    const char *time;      /* eventTime, or "" */
    uint64_t size;         /* s3.object.size; S3EVENTS_SIZE_UNKNOWN when absent */
    const char *why;       /* S3EVENTS_IGNORED: the reason; else NULL */
} s3events_object;

#define S3EVENTS_SIZE_UNKNOWN UINT64_MAX

typedef struct s3events_batch {
    s3events_object *objects; /* owned */
    size_t n;
    void *doc;  /* private: the parsed JSON the strings point into; owned */
    char *keys; /* private: the decoded keys, one after another; owned */
} s3events_batch;

typedef struct s3events_limits {
    size_t max_records; /* records per body (radosgw sends 1) */
    size_t max_key;     /* bytes of a decoded key (S3: 1024) */
} s3events_limits;

/* Parses body (size bytes, not terminated) into *out (freed with
 * s3events_free).  0, or -1 with err saying what is wrong and where
 * ("Records[3].s3.object.key: ..."): not JSON, no Records array, more than
 * max_records, a record without a bucket or key, a key that decodes to an
 * invalid escape, a NUL byte or more than max_key bytes. */
int s3events_parse(const void *body, size_t size, s3events_key_encoding encoding,
                   const s3events_limits *limits, s3events_batch *out, char *err, size_t err_size);
void s3events_free(s3events_batch *b); /* leaves it empty; an empty batch is fine */

/* URL-decodes in[0..n) into out (size bytes, terminated): '+' is a space,
 * %XX a byte.  The length, or -1 for a bad escape, a NUL byte or no room. */
long s3events_url_decode(const char *in, size_t n, char *out, size_t size);

/* ---- the HTTP listener (listener.c) ---- */

/* Called on the listener's connection thread with one body's records for
 * this listener's bucket (objects borrowed for the call).  Returns 0 once
 * every S3EVENTS_CREATED object is durably recorded (the sender gets 200);
 * -1 with err (the sender gets 503 and delivers again later). */
typedef int (*s3events_deliver)(void *ctx, const s3events_object *objects, size_t n, char *err,
                                size_t err_size);
/* Told of every request answered with an error (status and reason), from
 * the connection thread: for the caller's log and metrics.  May be NULL. */
typedef void (*s3events_refused)(void *ctx, int status, const char *why);

typedef struct s3events_options {
    const char *bucket; /* records of another bucket are refused (400); NULL: any */
    s3events_key_encoding encoding;
    s3events_limits limits;
    size_t max_body;    /* bytes per request */
    unsigned timeout_s; /* idle connection timeout */
    unsigned max_connections;
} s3events_options;

typedef struct s3events_listener s3events_listener;

/* The endpoint "http://ADDR:PORT[/PATH]" split into host (size bytes), port
 * and path ("/" when absent; pathsize bytes).  ADDR is an IPv4 literal,
 * [IPv6] or 0.0.0.0 for every address.  0, or -1 with err naming url. */
int s3events_parse_endpoint(const char *url, char *host, size_t size, uint16_t *port, char *path,
                            size_t path_size, char *err, size_t err_size);

/* Listens on url (s3events_parse_endpoint; port 0: any free port) and
 * answers POST PATH with the events delivered.  opt, ctx borrowed until
 * s3events_stop.  NULL with err. */
s3events_listener *s3events_listen(const char *url, const s3events_options *opt,
                                   s3events_deliver deliver, s3events_refused refused, void *ctx,
                                   char *err, size_t err_size);
uint16_t s3events_port(const s3events_listener *l);
/* Stops accepting, answers what is in flight, frees l.  NULL is fine. */
void s3events_stop(s3events_listener *l);

#endif
