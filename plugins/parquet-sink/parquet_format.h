/*
 * parquet_format.h — flowrun-parquet files as a partfile_format for the
 * shared sink stage.
 */
#ifndef FLOWRUN_PARQUET_FORMAT_H
#define FLOWRUN_PARQUET_FORMAT_H

#include <parquet.h>
#include <partfile.h>

extern const partfile_format parquet_format;

/* The format's state, owned by the caller until given to
 * partfile_stage_init.  opt's strings and metadata are copied.  NULL when
 * out of memory. */
void *parquet_format_new(const pq_options *opt);

#endif
