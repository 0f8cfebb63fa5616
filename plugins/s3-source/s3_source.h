/* s3_source.h — what the files of the s3-source plugin share. */
#ifndef FLOWRUN_S3_SOURCE_H
#define FLOWRUN_S3_SOURCE_H

#include "source.h"

/* A file:// or plain-path url: 1 with *root the folder (malloc'd, caller
 * owns), 0 for an s3:// url, -1 for another scheme or host. */
int source_url_local_root(const char *url, char **root);

/* ---- the notification listener (events.c) ---- */

/* The params of `events:` (append to the plugin's table). */
#define SOURCE_EVENTS_PARAMS                                                                       \
    {"events",                                                                                     \
     FR_PARAM_STRING,                                                                              \
     "",                                                                                           \
     0,                                                                                            \
     0,                                                                                            \
     NULL,                                                                                         \
     "also listen for the bucket's notifications pushed by the store (a Ceph radosgw topic's "     \
     "push-endpoint): http://ADDR:PORT[/PATH] (port 0: any free one, logged); a new object is "    \
     "read at once and its event answered once it is in the ledger; needs watch: (the listing "    \
     "stays on as the safety net)"},                                                               \
        {"events_keys",                                                                            \
         FR_PARAM_ENUM,                                                                            \
         "auto",                                                                                   \
         0,                                                                                        \
         0,                                                                                        \
         "auto|url|none",                                                                          \
         "how events spell keys: auto (as they are from Ceph radosgw, URL-decoded from AWS and "   \
         "others), url (always decode '+' and %XX) or none"},                                      \
        {"events_max_body",                                                                        \
         FR_PARAM_SIZE,                                                                            \
         "1MiB",                                                                                   \
         1024,                                                                                     \
         67108864.0,                                                                               \
         NULL,                                                                                     \
         "a pushed request body larger than this is answered 413"},                                \
    {                                                                                              \
        "events_max_records", FR_PARAM_INT, "100", 1, 100000, NULL,                                \
            "a pushed request with more records than this is answered 400"                         \
    }

typedef struct source_events source_events;
/* Listens on config `events` for bucket's events, pushing finished objects
 * under prefix into watch (the watching base's; it must outlive the
 * listener's stop).  Strings copied.  NULL with err naming the URL. */
source_events *source_events_start(fr_stage *st, source_watch *watch, const char *bucket,
                                   const char *prefix, char *err, size_t err_size);
/* Stops listening: requests waiting for their keys answer 503 (the store
 * delivers them again).  Before the base is freed. */
void source_events_stop(source_events *e);
/* Frees e (stopping it first): after the base is freed, which tells the
 * outcome of the keys still pushed.  NULL is fine. */
void source_events_free(source_events *e);

#endif
