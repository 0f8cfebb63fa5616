/*
 * test_pending — the journal of pushed keys (plugins/lib/source/pending.c):
 * entries with any byte but NUL in their strings come back as written, a
 * rewrite keeps only what its callback wants (and survives as the file), a
 * torn last entry (a crash while appending) is ignored, a later entry of a
 * key supersedes its earlier ones, and a callback's
 * error fails the rewrite without losing the journal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../support/check.h"
#include "source_internal.h"

typedef struct seen {
    char text[2048];  /* "key|version|modified|size;" per entry */
    const char *keep; /* the key to keep, or NULL: every one */
    int fail;         /* return -1 */
} seen;

static int collect(void *user, const char *key, const char *version, const char *modified,
                   uint64_t size)
{
    seen *s = user;
    size_t n = strlen(s->text);
    snprintf(s->text + n, sizeof s->text - n, "%s|%s|%s|%llu;", key, version, modified,
             (unsigned long long)size);
    if (s->fail)
        return -1;
    return !s->keep || strcmp(key, s->keep) == 0;
}

/* The entries of the journal in dir, through a rewrite that keeps them all. */
static const char *entries(const char *dir)
{
    static seen all;
    memset(&all, 0, sizeof all);
    char err[256];
    pending_journal *j = pending_open(dir);
    CHECK(pending_rewrite(j, collect, &all, err, sizeof err) == 0);
    pending_close(j);
    return all.text;
}

int main(void)
{
    char dir[] = "/tmp/pending-XXXXXX", path[64], err[256];
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/pushed-keys", dir);

    pending_journal *j = pending_open(dir);
    seen none = {0};
    CHECK(pending_rewrite(j, collect, &none, err, sizeof err) == 0); /* no file yet */
    CHECK_STR(none.text, "");
    CHECK(pending_append(j, "in/a b.jpg", "e1", "2026-12-05T00:29:44.801138Z", 10) == 0);
    CHECK(pending_append(j, "in/line\nbreak 7 8 9\n.jpg", "e2", NULL, 20) == 0);
    CHECK(pending_append(j, "in/é.jpg", "", "", 0) == 0);
    CHECK(pending_sync(j) == 0);
    pending_close(j);
    CHECK_STR(entries(dir), "in/a b.jpg|e1|2026-12-05T00:29:44.801138Z|10;"
                            "in/line\nbreak 7 8 9\n.jpg|e2||20;in/é.jpg|||0;");

    FILE *f = fopen(path, "a"); /* a crash in the middle of an entry */
    CHECK(f && fputs("12 2 0 5\nin/torn", f) >= 0);
    if (f)
        fclose(f);
    CHECK_STR(entries(dir), "in/a b.jpg|e1|2026-12-05T00:29:44.801138Z|10;"
                            "in/line\nbreak 7 8 9\n.jpg|e2||20;in/é.jpg|||0;");

    j = pending_open(dir);
    seen fail = {.fail = 1};
    CHECK(pending_rewrite(j, collect, &fail, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "pushed-keys");
    pending_close(j);
    CHECK_STR(entries(dir), "in/a b.jpg|e1|2026-12-05T00:29:44.801138Z|10;"
                            "in/line\nbreak 7 8 9\n.jpg|e2||20;in/é.jpg|||0;");

    j = pending_open(dir);
    seen one = {.keep = "in/line\nbreak 7 8 9\n.jpg"};
    CHECK(pending_rewrite(j, collect, &one, err, sizeof err) == 0);
    CHECK(pending_append(j, "in/new.jpg", "e3", NULL, 3) == 0); /* appends after the rewrite */
    CHECK(pending_sync(j) == 0);
    pending_close(j);
    CHECK_STR(entries(dir), "in/line\nbreak 7 8 9\n.jpg|e2||20;in/new.jpg|e3||3;");

    /* A later entry of a key supersedes the earlier ones (an overwrite's
     * new version): the callback never sees them, the rewrite drops them,
     * and the others keep their order. */
    j = pending_open(dir);
    CHECK(pending_rewrite(j, collect, &none, err, sizeof err) == 0);
    CHECK(pending_append(j, "in/line\nbreak 7 8 9\n.jpg", "e4", NULL, 21) == 0);
    CHECK(pending_append(j, "in/z.jpg", "e5", NULL, 5) == 0);
    CHECK(pending_append(j, "in/new.jpg", "e6", NULL, 6) == 0);
    CHECK(pending_sync(j) == 0);
    pending_close(j);
    CHECK_STR(entries(dir), "in/line\nbreak 7 8 9\n.jpg|e4||21;in/z.jpg|e5||5;in/new.jpg|e6||6;");

    unlink(path);
    rmdir(dir);
    return check_exit();
}
