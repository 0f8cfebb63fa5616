/*
 * utf8.h — text for outputs that promise UTF-8 (CSV files, Parquet STRING
 * columns).  Keys and labels come from outside — S3 keys, file names: any
 * bytes — and one value that is not UTF-8 makes strict readers refuse a
 * whole file (DuckDB: "Invalid string encoding found in Parquet file"), so
 * bytes outside well-formed UTF-8 are written as U+FFFD, as the engine's
 * JSON dead letters write them.
 */
#ifndef FLOWRUN_UTF8_H
#define FLOWRUN_UTF8_H

#include <stddef.h>

/* A growable scratch buffer; the owner frees it with utf8_buf_free. */
typedef struct utf8_buf {
    char *data;
    size_t len, cap;
} utf8_buf;

/* s[0..*len) as well-formed UTF-8: s itself when it already is (nothing
 * copied), else a NUL-terminated copy in scratch (valid until its next use)
 * with each byte outside UTF-8 replaced by U+FFFD, *len updated.  NULL when
 * out of memory. */
const char *utf8_valid(const char *s, size_t *len, utf8_buf *scratch);
void utf8_buf_free(utf8_buf *b);

#endif
