/* client.c — resolving endpoint, region, addressing and credentials into a
 * client, the way the AWS CLI and SDKs do, and building object URLs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s3_private.h"

enum { DEFAULT_ATTEMPTS = 5, DEFAULT_STALL_MS = 30000, DEFAULT_CONNECT_MS = 10000 };
#define DEFAULT_MAX_REPLY          ((size_t)16 << 20)
#define DEFAULT_MAX_ERROR          ((size_t)64 << 10)
#define DEFAULT_LIST_DEADLINE_MS   (3600L * 1000)
#define DEFAULT_OBJECT_DEADLINE_MS (900L * 1000)

static const char *client_first(const char *a, const char *env1, const char *env2)
{
    if (a && *a)
        return a;
    const char *v = env1 ? getenv(env1) : NULL;
    if (v && *v)
        return v;
    v = env2 ? getenv(env2) : NULL;
    return v && *v ? v : NULL;
}

static char *client_region(const s3_options *opt, const char *profile)
{
    const char *r = client_first(opt->region, "AWS_REGION", "AWS_DEFAULT_REGION");
    char from_profile[128];
    if (!r && s3_profile_get(profile, "region", from_profile, sizeof from_profile))
        r = from_profile;
    return strdup(r ? r : "us-east-1");
}

/* Splits endpoint into scheme and authority; -1 when it is not a URL. */
static int client_endpoint(s3_client *c, const char *endpoint, s3_error *err)
{
    const char *sep = strstr(endpoint, "://");
    size_t alen = sep ? strcspn(sep + 3, "/?#") : 0;
    if (!sep || !alen || (sep[3 + alen] && strcmp(sep + 3 + alen, "/") != 0)) {
        s3_err_set(err, S3_ERR_INVALID, 0,
                   "endpoint \"%s\": expected scheme://host[:port] without a path", endpoint);
        return -1;
    }
    c->scheme = strndup(endpoint, (size_t)(sep - endpoint));
    c->authority = strndup(sep + 3, alen);
    c->endpoint = malloc(strlen(c->scheme) + alen + 4);
    if (!c->scheme || !c->authority || !c->endpoint)
        return -1;
    sprintf(c->endpoint, "%s://%s", c->scheme, c->authority);
    return 0;
}

static int client_addressing(s3_client *c, const char *addressing, int custom, s3_error *err)
{
    if (!addressing || !*addressing)
        c->virtual_host = !custom;
    else if (strcmp(addressing, "path") == 0 || strcmp(addressing, "virtual") == 0)
        c->virtual_host = addressing[0] == 'v';
    else {
        s3_err_set(err, S3_ERR_INVALID, 0, "addressing \"%s\": expected path or virtual",
                   addressing);
        return -1;
    }
    return 0;
}

s3_client *s3_client_new(const s3_options *opt_in, s3_error *err)
{
    s3_options opt = opt_in ? *opt_in : (s3_options){0};
    const char *profile = client_first(opt.profile, "AWS_PROFILE", NULL);
    profile = profile ? profile : "default";
    s3_client *c = calloc(1, sizeof *c);
    if (!c)
        goto oom;
    c->max_attempts = opt.max_attempts > 0 ? opt.max_attempts : DEFAULT_ATTEMPTS;
    c->stall_timeout_ms = opt.stall_timeout_ms > 0 ? opt.stall_timeout_ms : DEFAULT_STALL_MS;
    c->connect_timeout_ms =
        opt.connect_timeout_ms > 0 ? opt.connect_timeout_ms : DEFAULT_CONNECT_MS;
    c->seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)c;
    c->cancelled = opt.cancelled;
    c->cancel_user = opt.cancel_user;
    c->count = opt.count;
    c->count_user = opt.count_user;
    c->max_reply_bytes = opt.max_reply_bytes ? opt.max_reply_bytes : DEFAULT_MAX_REPLY;
    c->max_error_bytes = opt.max_error_bytes ? opt.max_error_bytes : DEFAULT_MAX_ERROR;
    c->list_deadline_ms =
        opt.list_deadline_ms > 0 ? opt.list_deadline_ms : DEFAULT_LIST_DEADLINE_MS;
    c->object_deadline_ms =
        opt.object_deadline_ms > 0 ? opt.object_deadline_ms : DEFAULT_OBJECT_DEADLINE_MS;
    snprintf(c->object_deadline_what, sizeof c->object_deadline_what,
             "the transfer took longer than its deadline of %ld s",
             (c->object_deadline_ms + 999) / 1000);
    c->region = client_region(&opt, profile);
    c->easy = curl_easy_init();
    if (!c->region || !c->easy)
        goto oom;
    snprintf(c->sigv4, sizeof c->sigv4, "aws:amz:%s:s3", c->region);

    const char *custom = client_first(opt.endpoint, "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL");
    char aws[256];
    snprintf(aws, sizeof aws, "https://s3.%s.amazonaws.com", c->region);
    if (client_endpoint(c, custom ? custom : aws, err) < 0 ||
        client_addressing(c, opt.addressing, custom != NULL, err) < 0 ||
        s3_creds_resolve(profile, c->connect_timeout_ms, &c->creds, err) < 0) {
        s3_client_free(c);
        return NULL;
    }
    return c;
