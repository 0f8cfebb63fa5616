/*
 * manifest.h — _manifest.json of a parts directory, and the record ids it
 * lists:
 *
 *     {"run":"4f0c...","parts":[
 *     {"file":"part-00000.csv","rows":2,"bytes":123456,"ids":["src:a","src:b"]},
 *     ...
 *     ]}
 *
 * one part per line, so append-parts reads it back with a small parser of
 * its own lines.  "run" (when the engine gave the sink a state directory)
 * names the pipeline run that wrote it, so a resumed run knows its own
 * earlier commits from an older run's output.  The manifest is the commit record of a parts
 * directory: a part whose ids are not in it was never acknowledged to the engine, and a restarted
 * run (append-parts) removes such a part and skips the ids that are listed, so no id is ever
 * committed twice.  Rewritten through a byte sink after every part, so it is atomic too.
 */
#ifndef FLOWRUN_PARTFILE_MANIFEST_H
#define FLOWRUN_PARTFILE_MANIFEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "partfile.h"

/* A set of strings (record ids), each copied. */
typedef struct idset {
    char **slots; /* owned: open addressing, NULL = empty */
    size_t cap, n;
} idset;

/* 1 when added, 0 when already there, -1 when out of memory. */
int idset_add(idset *s, const char *id);
int idset_has(const idset *s, const char *id);
void idset_clear(idset *s);
void idset_free(idset *s);

typedef struct manifest {
    char *entries; /* owned: the part lines joined by ",\n", NUL-terminated */
    size_t len;
    char *brief; /* owned: this run's parts as {"file","rows","bytes"} objects */
    size_t brief_len;
    char *json;     /* owned: "[" brief "]" for the run summary */
    idset ids;      /* the ids of every listed part */
    idset files;    /* the listed part files */
    char *run;      /* owned: the run token written (see above), or NULL */
    char *read_run; /* owned: the run token of the manifest read, or NULL */
} manifest;

/* Loads the part lines of an existing manifest file; a missing file is an
 * empty manifest.  0, or -1 with err. */
int manifest_load(manifest *m, const char *path, char *err, size_t err_size);
/* The same from an open stream (an S3 object read into memory); name is for
 * messages. */
int manifest_read(manifest *m, FILE *f, const char *name, char *err, size_t err_size);

/* Opens a byte sink that replaces path atomically (NULL with err set). */
typedef partfile_sink *(*manifest_open_fn)(void *ctx, const char *path, char *err, size_t err_size);

/* A part to list: ids[first_id .. first_id + n_ids) of the ids array given
 * with it. */
typedef struct manifest_part {
    const char *file; /* the name in the directory */
    uint64_t rows, bytes;
    size_t first_id, n_ids;
} manifest_part;

/* Adds the parts (published already) and rewrites the manifest at path
 * atomically, through open(ctx, ...) (NULL: a local file).  On failure the
 * manifest (in memory and on disk) is as it was before.  0; -1 with err
 * when not committed; -2 with err when the manifest on disk lists the parts
 * but the ids could not be kept in memory. */
int manifest_commit_parts(manifest *m, const char *path, const manifest_part *parts, size_t n_parts,
                          const char *const *ids, manifest_open_fn open, void *ctx, char *err,
                          size_t err_size);

/* Adds a file to the run summary only (a single output file, no manifest). */
int manifest_note(manifest *m, const char *file, uint64_t rows, uint64_t bytes);

void manifest_free(manifest *m);

#endif
