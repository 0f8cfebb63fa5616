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
 *            version, size, last_modified (S3's form; a file's mtime) and
 *            uploaded_ms (the same as Unix ms: what a sink's max_age counts
 *            from, plugins/lib/partfile) after the plugin's own;
 *   progress the total is what this instance will read (fr_set_total).
 *
 * source_local_* is the local-folder source on this base, shared by
 * dir-source and s3-source's file:// mode.
 *
 * Watching (watch.c, `watch: <period>`): instead of one listing, the base
 * runs rounds: every period it asks the plugin to list again, page by page
 * (source_base_list_due), and keeps only keys the ledger has not seen
 * (key + version: an overwritten object is read again unless on_change is
 * ignore), so memory holds a page, never the bucket.  Between rounds it
 * waits (source_base_wait) for the period, a pushed key or the end of the
 * input.  Another thread (a notification listener) hands keys in with
 * source_watch_push(); the base reads them before listed ones and tells the
 * pusher when each is durably in the ledger.
 */
#ifndef FLOWRUN_SOURCE_H
#define FLOWRUN_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "flowrun/plugin.h"

/* One object this instance reads.  Owned by the base; the plugin may
 * change size (what it actually read) before emitting it. */
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
 * Returns 0 to go on listing, 1 to stop (the limit is reached; when
 * watching, a page's worth was offered: the rest at the next
 * source_base_list_due), -1 when out of memory. */
int source_base_add(source_base *b, const char *key, const char *version, uint64_t size,
                    const char *modified);
/* The listing is complete: sets the progress total (when watching: the
 * round's listing is complete). */
void source_base_listed(source_base *b);

/* The next item to read (pushed keys first), or NULL when none is waiting.
 * Owned by the base; valid until the plugin emits or rejects it (each item
 * exactly once), or source_base_free. */
source_item *source_base_next(source_base *b);
/* Items not handed out yet (when watching, pushed keys taken first). */
size_t source_base_remaining(source_base *b);

/* Emits it with payload buf (transferred; NULL with data NULL for an empty
 * object) holding it->size bytes at data, and frees it.  extra: the
 * plugin's own attributes (borrowed), first in the record.  FR_OK, FR_STOP
 * or FR_FATAL. */
fr_status source_base_emit(source_base *b, source_item *it, fr_buffer *buf, void *data,
                           const fr_attr *extra, size_t n_extra);
/* Dead-letters it (listed, but it cannot be read) with reason, and frees
 * it. */
void source_base_reject(source_base *b, source_item *it, const char *reason, const fr_attr *extra,
                        size_t n_extra);

/* ---- watching (watch.c) ---- */

/* on_change: what a watching source does with a key whose version changed
 * since it was read (an overwritten object): in the order of the param's
 * choices SOURCE_ON_CHANGE_CHOICES. */
typedef enum source_on_change {
    SOURCE_REPROCESS = 0, /* read it again: a second row, with the new version */
    SOURCE_IGNORE = 1,    /* keep the first row only */
} source_on_change;
#define SOURCE_ON_CHANGE_CHOICES "reprocess|ignore"

/* The params every watching source has (append to the plugin's table):
 * `watch` (a duration, 0: list once) and `on_change`. */
#define SOURCE_WATCH_PARAMS                                                                        \
    {"watch",                                                                                      \
     FR_PARAM_DURATION,                                                                            \
     "0",                                                                                          \
     0,                                                                                            \
     8.64e7,                                                                                       \
     NULL,                                                                                         \
     "keep watching: list again every period and read the keys the ledger has not seen "           \
     "(0: list once and end).  SIGTERM ends a watching run: what is in flight is committed"},      \
    {                                                                                              \
        "on_change", FR_PARAM_ENUM, "reprocess", 0, 0, SOURCE_ON_CHANGE_CHOICES,                   \
            "an object overwritten since it was read (new ETag or version): read it again (a "     \
            "second row carrying the new version) or ignore it"                                    \
    }

/* Reads `watch` and `on_change` (SOURCE_WATCH_PARAMS): with a period, makes
 * b a watching source (fr_set_continuous) and returns 1; 0 when it lists
 * once; -1 with err (replicas above 1: a watching source is one instance). */
int source_base_watch_config(source_base *b, char *err, size_t err_size);
/* 1 when b watches. */
int source_base_watching(const source_base *b);

/* A round is on and the base has room: the plugin lists its next page
 * now, offering keys after source_base_list_after() (NULL at the round's
 * start) with source_base_add(), then calls source_base_listed() when
 * the listing has no more pages (that ends the round). */
int source_base_list_due(source_base *b);
const char *source_base_list_after(const source_base *b);
/* A round's listing failed (the store is down): logged with err by the
 * plugin; the base tries again at the next round. */
void source_base_list_failed(source_base *b);
/* Nothing to read and nothing in flight: waits for the next round, a
 * pushed key, or the end of the input.  FR_OK (call produce again) or
 * FR_STOP. */
fr_status source_base_wait(source_base *b);

/* The push side, for another thread (a notification listener).  Owned by
 * the base, valid until source_base_free (the listener is stopped first). */
typedef struct source_watch source_watch;
source_watch *source_base_pushes(source_base *b); /* NULL when not watching */

/* What became of a pushed key, told to the pusher once. */
typedef enum source_push_outcome {
    SOURCE_PUSH_RECORDED = 0, /* durably in the ledger: read now and recorded as sent, or
                                 already sent, done or dead (a duplicate delivery) */
    SOURCE_PUSH_IGNORED = 1,  /* not this source's: other suffix, folder marker, or a change
                                 that on_change: ignore skips */
    SOURCE_PUSH_DEAD = 2,     /* dead-lettered (gone since the event, unreadable) */
    SOURCE_PUSH_DROPPED = 3,  /* the run ended first: do not acknowledge it (the store
                                 delivers it again; the listing finds it anyway) */
} source_push_outcome;

/* Called on the source's thread (or the caller's, for DROPPED at the end),
 * once per push.  user as given. */
typedef void (*source_push_done)(void *user, source_push_outcome outcome);

/* Hands a key in from any thread: key and version (ETag, version id; ""
 * when unknown) and modified (may be NULL) copied; size as the event says
 * (SOURCE_SIZE_UNKNOWN when it gives none).  done(user, outcome) follows.
 * 0, or -1 when out of memory or the input has ended (done not called:
 * answer the store with an error so it delivers again). */
int source_watch_push(source_watch *w, const char *key, const char *version, uint64_t size,
                      const char *modified, source_push_done done, void *user);

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
