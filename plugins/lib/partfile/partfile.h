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
 *    a sink mean, and when a run's output becomes visible: a batch run's
 *    parts at its end (partfile_publish), a rolling output's (max_age) at
 *    every roll, a single file at its commit; a run that stops before
 *    publishes nothing, and overwrite replaces the old output only then.  A path starting with
 * s3:// is an object (one file) or a prefix (parts and their manifest) in a bucket, written through
 *    multipart uploads completed at commit; the rest is the same.  Without limits `path` is one
 * file; with max_rows / max_bytes / max_age (or mode append-parts) it is a directory of
 *    part-00000.<ext>, part-00001.<ext>, ... listed in _manifest.json.  The
 *    output remembers which record ids the open part holds, so right after
 *    partfile_commit() the sink passes partfile_committed_ids() to
 *    fr_commit() (docs/architecture.md, "Delivery").
 *
 * 3. The sink stage both csv-sink and parquet-sink are: the plugin callbacks
 *    (init/process/flush/fini) driving a partfile_out and a file format (CSV,
 *    Parquet) given as a small table of calls.  It owns what the two sinks
 *    share: the path/mode/max_* parameters, the features of a record
 *    (tensor/f32 as is, image/u8 converted), the width check (a record whose
 *    width differs from the file's is REJECTed; the declared input type, else
 *    the first record, fixes it), rolling, skipping ids an earlier run already
 *    committed, and fr_commit() of a part's ids right after its rename.
 */
#ifndef FLOWRUN_PARTFILE_H
#define FLOWRUN_PARTFILE_H

#include <flowrun/plugin.h>
#include <stddef.h>
#include <stdint.h>

/* ---- byte sinks ---------------------------------------------------------- */

typedef struct partfile_sink partfile_sink;

