/*
 * diag.c — the list of errors and warnings of one check run, in the order
 * reported, each already formatted as "file:line:col: message".
 */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

typedef struct diag_msg {
    int is_error;
    char *text; /* owned: the formatted line without the trailing newline */
    char *file; /* owned, NULL: none */
    int line, col;
    size_t body; /* where the message begins in text, after the place */
} diag_msg;

struct diag {
    diag_msg *msgs; /* owned */
    size_t n, cap;
    size_t errors;
};

diag *diag_new(void)
{
    return calloc(1, sizeof(diag));
}

void diag_free(diag *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->msgs[i].text);
        free(d->msgs[i].file);
    }
    free(d->msgs);
    free(d);
}

/* Formats "file:line:col: [warning: ]message" into a malloc'd string; *body
 * is where the message begins. */
static char *diag_format(const char *file, int line, int col, int is_error, const char *fmt,
                         va_list ap, size_t *body_at)
{
    char pos[64] = "";
    if (file && line > 0 && col > 0)
        snprintf(pos, sizeof pos, ":%d:%d", line, col);
    else if (file && line > 0)
        snprintf(pos, sizeof pos, ":%d", line);
    const char *sev = is_error ? "" : "warning: ";

    va_list ap2;
    va_copy(ap2, ap);
    int body = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (body < 0)
        body = 0;
    size_t head = (file ? strlen(file) + strlen(pos) + 2 : 0) + strlen(sev);
    char *out = malloc(head + (size_t)body + 1);
    if (!out)
        return NULL;
    int off = file ? sprintf(out, "%s%s: %s", file, pos, sev) : sprintf(out, "%s", sev);
    *body_at = (size_t)off;
    vsnprintf(out + off, (size_t)body + 1, fmt, ap);
    return out;
}

static void diag_add(diag *d, int is_error, const char *file, int line, int col, const char *fmt,
                     va_list ap)
{
    if (!d)
        return;
    if (is_error)
        d->errors++; /* counted even when out of memory, so the check still fails */
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        diag_msg *m = realloc(d->msgs, cap * sizeof *m);
        if (!m)
            return;
        d->msgs = m;
        d->cap = cap;
    }
    size_t body = 0;
    char *text = diag_format(file, line, col, is_error, fmt, ap, &body);
    char *copy = file ? strdup(file) : NULL;
    if (!text || (file && !copy)) {
        free(text);
        free(copy);
        return;
    }
    d->msgs[d->n] = (diag_msg){is_error, text, copy, line, col, body};
    d->n++;
}

void diag_error(diag *d, const char *file, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_add(d, 1, file, line, col, fmt, ap);
    va_end(ap);
}

void diag_warn(diag *d, const char *file, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_add(d, 0, file, line, col, fmt, ap);
    va_end(ap);
}

size_t diag_error_count(const diag *d)
{
    return d ? d->errors : 0;
}

size_t diag_count(const diag *d)
{
    return d ? d->n : 0;
}

const char *diag_message(const diag *d, size_t i)
{
    return d && i < d->n ? d->msgs[i].text : NULL;
}

void diag_print(const diag *d, FILE *out)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        fprintf(out, "%s\n", d->msgs[i].text);
}

/* The quoted name after `what "` in text (`stage "resize"`, `key "filter"`)
 * into out, or NULL.  at_start: only at the beginning of text. */
static const char *quoted_after(const char *text, const char *what, int at_start, char *out,
                                size_t size)
{
    const char *p =
        at_start ? (strncmp(text, what, strlen(what)) == 0 ? text : NULL) : strstr(text, what);
    if (!p || size == 0)
        return NULL;
    p += strlen(what);
    const char *end = strchr(p, '"');
    if (!end)
        return NULL;
    size_t n = (size_t)(end - p) < size - 1 ? (size_t)(end - p) : size - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    return out;
}

void diag_log(const diag *d)
{
    char stage[256], key[256];
    for (size_t i = 0; d && i < d->n; i++) {
        const diag_msg *m = &d->msgs[i];
        const char *body = m->text + m->body;
        log_place at = {m->file, m->line, m->col,
                        quoted_after(body, "stage \"", 1, stage, sizeof stage),
                        quoted_after(body, "key \"", 0, key, sizeof key)};
        log_diag(m->is_error ? FR_LOG_ERROR : FR_LOG_WARN, &at, m->text);
    }
}

char *diag_join(const diag *d)
{
    size_t len = 1;
    size_t n = d ? d->n : 0;
    for (size_t i = 0; i < n; i++)
        len += strlen(d->msgs[i].text) + 1;
    char *out = malloc(len);
    if (!out)
        return NULL;
    char *p = out;
    for (size_t i = 0; i < n; i++) {
        if (i)
            *p++ = '\n';
        size_t l = strlen(d->msgs[i].text);
        memcpy(p, d->msgs[i].text, l);
        p += l;
    }
    *p = '\0';
    return out;
}
