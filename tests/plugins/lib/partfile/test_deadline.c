/*
 * test_deadline — the arithmetic behind a rolling part's due time
 * (plugins/lib/partfile/deadline.c): a row is committed within max_age of
 * its upload, counted on the wall clock and moved onto the monotonic one,
 * less the time a publish takes; a part already due stays open a few
 * publish times (a backlog fills parts), never past its max_age; the
 * publish estimate rises at once and falls slowly.
 */
#include <stdint.h>

#include "../../../support/check.h"
#include "partfile.h"

/* The monotonic clock reads 5000 when the wall clock reads 1.7e12. */
#define MONO 5000
#define WALL 1700000000000

static void test_row_due(void)
{
    /* Uploaded 300 ms ago, max_age 1 s, publish 40 ms: due in 660 ms. */
    CHECK(partfile_row_due(MONO, WALL, WALL - 300, 1000, 40) == MONO + 660);
    /* Uploaded just now: max_age less the publish. */
    CHECK(partfile_row_due(MONO, WALL, WALL, 1000, 40) == MONO + 960);
    /* Uploaded two hours ago (a backlog, a multipart upload's start): due
     * long ago, so the part publishes at once. */
    CHECK(partfile_row_due(MONO, WALL, WALL - 7200000, 3600000, 40) < MONO);
    /* An upload time ahead of this clock (the store's clock is): later;
     * the part's own max_age (partfile_due) still bounds it. */
    CHECK(partfile_row_due(MONO, WALL, WALL + 500, 1000, 0) == MONO + 1500);
    /* Unknown upload time, or no max_age: no deadline from the row. */
    CHECK(partfile_row_due(MONO, WALL, 0, 1000, 40) == INT64_MAX);
    CHECK(partfile_row_due(MONO, WALL, -1, 1000, 40) == INT64_MAX);
    CHECK(partfile_row_due(MONO, WALL, WALL, 0, 40) == INT64_MAX);
}

static void test_part_due(void)
{
    /* Begun at 100, max_age 1000: due at 1100 without row deadlines. */
    CHECK(partfile_part_due(100, 1000, INT64_MAX, 0) == 1100);
    /* A row due at 600: then. */
    CHECK(partfile_part_due(100, 1000, 600, 0) == 600);
    /* A row due long ago (an old upload): at once, i.e. when begun ... */
    CHECK(partfile_part_due(100, 1000, -5000, 0) == 100);
    /* ... or once open for min_open (4 publishes), so a backlog fills parts. */
    CHECK(partfile_part_due(100, 1000, -5000, 40) == 140);
    CHECK(partfile_part_due(100, 1000, 600, 40) == 600); /* a later row deadline wins */
    /* Never later than max_age after its beginning. */
    CHECK(partfile_part_due(100, 1000, -5000, 5000) == 1100);
    CHECK(partfile_part_due(100, 0, 600, 0) == INT64_MAX); /* no max_age: no deadline */
}

static void test_publish_estimate(void)
{
    CHECK(partfile_publish_estimate(0, 30) == 30);  /* the first publish */
    CHECK(partfile_publish_estimate(30, 80) == 80); /* slower: at once */
    CHECK(partfile_publish_estimate(80, 0) == 70);  /* faster: an eighth of the way */
    CHECK(partfile_publish_estimate(10, 9) == 9);   /* the eighth rounds up: it reaches it */
    CHECK(partfile_publish_estimate(10, -5) == 8);  /* a clock step back counts as 0 */
    int64_t e = 200;
    for (int i = 0; i < 100; i++)
        e = partfile_publish_estimate(e, 20);
    CHECK(e == 20);
}

int main(void)
{
    test_row_due();
    test_part_due();
    test_publish_estimate();
    return check_exit();
}
