/*
 * dict.h — the per-chunk dictionary of a BYTE_ARRAY column (labels): maps a
 * string to its index, keeping the entries PLAIN-encoded for the dictionary
 * page.
 */
#ifndef FLOWRUN_PQ_DICT_H
#define FLOWRUN_PQ_DICT_H

#include "column.h"

/* The index of p[0..n) in c's dictionary, added if new; UINT32_MAX when out
 * of memory (c->dict.failed is then set too). */
uint32_t pq_dict_index(pq_column *c, const void *p, uint32_t n);

/* Empties the dictionary for the next column chunk. */
void pq_dict_reset(pq_column *c);

#endif
