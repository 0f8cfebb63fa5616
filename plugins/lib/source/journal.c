/*
 * journal.c — the base's side of the journal of keys in flight
 * (pending.c, source_internal.h): every key the base hands out, listed or
 * pushed, is journalled before it can reach the ledger as sent, and an
 * entry stays until the ledger has the key done, dead or held.  At start
 * each entry the ledger has not finished is read again, first: a run
 * killed while the key was sent but not committed leaves it pending in the
 * ledger, and a key deleted meanwhile is neither listed again nor pushed
 * again, so only the journal can bring it to its dead letter.
 */
#include <stdio.h>
#include <stdlib.h>

#include "source_internal.h"

static void recovered_done(void *user, source_push_outcome outcome)
{
    (void)user; /* the journal's own entry: nobody to answer */
    (void)outcome;
}

/* 1 when the ledger has the key finished (done, dead, held) or its change
 * is ignored: its entry goes. */
static int finished(const source_base *b, fr_key_state state)
{
    if (state == FR_KEY_CHANGED && b->on_change == SOURCE_IGNORE)
        return 1;
    return state >= FR_KEY_DONE && state != FR_KEY_SENT;
}

/* At start: an entry not finished is queued first, journalled already.
 * The journal holds each key and version once (an item is journalled once
 * a run, and a key recovered is not listed or pushed again while it
 * waits), so no lookup in the queue is needed: recovery stays linear. */
static int recover(void *user, const char *key, const char *version, const char *modified,
                   uint64_t size)
{
    source_base *b = user;
    if (!source_base_wanted(b, key) || finished(b, fr_key_state_of(b->st, key, version)))
        return 0;
    base_item *i = source_item_new(key, version, size, modified);
    push_waiter journal = {recovered_done, b};
    if (!i || source_item_add_waiter(b, i, &journal) != 0) {
        source_item_free(i);
        return -1;
    }
    i->journalled = 1;
    source_base_enqueue(b, i, 1);
    fr_metric_add(b->st, "keys_recovered", 1);
    fr_log(b->st, FR_LOG_INFO,
           "%s (version %s): sent, not committed when a run stopped: read again", key, version);
    return 1;
}

/* While running: an entry stays until its key is finished.  Entries not
 * finished are waiting, being read or sent by this run, never read again
 * here; the ledger alone is asked, so a compaction is linear. */
static int still_open(void *user, const char *key, const char *version, const char *modified,
                      uint64_t size)
{
    source_base *b = user;
    (void)modified;
    (void)size;
    return !finished(b, fr_key_state_of(b->st, key, version));
}

int source_journal_open(source_base *b, char *err, size_t err_size)
{
    const char *dir = fr_state_dir(b->st);
    if (!dir || !*dir || b->replicas > 1) /* replicas would share one file */
        return 0;
    if (!(b->journal = pending_open(dir))) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    return pending_rewrite(b->journal, recover, b, err, err_size);
}

int source_journal_item(source_base *b, base_item *i)
{
    if (!b->journal || i->journalled)
        return 0;
    const source_item *it = &i->it;
    if (pending_append(b->journal, it->key, it->version, it->modified, it->size) != 0)
        return -1;
    i->journalled = 1;
    return 0;
}

int source_journal_flush(source_base *b)
{
    /* One write(2) of what was appended since (a page of listed keys handed
     * out, or a few), no fsync: the entry must reach the kernel before the
     * ledger hears the key as sent, and what the kernel holds survives a
     * kill -9 of the run.  Only a machine crash could lose it; an fsync per
     * emitted key would cost a disk flush each (milliseconds) on a 90,000-
     * key batch.  A pushed key's entry is synced instead (source_journal_
     * sync), since its pusher is told it is recorded. */
    return b->journal ? pending_flush(b->journal) : 0;
}

int source_journal_sync(source_base *b)
{
    return b->journal ? pending_sync(b->journal) : 0;
}

void source_journal_compact(source_base *b)
{
    char err[4400];
    if (b->journal && pending_rewrite_due(b->journal) &&
        pending_rewrite(b->journal, still_open, b, err, sizeof err) != 0)
        fr_log(b->st, FR_LOG_WARN, "journal of keys in flight: %s", err);
}
