/*
 * count.c — what a request tells s3_options.count, for the run's metrics.
 */
#include "s3_private.h"

#include <stdio.h>

void s3_count_attempt(s3_client *c, CURL *easy, long status, CURLcode rc, int retry)
{
    char requests[64], retries[64], code[16];
    curl_off_t in = 0, out = 0;
    if (!c->count)
        return;
    if (rc == CURLE_OK && status >= 100 && status < 600)
        snprintf(code, sizeof code, "%ld", status);
    else
        snprintf(code, sizeof code, "failed");
    snprintf(requests, sizeof requests, "s3_requests{status=\"%s\"}", code);
    c->count(c->count_user, requests, 1);
    if (curl_easy_getinfo(easy, CURLINFO_SIZE_DOWNLOAD_T, &in) == CURLE_OK && in > 0)
        c->count(c->count_user, "s3_bytes_in", (double)in);
    if (curl_easy_getinfo(easy, CURLINFO_SIZE_UPLOAD_T, &out) == CURLE_OK && out > 0)
        c->count(c->count_user, "s3_bytes_out", (double)out);
    if (retry) {
        snprintf(retries, sizeof retries, "s3_retries{status=\"%s\"}", code);
        c->count(c->count_user, retries, 1);
    }
}
