/*
 * envsubst.c — ${VAR}, ${VAR:-default} and $$ in config scalars.
 */
#include "envsubst.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct envsubst_buf {
    char *s; /* owned */
    size_t len, cap;
} envsubst_buf;

static int envsubst_put(envsubst_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p)
            return -1;
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
    return 0;
}

/* The '}' closing the "${" whose body starts at p, counting nested "${". */
static const char *envsubst_close(const char *p)
{
    int depth = 1;
    for (; *p; p++) {
        if (p[0] == '$' && p[1] == '$') {
            p++;
        } else if (p[0] == '$' && p[1] == '{') {
            depth++;
            p++;
        } else if (*p == '}' && --depth == 0) {
            return p;
        }
    }
    return NULL;
}

static int envsubst_run(const char *text, size_t len, envsubst_buf *out, char *err, size_t err_size,
                        int depth)
{
    const char *p = text, *end = text + len;
    if (depth > 16) {
        snprintf(err, err_size, "${...} nested too deep");
        return -1;
    }
    while (p < end) {
        const char *dollar = memchr(p, '$', (size_t)(end - p));
        if (!dollar)
            return envsubst_put(out, p, (size_t)(end - p));
        if (envsubst_put(out, p, (size_t)(dollar - p)) < 0)
            goto oom;
        if (dollar + 1 < end && dollar[1] == '$') {
            if (envsubst_put(out, "$", 1) < 0)
                goto oom;
            p = dollar + 2;
            continue;
        }
        if (!(dollar + 1 < end && dollar[1] == '{')) {
            if (envsubst_put(out, "$", 1) < 0)
                goto oom;
            p = dollar + 1;
            continue;
        }
        const char *name = dollar + 2;
        const char *close = envsubst_close(name);
        if (!close || close >= end) {
            snprintf(err, err_size, "unterminated \"${\"");
            return -1;
        }
        const char *q = name;
        if (isalpha((unsigned char)*q) || *q == '_')
            for (q++; isalnum((unsigned char)*q) || *q == '_'; q++)
                ;
        size_t name_len = (size_t)(q - name);
        int has_default = q[0] == ':' && q[1] == '-';
        if (name_len == 0 || (q != close && !has_default)) {
            snprintf(err, err_size,
                     "bad variable reference \"${%.*s}\" (expected ${NAME} or ${NAME:-default})",
                     (int)(close - name), name);
            return -1;
        }
        char var[256];
        if (name_len >= sizeof var) {
            snprintf(err, err_size, "variable name too long");
            return -1;
        }
        memcpy(var, name, name_len);
        var[name_len] = '\0';
        const char *value = getenv(var);
        if (value && (*value || !has_default)) {
            if (envsubst_put(out, value, strlen(value)) < 0)
                goto oom;
        } else if (has_default) {
            const char *def = q + 2;
            if (envsubst_run(def, (size_t)(close - def), out, err, err_size, depth + 1) < 0)
                return -1;
        } else {
            snprintf(err, err_size,
                     "undefined environment variable \"%s\" (set it, or write ${%s:-default})", var,
                     var);
            return -1;
        }
        p = close + 1;
    }
    return 0;
oom:
    snprintf(err, err_size, "out of memory");
    return -1;
}

char *envsubst_expand(const char *text, char *err, size_t err_size)
{
    envsubst_buf out = {0};
    if (envsubst_put(&out, "", 0) < 0 ||
        envsubst_run(text, strlen(text), &out, err, err_size, 0) < 0) {
        if (!out.s)
            snprintf(err, err_size, "out of memory");
        free(out.s);
        return NULL;
    }
    return out.s;
}
