/*
 * event.c — one pushed body of S3 event records, parsed (jansson),
 * classified and with its keys decoded (s3events.h).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3events.h"

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long s3events_url_decode(const char *in, size_t n, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)in[i];
        if (c == '+')
            c = ' ';
        else if (c == '%') {
            int hi = i + 2 < n ? hex_digit(in[i + 1]) : -1;
            int lo = hi >= 0 ? hex_digit(in[i + 2]) : -1;
            if (lo < 0)
                return -1;
            c = hi * 16 + lo;
            i += 2;
        }
        if (c == 0 || o + 1 >= size)
            return -1;
        out[o++] = (char)c;
    }
    if (o >= size)
        return -1;
    out[o] = '\0';
    return (long)o;
}

/* A string member of obj, or "" when absent or not a string. */
static const char *member_string(json_t *obj, const char *name)
{
    const char *s = json_string_value(json_object_get(obj, name));
    return s ? s : "";
}

/* What a record's event means; why (static) for an ignored one.  A
 * multipart upload's initiation is reported by some radosgw versions as
 * ObjectCreated:Post without an ETag: the object does not exist yet. */
static s3events_kind classify(const char *event, const char *etag, const char **why)
{
    static const char *const created[] = {"ObjectCreated:Put", "ObjectCreated:Post",
                                          "ObjectCreated:Copy",
                                          "ObjectCreated:CompleteMultipartUpload"};
    *why = NULL;
    if (strncmp(event, "ObjectRemoved:", 14) == 0)
        return S3EVENTS_REMOVED;
    for (size_t i = 0; i < sizeof created / sizeof *created; i++) {
        if (strcmp(event, created[i]) != 0)
            continue;
        if (i == 1 && !etag[0]) {
            *why = "a multipart upload's initiation (ObjectCreated:Post without an ETag), "
                   "not a finished object";
            return S3EVENTS_IGNORED;
        }
        return S3EVENTS_CREATED;
    }
    *why = "not an object creation or removal";
    return S3EVENTS_IGNORED;
}

/* Whether the record's key arrives URL-encoded. */
static int key_is_encoded(json_t *rec, s3events_key_encoding encoding)
{
    if (encoding != S3EVENTS_KEY_AUTO)
        return encoding == S3EVENTS_KEY_URL;
    return strcmp(member_string(rec, "eventSource"), "ceph:s3") != 0;
}

/* The key of record i decoded into *dst (advanced past its NUL, room
 * checked against end).  0, or -1 with err. */
static int record_key(json_t *rec, json_t *jkey, size_t i, s3events_key_encoding encoding,
                      size_t max_key, char **dst, const char *end, char *err, size_t err_size)
{
    const char *raw = json_string_value(jkey);
    size_t n = json_string_length(jkey);
    long len;
    if (key_is_encoded(rec, encoding))
        len = s3events_url_decode(raw, n, *dst, (size_t)(end - *dst));
    else if (n < (size_t)(end - *dst) && !memchr(raw, '\0', n)) {
        memcpy(*dst, raw, n);
        (*dst)[n] = '\0';
        len = (long)n;
    } else
        len = -1;
    if (len <= 0 || (size_t)len > max_key) {
        snprintf(err, err_size, "Records[%zu].s3.object.key \"%.200s\": %s", i, raw,
                 len == 0  ? "empty"
                 : len < 0 ? "a bad %XX escape or a NUL byte"
                           : "longer than the limit");
        return -1;
    }
    *dst += len + 1;
    return 0;
}

/* The size member: a non-negative integer, or unknown. */
static uint64_t record_size(json_t *object)
{
    json_t *size = json_object_get(object, "size");
    if (json_is_integer(size) && json_integer_value(size) >= 0)
        return (uint64_t)json_integer_value(size);
    return S3EVENTS_SIZE_UNKNOWN;
}

/* Fills o from record i (strings point into rec, the key into *keys). */
static int record_fill(json_t *rec, size_t i, s3events_key_encoding encoding, size_t max_key,
                       s3events_object *o, char **keys, const char *end, char *err, size_t err_size)
{
    json_t *s3 = json_object_get(rec, "s3");
    json_t *bucket = json_object_get(json_object_get(s3, "bucket"), "name");
    json_t *object = json_object_get(s3, "object");
    json_t *key = json_object_get(object, "key");
    const char *event = member_string(rec, "eventName");
    if (strncmp(event, "s3:", 3) == 0)
        event += 3; /* "s3:" alone names no event: refused below */
    if (!json_is_object(rec) || !json_is_string(bucket) || !json_is_string(key) || !event[0]) {
        snprintf(err, err_size,
                 "Records[%zu]: expected an object with eventName, "
                 "s3.bucket.name and s3.object.key",
                 i);
        return -1;
    }
    const char *etag = member_string(object, "eTag");
    size_t etag_len = strlen(etag);
    if (etag_len >= 2 && etag[0] == '"' && etag[etag_len - 1] == '"') {
        /* quoted as in an HTTP header: the listing's ETag has none */
        json_object_set_new(object, "eTag", json_stringn(etag + 1, etag_len - 2));
        etag = member_string(object, "eTag");
    }
    *o = (s3events_object){.event = event,
                           .bucket = json_string_value(bucket),
                           .key = *keys,
                           .etag = etag,
                           .version = member_string(object, "versionId"),
                           .sequencer = member_string(object, "sequencer"),
                           .time = member_string(rec, "eventTime"),
                           .size = record_size(object)};
    o->kind = classify(event, etag, &o->why);
    return record_key(rec, key, i, encoding, max_key, keys, end, err, err_size);
}

void s3events_free(s3events_batch *b)
{
    json_decref(b->doc);
    free(b->keys);
    free(b->objects);
    *b = (s3events_batch){0};
}

/* The Records array of the body, or NULL with err. */
static json_t *body_records(json_t *doc, size_t max_records, char *err, size_t err_size)
{
    json_t *records = json_object_get(doc, "Records");
    if (!json_is_array(records))
        snprintf(err, err_size, "expected a JSON object with a \"Records\" array");
    else if (json_array_size(records) > max_records)
        snprintf(err, err_size, "%zu records, more than the limit of %zu per request",
                 json_array_size(records), max_records);
    else
        return records;
    return NULL;
}

int s3events_parse(const void *body, size_t size, s3events_key_encoding encoding,
                   const s3events_limits *limits, s3events_batch *out, char *err, size_t err_size)
{
    json_error_t jerr;
    *out = (s3events_batch){0};
    if (!(out->doc = json_loadb(body, size, JSON_REJECT_DUPLICATES, &jerr))) {
        snprintf(err, err_size, "not JSON: line %d column %d: %s", jerr.line, jerr.column,
                 jerr.text);
        return -1;
    }
    json_t *records = body_records(out->doc, limits->max_records, err, err_size);
    size_t n = records ? json_array_size(records) : 0;
    /* A decoded key is never longer than its JSON text: size + 1 bytes hold
     * them all with their NULs. */
    if (records &&
        (!(out->objects = calloc(n + 1, sizeof *out->objects)) || !(out->keys = malloc(size + 1))))
        snprintf(err, err_size, "out of memory");
    char *keys = out->keys, *end = out->keys ? out->keys + size + 1 : NULL;
    for (size_t i = 0; out->keys && i < n; i++, out->n++)
        if (record_fill(json_array_get(records, i), i, encoding, limits->max_key, &out->objects[i],
                        &keys, end, err, err_size) < 0)
            break;
    if (out->keys && out->n == n)
        return 0;
    s3events_free(out);
    return -1;
}
