/*
 * exif.c — EXIF orientation: find the tag, then flip or rotate the pixels.
 *
 * The JPEG is walked marker by marker up to the first scan; in the APP1
 * "Exif\0\0" segment the TIFF header gives the byte order and IFD0, whose
 * entries are searched for Orientation (SHORT, count 1).  Every offset is
 * checked against the segment before it is read.
 */
#include "exif.h"

#include <string.h>

static uint32_t exif_u16(const uint8_t *p, int big)
{
    return big ? (uint32_t)p[0] << 8 | p[1] : (uint32_t)p[1] << 8 | p[0];
}

static uint32_t exif_u32(const uint8_t *p, int big)
{
    return big ? exif_u16(p, 1) << 16 | exif_u16(p + 2, 1)
               : exif_u16(p + 2, 0) << 16 | exif_u16(p, 0);
}

/* The orientation in a TIFF block t[0..n), or 1. */
static int exif_tiff_orientation(const uint8_t *t, size_t n)
{
    if (n < 8 || !((t[0] == 'I' && t[1] == 'I') || (t[0] == 'M' && t[1] == 'M')))
        return 1;
    int big = t[0] == 'M';
    uint32_t ifd = exif_u32(t + 4, big);
    if (exif_u16(t + 2, big) != 42 || ifd > n - 2)
        return 1;
    uint32_t count = exif_u16(t + ifd, big);
    for (uint32_t i = 0; i < count; i++) {
        size_t e = (size_t)ifd + 2 + (size_t)i * 12;
        if (e + 12 > n)
            return 1;
        if (exif_u16(t + e, big) == 0x0112) {
            uint32_t o = exif_u16(t + e + 8, big);
            int ok = exif_u16(t + e + 2, big) == 3 && exif_u32(t + e + 4, big) == 1;
            return ok && o >= 1 && o <= 8 ? (int)o : 1;
        }
    }
    return 1;
}

int exif_orientation(const uint8_t *data, size_t size)
{
    size_t pos = 2; /* after SOI */
    if (size < 4 || data[0] != 0xff || data[1] != 0xd8)
        return 1;
    while (pos + 4 <= size) {
        if (data[pos] != 0xff)
            return 1;
        uint8_t marker = data[pos + 1];
        if (marker == 0xff) { /* fill byte */
            pos++;
            continue;
        }
        if (marker == 0xda || marker == 0xd9) /* start of scan, end of image */
            return 1;
        size_t len = (size_t)data[pos + 2] << 8 | data[pos + 3];
        if (len < 2 || pos + 2 + len > size)
            return 1;
        const uint8_t *seg = data + pos + 4;
        size_t seg_len = len - 2;
        if (marker == 0xe1 && seg_len >= 6 && memcmp(seg, "Exif\0\0", 6) == 0)
            return exif_tiff_orientation(seg + 6, seg_len - 6);
        pos += 2 + len;
    }
    return 1;
}

void exif_apply(int o, const uint8_t *src, uint32_t w, uint32_t h, uint8_t *dst)
{
    int swap = exif_swaps_axes(o);
    uint32_t dw = swap ? h : w, dh = swap ? w : h;
    for (uint32_t y = 0; y < dh; y++) {
        for (uint32_t x = 0; x < dw; x++) {
            uint32_t sx, sy; /* the source pixel of dst (x, y) */
            switch (o) {
            case 2:
                sx = w - 1 - x, sy = y;
                break; /* mirror left-right */
            case 3:
                sx = w - 1 - x, sy = h - 1 - y;
                break; /* rotate 180 */
            case 4:
                sx = x, sy = h - 1 - y;
                break; /* mirror top-bottom */
            case 5:
                sx = y, sy = x;
                break; /* transpose */
            case 6:
                sx = y, sy = h - 1 - x;
                break; /* rotate 90 clockwise */
            case 7:
                sx = w - 1 - y, sy = h - 1 - x;
                break; /* transverse */
            case 8:
                sx = w - 1 - y, sy = x;
                break; /* rotate 90 counter-clockwise */
            default:
                sx = x, sy = y;
                break;
            }
            memcpy(dst + ((size_t)y * dw + x) * 3, src + ((size_t)sy * w + sx) * 3, 3);
        }
    }
}
