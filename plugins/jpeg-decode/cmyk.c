/*
 * cmyk.c — inverted CMYK to RGB.
 *
 * Adobe writes CMYK JPEGs inverted (a stored value s is ink 255 - s);
 * Pillow reads them as "CMYK;I" and converts with
 * R = (255 - K) - (C·(255 - K)) / 255, the division rounded as Pillow's
 * MULDIV255 does.  In stored values, 255 - K = s_k and C = 255 - s_c.
 */
#include "cmyk.h"

static inline uint8_t cmyk_muldiv255(uint32_t a, uint32_t b)
{
    uint32_t t = a * b + 128;
    return (uint8_t)(((t >> 8) + t) >> 8);
}

void cmyk_to_rgb(const uint8_t *cmyk, uint8_t *rgb, size_t n)
{
    for (size_t i = 0; i < n; i++, cmyk += 4, rgb += 3) {
        uint32_t nk = cmyk[3];
        for (int c = 0; c < 3; c++)
            rgb[c] = (uint8_t)(nk - cmyk_muldiv255(255u - cmyk[c], nk));
    }
}
