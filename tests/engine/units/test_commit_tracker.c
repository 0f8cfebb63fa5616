/* An id is done when every sink below its source has committed it. */
#include <stdio.h>

#include "check.h"
#include "commit_tracker.h"

int main(void)
{
    commit_tracker *t = tracker_new();
    REQUIRE(t);
    CHECK_INT(tracker_add(t, "src:a", 2, 1), 0); /* CSV committed */
    CHECK_INT(tracker_pending(t), 1);
    CHECK_INT(tracker_add(t, "src:a", 2, 1), 1); /* Parquet too: done */
    CHECK_INT(tracker_pending(t), 0);
    CHECK_INT(tracker_add(t, "src:b", 2, 2), 1); /* a dead letter above both sinks */
    CHECK_INT(tracker_add(t, "src:c", 1, 1), 1);
    /* Many ids in flight: the table grows and loses none. */
    char id[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(id, sizeof id, "src:%d", i);
        tracker_add(t, id, 3, 1);
    }
    CHECK_INT(tracker_pending(t), 20000);
    int done = 0;
    for (int i = 0; i < 20000; i++) {
        snprintf(id, sizeof id, "src:%d", i);
        done += tracker_add(t, id, 3, 2);
    }
    CHECK_INT(done, 20000);
    CHECK_INT(tracker_pending(t), 0);
    tracker_free(t);
    return check_exit();
}
