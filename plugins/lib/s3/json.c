/* json.c — reads one string field of the flat JSON objects the metadata
 * services answer ({"AccessKeyId": "...", ...}).  Not a general parser: the
 * values needed are plain strings at the top level. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strptime, timegm */
#endif
#include <stdlib.h>
#include <string.h>

#include "s3_private.h"

/* Copies the JSON string starting after its opening quote; 1 on success. */
static int json_copy_string(const char *p, char *out, size_t n)
{
    size_t o = 0;
    for (; *p && *p != '"'; p++) {
        char ch = *p;
        if (ch == '\\') {
            p++;
            ch = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
            if (!ch)
                return 0;
        }
        if (o + 1 >= n)
            return 0;
        out[o++] = ch;
    }
    out[o] = '\0';
    return *p == '"';
}

int s3_json_string(const char *json, const char *name, char *out, size_t n)
{
    size_t len = strlen(name);
    for (const char *p = strchr(json, '"'); p; p = strchr(p + 1, '"')) {
        if (strncmp(p + 1, name, len) != 0 || p[len + 1] != '"')
            continue;
        const char *q = p + len + 2;
        q += strspn(q, " \t\r\n");
        if (*q != ':')
            continue;
        q++;
        q += strspn(q, " \t\r\n");
        return *q == '"' && json_copy_string(q + 1, out, n);
    }
    return 0;
}

time_t s3_parse_iso8601(const char *s)
{
    struct tm tm = {0};
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    return end ? timegm(&tm) : 0;
}
