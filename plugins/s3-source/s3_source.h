/* s3_source.h — what the files of the s3-source plugin share. */
#ifndef FLOWRUN_S3_SOURCE_H
#define FLOWRUN_S3_SOURCE_H

#include <flowrun/plugin.h>

#include "s3.h"

/* One listed object this instance will read.  Strings owned by the listing. */
typedef struct source_object {
    char *key, *etag, *last_modified;
    uint64_t size;
    int size_invalid; /* the listing's <Size> was unusable: dead-lettered */
} source_object;

typedef struct source_listing {
    source_object *items;
    size_t n, cap;
} source_listing;

/* Lists bucket/prefix, keeping keys that end in suffix (case-insensitive,
 * "" = all) and fall to this instance (index % replicas == instance), up
 * to limit in all (0: no limit).  0, or -1 with err. */
int source_listing_load(source_listing *l, s3_client *c, const char *bucket, const char *prefix,
                        const char *suffix, uint64_t limit, uint32_t instance, uint32_t replicas,
                        s3_error *err);
void source_listing_free(source_listing *l);

/* The media type a suffix implies: "jpeg" for .jpg/.jpeg, "png", else "*". */
const char *source_media(const char *suffix);

/* Emits obj's bytes (buf transferred, may be NULL for an empty object), or
 * dead-letters obj with reason when reason is not NULL. */
fr_status source_emit(fr_stage *st, const char *bucket, const source_object *obj, const char *media,
                      fr_buffer *buf, void *data, const char *reason);

/* ---- the local fallback (local.c) ---- */

/* A file:// or plain-path url: 1 with *root the folder (malloc'd, caller
 * owns), 0 for an s3:// url, -1 for another scheme or host. */
int source_local_root(const char *url, char **root);

typedef struct source_local source_local;
/* Lists root (transferred: freed by the reader, also on failure) with
 * fswalk and sets the stage's total.  media: the suffix's, "*" = each
 * file's own.  NULL with err filled when root cannot be listed. */
source_local *source_local_open(fr_stage *st, char *root, const char *suffix, uint64_t limit,
                                const char *media, char *err, size_t err_size);
/* Emits the next files (unreadable ones are dead letters): FR_OK, FR_DONE,
 * FR_STOP or FR_FATAL. */
fr_status source_local_produce(source_local *l, fr_stage *st);
void source_local_free(source_local *l); /* NULL is a no-op */

#endif
