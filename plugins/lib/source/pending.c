/*
 * pending.c — the journal of keys a source has in flight
 * (source_internal.h, journal.c): one entry per key appended as it is
 * pushed or handed out, written before the ledger hears it sent (synced
 * before a pusher is answered), and rewritten with only the entries still
 * wanted.  Why: once a key's event is answered the store never sends it
 * again, and a key deleted before a restart is not listed either; without
 * the journal a key in flight at a crash would stay pending in the ledger
 * forever instead of being read again (and, gone, dead-lettered).
 *
 * An entry is "<key length> <version length> <modified length> <size>\n"
 * then the three strings and "\n": keys may hold any byte but NUL.  A torn
 * last entry (a crash while appending) is ignored: its key was not yet
 * answered, so the store delivers it again.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source_internal.h"

#define REWRITE_AFTER 1024 /* entries appended before a rewrite is considered */
#define MAX_FIELD     65536

struct pending_journal {
    char *path; /* owned: <state dir>/pushed-keys */
    FILE *f;    /* appending; NULL until the first rewrite */
    size_t appended, kept;
};

pending_journal *pending_open(const char *dir)
{
    pending_journal *j = calloc(1, sizeof *j);
    size_t size = strlen(dir) + sizeof "/pushed-keys";
    if (j && (j->path = malloc(size)))
        snprintf(j->path, size, "%s/pushed-keys", dir);
    if (!j || !j->path) {
        free(j);
        return NULL;
    }
    return j;
}

void pending_close(pending_journal *j)
{
    if (!j)
        return;
    if (j->f)
        fclose(j->f);
    free(j->path);
    free(j);
}

static int put_entry(FILE *f, const char *key, const char *version, const char *modified,
                     uint64_t size)
{
    return fprintf(f, "%zu %zu %zu %" PRIu64 "\n%s%s%s\n", strlen(key), strlen(version),
                   strlen(modified), size, key, version, modified) < 0
               ? -1
               : 0;
}

/* Reads field i of an entry (len bytes) into fields[i] (malloc'd). */
static int read_field(FILE *f, size_t len, char **field)
{
    if (len > MAX_FIELD || !(*field = malloc(len + 1)))
        return -1;
    if (fread(*field, 1, len, f) != len)
        return -1;
    (*field)[len] = '\0';
    return 0;
}

/* One entry read back; its strings malloc'd. */
typedef struct journal_entry {
    char *field[3]; /* key, version, modified */
    uint64_t size;
    int superseded; /* a later entry names the same key */
} journal_entry;

typedef struct entry_list {
    journal_entry *at;
    size_t n, cap;
} entry_list;

static void entries_free(entry_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        for (int k = 0; k < 3; k++)
            free(l->at[i].field[k]);
    free(l->at);
}

/* Reads every whole entry of in into l; a torn tail ends the journal.
 * 0, or -1 when out of memory. */
static int read_entries(FILE *in, entry_list *l)
{
    size_t len[3];
    uint64_t size;
    while (in && fscanf(in, "%zu %zu %zu %" SCNu64, &len[0], &len[1], &len[2], &size) == 4 &&
           fgetc(in) == '\n') {
        journal_entry e = {{NULL, NULL, NULL}, size, 0};
        int whole = read_field(in, len[0], &e.field[0]) == 0 &&
                    read_field(in, len[1], &e.field[1]) == 0 &&
                    read_field(in, len[2], &e.field[2]) == 0 && fgetc(in) == '\n';
        if (whole && l->n == l->cap) {
            size_t cap = l->cap ? 2 * l->cap : 64;
            journal_entry *grown = realloc(l->at, cap * sizeof *grown);
            if (grown) {
                l->at = grown;
                l->cap = cap;
            }
        }
        if (!whole || l->n == l->cap) { /* torn tail, or out of memory */
            for (int k = 0; k < 3; k++)
                free(e.field[k]);
            return whole ? -1 : 0;
        }
        l->at[l->n++] = e;
    }
    return 0;
}

