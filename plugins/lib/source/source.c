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
#include <time.h>

#include "source_internal.h"

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

static void free_list(source_base *b, item_list *l)
{
    while (l->head) {
        base_item *i = l->head;
        item_list_remove(l, i);
        source_item_settle(b, i, SOURCE_PUSH_DROPPED);
        source_item_free(i);
    }
}

void source_base_free(source_base *b)
{
    if (!b)
        return;
    free_list(b, &b->queue);
    free_list(b, &b->out);
    watch_free(b->watch);
    pending_close(b->journal);
    free(b->suffix);
    free(b);
}

/* ---- items ---------------------------------------------------------------- */

/* S3's 2024-01-31T12:00:00.000Z as Unix ms; 0 when it is not that. */
static int64_t parse_modified(const char *text)
{
    struct tm tm = {0};
    int ms = 0;
    if (!text || sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d.%3d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                        &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000 + ms;
}

base_item *source_item_new(const char *key, const char *version, uint64_t size,
                           const char *modified)
{
    base_item *i = calloc(1, sizeof *i);
    if (!i)
        return NULL;
    i->it = (source_item){strdup(key), strdup(version ? version : ""),
                          strdup(modified ? modified : ""), size};
    if (!i->it.key || !i->it.version || !i->it.modified) {
        source_item_free(i);
        return NULL;
    }
    i->modified_ms = parse_modified(modified);
    return i;
}

void source_item_free(base_item *i)
{
    if (!i)
        return;
    free(i->it.key);
    free(i->it.version);
    free(i->it.modified);
    free(i->waiters);
    free(i);
}

void item_list_push_back(item_list *l, base_item *i)
{
    i->next = NULL;
    i->prev = l->tail;
    if (l->tail)
        l->tail->next = i;
    else
        l->head = i;
    l->tail = i;
    l->n++;
}

void item_list_push_front(item_list *l, base_item *i)
{
    i->prev = NULL;
    i->next = l->head;
    if (l->head)
        l->head->prev = i;
    else
        l->tail = i;
    l->head = i;
    l->n++;
}

void item_list_remove(item_list *l, base_item *i)
{
    if (i->prev)
        i->prev->next = i->next;
    else
        l->head = i->next;
    if (i->next)
        i->next->prev = i->prev;
    else
        l->tail = i->prev;
    i->prev = i->next = NULL;
    l->n--;
}

void source_base_enqueue(source_base *b, base_item *i, int front)
{
    if (front)
        item_list_push_front(&b->queue, i);
    else
        item_list_push_back(&b->queue, i);
    if (b->watch && b->queue.n > b->waiting_peak) { /* flat memory, shown in the summary */
        fr_metric_add(b->st, "waiting_peak", (double)(b->queue.n - b->waiting_peak));
        b->waiting_peak = b->queue.n;
    }
}

static base_item *find_in(item_list *l, const char *key, const char *version)
{
    for (base_item *i = l->head; i; i = i->next)
        if (strcmp(i->it.key, key) == 0 && strcmp(i->it.version, version) == 0)
            return i;
    return NULL;
}

base_item *source_base_find(source_base *b, const char *key, const char *version)
{
    base_item *i = find_in(&b->queue, key, version);
    return i ? i : find_in(&b->out, key, version);
}

void source_item_settle(source_base *b, base_item *i, source_push_outcome outcome)
{
    if (!i->n_waiters)
        return;
    for (size_t k = 0; k < i->n_waiters; k++)
        i->waiters[k].done(i->waiters[k].user, outcome);
    free(i->waiters);
    i->waiters = NULL;
    i->n_waiters = 0;
    b->pushed_open--;
}

/* ---- the listing ------------------------------------------------------------ */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

int source_base_wanted(const source_base *b, const char *key)
{
    return key[0] && key[strlen(key) - 1] != '/' && ends_with(key, b->suffix);
}

/* 1 when the ledger's answer means: read it. */
static int to_read(const source_base *b, fr_key_state state)
{
    if (state == FR_KEY_CHANGED && b->on_change == SOURCE_IGNORE)
        return 0;
    return state < FR_KEY_DONE;
}

static int keep(source_base *b, const char *key, const char *version, uint64_t size,
                const char *modified)
{
    if (b->pushed_open && source_base_find(b, key, version))
        return 0; /* pushed meanwhile: already waiting or being read */
    base_item *i = source_item_new(key, version, size, modified);
    if (!i)
        return -1;
    source_base_enqueue(b, i, 0);
    b->round_new++;
    if (b->watch)
        fr_metric_add(b->st, "keys_seen", 1);
    return 0;
}

int source_base_add(source_base *b, const char *key, const char *version, uint64_t size,
                    const char *modified)
{
    int full = b->watch ? watch_offered(b->watch, key) : 0;
    if (!source_base_wanted(b, key))
        return full; /* folder markers and other media */
    if (b->limit && b->kept >= b->limit)
        return 1;
    if (b->kept++ % b->replicas != b->instance)
        return full; /* another replica's */
    if (!to_read(b, fr_key_state_of(b->st, key, version)))
        return full; /* done, dead, held, sent by this run, or an ignored change */
    return keep(b, key, version, size, modified) < 0 ? -1 : full;
}

void source_base_listed(source_base *b)
{
    if (b->watch)
        watch_round_listed(b);
    else
        fr_set_total(b->st, b->queue.n);
}

source_item *source_base_next(source_base *b)
{
    if (b->watch)
        watch_take_pushed(b);
    source_journal_compact(b);
    base_item *i = b->queue.head;
    if (!i)
        return NULL;
    if (source_journal_item(b, i) != 0) /* still read: only a crash now could leave it pending */
        fr_log(b->st, FR_LOG_WARN, "%s: the journal of keys in flight cannot be written",
               i->it.key);
    item_list_remove(&b->queue, i);
    item_list_push_back(&b->out, i);
    return &i->it;
}

size_t source_base_remaining(source_base *b)
{
    if (b->watch)
        watch_take_pushed(b);
    return b->queue.n;
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

/* Texts a record's attributes point at (its size, upload time, label). */
typedef struct record_texts {
    char label[1024], size[32], uploaded_ms[24];
} record_texts;

/* The record of i, with attrs (room for MAX_ATTRS) and the texts filled. */
static fr_record make_record(const source_base *b, const base_item *i, fr_attr *attrs,
                             const fr_attr *extra, size_t n_extra, record_texts *t)
{
    const source_item *it = &i->it;
    size_t n = 0;
    for (size_t e = 0; e < n_extra && n < MAX_ATTRS - 5; e++)
        attrs[n++] = extra[e];
    if (it->size == SOURCE_SIZE_UNKNOWN)
        snprintf(t->size, sizeof t->size, "unknown");
    else
        snprintf(t->size, sizeof t->size, "%" PRIu64, it->size);
    attrs[n++] = (fr_attr){"key", it->key};
    attrs[n++] = (fr_attr){"version", it->version};
    attrs[n++] = (fr_attr){"size", t->size};
    if (it->modified[0])
        attrs[n++] = (fr_attr){"last_modified", it->modified};
    if (i->modified_ms) { /* what a sink's max_age counts from (partfile.h) */
        snprintf(t->uploaded_ms, sizeof t->uploaded_ms, "%" PRId64, i->modified_ms);
        attrs[n++] = (fr_attr){"uploaded_ms", t->uploaded_ms};
    }
    parent_name(it->key, t->label, sizeof t->label);
    fr_record rec = {.key = it->key, .label = t->label, .attrs = attrs, .n_attrs = (uint32_t)n};
    rec.payload.kind = FR_KIND_BYTES; /* bytes carry no dims */
    const char *media = strcmp(b->media, "*") ? b->media : source_media(it->key);
    snprintf(rec.payload.media, sizeof rec.payload.media, "%s", media);
    return rec;
}

/* The item the plugin hands back, out of the out list. */
static base_item *hand_back(source_base *b, source_item *it)
{
    base_item *i = (base_item *)(void *)it;
    item_list_remove(&b->out, i);
    return i;
}

fr_status source_base_emit(source_base *b, source_item *it, fr_buffer *buf, void *data,
                           const fr_attr *extra, size_t n_extra)
{
    fr_attr attrs[MAX_ATTRS];
    record_texts texts;
    base_item *i = hand_back(b, it);
    fr_record rec = make_record(b, i, attrs, extra, n_extra, &texts);
    rec.payload.buffer = buf;
    rec.payload.data = data;
    rec.payload.size = (size_t)it->size;
    fr_metric_add(b->st, "objects", 1);
    fr_metric_add(b->st, "bytes", (double)it->size);
    if (source_journal_flush(b) != 0) /* its entry reaches the kernel before the ledger's SENT */
        fr_log(b->st, FR_LOG_WARN, "%s: the journal of keys in flight cannot be written", it->key);
    fr_status s = fr_emit_key(b->st, &rec, it->version);
    /* A pushed key: its pusher may acknowledge once the ledger has it. */
    if (i->n_waiters) /* durable in the journal (watch.c) and the ledger first */
        source_item_settle(b, i,
                           source_journal_sync(b) == 0 && fr_ledger_sync(b->st) == 0
                               ? SOURCE_PUSH_RECORDED
                               : SOURCE_PUSH_DROPPED);
    source_item_free(i);
    return s;
}

void source_base_reject(source_base *b, source_item *it, const char *reason, const fr_attr *extra,
                        size_t n_extra)
{
    fr_attr attrs[MAX_ATTRS];
    record_texts texts;
    base_item *i = hand_back(b, it);
    fr_record rec = make_record(b, i, attrs, extra, n_extra, &texts);
    rec.payload = (fr_payload){.kind = FR_KIND_NONE};
    fr_metric_add(b->st, "objects_failed", 1);
    fr_reject_key(b->st, &rec, it->version, reason);
    source_item_settle(b, i, SOURCE_PUSH_DEAD);
    source_item_free(i);
}
