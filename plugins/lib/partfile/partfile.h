/*
 * partfile.h — atomic output files for sinks (csv-sink, parquet-sink).
 *
 * Two layers:
 *
 * 1. A byte sink: where a file's bytes go.  write() appends; commit() makes
 *    the whole file durable under its final name at once (local: fsync the
 *    temporary file, rename it, fsync the directory; S3: complete the
 *    multipart upload); abort() discards it.  Readers never see a half file
 *    under the final name.  partfile_local_open() is the local one; an S3
 *    sink provides the same ops.
 *
 * 2. An output (partfile_out): what `path`, `mode` and the rolling limits of
 *    a sink mean.  Without limits `path` is one file; with max_rows /
 *    max_bytes / max_age (or mode append-parts) it is a directory of
 *    part-00000.<ext>, part-00001.<ext>, ... listed in _manifest.json.  The
 *    output remembers which record ids the open part holds, so right after
 *    partfile_commit() the sink passes partfile_committed_ids() to
 *    fr_commit() (ARCHITECTURE.md §5).
 */
#ifndef FLOWRUN_PARTFILE_H
#define FLOWRUN_PARTFILE_H

#include <stddef.h>
#include <stdint.h>

/* ---- byte sinks ---------------------------------------------------------- */

typedef struct partfile_sink partfile_sink;

typedef struct partfile_sink_ops {
    /* Appends data[0..n) (borrowed).  0, or -1 with err naming the file. */
    int (*write)(partfile_sink *s, const void *data, size_t n, char *err, size_t err_size);
    /* Publishes the file under its final name, durably.  Frees s whatever
     * the outcome; on failure nothing appears under the final name. */
    int (*commit)(partfile_sink *s, char *err, size_t err_size);
    /* Discards everything written and frees s. */
    void (*abort)(partfile_sink *s);
} partfile_sink_ops;

struct partfile_sink {
    const partfile_sink_ops *ops;
};

/* A local file written as ".<name>.tmp-<pid>" beside final_path.  With
 * replace, commit replaces an existing final file atomically; without, the
 * commit fails if final_path exists.  NULL with err set on failure.
 * final_path is copied. */
partfile_sink *partfile_local_open(const char *final_path, int replace, char *err, size_t err_size);

/* ---- outputs -------------------------------------------------------------- */

typedef enum partfile_mode {
    PARTFILE_ERROR = 0,        /* fail at open if the output exists */
    PARTFILE_OVERWRITE = 1,    /* replace it (a file: at commit; parts: at open) */
    PARTFILE_APPEND_PARTS = 2, /* add parts after the existing ones */
} partfile_mode;

/* Parses "error" | "overwrite" | "append-parts"; -1 when unknown. */
int partfile_mode_parse(const char *s);

typedef struct partfile_options {
    const char *path;      /* the file, or the parts' directory */
    const char *extension; /* of part files: "csv", "csv.gz", "parquet" */
    partfile_mode mode;
    uint64_t max_rows, max_bytes; /* roll limits; 0: none */
    int64_t max_age_ms;
} partfile_options;

typedef struct partfile_out partfile_out;

/* Checks the destination (it exists per mode, it is writable) and returns
 * the output, owned by the caller (partfile_free).  o is copied. */
partfile_out *partfile_open(const partfile_options *o, char *err, size_t err_size);

/* Starts the next part (or the file).  now_ms: a monotonic clock, for max_age. */
int partfile_begin(partfile_out *out, int64_t now_ms, char *err, size_t err_size);
int partfile_is_open(const partfile_out *out);

/* Appends to the open part; ctx is the partfile_out.  The signature matches
 * pq_write_fn so the Parquet writer writes straight into the part. */
int partfile_write(void *ctx, const void *data, size_t n, char *err, size_t err_size);

/* Records that the open part holds record id (copied): one per row. */
int partfile_add_id(partfile_out *out, const char *id, char *err, size_t err_size);

/* Nonzero when the open part reached a limit: rows, bytes written plus
 * pending_bytes (what the caller still buffers), or age at now_ms. */
int partfile_should_roll(const partfile_out *out, uint64_t pending_bytes, int64_t now_ms);

/* Publishes the open part (and rewrites the manifest).  Afterwards
 * partfile_committed_ids() returns the ids it holds, valid until the next
 * partfile_begin/free.  On failure the part is discarded. */
int partfile_commit(partfile_out *out, char *err, size_t err_size);
size_t partfile_committed_ids(const partfile_out *out, const char *const **ids);

/* Discards the open part, if any. */
void partfile_abort(partfile_out *out);

/* The parts committed by this output as a JSON array of
 * {"file","rows","bytes"} objects, for the run summary.  Owned by out. */
const char *partfile_parts_json(const partfile_out *out);

/* Aborts an open part and frees out. */
void partfile_free(partfile_out *out);

#endif
