/*
 * jpeg_reader.c — the TurboJPEG side of jpeg-decode.
 */
#include "jpeg_reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "cmyk.h"
#include "image.h"

struct jpeg_reader {
    tjhandle tj;
    jpeg_reader_opts opts;
    int colorspace;     /* of the last header read (TJCS_*) */
    image_scratch cmyk; /* owned: the CMYK pixels of CMYK/YCCK files */
};

jpeg_reader *jpeg_reader_new(const jpeg_reader_opts *opts, char *err, size_t err_size)
{
    jpeg_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->tj = tjInitDecompress())) {
        snprintf(err, err_size, "cannot start libjpeg-turbo: %s", r ? tjGetErrorStr2(NULL) : "");
        free(r);
        return NULL;
    }
    r->opts = *opts;
    return r;
}

void jpeg_reader_free(jpeg_reader *r)
{
    if (!r)
        return;
    image_scratch_free(&r->cmyk);
    if (r->tj)
        tjDestroy(r->tj);
    free(r);
}

/* Names what the bytes are when they are not a JPEG, for the reason. */
static const char *jpeg_sniff(const uint8_t *d, size_t n)
{
    if (n >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "PNG data";
    if (n >= 6 && (memcmp(d, "GIF87a", 6) == 0 || memcmp(d, "GIF89a", 6) == 0))
        return "GIF data";
    for (size_t i = 0; i < n && i < 64; i++)
        if ((d[i] < 0x20 && d[i] != '\n' && d[i] != '\r' && d[i] != '\t') || d[i] > 0x7e)
            return "unknown data";
    return "text";
}

/* After a failure, TurboJPEG's handle may keep the state of the bad stream
 * (a "tables only" header leaves the decompressor mid-stream and the next
 * file's header is then misread), so a failed file gets a fresh handle. */
static void jpeg_reader_reset(jpeg_reader *r)
{
    if (r->tj)
        tjDestroy(r->tj);
    r->tj = tjInitDecompress();
}

static int jpeg_reader_header_bytes(jpeg_reader *r, const uint8_t *data, size_t size,
                                    jpeg_info *info, char *err, size_t err_size)
{
    if (size == 0) {
        snprintf(err, err_size, "empty object");
        return -1;
    }
    if (size < 3 || data[0] != 0xff || data[1] != 0xd8 || data[2] != 0xff) {
        snprintf(err, err_size, "not a JPEG: %s (%zu bytes, no SOI marker)", jpeg_sniff(data, size),
                 size);
        return -1;
    }
    int w = 0, h = 0, subsamp, cs; /* left unset for a tables-only stream */
    if (tjDecompressHeader3(r->tj, data, (unsigned long)size, &w, &h, &subsamp, &cs) != 0) {
        snprintf(err, err_size, "corrupt JPEG header: %s", tjGetErrorStr2(r->tj));
        return -1;
    }
    /* TurboJPEG accepts a stream that ends before any frame header as
     * "tables only" and reports 0x0; a frame with a zero dimension is
     * refused by libjpeg itself ("Empty JPEG image"). */
    if (w <= 0 || h <= 0) {
        snprintf(err, err_size, "corrupt JPEG header: no frame header (SOF) found, size %dx%d", w,
                 h);
        return -1;
    }
    if ((uint64_t)w * (uint64_t)h > r->opts.max_pixels) {
        snprintf(err, err_size, "image too large: %dx%d is %llu pixels, max_pixels is %llu", w, h,
                 (unsigned long long)w * (unsigned long long)h,
                 (unsigned long long)r->opts.max_pixels);
        return -1;
    }
    r->colorspace = cs;
    *info = (jpeg_info){.width = (uint32_t)w, .height = (uint32_t)h};
    return 0;
}

int jpeg_reader_header(jpeg_reader *r, const uint8_t *data, size_t size, jpeg_info *info, char *err,
                       size_t err_size)
{
    if (!r->tj) {
        snprintf(err, err_size, "out of memory: cannot restart libjpeg-turbo");
        return -1;
    }
    if (jpeg_reader_header_bytes(r, data, size, info, err, err_size) != 0) {
        jpeg_reader_reset(r);
        return -1;
    }
    return 0;
}

int jpeg_reader_decode(jpeg_reader *r, const uint8_t *data, size_t size, const jpeg_info *info,
                       uint8_t *rgb, int *warned, char *err, size_t err_size)
{
    /* LIMITSCANS: a hostile progressive file with thousands of scans would
     * otherwise take minutes.  STOPONWARNING when warnings reject: no
     * point decoding the rest of a file that is refused anyway. */
    int flags = TJFLAG_LIMITSCANS | (r->opts.fast_dct ? TJFLAG_FASTDCT : TJFLAG_ACCURATEDCT);
    if (!r->opts.pass_warnings)
        flags |= TJFLAG_STOPONWARNING;
    int is_cmyk = r->colorspace == TJCS_CMYK || r->colorspace == TJCS_YCCK;
    size_t pixels = (size_t)info->width * info->height;
    uint8_t *dst = rgb;
    if (is_cmyk && !(dst = image_scratch_get(&r->cmyk, pixels * 4))) {
        snprintf(err, err_size, "out of memory decoding %ux%u CMYK", info->width, info->height);
        return -1;
    }
    *warned = 0;
    if (tjDecompress2(r->tj, data, (unsigned long)size, dst, (int)info->width, 0, (int)info->height,
                      is_cmyk ? TJPF_CMYK : TJPF_RGB, flags) != 0) {
        if (!r->opts.pass_warnings || tjGetErrorCode(r->tj) != TJERR_WARNING) {
            snprintf(err, err_size, "corrupt JPEG data: %s", tjGetErrorStr2(r->tj));
            jpeg_reader_reset(r);
            return -1;
        }
        *warned = 1;
    }
    if (is_cmyk)
        cmyk_to_rgb(dst, rgb, pixels);
    return 0;
}
