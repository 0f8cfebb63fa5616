/* uri.c — SigV4's percent-encoding, which libcurl 7.88 leaves to the caller
 * (docs/platform.md, SigV4 rules 2 and 3): a raw space or lower-case hex in a
 * key makes the server's canonical request differ from ours → 403. */
#include "s3_private.h"

static int uri_unreserved(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_' || ch == '.' || ch == '~';
}

int s3_uri_encode(s3_buf *b, const char *s, int slash_too)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (uri_unreserved(*p) || (*p == '/' && !slash_too)) {
            if (s3_buf_append(b, p, 1) < 0)
                return -1;
        } else {
            char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            if (s3_buf_append(b, esc, 3) < 0)
                return -1;
        }
    }
    return s3_buf_terminate(b);
}
