/*
 * Structurally valid ONNX models with hostile numbers, loaded through the
 * real plugin: strides of 0 (a division by zero before), strides, kernels,
 * pads and input sides of 2^31 and more (signed overflows before), NaN and
 * infinite weights, a negative BatchNormalization variance, and a directory
 * given as the model.  Each must fail init with a reason naming the
 * problem; none may crash (the sanitizer build runs this too).
 */
#include <flowrun/harness.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "onnx.h"

static char dir[] = "/tmp/embed-hostile-XXXXXX";

/* What a model deviates in from the honest one: image [1,3,8,8] → Conv
 * 3x3 (4 channels) → BatchNormalization → Relu → GlobalAveragePool →
 * Flatten. */
typedef struct knobs {
    int64_t side;       /* input height and width */
    int64_t strides[2]; /* 0: attribute absent */
    int64_t pads[4];    /* all -9: attribute absent */
    float weight0;      /* the first conv weight */
    float variance0;    /* BatchNormalization variance of channel 0 */
    int64_t kernel[2];  /* MaxPool kernel_shape after the Relu; 0: no MaxPool */
} knobs;

static knobs honest(void)
{
    return (knobs){.side = 8, .pads = {1, 1, 1, 1}, .weight0 = 0.1f, .variance0 = 1};
}

static int add_body(onnx_model *m, const knobs *k)
{
    onnx_node *n = onnx_add_node(m, "Conv", "conv", 3, (const char *[]){"image", "w", "b"}, 1,
                                 (const char *[]){"c"});
    if (!n || (k->strides[0] && onnx_set_ints(n, "strides", 2, k->strides) < 0) ||
        (k->pads[0] != -9 && onnx_set_ints(n, "pads", 4, k->pads) < 0))
        return -1;
    if (!onnx_add_node(m, "BatchNormalization", "bn", 5,
                       (const char *[]){"c", "scale", "shift", "mean", "var"}, 1,
                       (const char *[]){"n"}) ||
        !onnx_add_node(m, "Relu", "relu", 1, (const char *[]){"n"}, 1, (const char *[]){"r"}))
        return -1;
    const char *pooled = "r";
    if (k->kernel[0]) {
        onnx_node *p =
            onnx_add_node(m, "MaxPool", "pool", 1, (const char *[]){"r"}, 1, (const char *[]){"p"});
        if (!p || onnx_set_ints(p, "kernel_shape", 2, k->kernel) < 0)
            return -1;
        pooled = "p";
    }
    return onnx_add_node(m, "GlobalAveragePool", "gap", 1, (const char *[]){pooled}, 1,
                         (const char *[]){"g"}) &&
                   onnx_add_node(m, "Flatten", "flat", 1, (const char *[]){"g"}, 1,
                                 (const char *[]){"out"})
               ? 0
               : -1;
}

static int write_model(const char *file, const knobs *k)
{
    char err[256];
    float w[4 * 27], b[4] = {0}, one[4] = {1, 1, 1, 1}, var[4] = {k->variance0, 1, 1, 1};
    for (int i = 0; i < 4 * 27; i++)
        w[i] = (float)(i % 5) / 10.0f;
    w[0] = k->weight0;
    onnx_model *m = onnx_model_new(13, "test", "hostile");
    int ok = m && onnx_add_input(m, "image", ONNX_FLOAT, 4, (int64_t[]){1, 3, k->side, k->side}) &&
             onnx_add_initializer(m, "w", ONNX_FLOAT, 4, (int64_t[]){4, 3, 3, 3}, w) &&
             onnx_add_initializer(m, "b", ONNX_FLOAT, 1, (int64_t[]){4}, b) &&
             onnx_add_initializer(m, "scale", ONNX_FLOAT, 1, (int64_t[]){4}, one) &&
             onnx_add_initializer(m, "shift", ONNX_FLOAT, 1, (int64_t[]){4}, b) &&
             onnx_add_initializer(m, "mean", ONNX_FLOAT, 1, (int64_t[]){4}, b) &&
             onnx_add_initializer(m, "var", ONNX_FLOAT, 1, (int64_t[]){4}, var) &&
             onnx_add_output(m, "out", ONNX_FLOAT, 2, (int64_t[]){1, 4}) && add_body(m, k) == 0 &&
             onnx_save(m, file, err, sizeof err) == 0;
    onnx_model_free(m);
    return ok ? 0 : -1;
}

