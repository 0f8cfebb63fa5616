/* arena.c — greedy placement: biggest buffers first, each at the lowest
 * offset free of every already placed buffer that is alive at the same time.
 * This is the classic "greedy by size" planner; for ResNet50 it needs little
 * more than the two largest live activations. */
#include "arena.h"

/* Insertion sort of indices by size, largest first: a few hundred items,
 * and no global comparator state (replicas plan concurrently). */
static void sort_by_size(const arena_item *items, size_t n, int *order)
{
    for (size_t i = 0; i < n; i++) {
        int v = (int)i;
        size_t j = i;
        for (; j > 0 && items[order[j - 1]].bytes < items[v].bytes; j--)
            order[j] = order[j - 1];
        order[j] = v;
    }
}

static size_t round_up(size_t n)
{
    return (n + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
}

static int overlaps_in_time(const arena_item *a, const arena_item *b)
{
    return a->first <= b->last && b->first <= a->last;
}

/* The lowest offset where item fits beside the placed items alive with it. */
static size_t lowest_fit(const arena_item *items, const int *order, size_t placed,
                         const arena_item *item)
{
    size_t offset = 0;
    int moved = 1;
    /* Restart the scan whenever the candidate moves past a collision: at
     * most `placed` moves, each past a distinct buffer. */
    while (moved) {
        moved = 0;
        for (size_t i = 0; i < placed; i++) {
            const arena_item *o = &items[order[i]];
            if (!overlaps_in_time(o, item))
                continue;
            size_t end = o->offset + round_up(o->bytes);
            if (offset < end && o->offset < offset + round_up(item->bytes)) {
                offset = end;
                moved = 1;
            }
        }
    }
    return offset;
}

size_t arena_place(arena_item *items, size_t n, int *order)
{
    sort_by_size(items, n, order);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        arena_item *item = &items[order[i]];
        item->offset = lowest_fit(items, order, i, item);
        if (item->offset + round_up(item->bytes) > total)
            total = item->offset + round_up(item->bytes);
    }
    return total;
}
