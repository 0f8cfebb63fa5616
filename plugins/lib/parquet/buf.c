/* buf.c — growth of pq_buf (see buf.h for the sticky failure rule). */
#include "buf.h"

#include <stdlib.h>

int pq_buf_reserve(pq_buf *b, size_t n)
{
    if (b->failed)
        return -1;
    if (b->cap - b->len >= n)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n) {
        if (cap > SIZE_MAX / 2) {
            b->failed = 1;
            return -1;
        }
        cap *= 2;
    }
    uint8_t *p = realloc(b->data, cap);
    if (!p) {
        b->failed = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

void pq_buf_free(pq_buf *b)
{
    free(b->data);
    *b = (pq_buf){0};
}
