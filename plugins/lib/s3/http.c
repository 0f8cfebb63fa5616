/* http.c — unsigned HTTP for the credential providers (IMDS, container
 * endpoint): small replies, short timeouts, no retries of their own. */
#include "s3_private.h"

/* Credentials documents are a few KiB: a longer reply is refused rather
 * than held (returning 0 aborts the transfer). */
#define HTTP_MAX_REPLY ((size_t)64 << 10)

static size_t http_sink(char *data, size_t size, size_t n, void *ud)
{
    s3_buf *out = ud;
    if (size * n > HTTP_MAX_REPLY - (out->len < HTTP_MAX_REPLY ? out->len : HTTP_MAX_REPLY))
        return 0;
    return s3_buf_append(out, data, size * n) < 0 ? 0 : size * n;
}

long s3_http(const char *method, const char *url, const char *const *headers, long timeout_ms,
             s3_buf *out, s3_error *err)
{
    CURL *easy = curl_easy_init();
    struct curl_slist *list = NULL;
    long status = -1;
    if (!easy) {
        s3_err_set(err, S3_ERR_INVALID, 0, "%s %s: out of memory", method, url);
        return -1;
    }
    for (size_t i = 0; headers && headers[i]; i++) {
        struct curl_slist *l = curl_slist_append(list, headers[i]);
        if (!l)
            goto fail;
        list = l;
    }
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, http_sink);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, out);
    CURLcode rc = curl_easy_perform(easy);
    if (rc != CURLE_OK || s3_buf_terminate(out) < 0) {
        s3_err_set(err, S3_ERR_TRANSIENT, 0, "%s %s: %s", method, url, curl_easy_strerror(rc));
        goto fail;
    }
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
fail:
    curl_slist_free_all(list);
    curl_easy_cleanup(easy);
    return status;
}
