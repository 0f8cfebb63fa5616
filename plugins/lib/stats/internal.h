/*
 * internal.h — what the library's files share: the layout of stats_moments
 * (file.c serialises it) and allocation of a stats_pca.  Private to plugins/lib/stats.
 */
#ifndef FLOWRUN_STATS_INTERNAL_H
#define FLOWRUN_STATS_INTERNAL_H

#include <stdint.h>

#include "stats.h"

/* Everything is relative to a reference row `shift` (the first row seen):
 * sum = sum(x - shift), sq = sum((x - shift)^2), cross = sum((x - shift)
 * (x - shift)^T) (upper triangle, row-major).  Shifting keeps the sums
 * small when the data has a large mean, so sq - sum^2/n cancels little. */
struct stats_moments {
    uint32_t dim;
    int has_shift; /* 0 until the first row or merge */
    uint64_t count;
    double *shift, *sum, *sq; /* dim each */
    double *cross;            /* dim x dim, or NULL without cross-product */
    /* Pending rows, shifted, not yet in cross: STATS_BLOCK_ROWS x dim. */
    double *block;
    uint32_t pending;
};

/* Adds the pending block into the cross-product. */
void moments_settle(stats_moments *m);

/* (Re)allocates p's arrays for dim x k; -1 when out of memory. */
int stats_pca_alloc(stats_pca *p, uint32_t dim, uint32_t k);

/* The number of rows a spill opened on an existing file holds (counted by
 * reading it back). */
void spill_set_rows(stats_spill *s, uint64_t rows);

#endif
