/*
 * s3_source_test.c — s3-source through the real loader (harness) against
 * radosgw, in a bucket run_source_test.py filled with boto3:
 *   Training/<fruit>/<i>.jpg  (body: the key repeated i+1 times), notes.txt
 * Checks the records (ids, labels, attributes, bytes), suffix and limit, the
 * total for the ETA, an object deleted between listing and GET (dead
 * letter, the run goes on), and a wrong secret (init fails with a 403 that
 * names bucket, region and credential source).
 *   test-s3-source BUCKET N_JPEGS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <flowrun/harness.h>

#include "check.h"
#include "s3.h"

static fr_harness *source_new(const char *url, const char *limit)
{
    const char *config[] = {"url", url, "suffix", ".jpg", "concurrency", "4", "limit", limit, NULL};
    char *err = NULL;
    fr_harness *h = fr_harness_new("s3-source", config, &err);
    if (!h)
        fprintf(stderr, "fr_harness_new: %s\n", err);
    free(err);
    return h;
}

/* Every output is a whole object with its attributes and parent-folder label. */
static void check_record(const fr_record *r, const char *bucket)
{
    const char *key = fr_record_attr(r, "key");
    char id[1024], label[256];
    CHECK_STR(r->key, key);
    snprintf(id, sizeof id, "s3-source:%s@%s", key, fr_record_attr(r, "etag"));
    CHECK_STR(r->id, id);
    sscanf(key, "Training/%255[^/]/", label);
    CHECK_STR(r->label, label);
    CHECK_STR(fr_record_attr(r, "bucket"), bucket);
    CHECK_STR(r->payload.media, "jpeg");
    CHECK_INT(r->payload.size, strtoull(fr_record_attr(r, "size"), NULL, 10));
    CHECK(strlen(fr_record_attr(r, "last_modified")) >= 20);
    size_t klen = strlen(key);
    int intact = r->payload.size % klen == 0;
    for (size_t off = 0; intact && off < r->payload.size; off += klen)
        intact = memcmp((const char *)r->payload.data + off, key, klen) == 0;
    CHECK(intact);
}

static void test_reads_all(const char *url, const char *bucket, int n)
{
    fr_harness *h = source_new(url, "0");
    CHECK(h);
    if (!h)
        return;
    CHECK_INT(fr_harness_start(h), FR_OK);
    CHECK_STR(fr_harness_output_type(h), "bytes/jpeg");
    CHECK_INT(fr_harness_total(h), n);
    CHECK_INT(fr_harness_produce(h), FR_DONE);
    CHECK_INT(fr_harness_output_count(h), n);
    for (size_t i = 0; i < fr_harness_output_count(h); i++)
        check_record(fr_harness_output(h, i), bucket);
    CHECK_INT(fr_harness_rejected_count(h), 0);
    fr_harness_free(h);
}

static void test_limit(const char *url)
{
    fr_harness *h = source_new(url, "3");
    CHECK(h);
    if (!h)
        return;
    CHECK_INT(fr_harness_start(h), FR_OK);
    CHECK_INT(fr_harness_total(h), 3);
    CHECK_INT(fr_harness_produce(h), FR_DONE);
    CHECK_INT(fr_harness_output_count(h), 3);
    fr_harness_free(h);
}

/* Listed at start, deleted before its GET: one dead letter, the rest read. */
static void test_deleted_after_listing(const char *url, const char *bucket, int n)
{
    s3_error err = {0};
    s3_client *c = s3_client_new(NULL, &err);
    fr_harness *h = source_new(url, "0");
    if (!c || !h) {
        CHECK(c && h);
        fr_harness_free(h);
        s3_client_free(c);
        return;
    }
    CHECK_INT(fr_harness_start(h), FR_OK);
    CHECK_INT(s3_delete(c, bucket, "Training/Banana/0.jpg", &err), 0);
    CHECK_INT(fr_harness_produce(h), FR_DONE);
    CHECK_INT(fr_harness_output_count(h), n - 1);
    CHECK_INT(fr_harness_rejected_count(h), 1);
    if (fr_harness_rejected_count(h) == 1) {
        CHECK_STR(fr_harness_rejected(h, 0)->key, "Training/Banana/0.jpg");
        CHECK_CONTAINS(fr_harness_rejected_reason(h, 0), "deleted since listed");
        CHECK_CONTAINS(fr_harness_rejected_reason(h, 0), "NoSuchKey");
        CHECK_CONTAINS(fr_harness_rejected_reason(h, 0), "3 retries"); /* gone_retries */
        CHECK(fr_harness_metric(h, "gone_retries") == 3);
    }
    fr_harness_free(h);
    s3_client_free(c);
}

static void test_wrong_secret(const char *url, const char *bucket)
{
    char *secret = strdup(getenv("AWS_SECRET_ACCESS_KEY"));
    setenv("AWS_SECRET_ACCESS_KEY", "not/the+secret", 1);
    fr_harness *h = source_new(url, "0");
    if (h) {
        CHECK_INT(fr_harness_start(h), FR_FATAL);
        CHECK_CONTAINS(fr_harness_reason(h), "HTTP 403");
        CHECK_CONTAINS(fr_harness_reason(h), bucket);
        CHECK_CONTAINS(fr_harness_reason(h), "region us-east-1");
        CHECK_CONTAINS(fr_harness_reason(h), "credentials from environment");
        CHECK_INT(fr_harness_output_count(h), 0);
    }
    CHECK(h);
    fr_harness_free(h);
    setenv("AWS_SECRET_ACCESS_KEY", secret, 1);
    free(secret);
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return fprintf(stderr, "usage: test-s3-source BUCKET N_JPEGS\n"), 2;
    char url[512];
    snprintf(url, sizeof url, "s3://%s/Training/", argv[1]);
    int n = atoi(argv[2]);
    test_reads_all(url, argv[1], n);
    test_limit(url);
    test_wrong_secret(url, argv[1]);
    test_deleted_after_listing(url, argv[1], n); /* last: it deletes an object */
    return check_exit();
}