static int by_key_then_order(const void *a, const void *b)
{
    const journal_entry *const *x = a, *const *y = b;
    int c = strcmp((*x)->field[0], (*y)->field[0]);
    return c ? c : (*x < *y ? -1 : *x > *y);
}

/* Marks every entry that a later entry of the same key supersedes: the
 * later one is the newer version (entries are appended as keys are
 * pushed or handed out), and the ledger, which knows one version per key,
 * answers "changed" for the older one whether it is pending or
 * long replaced: only the last entry of a key can be in flight. */
static int mark_superseded(entry_list *l)
{
    journal_entry **order = malloc((l->n ? l->n : 1) * sizeof *order);
    if (!order)
        return -1;
    for (size_t i = 0; i < l->n; i++)
        order[i] = &l->at[i];
    qsort(order, l->n, sizeof *order, by_key_then_order);
    for (size_t i = 0; i + 1 < l->n; i++)
        order[i]->superseded = strcmp(order[i]->field[0], order[i + 1]->field[0]) == 0;
    free(order);
    return 0;
}

/* Copies the entries of in that keep() wants (of those no later entry
 * supersedes) into out; the count kept, or -1 (keep's error, or out). */
static long copy_wanted(FILE *in, FILE *out, pending_keep_fn keep, void *user)
{
    entry_list l = {NULL, 0, 0};
    long kept = read_entries(in, &l) == 0 && mark_superseded(&l) == 0 ? 0 : -1;
    for (size_t i = 0; kept >= 0 && i < l.n; i++) {
        journal_entry *e = &l.at[i];
        int wanted = e->superseded ? 0 : keep(user, e->field[0], e->field[1], e->field[2], e->size);
        if (wanted > 0 && put_entry(out, e->field[0], e->field[1], e->field[2], e->size) == 0)
            kept++;
        else if (wanted != 0)
            kept = -1;
    }
    entries_free(&l);
    return kept;
}

/* Makes path's new content (tmp, written and synced) the journal and
 * opens it for appending. */
static int replace_with(pending_journal *j, FILE *tmp, const char *tmp_path)
{
    if (fflush(tmp) != 0 || fsync(fileno(tmp)) != 0 || rename(tmp_path, j->path) != 0)
        return -1;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", j->path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    int fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd); /* the rename itself durable */
        close(fd);
    }
    if (j->f)
        fclose(j->f);
    j->f = tmp;
    return 0;
}

int pending_rewrite(pending_journal *j, pending_keep_fn keep, void *user, char *err,
                    size_t err_size)
{
    char tmp_path[4200];
    snprintf(tmp_path, sizeof tmp_path, "%s.tmp", j->path);
    if (j->f)
        fflush(j->f);
    FILE *in = fopen(j->path, "r");
    if (!in && errno != ENOENT) {
        snprintf(err, err_size, "%s: %s", j->path, strerror(errno));
        return -1;
    }
    FILE *tmp = fopen(tmp_path, "w");
    long kept = tmp ? copy_wanted(in, tmp, keep, user) : -1;
    int saved = errno;
    if (in)
        fclose(in);
    if (kept < 0 || replace_with(j, tmp, tmp_path) != 0) {
        snprintf(err, err_size, "%s: cannot rewrite: %s", j->path,
                 strerror(kept < 0 ? saved : errno));
        if (tmp)
            fclose(tmp);
        unlink(tmp_path);
        return -1;
    }
    j->kept = (size_t)kept;
    j->appended = 0;
    return 0;
}

int pending_append(pending_journal *j, const char *key, const char *version, const char *modified,
                   uint64_t size)
{
    if (!j->f || put_entry(j->f, key, version, modified ? modified : "", size) != 0)
        return -1;
    j->appended++;
    return 0;
}

int pending_flush(pending_journal *j)
{
    return j->f && fflush(j->f) == 0 ? 0 : -1;
}

int pending_sync(pending_journal *j)
{
    return j->f && fflush(j->f) == 0 && fdatasync(fileno(j->f)) == 0 ? 0 : -1;
}

int pending_rewrite_due(const pending_journal *j)
{
    return j->appended >= REWRITE_AFTER && j->appended >= 2 * j->kept;
}
