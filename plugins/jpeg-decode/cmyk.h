/*
 * cmyk.h — CMYK pixels as libjpeg returns them from Adobe CMYK/YCCK files
 * (stored inverted) to RGB, the way Pillow's convert("RGB") does.
 */
#ifndef FLOWRUN_JPEG_CMYK_H
#define FLOWRUN_JPEG_CMYK_H

#include <stddef.h>
#include <stdint.h>

/* cmyk: n × 4 bytes, rgb: n × 3 bytes; both borrowed, not overlapping. */
void cmyk_to_rgb(const uint8_t *cmyk, uint8_t *rgb, size_t n);

#endif
