/* s3_sink.c — the S3 byte sink: one multipart upload per file (see s3_sink.h). */
#include "s3_sink.h"

#include "failpoint.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct s3_sink {
    partfile_sink base;
    s3_upload *upload; /* owned; NULL once it failed (s3_upload_* aborted it) */
    uint64_t bytes;    /* written */
} s3_sink;

static int s3_sink_write(partfile_sink *base, const void *data, size_t n, char *err,
                         size_t err_size)
{
    s3_sink *s = (s3_sink *)base;
    s3_error e = {0};
    if (!s->upload) {
        snprintf(err, err_size, "writing to an upload that already failed");
        return -1;
    }
    if (s3_upload_write(s->upload, data, n, &e) == 0) {
        s->bytes += n;
        return 0;
    }
    /* A failed part leaves the upload open: abort it now, so nothing stays
     * behind even if the caller never gets to abort the sink. */
    s3_upload_abort(s->upload);
    s->upload = NULL;
    snprintf(err, err_size, "%s", e.message);
    return -1;
}

static int s3_sink_seal(partfile_sink *base, char *err, size_t err_size)
{
    s3_sink *s = (s3_sink *)base;
    s3_error e = {0};
    if (!s->upload) {
        snprintf(err, err_size, "sealing an upload that already failed");
        return -1;
    }
    if (s3_upload_seal(s->upload, &e) == 0)
        return 0;
    s3_upload_abort(s->upload);
    s->upload = NULL;
    snprintf(err, err_size, "%s", e.message);
    return -1;
}

static int s3_sink_commit(partfile_sink *base, char *err, size_t err_size)
{
    s3_sink *s = (s3_sink *)base;
    s3_error e = {0};
    int rc = -1;
    if (s->upload)
        failpoint("sink-commit");
    if (!s->upload)
        snprintf(err, err_size, "committing an upload that already failed");
    else if ((rc = s3_upload_commit(s->upload, &e)) != 0) /* frees (and aborts) the upload */
        snprintf(err, err_size, "%s", e.message);
    free(s);
    return rc;
}

static void s3_sink_abort(partfile_sink *base)
{
    s3_sink *s = (s3_sink *)base;
    s3_upload_abort(s->upload);
    free(s);
}

static int s3_sink_identity(partfile_sink *base, char *out, size_t size, char *err, size_t err_size)
{
    s3_sink *s = (s3_sink *)base;
    char etag[64];
    if (!s->upload || s3_upload_etag(s->upload, etag, sizeof etag)) {
        snprintf(err, err_size, "the ETag of an upload that is not sealed");
        return -1;
    }
    snprintf(out, size, "%llu:%s", (unsigned long long)s->bytes, etag);
    return 0;
}

static const partfile_sink_ops s3_sink_ops = {.write = s3_sink_write,
                                              .seal = s3_sink_seal,
                                              .identity = s3_sink_identity,
                                              .commit = s3_sink_commit,
                                              .abort = s3_sink_abort};

partfile_sink *partfile_s3_open(s3_client *c, const char *bucket, const char *key, char *err,
                                size_t err_size)
{
    s3_error e = {0};
    s3_sink *s = malloc(sizeof *s);
    if (!s) {
        snprintf(err, err_size, "out of memory opening s3://%s/%s", bucket, key);
        return NULL;
    }
    *s = (s3_sink){.base = {&s3_sink_ops}};
    if (!(s->upload = s3_upload_begin(c, bucket, key, 0, &e))) {
        snprintf(err, err_size, "%s", e.message);
        free(s);
        return NULL;
    }
    return &s->base;
}
