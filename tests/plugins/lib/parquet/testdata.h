/*
 * testdata.h — the deterministic rows the sink tests write; testdata.mjs
 * computes the same rows in JavaScript to check what the readers return.
 *
 * Features are random float32 bit patterns (any sign and exponent, denormals
 * included, NaN and infinities excluded) so every read back is checked to
 * the bit; keys carry commas, quotes, newlines and non-ASCII text.
 */
#ifndef FLOWRUN_TEST_SINK_DATA_H
#define FLOWRUN_TEST_SINK_DATA_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static inline uint32_t testdata_bits(uint64_t row, uint32_t col)
{
    uint32_t x = (uint32_t)(row * 2654435761u) ^ (col * 40503u + 0x9e3779b9u);
    for (int i = 0; i < 3; i++) { /* xorshift32 rounds */
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
    }
    if ((x & 0x7f800000u) == 0x7f800000u) /* NaN or infinity: make it finite */
        x &= ~0x40000000u;
    if (row == 1 && col == 0)
        x = 0x80000000u; /* -0.0 must survive */
    return x;
}

static inline void testdata_features(uint64_t row, float *out, uint32_t width)
{
    for (uint32_t c = 0; c < width; c++) {
        uint32_t bits = testdata_bits(row, c);
        memcpy(&out[c], &bits, 4);
    }
}

static inline void testdata_key(uint64_t row, char *out, size_t size)
{
    if (row % 7 == 3)
        snprintf(out, size, "dir,with \"quotes\"\nand newline/%llu.jpg", (unsigned long long)row);
    else if (row % 11 == 5)
        snprintf(out, size, "Früchte/日本/%llu.jpg", (unsigned long long)row);
    else
        snprintf(out, size, "Training/Apple/%llu.jpg", (unsigned long long)row);
}

static inline void testdata_label(uint64_t row, char *out, size_t size)
{
    if (row % 13 == 6)
        snprintf(out, size, "%s", ""); /* unknown label */
    else
        snprintf(out, size, "Apple %llu", (unsigned long long)(row % 5));
}

/* 0 (no version: null) for every third row. */
static inline uint64_t testdata_version(uint64_t row)
{
    return row % 3 == 0 ? 0 : row + 1000000000000ull;
}

#endif
