/*
 * file_hash.h — a content hash of a file for the run's fingerprint (a
 * model file that changed between two runs refuses a resume).  Not
 * cryptographic: it detects change, it does not resist forgery.
 */
#ifndef FLOWRUN_FILE_HASH_H
#define FLOWRUN_FILE_HASH_H

#include <stddef.h>

/* Writes "<size>:<16 hex digits>" of path's content into out (at least
 * 48 bytes).  Returns 0, or -1 with the reason (naming path) in err. */
int file_hash(const char *path, char *out, size_t out_size, char *err, size_t err_size);

#endif
