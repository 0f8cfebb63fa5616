/*
 * record_copy.h — deep copies of records, for the records a stage keeps
 * (fr_record_keep), the harness's captured outputs and the runtime's
 * retries.  The copy is one allocation holding the struct, the attribute
 * array and every string.
 */
#ifndef FLOWRUN_RECORD_COPY_H
#define FLOWRUN_RECORD_COPY_H

#include "flowrun/record.h"

/* Copies rec's metadata and payload description.  The copy's
 * payload.buffer is `buffer`, whose reference passes to the copy (NULL for
 * none; then payload.data is NULL too unless buffer is given).  Returns
 * NULL when out of memory (buffer is then unref'd). */
fr_record *record_clone(const fr_record *rec, fr_buffer *buffer);

/* Frees a record made by record_clone, dropping its buffer reference. */
void record_destroy(fr_record *rec);

#endif
