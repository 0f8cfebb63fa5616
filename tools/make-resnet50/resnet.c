/*
 * resnet.c — ResNet50 (bottleneck blocks 3, 4, 6, 3) written node by node
 * into an onnx_model, in the two layouts real exporters produce: Keras v1
 * through tf2onnx and torchvision v1.5 through torch.onnx.
 */
#include "resnet.h"

#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPSET 13
#define NAME  64

typedef struct {
    onnx_model *m;
    resnet_variant variant;
    rng r;
    int failed; /* out of memory somewhere: checked once at the end */
} builder;

/* out = a + b; a name too long for NAME marks the build failed. */
static void join(builder *b, char out[NAME], const char *a, const char *c)
{
    if (snprintf(out, NAME, "%s%s", a, c) >= NAME)
        b->failed = 1;
}

static void need(builder *b, const void *p)
{
    if (!p)
        b->failed = 1;
}

/* An initializer of n values drawn as mean + std·N(0,1) (std 0: constant). */
static void add_random(builder *b, const char *name, int rank, const int64_t *dims, double mean,
                       double std)
{
    size_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= (size_t)dims[i];
    float *v = malloc(n * sizeof(*v));
    if (!v) {
        b->failed = 1;
        return;
    }
    for (size_t i = 0; i < n; i++)
        v[i] = (float)(mean + (std > 0 ? std * rng_normal(&b->r) : 0));
    need(b, onnx_add_initializer(b->m, name, ONNX_FLOAT, rank, dims, v));
    free(v);
}

static onnx_node *node1(builder *b, const char *op, const char *name, size_t n_in,
                        const char *const *in, const char *out)
{
    onnx_node *n = onnx_add_node(b->m, op, name, n_in, in, 1, &out);
    need(b, n);
    return n;
}

/* Records a failed attribute setter (rc < 0). */
static void ok(builder *b, int rc)
{
    if (rc < 0)
        b->failed = 1;
}

static void set_ints(builder *b, onnx_node *n, const char *name, int64_t a, int64_t c)
{
    if (n)
        ok(b, onnx_set_ints(n, name, 2, (int64_t[]){a, c}));
}

static void set_pads(builder *b, onnx_node *n, int64_t p)
{
    if (n)
        ok(b, onnx_set_ints(n, "pads", 4, (int64_t[]){p, p, p, p}));
}

/* A Pad node adding p zeros around H and W, as Keras' ZeroPadding2D exports. */
static void zero_pad(builder *b, const char *name, const char *in, const char *out, int64_t p)
{
    char pads[NAME];
    join(b, pads, name, "_pads");
    int64_t v[8] = {0, 0, p, p, 0, 0, p, p}, dims[1] = {8};
    need(b, onnx_add_initializer(b->m, pads, ONNX_INT64, 1, dims, v));
    onnx_node *n = node1(b, "Pad", name, 2, (const char *[]){in, pads}, out);
    if (n)
        ok(b, onnx_set_string(n, "mode", "constant"));
}

/* Conv k×k/stride (He-initialised, bias in Keras) + BatchNormalization
 * [+ Relu] named after prefix; the unit's output tensor name goes to out. */
static void conv_bn(builder *b, const char *prefix, const char *in, int64_t cin, int64_t cout,
                    int64_t k, int64_t stride, int64_t pad, int relu, char out[NAME])
{
    int keras = b->variant == RESNET_KERAS;
    char conv[NAME], w[NAME], bias[NAME], bn[NAME], p[4][NAME];
    join(b, conv, prefix, "_conv");
    join(b, w, prefix, "_conv_W");
    join(b, bias, prefix, "_conv_b");
    join(b, bn, prefix, "_bn");
    const char *suffix[4] = {"_bn_gamma", "_bn_beta", "_bn_mean", "_bn_var"};
    for (int i = 0; i < 4; i++)
        join(b, p[i], prefix, suffix[i]);

    add_random(b, w, 4, (int64_t[]){cout, cin, k, k}, 0, sqrt(2.0 / (double)(cin * k * k)));
    if (keras)
        add_random(b, bias, 1, &cout, 0, 0.2);
    onnx_node *n = node1(b, "Conv", conv, keras ? 3 : 2, (const char *[]){in, w, bias}, conv);
    set_ints(b, n, "kernel_shape", k, k);
    set_ints(b, n, "strides", stride, stride);
    set_pads(b, n, pad);

    add_random(b, p[0], 1, &cout, 1, 0.2);
    add_random(b, p[1], 1, &cout, 0, 0.2);
    add_random(b, p[2], 1, &cout, 0, 0);
    add_random(b, p[3], 1, &cout, 1, 0);
    n = node1(b, "BatchNormalization", bn, 5, (const char *[]){conv, p[0], p[1], p[2], p[3]}, bn);
    if (n)
        ok(b, onnx_set_float(n, "epsilon", keras ? 1.001e-5f : 1e-5f));
    join(b, out, bn, "");
    if (relu) {
        join(b, out, prefix, "_relu");
        node1(b, "Relu", out, 1, (const char *[]){bn}, out);
    }
}

/* One bottleneck block: 1×1 → 3×3 → 1×1 (×4 channels), shortcut projected
 * when shape changes, Add, Relu.  Keras strides the first 1×1, torchvision
 * the 3×3. */
