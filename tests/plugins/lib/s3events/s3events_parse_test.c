/*
 * s3events_parse_test.c — event bodies as radosgw and AWS send them,
 * classified and decoded; every malformed body refused with its reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "s3events.h"

static const s3events_limits limits = {.max_records = 4, .max_key = 1024};

/* A one-record body as radosgw 16 sends it (trimmed), with source, event,
 * key (JSON text) and eTag. */
static char *body_of(const char *source, const char *event, const char *key, const char *etag)
{
    char *b = malloc(4096);
    snprintf(b, 4096,
             "{\"Records\":[{\"eventVersion\":\"2.2\",\"eventSource\":\"%s\",\"awsRegion\":\"\","
             "\"eventTime\":\"2026-12-05T00:29:44.777363Z\",\"eventName\":\"%s\","
             "\"s3\":{\"s3SchemaVersion\":\"1.0\",\"configurationId\":\"n1\","
             "\"bucket\":{\"name\":\"photos\",\"arn\":\"arn:aws:s3:::photos\"},"
             "\"object\":{\"key\":\"%s\",\"size\":5,\"eTag\":\"%s\",\"versionId\":\"\","
             "\"sequencer\":\"F85A136BD38E7D2E\",\"metadata\":[],\"tags\":[]}},"
             "\"eventId\":\"1796430584.779980\",\"opaqueData\":\"\"}]}",
             source, event, key, etag);
    return b;
}

/* Parses body; the one object, or kind -1 on error (err filled). */
static s3events_object parse_one(const char *body, s3events_key_encoding enc, s3events_batch *b,
                                 char *err, size_t err_size)
{
    s3events_object none = {.kind = (s3events_kind)-1};
    if (s3events_parse(body, strlen(body), enc, &limits, b, err, err_size) < 0)
        return none;
    return b->n == 1 ? b->objects[0] : none;
}

static void radosgw_keys_are_raw(void)
{
    char err[512];
    s3events_batch b;
    char *body = body_of("ceph:s3", "ObjectCreated:Put", "a b/\\u00e9 \xc3\xbc+x%41.jpg",
                         "5d41402abc4b2a76b9719d911017c592");
    s3events_object o = parse_one(body, S3EVENTS_KEY_AUTO, &b, err, sizeof err);
    CHECK_INT(o.kind, S3EVENTS_CREATED);
    CHECK_STR(o.key, "a b/\xc3\xa9 \xc3\xbc+x%41.jpg");
    CHECK_STR(o.bucket, "photos");
    CHECK_STR(o.etag, "5d41402abc4b2a76b9719d911017c592");
    CHECK_STR(o.event, "ObjectCreated:Put");
    CHECK_STR(o.sequencer, "F85A136BD38E7D2E");
    CHECK_INT(o.size, 5);
    s3events_free(&b);
    /* the same body told to decode: '+' becomes a space, %41 an A */
    o = parse_one(body, S3EVENTS_KEY_URL, &b, err, sizeof err);
    CHECK_STR(o.key, "a b/\xc3\xa9 \xc3\xbc xA.jpg");
    s3events_free(&b);
    free(body);
}

static void aws_keys_are_decoded(void)
{
    char err[512];
    s3events_batch b;
    char *body = body_of("aws:s3", "ObjectCreated:Put", "a+b/%C3%A9+%C3%BC%2Bx%2541.jpg",
                         "\\\"5d41402abc4b2a76b9719d911017c592\\\"");
    s3events_object o = parse_one(body, S3EVENTS_KEY_AUTO, &b, err, sizeof err);
    CHECK_STR(o.key, "a b/\xc3\xa9 \xc3\xbc+x%41.jpg");
    CHECK_STR(o.etag, "5d41402abc4b2a76b9719d911017c592"); /* quotes dropped */
    s3events_free(&b);
    o = parse_one(body, S3EVENTS_KEY_NONE, &b, err, sizeof err);
    CHECK_STR(o.key, "a+b/%C3%A9+%C3%BC%2Bx%2541.jpg");
    s3events_free(&b);
    free(body);
}

static s3events_kind kind_of(const char *event, const char *etag)
{
    char err[512];
    s3events_batch b;
    char *body = body_of("ceph:s3", event, "k.jpg", etag);
    s3events_object o = parse_one(body, S3EVENTS_KEY_AUTO, &b, err, sizeof err);
    s3events_free(&b);
    free(body);
    return o.kind;
}

static void events_are_classified(void)
{
    CHECK_INT(kind_of("ObjectCreated:Put", "e"), S3EVENTS_CREATED);
    CHECK_INT(kind_of("s3:ObjectCreated:Put", "e"), S3EVENTS_CREATED);
    CHECK_INT(kind_of("ObjectCreated:Copy", "e"), S3EVENTS_CREATED);
    CHECK_INT(kind_of("ObjectCreated:CompleteMultipartUpload", "e-2"), S3EVENTS_CREATED);
    CHECK_INT(kind_of("ObjectCreated:Post", "e"), S3EVENTS_CREATED);
    /* a multipart upload's initiation: no ETag, no object yet */
    CHECK_INT(kind_of("ObjectCreated:Post", ""), S3EVENTS_IGNORED);
    CHECK_INT(kind_of("ObjectRemoved:Delete", "e"), S3EVENTS_REMOVED);
    CHECK_INT(kind_of("ObjectRemoved:DeleteMarkerCreated", ""), S3EVENTS_REMOVED);
    CHECK_INT(kind_of("ObjectLifecycle:Expiration:Current", "e"), S3EVENTS_IGNORED);
    CHECK_INT(kind_of("ObjectCreated:Putx", "e"), S3EVENTS_IGNORED);
}

