/*
 * expo.c — the exposition formats (expo.h), into a growable string.
 */
#include "expo.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* q of the media range in one Accept element ("type;q=0.5"), 1 without. */
static double accept_q(const char *elem, size_t len)
{
    const char *q = NULL;
    for (const char *p = elem; p + 2 < elem + len; p++)
        if ((p[0] == 'q' || p[0] == 'Q') && p[1] == '=' &&
            (p == elem || p[-1] == ';' || p[-1] == ' '))
            q = p + 2;
    return q ? strtod(q, NULL) : 1.0;
}

expo_format expo_negotiate(const char *accept)
{
    static const char om[] = "application/openmetrics-text";
    double best_om = -1, best_other = -1;
    for (const char *p = accept; p && *p;) {
        size_t len = strcspn(p, ",");
        while (len && isspace((unsigned char)*p))
            p++, len--;
        double q = accept_q(p, len);
        if (len >= sizeof om - 1 && strncasecmp(p, om, sizeof om - 1) == 0)
            best_om = q > best_om ? q : best_om;
        else if (len)
            best_other = q > best_other ? q : best_other;
        p += len;
        if (*p == ',')
            p++;
    }
    return best_om > 0 && best_om >= best_other ? EXPO_OPENMETRICS : EXPO_PROMETHEUS;
}

const char *expo_content_type(expo_format f)
{
    return f == EXPO_OPENMETRICS ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                 : "text/plain; version=0.0.4; charset=utf-8";
}

void expo_init(expo *e, expo_format f)
{
    memset(e, 0, sizeof *e);
    e->format = f;
}

/* Room for more than need bytes after the text (a NUL fits); 0, or -1 out of memory. */
static int reserve(expo *e, size_t need)
{
    if (e->failed)
        return -1;
    if (e->len + need < e->cap)
        return 0;
    size_t cap = e->cap ? e->cap : 8192;
    while (e->len + need >= cap)
        cap *= 2;
    char *grown = realloc(e->text, cap);
    if (!grown) {
        e->failed = 1;
        return -1;
    }
    e->text = grown;
    e->cap = cap;
    return 0;
}

static void put(expo *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(expo *e, const char *fmt, ...)
{
    va_list ap;
    size_t need = 256;
    while (reserve(e, need) == 0) {
        va_start(ap, fmt);
        int n = vsnprintf(e->text + e->len, e->cap - e->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            e->failed = 1;
            return;
        }
        if (e->len + (size_t)n < e->cap) {
            e->len += (size_t)n;
            return;
        }
        need = (size_t)n + 1;
    }
}

void expo_family(expo *e, const char *name, const char *type, const char *help)
{
    size_t n = strlen(name);
    int strip = e->format == EXPO_OPENMETRICS && strcmp(type, "counter") == 0 && n > 6 &&
                strcmp(name + n - 6, "_total") == 0;
    int len = (int)(strip ? n - 6 : n);
    put(e, "# HELP %.*s %s\n# TYPE %.*s %s\n", len, name, help, len, name, type);
}

/* n bytes of text as they are: no format to parse on the per-character path. */
static void put_bytes(expo *e, const char *text, size_t n)
{
    if (reserve(e, n) != 0)
        return;
    memcpy(e->text + e->len, text, n);
    e->len += n;
    e->text[e->len] = '\0';
}

static void put_label_value(expo *e, const char *v)
{
    while (*v) {
        size_t plain = strcspn(v, "\\\"\n");
        put_bytes(e, v, plain);
        v += plain;
        if (*v) {
            put_bytes(e, *v == '\n' ? "\\n" : *v == '"' ? "\\\"" : "\\\\", 2);
            v++;
        }
    }
}

static void put_value(expo *e, double v)
{
    if (isnan(v))
        put(e, "NaN\n");
    else if (isinf(v))
        put(e, "%s\n", v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 9007199254740992.0)
        put(e, "%.0f\n", v);
    else
        put(e, "%.9g\n", v);
}

static void put_text(expo *e, const char *text)
{
    put_bytes(e, text, strlen(text));
}

/* name+suffix{labels[,le="le"]} value: labels are key, value pairs ending with NULL. */
static void put_sample(expo *e, const char *name, const char *suffix, const char *const *labels,
                       const char *le, double value)
{
    put_text(e, name);
    put_text(e, suffix);
    int first = 1;
    for (size_t i = 0; labels[i]; i += 2, first = 0) {
        put_text(e, first ? "{" : ",");
        put_text(e, labels[i]);
        put_text(e, "=\"");
        put_label_value(e, labels[i + 1] ? labels[i + 1] : "");
        put_text(e, "\"");
    }
    if (le) {
        put_text(e, first ? "{le=\"" : ",le=\"");
        put_text(e, le);
        put_text(e, "\"");
        first = 0;
    }
    put_text(e, first ? " " : "} ");
    put_value(e, value);
}

void expo_sample_labels(expo *e, const char *name, double value, const char *const *labels)
{
    put_sample(e, name, "", labels, NULL, value);
}

void expo_sample(expo *e, const char *name, double value, ...)
{
    const char *labels[2 * EXPO_MAX_LABELS + 1];
    size_t n = 0;
    va_list ap;
    va_start(ap, value);
    for (const char *key; n < 2 * EXPO_MAX_LABELS && (key = va_arg(ap, const char *)) != NULL;) {
        labels[n++] = key;
        labels[n++] = va_arg(ap, const char *);
    }
    va_end(ap);
    labels[n] = NULL;
    put_sample(e, name, "", labels, NULL, value);
}

void expo_histogram(expo *e, const char *name, const expo_buckets *h, const char *const *labels)
{
    char le[32];
    double cumulative = 0;
    for (size_t i = 0; i < h->n_bounds; i++) {
        cumulative += (double)h->counts[i];
        /* "1.0", as the reference clients write a bound, valid in both formats */
        snprintf(le, sizeof le, h->bounds[i] == floor(h->bounds[i]) ? "%.1f" : "%.17g",
                 h->bounds[i]);
        put_sample(e, name, "_bucket", labels, le, cumulative);
    }
    cumulative += (double)h->counts[h->n_bounds];
    put_sample(e, name, "_bucket", labels, "+Inf", cumulative);
    put_sample(e, name, "_sum", labels, NULL, h->sum);
    put_sample(e, name, "_count", labels, NULL, cumulative);
}

char *expo_finish(expo *e, size_t *len)
{
    if (e->format == EXPO_OPENMETRICS)
        put(e, "# EOF\n");
    if (e->failed || !e->text) {
        free(e->text);
        e->text = NULL;
        *len = 0;
        return NULL;
    }
    char *text = e->text;
    *len = e->len;
    e->text = NULL;
    return text;
}

void expo_name(const char *text, char *out, size_t size)
{
    size_t n = 0;
    if (!size)
        return;
    if (isdigit((unsigned char)*text) && n + 1 < size)
        out[n++] = '_';
    for (; *text && n + 1 < size; text++)
        out[n++] = isalnum((unsigned char)*text) || *text == '_' ? *text : '_';
    out[n] = '\0';
}
