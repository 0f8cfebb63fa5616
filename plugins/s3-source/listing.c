/* listing.c — the keys an s3-source instance reads, listed once at start so
 * the run knows its total (the ETA) and replicas split the keys without
 * talking to each other. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "s3_source.h"

typedef struct listing_filter {
    source_listing *l;
    const char *suffix;
    uint64_t limit, seen;
    uint32_t instance, replicas;
    int oom;
} listing_filter;

static int listing_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static int listing_add(void *user, const s3_object *o)
{
    listing_filter *f = user;
    if (o->key[strlen(o->key) - 1] == '/' || !listing_ends_with(o->key, f->suffix))
        return 0; /* folder markers and other media */
    if (f->limit && f->seen >= f->limit)
        return 1;
    if (f->seen++ % f->replicas != f->instance)
        return 0;
    source_listing *l = f->l;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        source_object *items = realloc(l->items, cap * sizeof *items);
        if (!items)
            return f->oom = 1;
        l->items = items;
        l->cap = cap;
    }
    source_object *obj = &l->items[l->n];
    *obj = (source_object){strdup(o->key), strdup(o->etag), strdup(o->last_modified), o->size,
                           o->size_invalid};
    if (!obj->key || !obj->etag || !obj->last_modified) {
        free(obj->key);
        free(obj->etag);
        free(obj->last_modified);
        return f->oom = 1;
    }
    l->n++;
    return 0;
}

int source_listing_load(source_listing *l, s3_client *c, const char *bucket, const char *prefix,
                        const char *suffix, uint64_t limit, uint32_t instance, uint32_t replicas,
                        s3_error *err)
{
    listing_filter f = {l, suffix, limit, 0, instance, replicas ? replicas : 1, 0};
    if (s3_list(c, bucket, prefix, NULL, listing_add, &f, err) < 0)
        return -1;
    if (f.oom) {
        err->cls = S3_ERR_INVALID;
        strcpy(err->message, "out of memory while listing");
        return -1;
    }
    return 0;
}

void source_listing_free(source_listing *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].key);
        free(l->items[i].etag);
        free(l->items[i].last_modified);
    }
    free(l->items);
    *l = (source_listing){0};
}

const char *source_media(const char *suffix)
{
    if (strcasecmp(suffix, ".jpg") == 0 || strcasecmp(suffix, ".jpeg") == 0)
        return "jpeg";
    return strcasecmp(suffix, ".png") == 0 ? "png" : "*";
}
