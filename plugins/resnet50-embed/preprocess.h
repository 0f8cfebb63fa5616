/*
 * preprocess.h — uint8 RGB pixels to the floats a model expects, written
 * straight into the network's input tensor (no intermediate copy).
 */
#ifndef RESNET50_EMBED_PREPROCESS_H
#define RESNET50_EMBED_PREPROCESS_H

#include <stddef.h>
#include <stdint.h>

/* The float of every (output channel, byte value): a channel's value is
 * lut[c][src[pixel * 3 + from[c]]]. */
typedef struct preprocess {
    float lut[3][256];
    int from[3]; /* which source channel feeds output channel c */
} preprocess;

/* Fills pre for kind: "keras" (RGB→BGR minus the ImageNet means, no
 * scaling: Keras' "caffe" preprocess_input), "torch" (/255, minus mean, over
 * std, RGB) or "none" (the pixel values).  Returns -1 for another name. */
int preprocess_init(preprocess *pre, const char *kind);

/* Writes pixels interleaved pixels (3 bytes each) as 3 * pixels floats into
 * dst (NHWC, the model's channel order).  src and dst borrowed. */
void preprocess_image(const preprocess *pre, const uint8_t *src, size_t pixels, float *dst);

#endif
