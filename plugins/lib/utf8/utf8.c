/* utf8.c — well-formed UTF-8 for outputs (see utf8.h). */
#include "utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of the well-formed UTF-8 sequence at s[0..n) (1 to 4), or 0 for a
 * stray continuation, an overlong form, a surrogate, past U+10FFFF, or a
 * sequence cut by the end. */
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

static int utf8_put(utf8_buf *b, const void *p, size_t n)
{
    if (b->cap - b->len <= n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len <= n)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return -1;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

const char *utf8_valid(const char *s, size_t *len, utf8_buf *scratch)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = *len, i = 0, k;
    while (i < n && (k = utf8_sequence(p + i, n - i)))
        i += k;
    if (i == n)
        return s; /* the common case: valid already */
    scratch->len = 0;
    if (utf8_put(scratch, p, i) < 0)
        return NULL;
    while (i < n) {
        k = utf8_sequence(p + i, n - i);
        if (k ? utf8_put(scratch, p + i, k) : utf8_put(scratch, "\xef\xbf\xbd", 3))
            return NULL;
        i += k ? k : 1;
    }
    *len = scratch->len;
    return scratch->data;
}

void utf8_buf_free(utf8_buf *b)
{
    free(b->data);
    *b = (utf8_buf){0};
}
