/*
 * resize_raw — resizes one raw RGB image with the resize-224 core, for the
 * Pillow comparison in pillow_check.py.
 *
 *   resize_raw IN_W IN_H OUT_W OUT_H FILTER [EDGE [COLORSPACE]] < in.rgb > out.rgb
 *
 * Reads IN_H*IN_W*3 bytes, writes OUT_H*OUT_W*3 bytes.  EDGE and COLORSPACE
 * (stb-* filters) default to clamp and linear.  Exit status 0, or 1
 * with a message on stderr.
 */
#include <stdio.h>
#include <stdlib.h>

#include "resizer.h"

static int read_all(uint8_t *buf, size_t n)
{
    return fread(buf, 1, n, stdin) == n && fgetc(stdin) == EOF ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 6 || argc > 8) {
        fprintf(stderr,
                "usage: resize_raw IN_W IN_H OUT_W OUT_H FILTER [EDGE [COLORSPACE]] < in > out\n");
        return 1;
    }
    uint32_t in_w = (uint32_t)atoi(argv[1]), in_h = (uint32_t)atoi(argv[2]);
    uint32_t out_w = (uint32_t)atoi(argv[3]), out_h = (uint32_t)atoi(argv[4]);
    size_t in_size = (size_t)in_w * in_h * 3, out_size = (size_t)out_w * out_h * 3;
    uint8_t *in = malloc(in_size), *out = malloc(out_size);
    char err[256] = "";
    const char *edge = argc > 6 ? argv[6] : "clamp", *space = argc > 7 ? argv[7] : "linear";
    resizer *r = resizer_new(argv[5], edge, space, out_w, out_h, err, sizeof err);
    int rc = 1;
    if (!in || !out || !r)
        fprintf(stderr, "resize_raw: %s\n", r ? "out of memory" : err);
    else if (read_all(in, in_size) != 0)
        fprintf(stderr, "resize_raw: expected %zu bytes on stdin\n", in_size);
    else if (resizer_run(r, in, in_w, in_h, out, err, sizeof err) != 0)
        fprintf(stderr, "resize_raw: %s\n", err);
    else
        rc = fwrite(out, 1, out_size, stdout) == out_size ? 0 : 1;
    resizer_free(r);
    free(out);
    free(in);
    return rc;
}
