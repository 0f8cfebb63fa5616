/*
 * buf.h — the growable byte buffer the Parquet writer builds pages in.
 *
 * Appends never fail loudly: an allocation failure sets the sticky `failed`
 * flag and later appends do nothing, so the hot per-value paths carry no
 * error checks; the writer tests `failed` once per page and row group.
 */
#ifndef FLOWRUN_PQ_BUF_H
#define FLOWRUN_PQ_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct pq_buf {
    uint8_t *data; /* owned by the buffer */
    size_t len, cap;
    int failed;
} pq_buf;

/* Makes room for n more bytes; 0, or -1 (and failed set). */
int pq_buf_reserve(pq_buf *b, size_t n);
void pq_buf_free(pq_buf *b);

static inline void pq_buf_append(pq_buf *b, const void *p, size_t n)
{
    if (b->cap - b->len < n && pq_buf_reserve(b, n) != 0)
        return;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

static inline void pq_buf_byte(pq_buf *b, uint8_t v)
{
    pq_buf_append(b, &v, 1);
}

static inline void pq_buf_u32le(pq_buf *b, uint32_t v)
{
    uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    pq_buf_append(b, le, 4);
}

/* Unsigned LEB128, as Thrift compact and the RLE hybrid headers use. */
static inline void pq_buf_varint(pq_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    pq_buf_append(b, tmp, n);
}

#endif
