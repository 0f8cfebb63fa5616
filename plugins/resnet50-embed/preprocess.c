/*
 * preprocess.c — per-channel affine maps of uint8 pixels, as lookup tables:
 * one load per value instead of a convert, subtract and multiply, and the
 * table is computed in double so each value is the correctly rounded float.
 */
#include "preprocess.h"

#include <string.h>

#include "cpu.h"

static const double keras_mean_bgr[3] = {103.939, 116.779, 123.68};
static const double torch_mean[3] = {0.485, 0.456, 0.406};
static const double torch_std[3] = {0.229, 0.224, 0.225};

int preprocess_init(preprocess *pre, const char *kind)
{
    for (int c = 0; c < 3; c++) {
        int keras = !strcmp(kind, "keras");
        pre->from[c] = keras ? 2 - c : c; /* Keras' caffe mode wants BGR */
        for (int v = 0; v < 256; v++) {
            double x = v;
            if (keras)
                x -= keras_mean_bgr[c];
            else if (!strcmp(kind, "torch"))
                x = (x / 255.0 - torch_mean[c]) / torch_std[c];
            else if (strcmp(kind, "none"))
                return -1;
            pre->lut[c][v] = (float)x;
        }
    }
    return 0;
}

CPU_CLONES void preprocess_image(const preprocess *pre, const uint8_t *src, size_t pixels,
                                 float *dst)
{
    const int r = pre->from[0], g = pre->from[1], b = pre->from[2];
    for (size_t i = 0; i < pixels; i++, src += 3, dst += 3) {
        dst[0] = pre->lut[0][src[r]];
        dst[1] = pre->lut[1][src[g]];
        dst[2] = pre->lut[2][src[b]];
    }
}
