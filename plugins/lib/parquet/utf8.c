/* utf8.c — key and label go into STRING (UTF8) columns, and one value that
 * is not UTF-8 makes strict readers refuse the whole file (DuckDB: "Invalid
 * string encoding found in Parquet file").  Keys come from outside (S3
 * keys, file names: any bytes), so bytes outside well-formed UTF-8 are
 * written as U+FFFD, as JSON dead letters write them. */
#include "utf8.h"

/* Bytes of the well-formed UTF-8 sequence at s[0..n), or 0. */
static size_t utf8_sequence(const uint8_t *s, size_t n)
{
    if (s[0] < 0x80)
        return 1;
    size_t len = s[0] >= 0xf5 ? 0 : s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if (len > 2 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
                    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f)))
        return 0;
    return len;
}

const char *pq_utf8_valid(const char *s, size_t *len, pq_buf *scratch)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = *len, i = 0;
    while (i < n && utf8_sequence(p + i, n - i))
        i += utf8_sequence(p + i, n - i);
    if (i == n)
        return s; /* the common case: already valid, nothing copied */
    scratch->len = 0;
    pq_buf_append(scratch, p, i);
    while (i < n) {
        size_t k = utf8_sequence(p + i, n - i);
        if (k)
            pq_buf_append(scratch, p + i, k);
        else
            pq_buf_append(scratch, "\xef\xbf\xbd", 3);
        i += k ? k : 1;
    }
    *len = scratch->len;
    return scratch->failed ? "" : (const char *)scratch->data;
}
