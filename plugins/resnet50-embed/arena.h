/*
 * arena.h — places buffers with known lifetimes in one allocation.
 *
 * Each buffer lives from the step that writes it to the last step that reads
 * it (inclusive).  Buffers whose lifetimes overlap get disjoint byte ranges;
 * the others may share.  Planning once per batch size means no allocation
 * while running.
 */
#ifndef RESNET50_EMBED_ARENA_H
#define RESNET50_EMBED_ARENA_H

#include <stddef.h>

#define ARENA_ALIGN 64

typedef struct arena_item {
    size_t bytes;
    int first, last; /* steps, inclusive */
    size_t offset;   /* set by arena_place */
} arena_item;

/* Sets every item's offset and returns the arena size in bytes.  items is
 * borrowed; order (scratch, n ints) is caller memory used while placing. */
size_t arena_place(arena_item *items, size_t n, int *order);

#endif
