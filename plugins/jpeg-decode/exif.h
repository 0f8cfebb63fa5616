/*
 * exif.h — the EXIF orientation of a JPEG file, and turning pixels upright.
 */
#ifndef FLOWRUN_JPEG_EXIF_H
#define FLOWRUN_JPEG_EXIF_H

#include <stddef.h>
#include <stdint.h>

/* The Orientation tag (0x0112) of the first APP1 "Exif" segment of the
 * JPEG in data[0..size) (borrowed), 1..8; 1 (upright) when there is none or
 * it is malformed.  Reads only inside the buffer. */
int exif_orientation(const uint8_t *data, size_t size);

/* Whether orientation o swaps width and height (5..8). */
static inline int exif_swaps_axes(int o)
{
    return o >= 5 && o <= 8;
}

/* Writes src (h × w × 3, as stored) upright into dst, as Pillow's
 * ImageOps.exif_transpose does: dst is h × w × 3, or w × h × 3 when
 * exif_swaps_axes(o).  Both borrowed, not overlapping. */
void exif_apply(int o, const uint8_t *src, uint32_t w, uint32_t h, uint8_t *dst);

#endif
