/*
 * Hostile pipeline files: alias bombs bounded by the bytes they expand to
 * (peak RSS measured), nesting refused at the first level too deep, and
 * very long files read in time linear in their size (20,000 keys took
 * seconds when duplicates were found by comparing every pair; the test's
 * own timeout is the bound, no timing is asserted).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "check.h"
#include "config.h"
#include "diag.h"

/* The messages of loading yaml as "h.yaml" (malloc'd). */
static char *messages(const char *yaml)
{
    diag *d = diag_new();
    config_free(config_load_string(yaml, "h.yaml", d));
    char *msgs = diag_join(d);
    diag_free(d);
    return msgs;
}

/* A growing text, aborting the test when out of memory. */
typedef struct text {
    char *s;
    size_t len, cap;
} text;

static void put(text *t, const char *s)
{
    size_t n = strlen(s);
    if (t->len + n + 1 > t->cap) {
        t->cap = 2 * (t->len + n + 1);
        t->s = realloc(t->s, t->cap);
        if (!t->s)
            abort();
    }
    memcpy(t->s + t->len, s, n + 1);
    t->len += n;
}

static long peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;
}

/* 1 MB of aliases to a 100 KB scalar would be 10 GB expanded: refused at
 * 16 MiB, with memory to match. */
static void test_alias_bomb(void)
{
    text t = {0};
    put(&t, "big: &big \"");
    for (int i = 0; i < 100000; i++)
        put(&t, "x");
    put(&t, "\"\nbomb: [");
    for (int i = 0; i < 250000; i++)
        put(&t, i ? ",*big" : "*big");
    put(&t, "]\nstages: {a: {plugin: p}}\n");
    char *msgs = messages(t.s);
    CHECK_CONTAINS(msgs, "h.yaml:");
    CHECK_CONTAINS(msgs, "16 MiB once aliases are expanded");
    CHECK(peak_rss_mb() < 400);
    free(msgs);
    free(t.s);

    /* Nested aliases (billion laughs): the same bound. */
    msgs = messages("a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                    "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
                    "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
                    "stages: {a: {plugin: p}}\n");
    CHECK_CONTAINS(msgs, "once aliases are expanded");
    free(msgs);

    msgs = messages("stages: &a {x: *a}\n");
    CHECK_CONTAINS(msgs, "h.yaml:1:16: cannot read the YAML: an alias inside its own anchor");
    free(msgs);
    msgs = messages("stages: *nowhere\n");
    CHECK_CONTAINS(msgs, "an alias to no anchor");
    free(msgs);
    /* An alias that deepens nesting past the bound through copies. */
    msgs = messages(
        "a: &a [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[x]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n"
        "b: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[*a]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n");
    CHECK_CONTAINS(msgs, "nested deeper than 64 levels");
    free(msgs);
}

/* 200,000 levels: refused at the 65th (the top mapping is the first), not
 * scanned to the end. */
static void test_deep_nesting(void)
{
    text t = {0};
    put(&t, "stages: ");
    for (int i = 0; i < 200000; i++)
        put(&t, "[");
    for (int i = 0; i < 200000; i++)
        put(&t, "]");
    char *msgs = messages(t.s);
    CHECK_CONTAINS(msgs, "h.yaml:1:72: cannot read the YAML: nested deeper than 64 levels");
    free(msgs);
    free(t.s);
}

/* 20,000 keys, every other one a duplicate: each reported once, in file
 * order, naming the first. */
static void test_many_keys(void)
{
    text t = {0};
    put(&t, "stages:\n  a:\n    plugin: p\n");
    char line[64];
    for (int i = 0; i < 20000; i++) {
        snprintf(line, sizeof line, "    k%d: v\n", i / 2);
        put(&t, line);
    }
    char *msgs = messages(t.s);
    CHECK_CONTAINS(msgs, "h.yaml:5:5: stage \"a\": duplicate key \"k0\" (first at line 4)\n"
                         "h.yaml:7:5: stage \"a\": duplicate key \"k1\" (first at line 6)\n");
    size_t dups = 0;
    for (const char *p = msgs; (p = strstr(p, "duplicate key")); p++)
        dups++;
    CHECK_INT(dups, 10000);
    free(msgs);
    free(t.s);
}

/* Inputs the fuzzer (tests/fuzz/config) found: each once a leak or crash. */
static void test_fuzz_findings(void)
{
    /* a flow mapping's key whose value never comes: the key leaked */
    char *msgs = messages("[;V:");
    CHECK_CONTAINS(msgs, "h.yaml:2:1: YAML syntax error: did not find expected node content");
    free(msgs);
}

int main(void)
{
    test_fuzz_findings();
    test_deep_nesting();
    test_many_keys();
    test_alias_bomb();
    return check_exit();
}
