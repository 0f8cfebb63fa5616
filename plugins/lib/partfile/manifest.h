/*
 * manifest.h — _manifest.json of a parts directory:
 *
 *     {"parts":[
 *     {"file":"part-00000.csv","rows":1000,"bytes":123456},
 *     ...
 *     ]}
 *
 * one part per line, so append-parts can read it back without a JSON parser.
 * Rewritten through a byte sink after every commit, so it is atomic too.
 */
#ifndef FLOWRUN_PARTFILE_MANIFEST_H
#define FLOWRUN_PARTFILE_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

typedef struct manifest {
    char *entries; /* owned: the part lines joined by ",\n", NUL-terminated */
    size_t len;
    char *json; /* owned: "[" entries "]" for the run summary */
} manifest;

/* Loads the part lines of an existing manifest file; a missing file is an
 * empty manifest.  0, or -1 with err. */
int manifest_load(manifest *m, const char *path, char *err, size_t err_size);
int manifest_add(manifest *m, const char *file, uint64_t rows, uint64_t bytes);
/* Writes the manifest atomically to path. */
int manifest_write(const manifest *m, const char *path, char *err, size_t err_size);
void manifest_free(manifest *m);

#endif
