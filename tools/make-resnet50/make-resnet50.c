/*
 * make-resnet50 — writes a ResNet50 ONNX model with seeded random weights
 * whose BN statistics are calibrated on synthetic fruit images, so that its
 * features are O(1) and comparisons between engines mean something.  Also
 * writes those images (--fruits) for tests that need the same inputs.
 */
#include "fold.h"
#include "forward.h"
#include "fruits.h"
#include "resnet.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIZE 224

static const char usage[] =
    "usage: make-resnet50 [options] OUT.onnx\n"
    "       make-resnet50 --fruits OUT.u8 [--count N] [--seed S]\n"
    "\n"
    "Writes ResNet50 as ONNX (opset 13) with deterministic random weights drawn from --seed.\n"
    "BatchNormalization statistics are calibrated on --calib synthetic fruit images, so\n"
    "the 2048 pooled features (tensor \"features\") are O(1).\n"
    "\n"
    "  --variant keras|torchvision  keras (default): Keras v1 as tf2onnx exports it: NHWC\n"
    "                         input [N,224,224,3] behind a Transpose, ZeroPadding as Pad nodes,\n"
    "                         conv biases, BN epsilon 1.001e-5, stride on the first 1x1 conv\n"
    "                         of downsampling blocks, ReduceMean pooling; expects Keras'\n"
    "                         \"caffe\" preprocessing (BGR minus ImageNet means).\n"
    "                         torchvision: v1.5 as torch.onnx exports it: NCHW input\n"
    "                         [N,3,224,224], padding inside Conv/MaxPool, no conv biases,\n"
    "                         BN epsilon 1e-5, stride on the 3x3 conv, GlobalAveragePool +\n"
    "                         Flatten; expects torch preprocessing (/255, ImageNet mean/std).\n"
    "  --bn kept|folded       keep BatchNormalization nodes (default) or fold them into\n"
    "                         the convolutions (same function, as torch.onnx does by default)\n"
    "  --head                 add a 1000-way Gemm classifier: the graph output becomes\n"
    "                         \"logits\" and \"features\" an inner tensor\n"
    "  --seed S               weights and images seed (default 1)\n"
    "  --calib N              calibration images (default 8)\n"
    "  --fruits OUT.u8        write --count synthetic fruit images instead of a model:\n"
    "                         raw uint8 RGB, N x 224 x 224 x 3, back to back\n"
    "  --count N              images for --fruits (default 16)\n"
    "  -h, --help             this text\n";

typedef struct {
    resnet_variant variant;
    int folded, head, calib, count;
    uint64_t seed;
    const char *fruits, *out;
} options;

/* Fruit images of the test/calibration set are one series per seed; the
 * calibration uses its own series so tests never see calibration images. */
#define CALIB_SERIES 0x5eedull

static int parse(int argc, char **argv, options *o)
{
    static const struct option longs[] = {
        {"variant", 1, 0, 'v'}, {"bn", 1, 0, 'b'},    {"head", 0, 0, 'H'},
        {"seed", 1, 0, 's'},    {"calib", 1, 0, 'c'}, {"fruits", 1, 0, 'f'},
        {"count", 1, 0, 'n'},   {"help", 0, 0, 'h'},  {0, 0, 0, 0}};
    *o = (options){RESNET_KERAS, 0, 0, 8, 16, 1, NULL, NULL};
    int c;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 'v' && (strcmp(optarg, "keras") == 0 || strcmp(optarg, "torchvision") == 0))
            o->variant = optarg[0] == 'k' ? RESNET_KERAS : RESNET_TORCHVISION;
        else if (c == 'b' && (strcmp(optarg, "kept") == 0 || strcmp(optarg, "folded") == 0))
            o->folded = optarg[0] == 'f';
        else if (c == 'H')
            o->head = 1;
        else if (c == 's')
            o->seed = strtoull(optarg, NULL, 10);
        else if (c == 'c' && atoi(optarg) > 0)
            o->calib = atoi(optarg);
        else if (c == 'f')
            o->fruits = optarg;
        else if (c == 'n' && atoi(optarg) > 0)
            o->count = atoi(optarg);
        else if (c == 'h') {
            fputs(usage, stdout);
            exit(0);
        } else {
            fprintf(stderr, "make-resnet50: bad option or value (see --help)\n");
            return -1;
        }
    }
    if (!o->fruits && optind != argc - 1) {
        fputs(usage, stderr);
        return -1;
    }
    o->out = o->fruits ? o->fruits : argv[optind];
    return 0;
}

