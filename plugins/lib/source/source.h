/*
 * source.h — the SDK source base (docs/plugins.md "Sources"): what every
 * source that lists objects and reads them does, written once.
 *
 *   listing  the plugin lists its store and hands each object to
 *            source_base_add() in ascending bytewise key order (S3's order,
 *            fswalk's); the base drops folder markers, keeps keys ending in
 *            the suffix, stops at the limit, splits the keys between
 *            replicas (the i-th kept key goes to instance i % replicas) and
 *            asks the engine's ledger about each key (a sorted merge: done,
 *            dead and checkpointed keys of an earlier run are skipped);
 *   reading  the plugin takes source_base_next() items, reads them however
 *            it likes (one by one, or many GETs in flight), and hands each
 *            to source_base_emit() or source_base_reject();
 *   ids      stamped by the engine from the stage, the key and the
 *            object's version (fr_emit_key), never formatted by the plugin;
 *   records  key = the object's key, label = its parent folder's name,
 *            media from the suffix or the key's extension, attributes key,
 *            version, size, last_modified after the plugin's own;
 *   progress the total is what this instance will read (fr_set_total).
 *
 * source_local_* is the local-folder source on this base, shared by
 * dir-source and s3-source's file:// mode.
 */
#ifndef FLOWRUN_SOURCE_H
#define FLOWRUN_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "flowrun/plugin.h"

/* One object this instance reads.  Strings owned by the base. */
typedef struct source_item {
    char *key;
    char *version;  /* ETag / version id, or "<size>-<mtime ns>" for a file */
    char *modified; /* as the store gives it, or "" */
    uint64_t size;  /* SOURCE_SIZE_UNKNOWN: the store gave none usable */
} source_item;

#define SOURCE_SIZE_UNKNOWN UINT64_MAX

typedef struct source_base source_base;

/* suffix: keep keys ending with it, ignoring case ("" keeps all); limit:
 * the first limit kept keys only (0: all); media: the payload's media
 * ("jpeg", "png"), "*" to take it from each key's extension.  Strings
 * copied.  NULL when out of memory. */
source_base *source_base_new(fr_stage *st, const char *suffix, uint64_t limit, const char *media);
void source_base_free(source_base *b); /* NULL is a no-op */

/* Offers one listed object (strings borrowed; modified may be NULL).
 * Returns 0 to go on listing, 1 when the limit is reached (stop listing),
 * -1 when out of memory. */
int source_base_add(source_base *b, const char *key, const char *version, uint64_t size,
                    const char *modified);
/* The listing is complete: sets the progress total. */
void source_base_listed(source_base *b);

/* The next item to read, or NULL when every one was handed out.  Valid
 * until source_base_free. */
const source_item *source_base_next(source_base *b);
/* Items not handed out yet. */
size_t source_base_remaining(const source_base *b);

/* Emits it with payload buf (transferred; NULL with data NULL for an empty
 * object) holding it->size bytes at data.  extra: the plugin's own
 * attributes (borrowed), first in the record.  FR_OK, FR_STOP or FR_FATAL. */
fr_status source_base_emit(source_base *b, const source_item *it, fr_buffer *buf, void *data,
                           const fr_attr *extra, size_t n_extra);
/* Dead-letters it (listed, but it cannot be read) with reason. */
void source_base_reject(source_base *b, const source_item *it, const char *reason,
                        const fr_attr *extra, size_t n_extra);

/* The media a suffix or file name implies: "jpeg" for .jpg/.jpeg, "png",
 * else "*". */
const char *source_media(const char *name);

/* ---- the local folder on the base (local.c) ---- */

typedef struct source_local source_local;
/* Lists the files under root (fswalk: sorted, hidden entries skipped), each
 * with version "<size>-<mtime ns>"; a file above max_size bytes is
 * dead-lettered, not read.  root copied.  NULL with err naming the path
 * when it cannot be listed, or when the run stopped during the listing
 * (fr_stopping() tells which). */
source_local *source_local_open(fr_stage *st, const char *root, const char *suffix, uint64_t limit,
                                const char *media, size_t max_size, char *err, size_t err_size);
/* Reads and emits the next files (an unreadable one is a dead letter with
 * the reason): FR_OK, FR_DONE, FR_STOP or FR_FATAL. */
fr_status source_local_produce(source_local *l);
void source_local_free(source_local *l); /* NULL is a no-op */

#endif
