/*
 * count.c — what a request tells s3_options.count, for the run's metrics.
 */
#include "s3_private.h"

void s3_count_attempt(s3_client *c, CURL *easy, long status, CURLcode rc, int retry)
{
    static const char *const classes[] = {"s3_requests_2xx", "s3_requests_3xx", "s3_requests_4xx",
                                          "s3_requests_5xx"};
    curl_off_t in = 0, out = 0;
    if (!c->count)
        return;
    if (rc == CURLE_OK && status >= 200 && status < 600)
        c->count(c->count_user, classes[status / 100 - 2], 1);
    else
        c->count(c->count_user, "s3_requests_failed", 1);
    if (curl_easy_getinfo(easy, CURLINFO_SIZE_DOWNLOAD_T, &in) == CURLE_OK && in > 0)
        c->count(c->count_user, "s3_bytes_in", (double)in);
    if (curl_easy_getinfo(easy, CURLINFO_SIZE_UPLOAD_T, &out) == CURLE_OK && out > 0)
        c->count(c->count_user, "s3_bytes_out", (double)out);
    if (retry)
        c->count(c->count_user, "s3_retries", 1);
}
