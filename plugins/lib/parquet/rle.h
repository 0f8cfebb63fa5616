/*
 * rle.h — the RLE / bit-packed hybrid encoding Parquet uses for definition
 * and repetition levels and for dictionary indices.
 */
#ifndef FLOWRUN_PQ_RLE_H
#define FLOWRUN_PQ_RLE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Appends one run: count copies of value (< 2^bit_width). */
void pq_rle_run(pq_buf *out, uint32_t value, size_t count, int bit_width);

/* Appends values[0..n), each < 2^bit_width (1..32), choosing RLE runs for
 * repeats of 8 or more and bit-packed groups of 8 otherwise. */
void pq_rle_encode(pq_buf *out, const uint32_t *values, size_t n, int bit_width);

/* Bits needed for values 0..max_value (at least 1: some readers reject 0). */
int pq_bit_width(uint32_t max_value);

#endif
