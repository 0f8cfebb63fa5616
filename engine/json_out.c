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

static void quoted(json_out *j, const char *s)
{
    append(j, "\"", 1);
    for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c; c++) {
        if (*c == '"' || *c == '\\') {
            char esc[2] = {'\\', (char)*c};
            append(j, esc, 2);
        } else if (*c < 0x20) {
            appendf(j, "\\u%04x", *c);
        } else {
            append(j, (const char *)c, 1);
        }
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
