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

/* ---- objects not found at their GET (gone.c) ---- */

/* The params of the retries (append to the plugin's table). */
#define SOURCE_GONE_PARAMS                                                                         \
    {"gone_retries",                                                                               \
     FR_PARAM_INT,                                                                                 \
     "3",                                                                                          \
     0,                                                                                            \
     20,                                                                                           \
     NULL,                                                                                         \
     "an object not found at its GET (deleted since it was listed or its event was sent, or not "  \
     "yet visible on an eventually consistent store) is tried again this many times before it "    \
     "is dead-lettered with its reason"},                                                          \
    {                                                                                              \
        "gone_backoff", FR_PARAM_DURATION, "250ms", 1, 3.6e6, NULL,                                \
            "the wait before the first of those retries; each next one waits twice as long"        \
    }

/* Objects waiting to be tried again (in the order deferred), each with its
 * retries so far.  Owned by the source; items borrowed from the base. */
typedef struct source_gone source_gone;
/* NULL when out of memory. */
source_gone *source_gone_new(unsigned max_retries, int64_t backoff_ms);
void source_gone_free(source_gone *g);
/* The monotonic clock in ms, which the due times below are on. */
int64_t source_gone_now_ms(void);
/* The wait before retry number retry (1, 2, ...): backoff_ms doubled each time. */
int64_t source_gone_backoff_ms(int64_t backoff_ms, unsigned retry);
/* it (after `retries` retries) was not found: 1 when it waits for its next
 * retry (*wait_ms how long), 0 when it had every retry (dead-letter it),
 * -1 when out of memory. */
int source_gone_defer(source_gone *g, source_item *it, unsigned retries, int64_t now_ms,
                      int64_t *wait_ms);
/* An item whose retry is due at now_ms (removed; *retries its count), or NULL. */
source_item *source_gone_due(source_gone *g, int64_t now_ms, unsigned *retries);
/* The earliest due time, INT64_MAX when none waits. */
int64_t source_gone_next_ms(const source_gone *g);
size_t source_gone_waiting(const source_gone *g);

#endif
