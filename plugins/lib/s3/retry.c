/* retry.c — which failures are worth another attempt, and how long to wait:
 * exponential backoff with full jitter (AWS's recommendation), so many
 * clients throttled together do not come back together. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s3_private.h"

enum { BACKOFF_BASE_MS = 100, BACKOFF_CAP_MS = 5000 };

int s3_retry_transient(CURLcode rc, long status, const char *code)
{
    switch (rc) {
    case CURLE_OK:
        break;
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
    if (status >= 500 || status == 429)
        return 1;
    return code && (strcmp(code, "SlowDown") == 0 || strcmp(code, "RequestTimeout") == 0 ||
                    strcmp(code, "InternalError") == 0);
}

long s3_backoff_ms(int attempt, unsigned *seed)
{
    long cap = BACKOFF_BASE_MS;
    for (int i = 1; i < attempt && cap < BACKOFF_CAP_MS; i++)
        cap *= 2;
    if (cap > BACKOFF_CAP_MS)
        cap = BACKOFF_CAP_MS;
    return 1 + rand_r(seed) % cap;
}

long long s3_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

void s3_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}
