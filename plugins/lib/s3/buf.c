/* buf.c — growable byte buffers for replies and URLs. */
#include <stdlib.h>
#include <string.h>

#include "s3_private.h"

static int buf_reserve(s3_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int s3_buf_append(s3_buf *b, const void *data, size_t len)
{
    if (buf_reserve(b, len) < 0)
        return -1;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    return 0;
}

int s3_buf_terminate(s3_buf *b)
{
    if (buf_reserve(b, 0) < 0)
        return -1;
    b->data[b->len] = '\0';
    return 0;
}

void s3_buf_free(s3_buf *b)
{
    free(b->data);
    *b = (s3_buf){0};
}
