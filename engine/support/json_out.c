#include "json_out.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void append(json_out *j, const char *s, size_t n)
{
    if (j->failed)
        return;
    if (j->len + n + 1 > j->cap) {
        size_t cap = j->cap ? j->cap : 256;
        while (cap < j->len + n + 1)
            cap *= 2;
        char *grown = realloc(j->text, cap);
        if (!grown) {
            j->failed = 1;
            return;
        }
        j->text = grown;
        j->cap = cap;
    }
    memcpy(j->text + j->len, s, n);
    j->len += n;
    j->text[j->len] = '\0';
}

static void appendf(json_out *j, const char *fmt, ...)
{
    char buf[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        append(j, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* Bytes of the well-formed UTF-8 sequence at s (1 to 4), or 0 when s does
 * not start one (stray continuation, overlong form, surrogate, past
 * U+10FFFF, cut by the terminating NUL). */
static size_t utf8_sequence(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n = s[0] >= 0xf5 ? 0 : s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
        (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
        return 0;
    return n;
}

/* A JSON string.  Keys and reasons carry names from outside (file names,
 * S3 keys: any bytes): control bytes are escaped, and a byte that is not
 * part of well-formed UTF-8 becomes U+FFFD, so every line stays JSON that
 * strict parsers read. */
static void quoted(json_out *j, const char *s)
{
    append(j, "\"", 1);
    for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c;) {
        size_t n = utf8_sequence(c);
        if (*c == '"' || *c == '\\') {
            char esc[2] = {'\\', (char)*c};
            append(j, esc, 2);
        } else if (*c < 0x20 || *c == 0x7f) {
            appendf(j, "\\u%04x", *c);
        } else if (!n) {
            append(j, "\\ufffd", 6);
        } else {
            append(j, (const char *)c, n);
        }
        c += n ? n : 1;
    }
    append(j, "\"", 1);
}

static void member(json_out *j, const char *key)
{
    if (j->need_comma)
        append(j, ",", 1);
    j->need_comma = 1;
    if (key) {
        quoted(j, key);
        append(j, ":", 1);
    }
}

void json_out_free(json_out *j)
{
    free(j->text);
    *j = (json_out){0};
}

void json_open(json_out *j, const char *key)
{
    member(j, key);
    append(j, "{", 1);
    j->need_comma = 0;
}

void json_close(json_out *j)
{
    append(j, "}", 1);
    j->need_comma = 1;
}

void json_string(json_out *j, const char *key, const char *value)
{
    member(j, key);
    quoted(j, value);
}

void json_int(json_out *j, const char *key, int64_t value)
{
    member(j, key);
    appendf(j, "%lld", (long long)value);
}

void json_double(json_out *j, const char *key, double value)
{
    member(j, key);
    if (isfinite(value))
        appendf(j, "%.10g", value);
    else
        append(j, "null", 4);
}

void json_raw(json_out *j, const char *key, const char *value)
{
    member(j, key);
    append(j, value, strlen(value));
}