typedef struct partfile_sink_ops {
    /* Appends data[0..n) (borrowed).  0, or -1 with err naming the file. */
    int (*write)(partfile_sink *s, const void *data, size_t n, char *err, size_t err_size);
    /* Makes every byte written durable without publishing it (local: fsync
     * the temporary file; S3: send the last part, not completing), so a
     * staged file's commit is only the publishing step.  No write after it.
     * On failure, only abort remains. */
    int (*seal)(partfile_sink *s, char *err, size_t err_size);
    /* After seal: what the file will be once published, as reading it back
     * then shows: "<size>:<mtime ns>" (local; a rename keeps the mtime) or
     * "<size>:<ETag>" (S3).  0, or -1 with err. */
    int (*identity)(partfile_sink *s, char *out, size_t size, char *err, size_t err_size);
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

/* Writes text (borrowed) to path atomically and durably (through
 * partfile_local_open, replacing).  0, or -1 with err. */
int partfile_write_small(const char *path, const char *text, char *err, size_t err_size);

/* 1 when name is a temporary file of partfile_local_open (".x.tmp-<pid>")
 * whose process is gone: a leftover of a killed run, safe to remove.  0
 * otherwise, also for a running process's file (a PID reused since keeps
 * its leftover until a later open). */
int partfile_local_stale(const char *name);

/* "<size>:<mtime ns>" of a local file's stat (the identity op's form). */
struct stat;
void partfile_local_identity(const struct stat *st, char *out, size_t size);

/* ---- outputs -------------------------------------------------------------- */

typedef enum partfile_mode {
    PARTFILE_ERROR = 0,        /* fail at open if the output exists */
    PARTFILE_OVERWRITE = 1,    /* replace it when the new output is committed */
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
    /* For an s3:// path, as s3_options (NULL or "": the environment's, see
     * plugins/lib/s3/s3.h); addressing NULL, "" or "auto": the default. */
    const char *endpoint, *region, *addressing, *profile;
    /* s3_options.count and count_user: the S3 client's requests for the
     * stage's metrics (NULL: none). */
    void (*count)(void *user, const char *name, double n);
    void *count_user;
    /* The pipeline run writing (a token kept in the stage's state
     * directory), or NULL.  A manifest written by the same run is this
     * run's own earlier commit, continued as append-parts whatever the
     * mode: a resumed run never replaces or refuses what it committed. */
    const char *run;
    /* The stage's state directory (NULL: none).  With run, a single local
     * file's commit is recorded there (published.json: its ids and
     * identity), so that a rerun of the same run acknowledges its ids and
     * keeps the file instead of replacing it with what the rerun sees. */
    const char *state_dir;
} partfile_options;

typedef struct partfile_out partfile_out;

/* Checks the destination (it exists per mode, it is writable) and returns
 * the output, owned by the caller (partfile_free).  o is copied. */
partfile_out *partfile_open(const partfile_options *o, char *err, size_t err_size);

/* For an s3:// output, "s3://bucket/prefix: region R, endpoint E,
 * credentials from SOURCE" (never a secret), to log; NULL for a local one.
 * Owned by out. */
const char *partfile_describe(const partfile_out *out);

/* Starts the next part (or the file).  now_ms: a monotonic clock, for max_age. */
int partfile_begin(partfile_out *out, int64_t now_ms, char *err, size_t err_size);
int partfile_is_open(const partfile_out *out);

/* Appends to the open part; ctx is the partfile_out.  The signature matches
 * pq_write_fn so the Parquet writer writes straight into the part. */
int partfile_write(void *ctx, const void *data, size_t n, char *err, size_t err_size);

/* Records that the open part holds record id (copied): one per row. */
int partfile_add_id(partfile_out *out, const char *id, char *err, size_t err_size);

/* Nonzero when the open part reached a limit: rows, bytes written plus
 * pending_bytes (what the caller still buffers), or its due time (below)
 * at now_ms. */
int partfile_should_roll(const partfile_out *out, uint64_t pending_bytes, int64_t now_ms);

/* ---- deadlines (max_age) ----------------------------------------------------- */

/* A rolling part is due (monotonic ms) max_age after it was begun, or
 * earlier when one of its rows must be committed sooner: a row uploaded at
 * uploaded_ms (Unix ms, the record's "uploaded_ms" attribute: the S3
 * event's eventTime, the listing's LastModified, a file's mtime; set by the
 * source base) is committed within max_age of its upload.  So the part is
 * due at the earliest of begin + max_age and each row's upload + max_age
 * less the time a publish takes; a row uploaded longer than that ago makes
 * it due at once, but a part stays open at least min_open_ms (set from
 * the publish time, PARTFILE_OPEN_PER_PUBLISH): a backlog of old uploads
 * is written in parts of many rows, not one part per row.  INT64_MAX
 * without max_age.  partfile_part_due is the arithmetic. */
int64_t partfile_due(const partfile_out *out);
int64_t partfile_part_due(int64_t opened_ms, int64_t max_age_ms, int64_t rows_due_ms,
                          int64_t min_open_ms);
/* Lowers the open part's due time to due_ms (monotonic ms). */
void partfile_note_due(partfile_out *out, int64_t due_ms);
/* The least time a part stays open (capped by max_age), from now on. */
void partfile_set_min_open(partfile_out *out, int64_t min_open_ms);
/* A part already due stays open this many times its publish time: a sink
 * working off a backlog spends at most a fifth of its time publishing. */
#define PARTFILE_OPEN_PER_PUBLISH 4
/* The monotonic time by which a part holding a row uploaded at uploaded_ms
 * (Unix ms; <= 0: unknown) must start publishing, given the monotonic and
 * wall clocks read at the same moment (now_ms, wall_ms) and publish_ms,
 * what a publish takes.  INT64_MAX when the upload time is unknown or
 * max_age_ms is 0. */
int64_t partfile_row_due(int64_t now_ms, int64_t wall_ms, int64_t uploaded_ms, int64_t max_age_ms,
                         int64_t publish_ms);
/* The publish time to allow for next, after one that took measured_ms:
 * up at once to a slower one, down slowly after faster ones. */
int64_t partfile_publish_estimate(int64_t previous_ms, int64_t measured_ms);

/* 2: id is in a part an earlier run committed (listed in the manifest of
 * append-parts); 1: the open part holds it already; 0: new. */
int partfile_seen(const partfile_out *out, const char *id);

/* Ends the open part.  A batch output of parts stages it (sealed: durable
 * under a temporary name, or a multipart upload not yet completed) until
 * partfile_publish, so a run that stops before its end publishes nothing;
 * a rolling output (max_age) and a single file publish it now and, for
 * parts, add it with its ids to the manifest.  Afterwards
 * partfile_committed_ids() returns the ids just published (none when
 * staged), valid until the next partfile_begin/publish/free.  On failure
 * nothing new is left under a final name: a part whose manifest could not
 * be written is removed again. */
int partfile_commit(partfile_out *out, char *err, size_t err_size);
/* The end of a batch run: publishes the staged parts, then the manifest
 * listing them (the commit point: a reader following the manifest sees the
 * old output or the new one, never a mix), then removes what overwrite
 * replaced.  partfile_committed_ids() then returns every id they hold.  On
 * failure the parts published are taken back.  Without staged parts, 0. */
int partfile_publish(partfile_out *out, char *err, size_t err_size);
size_t partfile_committed_ids(const partfile_out *out, const char *const **ids);

/* Parts the output lists: this run's and, with append-parts, earlier ones. */
size_t partfile_part_count(const partfile_out *out);

/* Discards the open part, if any (staged ones wait for publish or free). */
void partfile_abort(partfile_out *out);

/* The parts committed by this output as a JSON array of
 * {"file","rows","bytes"} objects, for the run summary.  Owned by out. */
const char *partfile_parts_json(const partfile_out *out);

/* Aborts the open and the staged parts and frees out. */
void partfile_free(partfile_out *out);

/* ---- the sink stage --------------------------------------------------------- */

/* The engine's tick period while the input is idle (plugin.h's tick:
 * "about every 100 ms"). */
#define PARTFILE_TICK_MS 100

/* The fr_param entries every file sink has, to put first in its table. */
#define PARTFILE_STAGE_PARAMS                                                                      \
    {"path",                                                                                       \
     FR_PARAM_PATH,                                                                                \
     NULL,                                                                                         \
     0,                                                                                            \
     0,                                                                                            \
     NULL,                                                                                         \
     "output file, or directory of part files when rolling or appending; s3://bucket/key (or "     \
     "s3://bucket/prefix for parts) writes to S3 with multipart uploads completed at commit"},     \
        {"mode",                                                                                   \
         FR_PARAM_ENUM,                                                                            \
         "error",                                                                                  \
         0,                                                                                        \
         0,                                                                                        \
         "error|overwrite|append-parts",                                                           \
         "what to do when the output exists: fail, replace it (once this run commits), or add "    \
         "parts after it (records whose ids _manifest.json lists are acknowledged, not written "   \
         "again); a rerun after a crash continues what the interrupted run committed"},            \
        {"max_rows",                                                                               \
         FR_PARAM_INT,                                                                             \
         "0",                                                                                      \
         0,                                                                                        \
         FR_NO_MAX,                                                                                \
         NULL,                                                                                     \
         "start a new part file after this many rows (0: no limit); the parts are published "      \
         "together at the end of the run (with max_age: each as it rolls)"},                       \
        {"max_bytes",                                                                              \
         FR_PARAM_SIZE,                                                                            \
         "0",                                                                                      \
         0,                                                                                        \
         0,                                                                                        \
         NULL,                                                                                     \
         "start a new part file after about this many bytes (0: no limit)"},                       \
        {"max_age",                                                                                \
         FR_PARAM_DURATION,                                                                        \
         "0",                                                                                      \
         0,                                                                                        \
         0,                                                                                        \
         NULL,                                                                                     \
         "start a new part file when the open one is this old, or sooner so that each row is "     \
         "committed within this of its upload (the record's uploaded_ms: S3 LastModified or "      \
         "event time, a file's mtime); 0: no limit; makes the output rolling: each part is "       \
         "published and committed as it rolls, and stays if the run stops"},                       \
        {"model_version",                                                                          \
         FR_PARAM_BOOL,                                                                            \
         "false",                                                                                  \
         0,                                                                                        \
         0,                                                                                        \
         NULL,                                                                                     \
         "add a model_version column (empty/null for records without one)"},                       \
        {"version_column",                                                                         \
         FR_PARAM_BOOL,                                                                            \
         "false",                                                                                  \
         0,                                                                                        \
         0,                                                                                        \
         NULL,                                                                                     \
         "add a version column: the source object's version (the record's version attribute: "     \
         "its ETag or version id, <size>-<mtime ns> for a file), so rows of an overwritten "       \
         "object tell its versions apart"},                                                        \
        {"endpoint",                                                                               \
         FR_PARAM_STRING,                                                                          \
         "",                                                                                       \
         0,                                                                                        \
         0,                                                                                        \
         NULL,                                                                                     \
         "s3:// paths: S3 endpoint URL (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, then "     \
         "AWS)"},                                                                                  \
        {"region",                                                                                 \
         FR_PARAM_STRING,                                                                          \
         "",                                                                                       \
         0,                                                                                        \
         0,                                                                                        \
         NULL,                                                                                     \
         "s3:// paths: region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's, "           \
         "us-east-1)"},                                                                            \
        {"addressing",                                                                             \
         FR_PARAM_ENUM,                                                                            \
         "auto",                                                                                   \
         0,                                                                                        \
         0,                                                                                        \
         "auto|path|virtual",                                                                      \
         "s3:// paths: bucket in the host name (virtual) or the path; auto: virtual on AWS, path " \
         "elsewhere"},                                                                             \
    {                                                                                              \
        "profile", FR_PARAM_STRING, "", 0, 0, NULL,                                                \
            "s3:// paths: AWS profile (default: AWS_PROFILE, default)"                             \
    }

/* Optional columns after the features, in this order (a format's begin()
 * gets the set). */
enum {
    PARTFILE_COL_MODEL_VERSION = 1, /* the record's model_version (null when 0) */
    PARTFILE_COL_VERSION = 2,       /* the record's "version" attribute ("" without) */
};

/* One file format.  Every call gets the format's state `fmt`. */
typedef struct partfile_format {
    /* Starts a file in out (write the header, create the writer); columns:
     * PARTFILE_COL_* bits. */
    int (*begin)(void *fmt, partfile_out *out, uint32_t width, unsigned columns, char *err,
                 size_t err_size);
    /* Adds a row: rec borrowed, features[0..width) borrowed. */
    int (*row)(void *fmt, const fr_record *rec, const float *features, char *err, size_t err_size);
    /* Writes what the format still holds (footer, compressor tail). */
    int (*end)(void *fmt, char *err, size_t err_size);
    /* Bytes held but not yet written (for max_bytes). */
    uint64_t (*pending)(void *fmt);
    /* Forgets the current file after a failure or abort. */
    void (*discard)(void *fmt);
    void (*free)(void *fmt);
} partfile_format;

typedef struct partfile_stage partfile_stage;

/* Reads the shared parameters and opens the output.  fmt is transferred
 * (freed by partfile_stage_fini, or here on failure).  extension: of the
 * part files. */
fr_status partfile_stage_init(fr_stage *st, const partfile_format *format, void *fmt,
                              const char *extension, partfile_stage **out);
/* The plugin callbacks themselves (state: the partfile_stage), so a sink's
 * descriptor points at them directly. */
fr_status partfile_stage_process(void *state, fr_stage *st, const fr_record *in);
fr_status partfile_stage_flush(void *state, fr_stage *st);
/* The descriptor's tick (ABI 1.2): publishes the open part once it is due
 * (partfile_due), though no record came to roll it (a watched pipeline
 * between uploads).  A part due before the next tick (PARTFILE_TICK_MS) is
 * published at its due time: the tick waits for it. */
fr_status partfile_stage_tick(void *state, fr_stage *st);
void partfile_stage_fini(void *state, fr_stage *st);

#endif
