/*
 * s3_sink.h — the S3 byte sink (private to partfile): a partfile_sink whose
 * bytes stream into a multipart upload (s3_upload_*), completed at commit —
 * the atomic moment on S3: before CompleteMultipartUpload (or the single
 * PutObject of a small file) no object exists under the key — and aborted
 * on abort or a failed write, so no orphan parts stay behind.
 */
#ifndef FLOWRUN_PARTFILE_S3_SINK_H
#define FLOWRUN_PARTFILE_S3_SINK_H

#include <stddef.h>

#include "partfile.h"
#include "s3.h"

/* Streams to s3://bucket/key through c (borrowed: it must outlive the sink).
 * bucket and key are copied.  NULL with err set on failure. */
partfile_sink *partfile_s3_open(s3_client *c, const char *bucket, const char *key, char *err,
                                size_t err_size);

#endif