/* init's status and reason for model (the reason copied into why). */
static fr_status start(const char *model, char *why, size_t n)
{
    const char *config[] = {"model", model, "batch", "1", "preprocess", "none", NULL};
    char *err = NULL;
    fr_harness *h = fr_harness_new("resnet50-embed", config, &err);
    if (!h) {
        snprintf(why, n, "%s", err ? err : "no harness");
        free(err);
        return FR_FATAL;
    }
    fr_harness_set_input_type(h, "image/u8[*,*,3]");
    fr_status s = fr_harness_start(h);
    snprintf(why, n, "%s", fr_harness_reason(h) ? fr_harness_reason(h) : "");
    fr_harness_free(h);
    return s;
}

/* The model with k must fail init with a reason containing want. */
static void expect_refused(const char *name, const knobs *k, const char *want)
{
    char file[256], why[1024];
    snprintf(file, sizeof file, "%s/%s.onnx", dir, name);
    REQUIRE_VOID(write_model(file, k) == 0);
    CHECK_INT(start(file, why, sizeof why), FR_FATAL);
    CHECK_CONTAINS(why, want);
    CHECK_CONTAINS(why, file);
    unlink(file);
}

int main(void)
{
    REQUIRE(mkdtemp(dir) != NULL);
    char file[256], why[1024];
    knobs k = honest();
    snprintf(file, sizeof file, "%s/honest.onnx", dir);
    REQUIRE(write_model(file, &k) == 0);
    CHECK_INT(start(file, why, sizeof why), FR_OK); /* the knobs alone break it */
    unlink(file);

    k = honest(), k.strides[0] = 1, k.strides[1] = 0;
    expect_refused("stride0", &k, "strides 0 is outside 1..65536");
    k = honest(), k.strides[0] = INT64_C(1) << 31, k.strides[1] = 1;
    expect_refused("stride31", &k, "strides 2147483648 is outside");
    k = honest(), k.pads[0] = INT64_C(1) << 31;
    expect_refused("pad31", &k, "pads 2147483648 is outside");
    k = honest(), k.pads[1] = -1;
    expect_refused("padneg", &k, "pads -1 is outside");
    k = honest(), k.side = INT64_C(1) << 31;
    expect_refused("side31", &k, "input height 2147483648 is outside");
    k = honest(), k.side = INT64_C(1) << 62;
    expect_refused("side62", &k, "input height");
    k = honest(), k.kernel[0] = INT64_C(1) << 31, k.kernel[1] = 1;
    expect_refused("kernel31", &k, "kernel_shape 2147483648 is outside");
    k = honest(), k.kernel[0] = 100, k.kernel[1] = 1;
    expect_refused("kernelbig", &k, "window larger than its 8x8 input");
    k = honest(), k.weight0 = NAN;
    expect_refused("nan", &k, "constant \"w\" holds NaN or infinity");
    k = honest(), k.weight0 = INFINITY;
    expect_refused("inf", &k, "constant \"w\" holds NaN or infinity");
    k = honest(), k.variance0 = -1;
    expect_refused("negvar", &k, "variance + epsilon of channel 0 is not positive");

    /* A node with no output (found by tests/fuzz/onnx): refused by name. */
    onnx_model *m = onnx_model_new(13, "test", "no-output");
    snprintf(file, sizeof file, "%s/no-output.onnx", dir);
    REQUIRE(m && onnx_add_input(m, "image", ONNX_FLOAT, 4, (int64_t[]){1, 3, 8, 8}) &&
            onnx_add_output(m, "out", ONNX_FLOAT, 2, (int64_t[]){1, 3}) &&
            onnx_add_node(m, "Relu", "mute", 1, (const char *[]){"image"}, 0, NULL) &&
            onnx_save(m, file, why, sizeof why) == 0);
    onnx_model_free(m);
    CHECK_INT(start(file, why, sizeof why), FR_FATAL);
    CHECK_CONTAINS(why, "node \"mute\" (Relu): no output named");
    unlink(file);

    CHECK_INT(start(dir, why, sizeof why), FR_FATAL);
    CHECK_CONTAINS(why, "is a directory");
    rmdir(dir);
    return check_exit();
}
