/*
 * jpeg_reader.h — JPEG bytes to RGB with libjpeg-turbo, refusing bad input
 * with a reason instead of crashing or allocating what a header claims.
 *
 * Every failure's message starts with a stable phrase that names the case
 * (the hostile-corpus test matches on it):
 *   "empty object", "not a JPEG", "corrupt JPEG header" (0×N images too),
 *   "image too large", "corrupt JPEG data".
 */
#ifndef FLOWRUN_JPEG_READER_H
#define FLOWRUN_JPEG_READER_H

#include <stddef.h>
#include <stdint.h>

typedef struct jpeg_reader jpeg_reader;

typedef struct jpeg_reader_opts {
    uint64_t max_pixels; /* width × height above this are refused from the header */
    int pass_warnings;   /* 1: libjpeg's recoverable warnings still give an image */
    int fast_dct;        /* 1: ifast, 0: islow (libjpeg's and Pillow's default) */
} jpeg_reader_opts;

typedef struct jpeg_info {
    uint32_t width, height;
} jpeg_info;

/* Returns a reader owned by the caller (jpeg_reader_free), or NULL with err
 * set.  One reader serves one thread at a time. */
jpeg_reader *jpeg_reader_new(const jpeg_reader_opts *opts, char *err, size_t err_size);
void jpeg_reader_free(jpeg_reader *r);

/* Reads and checks the header of data[0..size) (borrowed).  Returns 0 with
 * *info set, or -1 with the reason in err. */
int jpeg_reader_header(jpeg_reader *r, const uint8_t *data, size_t size, jpeg_info *info, char *err,
                       size_t err_size);

/* Decodes the image whose header jpeg_reader_header accepted into rgb
 * (info->height × info->width × 3, borrowed).  Returns 0 (with *warned set
 * to 1 if a warning was let through), or -1 with the reason in err. */
int jpeg_reader_decode(jpeg_reader *r, const uint8_t *data, size_t size, const jpeg_info *info,
                       uint8_t *rgb, int *warned, char *err, size_t err_size);

#endif