oom:
    s3_client_free(c);
    s3_err_set(err, S3_ERR_INVALID, 0, "s3 client: out of memory");
    return NULL;
}

void s3_client_free(s3_client *c)
{
    if (!c)
        return;
    if (c->easy)
        curl_easy_cleanup(c->easy);
    free(c->endpoint);
    free(c->scheme);
    free(c->authority);
    free(c->region);
    free(c);
}

int s3_client_cancelled(s3_client *c)
{
    return c->cancelled && c->cancelled(c->cancel_user);
}

int s3_client_sleep(s3_client *c, long ms, const char *what, s3_error *err)
{
    /* In slices, so a stopping run is not held up by a backoff. */
    for (long slept = 0;; slept += 100) {
        if (s3_client_cancelled(c)) {
            s3_err_set(err, S3_ERR_CANCELLED, 0, "%s: cancelled, the run is stopping", what);
            return -1;
        }
        if (slept >= ms)
            return 0;
        s3_sleep_ms(ms - slept < 100 ? ms - slept : 100);
    }
}

const char *s3_client_region(const s3_client *c)
{
    return c->region;
}
const char *s3_client_endpoint(const s3_client *c)
{
    return c->endpoint;
}
const char *s3_client_credential_source(const s3_client *c)
{
    return c->creds.source;
}

int s3_parse_url(const char *url, char **bucket, char **prefix)
{
    if (strncmp(url, "s3://", 5) != 0)
        return -1;
    const char *b = url + 5;
    size_t blen = strcspn(b, "/");
    if (!blen)
        return -1;
    *bucket = strndup(b, blen);
    *prefix = strdup(b[blen] ? b + blen + 1 : "");
    if (*bucket && *prefix)
        return 0;
    free(*bucket);
    free(*prefix);
    return -1;
}

int s3_url(const s3_client *c, const char *bucket, const char *key, const char *query, s3_buf *b)
{
    int rc;
    b->len = 0;
    if (c->virtual_host)
        rc = s3_buf_append(b, c->scheme, strlen(c->scheme)) | s3_buf_append(b, "://", 3) |
             s3_buf_append(b, bucket, strlen(bucket)) | s3_buf_append(b, ".", 1) |
             s3_buf_append(b, c->authority, strlen(c->authority)) | s3_buf_append(b, "/", 1);
    else
        rc = s3_buf_append(b, c->endpoint, strlen(c->endpoint)) | s3_buf_append(b, "/", 1) |
             s3_uri_encode(b, bucket, 1) | s3_buf_append(b, "/", 1);
    if (key)
        rc |= s3_uri_encode(b, key, 0);
    if (query && *query)
        rc |= s3_buf_append(b, "?", 1) | s3_buf_append(b, query, strlen(query));
    return rc | s3_buf_terminate(b) ? -1 : 0;
}
