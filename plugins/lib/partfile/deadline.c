/* deadline.c — when a rolling part must be published so that each of its
 * rows is committed within max_age of its upload (see partfile.h). */
#include "partfile.h"

int64_t partfile_row_due(int64_t now_ms, int64_t wall_ms, int64_t uploaded_ms, int64_t max_age_ms,
                         int64_t publish_ms)
{
    if (uploaded_ms <= 0 || max_age_ms <= 0)
        return INT64_MAX;
    /* The upload's deadline on the wall clock, moved onto the monotonic
     * one now, so that a later jump of the wall clock changes nothing. */
    return now_ms + (uploaded_ms + max_age_ms - wall_ms) - publish_ms;
}

int64_t partfile_part_due(int64_t opened_ms, int64_t max_age_ms, int64_t rows_due_ms,
                          int64_t min_open_ms)
{
    if (max_age_ms <= 0)
        return INT64_MAX;
    int64_t aged = opened_ms + max_age_ms, floor = opened_ms + min_open_ms;
    int64_t due = rows_due_ms > floor ? rows_due_ms : floor;
    return due < aged ? due : aged;
}

int64_t partfile_publish_estimate(int64_t previous_ms, int64_t measured_ms)
{
    if (measured_ms < 0)
        measured_ms = 0;
    if (measured_ms >= previous_ms)
        return measured_ms; /* a slower publish counts at once */
    /* A faster one lowers the estimate by an eighth of the difference per
     * publish: one quick part does not make the next deadline tight. */
    return previous_ms - (previous_ms - measured_ms + 7) / 8;
}