static int write_fruits(const options *o)
{
    size_t bytes = (size_t)SIZE * SIZE * 3;
    uint8_t *img = malloc(bytes);
    FILE *f = fopen(o->fruits, "wb");
    int rc = img && f ? 0 : -1;
    for (int i = 0; rc == 0 && i < o->count; i++) {
        fruits_render(o->seed, i, SIZE, img);
        if (fwrite(img, 1, bytes, f) != bytes)
            rc = -1;
    }
    if ((f && fclose(f) != 0) || rc < 0) {
        fprintf(stderr, "make-resnet50: cannot write %s\n", o->fruits);
        rc = -1;
    }
    free(img);
    return rc;
}

/* n calibration images, preprocessed and laid out as the variant's input. */
static float *calibration_batch(const options *o, int n)
{
    static const float caffe_bgr[3] = {103.939f, 116.779f, 123.68f};
    static const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    size_t px = (size_t)SIZE * SIZE;
    float *x = malloc((size_t)n * px * 3 * sizeof(*x));
    uint8_t *img = malloc(px * 3);
    for (int i = 0; x && img && i < n; i++) {
        fruits_render(o->seed ^ CALIB_SERIES, i, SIZE, img);
        float *dst = x + (size_t)i * px * 3;
        for (size_t p = 0; p < px; p++)
            for (int c = 0; c < 3; c++) {
                float v = img[p * 3 + c];
                if (o->variant == RESNET_KERAS) /* NHWC, BGR, minus means */
                    dst[p * 3 + (2 - c)] = v - caffe_bgr[2 - c];
                else /* NCHW, RGB, /255, mean/std */
                    dst[c * px + p] = (v / 255.0f - mean[c]) / std[c];
            }
    }
    free(img);
    return x;
}

static long long weight_count(const onnx_model *m)
{
    long long n = 0;
    for (size_t i = 0; i < m->n_initializers; i++)
        if (m->initializers[i].dtype == ONNX_FLOAT)
            n += onnx_numel(&m->initializers[i]);
    return n;
}

/* Calibrates BN in m and reports the features' spread on the way. */
static int calibrate(const options *o, onnx_model *m)
{
    char err[512];
    size_t count = 0;
    float *x = calibration_batch(o, o->calib);
    float *f = x ? forward_run(m, x, o->calib, RESNET_FEATURES, 1, &count, err, sizeof(err)) : NULL;
    free(x);
    if (!f) {
        fprintf(stderr, "make-resnet50: calibration: %s\n", x ? err : "out of memory");
        return -1;
    }
    double s = 0, s2 = 0;
    for (size_t i = 0; i < count; i++) {
        s += f[i];
        s2 += (double)f[i] * f[i];
    }
    fprintf(stderr, "make-resnet50: calibrated on %d images: features mean %.4g, rms %.4g\n",
            o->calib, s / (double)count, sqrt(s2 / (double)count));
    free(f);
    return 0;
}

int main(int argc, char **argv)
{
    options o;
    if (parse(argc, argv, &o) < 0)
        return 2;
    if (o.fruits)
        return write_fruits(&o) < 0 ? 1 : 0;
    char err[512];
    onnx_model *m = resnet_build(o.variant, o.head, o.seed);
    if (!m || calibrate(&o, m) < 0) {
        fprintf(stderr, "%s", m ? "" : "make-resnet50: out of memory\n");
        onnx_model_free(m);
        return 1;
    }
    if (o.folded) {
        onnx_model *folded = fold_bn(m, err, sizeof(err));
        onnx_model_free(m);
        if (!folded) {
            fprintf(stderr, "make-resnet50: %s\n", err);
            return 1;
        }
        m = folded;
    }
    int rc = onnx_save(m, o.out, err, sizeof(err));
    if (rc < 0)
        fprintf(stderr, "make-resnet50: %s\n", err);
    else
        printf("%s: %lld weights, %zu nodes\n", o.out, weight_count(m), m->n_nodes);
    onnx_model_free(m);
    return rc < 0 ? 1 : 0;
}
