/* fuzz-s3events: what a bucket-notification listener answers to one HTTP
 * request (plugins/lib/s3events): the input is "METHOD PATH\n" then the
 * body (without a newline, all of it is the body of a POST /events), the
 * method line also read as an events endpoint URL.  Every delivered record
 * must have a non-empty key without NUL within the limit, of the
 * listener's bucket, a known kind, and a reason exactly when ignored. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s3events_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const s3events_options options = {.bucket = "photos",
                                         .encoding = S3EVENTS_KEY_AUTO,
                                         .limits = {.max_records = 100, .max_key = 1024}};

static int fuzz_deliver(void *ctx, const s3events_object *o, size_t n, char *err, size_t err_size)
{
    (void)ctx;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(o[i].key);
        if (!len || len > options.limits.max_key || strcmp(o[i].bucket, "photos") != 0 ||
            o[i].kind > S3EVENTS_IGNORED || (o[i].kind == S3EVENTS_IGNORED) != (o[i].why != NULL) ||
            !o[i].etag || !o[i].version || !o[i].sequencer || !o[i].time || !o[i].event[0])
            abort();
    }
    /* an odd count: not durable, as a failing ledger would say */
    if (n % 2) {
        strncpy(err, "odd", err_size);
        return -1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    char line[512] = "POST /events", method[32] = "POST", path[400] = "/events", why[1400];
    const uint8_t *body = data;
    if (nl && (size_t)(nl - data) < sizeof line) {
        memcpy(line, data, (size_t)(nl - data));
        line[nl - data] = '\0';
        body = nl + 1;
        char *space = strchr(line, ' ');
        if (space && (size_t)(space - line) < sizeof method && strlen(space + 1) < sizeof path) {
            memcpy(method, line, (size_t)(space - line));
            method[space - line] = '\0';
            strcpy(path, space + 1);
        }
    }
    char host[128], epath[256], err[512];
    uint16_t port;
    s3events_parse_endpoint(line, host, sizeof host, &port, epath, sizeof epath, err, sizeof err);
    s3events_endpoint e = {&options, "/events", fuzz_deliver, NULL};
    int status =
        s3events_answer(&e, method, path, body, size - (size_t)(body - data), why, sizeof why);
    if (status != 200 && status != 400 && status != 404 && status != 405 && status != 503)
        abort();
    if (status != 200 && !why[0])
        abort();
    return 0;
}