static void block(builder *b, const char *prefix, char x[NAME], int64_t cin, int64_t width,
                  int64_t stride)
{
    int keras = b->variant == RESNET_KERAS;
    char name[NAME], a[NAME], c[NAME], main_out[NAME], shortcut[NAME], add[NAME], out[NAME];
    join(b, shortcut, x, "");
    if (stride != 1 || cin != width * 4) {
        join(b, name, prefix, "_0");
        conv_bn(b, name, x, cin, width * 4, 1, stride, 0, 0, shortcut);
    }
    join(b, name, prefix, "_1");
    conv_bn(b, name, x, cin, width, 1, keras ? stride : 1, 0, 1, a);
    join(b, name, prefix, "_2");
    conv_bn(b, name, a, width, width, 3, keras ? 1 : stride, 1, 1, c);
    join(b, name, prefix, "_3");
    conv_bn(b, name, c, width, width * 4, 1, 1, 0, 0, main_out);
    join(b, add, prefix, "_add");
    node1(b, "Add", add, 2, (const char *[]){shortcut, main_out}, add);
    join(b, out, prefix, "_out");
    node1(b, "Relu", out, 1, (const char *[]){add}, out);
    join(b, x, out, "");
}

/* Input → stem → max pool; the pooled tensor's name goes to x. */
static void stem(builder *b, char x[NAME])
{
    int keras = b->variant == RESNET_KERAS;
    int64_t nhwc[4] = {-1, 224, 224, 3}, nchw[4] = {-1, 3, 224, 224};
    need(b, onnx_add_input(b->m, "input", ONNX_FLOAT, 4, keras ? nhwc : nchw));
    char c[NAME];
    if (keras) {
        /* tf2onnx keeps Keras' NHWC input and transposes once. */
        onnx_node *t =
            node1(b, "Transpose", "input_nchw", 1, (const char *[]){"input"}, "input_nchw");
        if (t)
            ok(b, onnx_set_ints(t, "perm", 4, (int64_t[]){0, 3, 1, 2}));
        zero_pad(b, "conv1_pad", "input_nchw", "conv1_pad", 3);
        conv_bn(b, "conv1", "conv1_pad", 3, 64, 7, 2, 0, 1, c);
        zero_pad(b, "pool1_pad", c, "pool1_pad", 1);
        snprintf(c, NAME, "pool1_pad");
    } else {
        conv_bn(b, "conv1", "input", 3, 64, 7, 2, 3, 1, c);
    }
    onnx_node *pool = node1(b, "MaxPool", "pool1_pool", 1, (const char *[]){c}, "pool1_pool");
    set_ints(b, pool, "kernel_shape", 3, 3);
    set_ints(b, pool, "strides", 2, 2);
    set_pads(b, pool, keras ? 0 : 1);
    snprintf(x, NAME, "pool1_pool");
}

/* Global average pool to [N, 2048] named RESNET_FEATURES. */
static void pool(builder *b, const char *x)
{
    if (b->variant == RESNET_KERAS) {
        /* tf2onnx's GlobalAveragePooling2D: a mean over the spatial axes. */
        onnx_node *n = node1(b, "ReduceMean", "avg_pool", 1, &x, RESNET_FEATURES);
        if (n) {
            ok(b, onnx_set_ints(n, "axes", 2, (int64_t[]){2, 3}));
            ok(b, onnx_set_int(n, "keepdims", 0));
        }
        return;
    }
    node1(b, "GlobalAveragePool", "avgpool", 1, &x, "avgpool");
    node1(b, "Flatten", "flatten", 1, (const char *[]){"avgpool"}, RESNET_FEATURES);
}

static void classifier(builder *b)
{
    add_random(b, "fc_W", 2, (int64_t[]){1000, 2048}, 0, sqrt(1.0 / 2048));
    add_random(b, "fc_b", 1, (int64_t[]){1000}, 0, 0.01);
    onnx_node *n =
        node1(b, "Gemm", "fc", 3, (const char *[]){RESNET_FEATURES, "fc_W", "fc_b"}, RESNET_LOGITS);
    if (n)
        ok(b, onnx_set_int(n, "transB", 1));
}

onnx_model *resnet_build(resnet_variant variant, int head, uint64_t seed)
{
    builder b = {onnx_model_new(OPSET, "flowrun make-resnet50", "resnet50"), variant, {seed}, 0};
    if (!b.m)
        return NULL;
    static const int64_t blocks[4] = {3, 4, 6, 3}, widths[4] = {64, 128, 256, 512};
    char x[NAME], prefix[NAME];
    int64_t cin = 64;
    stem(&b, x);
    for (int s = 0; s < 4; s++) {
        for (int i = 0; i < blocks[s]; i++) {
            snprintf(prefix, NAME, "conv%d_block%d", s + 2, i + 1);
            block(&b, prefix, x, cin, widths[s], i == 0 && s > 0 ? 2 : 1);
            cin = widths[s] * 4;
        }
    }
    pool(&b, x);
    if (head)
        classifier(&b);
    need(&b, onnx_add_output(b.m, head ? RESNET_LOGITS : RESNET_FEATURES, ONNX_FLOAT, 2,
                             (int64_t[]){-1, head ? 1000 : 2048}));
    if (b.failed) {
        onnx_model_free(b.m);
        return NULL;
    }
    return b.m;
}
