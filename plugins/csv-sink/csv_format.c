/* csv_format.c — CSV rows (RFC 4180, UTF-8, CRLF) with optional gzip (see csv_format.h). */
#include "csv_format.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "utf8.h"

typedef struct csv {
    char *prefix;     /* owned */
    int gzip;         /* zlib level, 0: plain text */
    unsigned columns; /* PARTFILE_COL_* */
    uint32_t width;
    partfile_out *out; /* borrowed from the stage while a file is open */
    char *line;        /* owned: the row being formatted */
    utf8_buf utf8;     /* scratch: a key or label made valid UTF-8 */
    size_t len, cap;
    z_stream z;
    int z_open;
    unsigned char zbuf[64 << 10];
} csv;

static int reserve(csv *c, size_t n)
{
    if (c->cap - c->len >= n)
        return 0;
    size_t cap = c->cap ? c->cap : 4096;
    while (cap - c->len < n)
        cap *= 2;
    char *p = realloc(c->line, cap);
    if (!p)
        return -1;
    c->line = p;
    c->cap = cap;
    return 0;
}

static void put(csv *c, const char *s, size_t n)
{
    memcpy(c->line + c->len, s, n);
    c->len += n;
}

/* A field, quoted when it holds a comma, quote, CR or LF (quotes doubled),
 * as UTF-8 (bytes outside it written as U+FFFD: see utf8.h). */
static int put_field(csv *c, const char *s)
{
    size_t n = strlen(s);
    if (!(s = utf8_valid(s, &n, &c->utf8)) || reserve(c, 2 * n + 3))
        return -1;
    if (strcspn(s, ",\"\r\n") == n) {
        put(c, s, n);
        return 0;
    }
    put(c, "\"", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            put(c, "\"", 1);
        put(c, p, 1);
    }
    put(c, "\"", 1);
    return 0;
}

/* Sends the formatted line to the file, through deflate when gzip'd. */
static int emit(csv *c, int finish, char *err, size_t err_size)
{
    if (!c->gzip) {
        int rc = partfile_write(c->out, c->line, c->len, err, err_size);
        c->len = 0;
        return rc;
    }
    c->z.next_in = (unsigned char *)c->line;
    c->z.avail_in = (uInt)c->len;
    int zrc;
    do {
        c->z.next_out = c->zbuf;
        c->z.avail_out = sizeof c->zbuf;
        zrc = deflate(&c->z, finish ? Z_FINISH : Z_NO_FLUSH);
        size_t have = sizeof c->zbuf - c->z.avail_out;
        if (zrc == Z_STREAM_ERROR || (have && partfile_write(c->out, c->zbuf, have, err, err_size)))
            return zrc == Z_STREAM_ERROR ? (snprintf(err, err_size, "gzip: stream error"), -1) : -1;
    } while (c->z.avail_out == 0 || (finish && zrc != Z_STREAM_END));
    c->len = 0;
    return 0;
}

/* 9 significant digits read back to the same float32; NaN and infinities as
 * Spark's CSV reader spells them by default (DuckDB, pandas and Python read
 * them too), never C's "-nan". */
static void put_float(csv *c, float f)
{
    if (isnan(f))
        put(c, ",NaN", 4);
    else if (isinf(f))
        f > 0 ? put(c, ",Inf", 4) : put(c, ",-Inf", 5);
    else
        c->len += (size_t)snprintf(c->line + c->len, 24, ",%.9g", f);
}

static int csv_begin(void *fmt, partfile_out *out, uint32_t width, unsigned columns, char *err,
                     size_t err_size)
{
    csv *c = fmt;
    c->out = out;
    c->width = width;
    c->columns = columns;
    c->len = 0;
    if (c->gzip) {
        if (deflateInit2(&c->z, c->gzip, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            snprintf(err, err_size, "gzip: cannot start a stream");
            return -1;
        }
        c->z_open = 1;
    }
    int bad = put_field(c, "key") || reserve(c, 8) || (put(c, ",", 1), put_field(c, "label"));
    for (uint32_t i = 0; !bad && i < width; i++) {
        char name[512];
        snprintf(name, sizeof name, "%s%u", c->prefix, i);
        bad = reserve(c, 1) || (put(c, ",", 1), put_field(c, name));
    }
    if (!bad && (columns & PARTFILE_COL_MODEL_VERSION))
        bad = reserve(c, 1) || (put(c, ",", 1), put_field(c, "model_version"));
    if (!bad && (columns & PARTFILE_COL_VERSION))
        bad = reserve(c, 1) || (put(c, ",", 1), put_field(c, "version"));
    if (bad || reserve(c, 2)) {
        snprintf(err, err_size, "out of memory writing the CSV header");
        return -1;
    }
    put(c, "\r\n", 2);
    return emit(c, 0, err, err_size);
}

static int csv_row(void *fmt, const fr_record *rec, const float *features, char *err,
                   size_t err_size)
{
    csv *c = fmt;
    /* 24 bytes hold ",%.9g" of any float (at most 16) and a "%llu". */
    if (put_field(c, rec->key ? rec->key : "") || reserve(c, 1) ||
        (put(c, ",", 1), put_field(c, rec->label ? rec->label : "")) ||
        reserve(c, 24 * (size_t)c->width + 24 + 2)) {
        snprintf(err, err_size, "out of memory formatting record %s", rec->id);
        return -1;
    }
    for (uint32_t i = 0; i < c->width; i++)
        put_float(c, features[i]);
    if (c->columns & PARTFILE_COL_MODEL_VERSION) {
        put(c, ",", 1);
        if (rec->model_version)
            c->len += (size_t)snprintf(c->line + c->len, 24, "%llu",
                                       (unsigned long long)rec->model_version);
    }
    const char *version = fr_record_attr(rec, "version");
    if ((c->columns & PARTFILE_COL_VERSION) &&
        (reserve(c, 1) || (put(c, ",", 1), put_field(c, version ? version : "")))) {
        snprintf(err, err_size, "out of memory formatting record %s", rec->id);
        return -1;
    }
    put(c, "\r\n", 2);
    return emit(c, 0, err, err_size);
}

static void csv_discard(void *fmt)
{
    csv *c = fmt;
    if (c->z_open)
        deflateEnd(&c->z);
    c->z_open = 0;
    c->len = 0;
    c->out = NULL;
}

static int csv_end(void *fmt, char *err, size_t err_size)
{
    csv *c = fmt;
    int rc = c->gzip ? emit(c, 1, err, err_size) : 0;
    csv_discard(c);
    return rc;
}

static uint64_t csv_pending(void *fmt)
{
    return 0; /* rows go to the file as they come (deflate holds at most its window) */
}

static void csv_free(void *fmt)
{
    csv *c = fmt;
    if (!c)
        return;
    csv_discard(c);
    free(c->prefix);
    free(c->line);
    utf8_buf_free(&c->utf8);
    free(c);
}

void *csv_format_new(const char *prefix, int gzip_level)
{
    csv *c = calloc(1, sizeof *c);
    if (!c || !(c->prefix = strdup(prefix))) {
        free(c);
        return NULL;
    }
    c->gzip = gzip_level;
    return c;
}

const partfile_format csv_format = {.begin = csv_begin,
                                    .row = csv_row,
                                    .end = csv_end,
                                    .pending = csv_pending,
                                    .discard = csv_discard,
                                    .free = csv_free};