/* body must be refused with a reason containing want. */
static void refused_n(const char *body, size_t size, const char *want)
{
    char err[512] = "";
    s3events_batch b = {0};
    CHECK_INT(s3events_parse(body, size, S3EVENTS_KEY_AUTO, &limits, &b, err, sizeof err), -1);
    CHECK_CONTAINS(err, want);
    CHECK(b.objects == NULL && b.doc == NULL && b.keys == NULL);
}

static void refused(const char *body, const char *want)
{
    refused_n(body, strlen(body), want);
}

static void bad_bodies_are_refused(void)
{
    refused_n("", 0, "not JSON");
    refused("{\"Records\":[", "not JSON");
    refused("[1,2]", "\"Records\" array");
    refused("{\"Records\":{}}", "\"Records\" array");
    refused("{\"Records\":[{},{},{},{},{}]}", "5 records, more than the limit of 4");
    refused("{\"Records\":[1]}", "Records[0]: expected an object");
    refused(
        "{\"Records\":[{\"eventName\":\"ObjectCreated:Put\",\"s3\":{\"bucket\":{\"name\":\"b\"},"
        "\"object\":{}}}]}",
        "s3.object.key");
    char *no_name = body_of("aws:s3", "s3:", "a.jpg", "e"); /* the prefix alone (fuzz) */
    refused(no_name, "Records[0]: expected an object with eventName");
    free(no_name);
    refused("{\"Records\":[{},{}],\"Records\":[]}", "not JSON"); /* duplicate member */
    refused("{\"a\":\"\\u0000\"}", "not JSON");                  /* NUL in a string */
    refused("{\"a\":\"\xff\"}", "not JSON");                     /* not UTF-8 */
    const char *const bad_keys[] = {"%G1.jpg", "%4", "x%", "%00.jpg", ""};
    for (size_t i = 0; i < sizeof bad_keys / sizeof *bad_keys; i++) {
        char *body = body_of("aws:s3", "ObjectCreated:Put", bad_keys[i], "e");
        refused(body, "Records[0].s3.object.key");
        free(body);
    }
    char key[1100];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    char *body = body_of("ceph:s3", "ObjectCreated:Put", key, "e");
    refused(body, "longer than the limit");
    free(body);
}

static void sizes_and_records(void)
{
    const char *body =
        "{\"Records\":[{\"eventName\":\"ObjectCreated:Put\",\"s3\":{\"bucket\":{\"name\":\"b\"},"
        "\"object\":{\"key\":\"one\",\"size\":-1}}},"
        "{\"eventName\":\"ObjectRemoved:Delete\",\"s3\":{\"bucket\":{\"name\":\"b\"},"
        "\"object\":{\"key\":\"two\"}}}]}";
    char err[512];
    s3events_batch b;
    CHECK_INT(s3events_parse(body, strlen(body), S3EVENTS_KEY_AUTO, &limits, &b, err, sizeof err),
              0);
    CHECK_INT(b.n, 2);
    if (b.n == 2) {
        CHECK_STR(b.objects[0].key, "one");
        CHECK(b.objects[0].size == S3EVENTS_SIZE_UNKNOWN);
        CHECK_STR(b.objects[0].etag, "");
        CHECK_STR(b.objects[1].key, "two");
        CHECK_INT(b.objects[1].kind, S3EVENTS_REMOVED);
    }
    s3events_free(&b);
    s3events_free(&b); /* twice is fine: emptied */
}

static void endpoints(void)
{
    char host[64], path[64], err[512];
    uint16_t port;
    CHECK_INT(s3events_parse_endpoint("http://127.0.0.1:8085", host, sizeof host, &port, path,
                                      sizeof path, err, sizeof err),
              0);
    CHECK_STR(host, "127.0.0.1");
    CHECK_INT(port, 8085);
    CHECK_STR(path, "/");
    CHECK_INT(s3events_parse_endpoint("http://[::1]:0/events/photos", host, sizeof host, &port,
                                      path, sizeof path, err, sizeof err),
              0);
    CHECK_STR(host, "::1");
    CHECK_STR(path, "/events/photos");
    const char *const bad[] = {
        "127.0.0.1:8085",       "https://127.0.0.1:1",  "http://127.0.0.1",
        "http://:8085",         "http://127.0.0.1:x:1", "http://localhost:80",
        "http://1.2.3.4:70000", "http://h:1/a?b",       "http://"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        CHECK_INT(s3events_parse_endpoint(bad[i], host, sizeof host, &port, path, sizeof path, err,
                                          sizeof err),
                  -1);
        CHECK_CONTAINS(err, bad[i]);
    }
}

int main(void)
{
    radosgw_keys_are_raw();
    aws_keys_are_decoded();
    events_are_classified();
    bad_bodies_are_refused();
    sizes_and_records();
    endpoints();
    return check_exit();
}
