/* rle.c — RLE / bit-packed hybrid encoder (see rle.h). */
#include "rle.h"

void pq_rle_run(pq_buf *out, uint32_t value, size_t count, int bit_width)
{
    pq_buf_varint(out, (uint64_t)count << 1);
    for (int b = 0; b < (bit_width + 7) / 8; b++)
        pq_buf_byte(out, (uint8_t)(value >> (8 * b)));
}

/* Length of the run of equal values starting at i, counted up to limit. */
static size_t run_length(const uint32_t *v, size_t i, size_t n, size_t limit)
{
    size_t r = 1;
    while (i + r < n && r < limit && v[i + r] == v[i])
        r++;
    return r;
}

/* Packs groups of 8 values LSB first; the tail of the last group is zeros. */
static void bit_pack(pq_buf *out, const uint32_t *v, size_t count, int bit_width)
{
    size_t groups = (count + 7) / 8;
    pq_buf_varint(out, (uint64_t)groups << 1 | 1);
    for (size_t g = 0; g < groups; g++) {
        uint64_t acc = 0;
        int bits = 0;
        for (size_t k = 0; k < 8; k++) {
            size_t i = g * 8 + k;
            acc |= (uint64_t)(i < count ? v[i] : 0) << bits;
            bits += bit_width;
            while (bits >= 8) {
                pq_buf_byte(out, (uint8_t)acc);
                acc >>= 8;
                bits -= 8;
            }
        }
    }
}

void pq_rle_encode(pq_buf *out, const uint32_t *values, size_t n, int bit_width)
{
    size_t i = 0;
    while (i < n) {
        size_t r = run_length(values, i, n, SIZE_MAX);
        if (r >= 8) {
            pq_rle_run(out, values[i], r, bit_width);
            i += r;
            continue;
        }
        /* Bit-pack whole groups until a long run starts on a group boundary;
         * only the last group of the stream may be padded. */
        size_t j = i;
        do
            j += 8;
        while (j < n && run_length(values, j, n, 8) < 8);
        if (j > n)
            j = n;
        bit_pack(out, values + i, j - i, bit_width);
        i = j;
    }
}

int pq_bit_width(uint32_t max_value)
{
    int w = 1;
    while (w < 32 && (max_value >> w) != 0)
        w++;
    return w;
}
