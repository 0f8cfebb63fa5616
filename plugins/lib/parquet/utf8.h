/* utf8.h — values for STRING columns made well-formed UTF-8 (utf8.c). */
#ifndef FLOWRUN_PQ_UTF8_H
#define FLOWRUN_PQ_UTF8_H

#include "buf.h"

/* s[0..*len) as well-formed UTF-8: s itself when it is, else a copy in
 * scratch (owned by the caller, valid until its next use) with each byte
 * outside UTF-8 replaced by U+FFFD; *len is updated. */
const char *pq_utf8_valid(const char *s, size_t *len, pq_buf *scratch);

#endif
