#include "port_type.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int copy_word(const char **p, char *dst, size_t size, const char *stop)
{
    size_t n = strcspn(*p, stop);
    if (n == 0 || n >= size)
        return -1;
    memcpy(dst, *p, n);
    dst[n] = '\0';
    *p += n;
    return 0;
}

static int parse_dim(const char *text, size_t len, port_dim *dim)
{
    char word[PORT_NAME_MAX];
    if (len == 0 || len >= sizeof word)
        return -1;
    memcpy(word, text, len);
    word[len] = '\0';
    if (isdigit((unsigned char)word[0])) {
        char *end;
        long long v = strtoll(word, &end, 10);
        if (*end || v <= 0)
            return -1;
        dim->size = v;
        return 0;
    }
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)word[i]) && word[i] != '_')
            return -1;
    dim->size = -1;
    memcpy(dim->name, word, len + 1);
    return 0;
}

static int parse_dims(const char *p, port_type *out, char *err, size_t err_size)
{
    const char *close = strchr(p, ']');
    if (!close || close[1] != '\0') {
        snprintf(err, err_size, "unclosed '[' or text after ']'");
        return -1;
    }
    while (p < close) {
        size_t len = strcspn(p, ",]");
        if (out->rank == FR_MAX_RANK) {
            snprintf(err, err_size, "more than %d dims", FR_MAX_RANK);
            return -1;
        }
        if (parse_dim(p, len, &out->dims[out->rank]) != 0) {
            snprintf(err, err_size, "bad dim \"%.*s\" (a positive number or a name)", (int)len, p);
            return -1;
        }
        out->rank++;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

int port_type_parse(const char *text, port_type *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    if (strcmp(text, "*") == 0) {
        out->any = 1;
        return 0;
    }
    const char *p = text;
    if (copy_word(&p, out->kind, sizeof out->kind, "/[") != 0 || *p != '/') {
        snprintf(err, err_size, "\"%s\": expected kind/subtype, e.g. image/u8[h,w,3]", text);
        return -1;
    }
    p++;
    if (copy_word(&p, out->sub, sizeof out->sub, "[") != 0) {
        snprintf(err, err_size, "\"%s\": missing subtype after '/'", text);
        return -1;
    }
    if (strcmp(out->kind, "bytes") != 0 && strcmp(out->kind, "image") != 0 &&
        strcmp(out->kind, "tensor") != 0) {
        snprintf(err, err_size, "\"%s\": unknown kind \"%s\" (bytes, image, tensor)", text,
                 out->kind);
        return -1;
    }
    if (*p == '\0')
        return 0;
    char why[128];
    if (parse_dims(p + 1, out, why, sizeof why) != 0) {
        snprintf(err, err_size, "\"%s\": %s", text, why);
        return -1;
    }
    return 0;
}

void port_type_format(const port_type *t, char *buf, size_t size)
{
    if (t->any) {
        snprintf(buf, size, "*");
        return;
    }
    int n = snprintf(buf, size, "%s/%s", t->kind, t->sub);
    for (uint32_t i = 0; i < t->rank && n > 0 && (size_t)n < size; i++) {
        const port_dim *d = &t->dims[i];
        const char *sep = i == 0 ? "[" : ",";
        if (d->size > 0)
            n += snprintf(buf + n, size - n, "%s%lld", sep, (long long)d->size);
        else
            n += snprintf(buf + n, size - n, "%s%s", sep, d->name);
    }
    if (t->rank && n > 0 && (size_t)n < size)
        snprintf(buf + n, size - n, "]");
}

int port_type_accepts(const port_type *in, const port_type *out, char *why, size_t why_size)
{
    if (in->any || out->any)
        return 1;
    if (strcmp(in->kind, out->kind) != 0) {
        snprintf(why, why_size, "%s is not %s", out->kind, in->kind);
        return 0;
    }
    if (strcmp(in->sub, "*") != 0 && strcmp(out->sub, "*") != 0 && strcmp(in->sub, out->sub)) {
        snprintf(why, why_size, "%s/%s is not %s/%s", out->kind, out->sub, in->kind, in->sub);
        return 0;
    }
    if (in->rank == 0 || out->rank == 0)
        return 1; /* bytes, or a port that does not constrain shape */
    if (in->rank != out->rank) {
        snprintf(why, why_size, "%u dims vs %u", out->rank, in->rank);
        return 0;
    }
    for (uint32_t i = 0; i < in->rank; i++) {
        int64_t a = in->dims[i].size, b = out->dims[i].size;
        if (a > 0 && b > 0 && a != b) {
            snprintf(why, why_size, "dim %u is %lld, expected %lld", i, (long long)b, (long long)a);
            return 0;
        }
    }
    return 1;
}

void port_type_bind(const port_type *in_pattern, const port_type *upstream,
                    const port_type *out_pattern, port_type *result)
{
    *result = *out_pattern;
    if (!in_pattern || !upstream || upstream->any || in_pattern->rank != upstream->rank)
        return;
    for (uint32_t o = 0; o < result->rank; o++) {
        if (result->dims[o].size > 0)
            continue;
        for (uint32_t i = 0; i < in_pattern->rank; i++)
            if (in_pattern->dims[i].size < 0 &&
                strcmp(in_pattern->dims[i].name, result->dims[o].name) == 0 &&
                upstream->dims[i].size > 0)
                result->dims[o].size = upstream->dims[i].size;
    }
}

static const char *kind_name(fr_kind kind)
{
    switch (kind) {
    case FR_KIND_BYTES:
        return "bytes";
    case FR_KIND_IMAGE:
        return "image";
    case FR_KIND_TENSOR:
        return "tensor";
    default:
        return "none";
    }
}

int port_type_matches_payload(const port_type *t, const fr_payload *p)
{
    if (t->any)
        return 1;
    if (strcmp(t->kind, kind_name(p->kind)) != 0)
        return 0;
    if (t->rank == 0)
        return 1;
    if (t->rank != p->rank)
        return 0;
    for (uint32_t i = 0; i < t->rank; i++)
        if (t->dims[i].size > 0 && (uint32_t)t->dims[i].size != p->dims[i])
            return 0;
    return 1;
}

int port_type_expand(const char *pattern, const char *(*lookup)(void *ctx, const char *key),
                     void *ctx, char *out, size_t size, char *err, size_t err_size)
{
    size_t n = 0;
    for (const char *p = pattern; *p;) {
        const char *value = NULL;
        size_t len = 1;
        if (p[0] == '$' && p[1] == '{') {
            const char *close = strchr(p, '}');
            char key[64];
            if (!close || (size_t)(close - p - 2) >= sizeof key) {
                snprintf(err, err_size, "type \"%s\": bad ${...}", pattern);
                return -1;
            }
            memcpy(key, p + 2, close - p - 2);
            key[close - p - 2] = '\0';
            value = lookup(ctx, key);
            if (!value) {
                snprintf(err, err_size, "type \"%s\": no config key \"%s\"", pattern, key);
                return -1;
            }
            len = close - p + 1;
        }
        size_t add = value ? strlen(value) : 1;
        if (n + add >= size) {
            snprintf(err, err_size, "type \"%s\": too long", pattern);
            return -1;
        }
        memcpy(out + n, value ? value : p, add);
        n += add;
        p += len;
    }
    out[n] = '\0';
    return 0;
}
