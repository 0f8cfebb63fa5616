/*
 * stage.h — the sink stage both csv-sink and parquet-sink are: the plugin
 * callbacks (init/process/flush/fini) driving a partfile_out and a file
 * format (CSV, Parquet) given as a small table of calls.
 *
 * It owns what the two sinks share: the path/mode/max_* parameters, the
 * features of a record (tensor/f32 as is, image/u8 converted), the width
 * check (a record whose width differs from the file's is REJECTed), rolling,
 * and fr_commit() of a part's ids right after its rename.
 */
#ifndef FLOWRUN_PARTFILE_STAGE_H
#define FLOWRUN_PARTFILE_STAGE_H

#include <flowrun/plugin.h>

#include "partfile.h"

/* The fr_param entries every file sink has, to put first in its table. */
#define PARTFILE_STAGE_PARAMS                                                                      \
    {"path",                                                                                       \
     FR_PARAM_PATH,                                                                                \
     NULL,                                                                                         \
     0,                                                                                            \
     0,                                                                                            \
     NULL,                                                                                         \
     "output file, or directory of part files when rolling or appending"},                         \
        {"mode",                                                                                   \
         FR_PARAM_ENUM,                                                                            \
         "error",                                                                                  \
         0,                                                                                        \
         0,                                                                                        \
         "error|overwrite|append-parts",                                                           \
         "what to do when the output exists: fail, replace it, or add parts after it"},            \
        {"max_rows",                                                                               \
         FR_PARAM_INT,                                                                             \
         "0",                                                                                      \
         0,                                                                                        \
         1e15,                                                                                     \
         NULL,                                                                                     \
         "start a new part file after this many rows (0: no limit)"},                              \
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
         "start a new part file when the open one is this old, checked as records arrive (0: "     \
         "no limit)"},                                                                             \
    {                                                                                              \
        "model_version", FR_PARAM_BOOL, "false", 0, 0, NULL,                                       \
            "add a model_version column (empty/null for records without one)"                      \
    }

/* One file format.  Every call gets the format's state `fmt`. */
typedef struct partfile_format {
    /* Starts a file in out (write the header, create the writer). */
    int (*begin)(void *fmt, partfile_out *out, uint32_t width, int model_version, char *err,
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
void partfile_stage_fini(void *state, fr_stage *st);

#endif
