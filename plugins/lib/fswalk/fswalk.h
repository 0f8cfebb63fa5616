/*
 * fswalk.h — local files for the sources that read them (dir-source, and
 * s3-source's file:// fallback): listed in a deterministic order and read
 * into engine buffers, so both sources make the same records.
 */
#ifndef FLOWRUN_FSWALK_H
#define FLOWRUN_FSWALK_H

#include <stddef.h>

#include "flowrun/plugin.h"

typedef struct fswalk_list {
    char **paths; /* relative to the root, '/'-separated, sorted bytewise; owned */
    size_t n;
} fswalk_list;

/* Lists the files under root (recursively; symlinks to files count,
 * hidden entries — names starting with '.' — are skipped) whose name ends
 * with suffix, ignoring case as S3 listings do (NULL or "": every file).
 * Entries that are not regular files — FIFOs, sockets, devices, dangling
 * or unreadable links — are listed too, so fswalk_read turns each into a
 * dead letter with its reason instead of skipping it silently.  A linked
 * directory that leads back to one being walked (a loop) is not entered
 * again.  Returns 0, or -1 with a message naming the path in err. */
int fswalk(const char *root, const char *suffix, fswalk_list *out, char *err, size_t err_size);
/* The same, asking stop(user) at every entry: when it says stop, returns 1
 * with nothing listed (a stage's init ends as soon as the run stops). */
int fswalk_stoppable(const char *root, const char *suffix, fswalk_list *out, char *err,
                     size_t err_size, int (*stop)(void *user), void *user);
void fswalk_free(fswalk_list *list);

/* The label of a relative path: the name of its parent folder
 * ("Training/Apple Braeburn/1_100.jpg" → "Apple Braeburn"), or "" for a
 * file at the root.  Written into out. */
void fswalk_parent_name(const char *relative, char *out, size_t size);

/* Reads the file at path into a new engine buffer: p becomes a BYTES
 * payload (no dims; media left as it is) whose buffer reference the caller
 * owns.  Returns 0, or -1 with the reason in why (the file was listed but
 * cannot be read: a dead letter, not the end of the run); p then holds no
 * buffer.  Only a regular file of at most max_size bytes is read (never
 * opened blocking: a FIFO is refused, not waited on); fswalk_read's
 * max_size is FSWALK_MAX_SIZE. */
#define FSWALK_MAX_SIZE ((size_t)256 << 20)
int fswalk_read(fr_stage *st, const char *path, fr_payload *p, char *why, size_t why_size);
int fswalk_read_max(fr_stage *st, const char *path, size_t max_size, fr_payload *p, char *why,
                    size_t why_size);

#endif
