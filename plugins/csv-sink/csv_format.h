/*
 * csv_format.h — RFC 4180 rows of features, plain or gzip'd, as a
 * partfile_format for the shared sink stage.
 */
#ifndef FLOWRUN_CSV_FORMAT_H
#define FLOWRUN_CSV_FORMAT_H

#include <partfile.h>

extern const partfile_format csv_format;

/* The format's state (owned by the caller until given to partfile_stage_init).
 * prefix is copied; gzip_level 1..9 compresses, 0 writes plain text.  NULL
 * when out of memory. */
void *csv_format_new(const char *prefix, int gzip_level);

#endif
