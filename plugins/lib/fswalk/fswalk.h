/*
 * fswalk.h — lists the files under a local directory in a deterministic
 * order, for the sources that read local data (dir-source, and s3-source's
 * file:// fallback).
 */
#ifndef FLOWRUN_FSWALK_H
#define FLOWRUN_FSWALK_H

#include <stddef.h>

typedef struct fswalk_list {
    char **paths; /* relative to the root, '/'-separated, sorted bytewise; owned */
    size_t n;
} fswalk_list;

/* Lists regular files under root (recursively; symlinks to files count,
 * hidden entries — names starting with '.' — are skipped) whose name ends
 * with suffix (NULL or "": every file).  Returns 0, or -1 with a message
 * naming the path in err. */
int fswalk(const char *root, const char *suffix, fswalk_list *out, char *err, size_t err_size);
void fswalk_free(fswalk_list *list);

/* The label of a relative path: the name of its parent folder
 * ("Training/Apple Braeburn/1_100.jpg" → "Apple Braeburn"), or "" for a
 * file at the root.  Written into out. */
void fswalk_parent_name(const char *relative, char *out, size_t size);

#endif
