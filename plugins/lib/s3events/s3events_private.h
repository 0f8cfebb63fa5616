/*
 * s3events_private.h — the listener's answer to one request, without the
 * HTTP server around it: what listener.c serves and the fuzzer drives.
 */
#ifndef FLOWRUN_S3EVENTS_PRIVATE_H
#define FLOWRUN_S3EVENTS_PRIVATE_H

#include "s3events.h"

/* What one endpoint answers: its options, path and deliver() (borrowed). */
typedef struct s3events_endpoint {
    const s3events_options *opt;
    const char *path;
    s3events_deliver deliver;
    void *ctx;
} s3events_endpoint;

/* The HTTP status for method path with body (size bytes); for a status
 * other than 200, why (why_size bytes) says what was wrong. */
int s3events_answer(const s3events_endpoint *e, const char *method, const char *path,
                    const void *body, size_t size, char *why, size_t why_size);

#endif
