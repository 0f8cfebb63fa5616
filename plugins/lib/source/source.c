/*
 * source.c — the source base: a listing filtered by suffix, limit, replica
 * and ledger, handed out item by item and emitted with engine-stamped ids.
 */
#include "source.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct source_base {
    fr_stage *st;
    char *suffix; /* owned */
    char media[16];
    uint64_t limit, kept; /* kept: keys past the suffix filter, over all replicas */
    uint32_t instance, replicas;
    source_item *items; /* this instance's, in key order; owned */
    size_t n, cap, next;
};

source_base *source_base_new(fr_stage *st, const char *suffix, uint64_t limit, const char *media)
{
    source_base *b = calloc(1, sizeof *b);
    if (!b || !(b->suffix = strdup(suffix ? suffix : ""))) {
        free(b);
        return NULL;
    }
    b->st = st;
    b->limit = limit;
    snprintf(b->media, sizeof b->media, "%s", media ? media : "*");
    b->instance = fr_instance(st);
    b->replicas = fr_replicas(st) ? fr_replicas(st) : 1;
    return b;
}

void source_base_free(source_base *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++) {
        free(b->items[i].key);
        free(b->items[i].version);
        free(b->items[i].modified);
    }
    free(b->items);
    free(b->suffix);
    free(b);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static int keep(source_base *b, const char *key, const char *version, uint64_t size,
                const char *modified)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 256;
        source_item *grown = realloc(b->items, cap * sizeof *grown);
        if (!grown)
            return -1;
        b->items = grown;
        b->cap = cap;
    }
    source_item *it = &b->items[b->n];
    *it = (source_item){strdup(key), strdup(version), strdup(modified ? modified : ""), size};
    if (!it->key || !it->version || !it->modified) {
        free(it->key);
        free(it->version);
        free(it->modified);
        return -1;
    }
    b->n++;
    return 0;
}

int source_base_add(source_base *b, const char *key, const char *version, uint64_t size,
                    const char *modified)
{
    if (!key[0] || key[strlen(key) - 1] == '/' || !ends_with(key, b->suffix))
        return 0; /* folder markers and other media */
    if (b->limit && b->kept >= b->limit)
        return 1;
    if (b->kept++ % b->replicas != b->instance)
        return 0; /* another replica's */
    if (fr_key_state_of(b->st, key, version) >= FR_KEY_DONE)
        return 0; /* done, dead or held by an earlier run */
    return keep(b, key, version, size, modified);
}

void source_base_listed(source_base *b)
{
    fr_set_total(b->st, b->n);
}

const source_item *source_base_next(source_base *b)
{
    return b->next < b->n ? &b->items[b->next++] : NULL;
}

size_t source_base_remaining(const source_base *b)
{
    return b->n - b->next;
}

const char *source_media(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot && (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg")))
        return "jpeg";
    return dot && !strcasecmp(dot, ".png") ? "png" : "*";
}

/* The parent folder's name ("Training/Apple Braeburn/1.jpg" → "Apple
 * Braeburn"), "" at the top. */
static void parent_name(const char *key, char *out, size_t size)
{
    const char *last = strrchr(key, '/'), *start = last;
    while (start && start > key && start[-1] != '/')
        start--;
    if (!last || last == key)
        out[0] = '\0';
    else
        snprintf(out, size, "%.*s", (int)(last - start), start);
}

#define MAX_ATTRS 12

/* The record of it, with attrs (room for MAX_ATTRS) and label filled. */
static fr_record make_record(const source_base *b, const source_item *it, fr_attr *attrs,
                             const fr_attr *extra, size_t n_extra, char *label, size_t label_size,
                             char *size_text, size_t size_text_size)
{
    size_t n = 0;
    for (size_t i = 0; i < n_extra && n < MAX_ATTRS - 4; i++)
        attrs[n++] = extra[i];
    if (it->size == SOURCE_SIZE_UNKNOWN)
        snprintf(size_text, size_text_size, "unknown");
    else
        snprintf(size_text, size_text_size, "%" PRIu64, it->size);
    attrs[n++] = (fr_attr){"key", it->key};
    attrs[n++] = (fr_attr){"version", it->version};
    attrs[n++] = (fr_attr){"size", size_text};
    if (it->modified[0])
        attrs[n++] = (fr_attr){"last_modified", it->modified};
    parent_name(it->key, label, label_size);
    fr_record rec = {.key = it->key, .label = label, .attrs = attrs, .n_attrs = n};
    rec.payload.kind = FR_KIND_BYTES; /* bytes carry no dims */
    const char *media = strcmp(b->media, "*") ? b->media : source_media(it->key);
    snprintf(rec.payload.media, sizeof rec.payload.media, "%s", media);
    return rec;
}

fr_status source_base_emit(source_base *b, const source_item *it, fr_buffer *buf, void *data,
                           const fr_attr *extra, size_t n_extra)
{
    fr_attr attrs[MAX_ATTRS];
    char label[1024], size[32];
    fr_record rec =
        make_record(b, it, attrs, extra, n_extra, label, sizeof label, size, sizeof size);
    rec.payload.buffer = buf;
    rec.payload.data = data;
    rec.payload.size = (size_t)it->size;
    fr_metric_add(b->st, "objects", 1);
    fr_metric_add(b->st, "bytes", (double)it->size);
    return fr_emit_key(b->st, &rec, it->version);
}

void source_base_reject(source_base *b, const source_item *it, const char *reason,
                        const fr_attr *extra, size_t n_extra)
{
    fr_attr attrs[MAX_ATTRS];
    char label[1024], size[32];
    fr_record rec =
        make_record(b, it, attrs, extra, n_extra, label, sizeof label, size, sizeof size);
    rec.payload = (fr_payload){.kind = FR_KIND_NONE};
    fr_metric_add(b->st, "objects_failed", 1);
    fr_reject_key(b->st, &rec, it->version, reason);
}
