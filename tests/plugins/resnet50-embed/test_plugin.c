/*
 * test_plugin — resnet50-embed's behaviour on small models built here with
 * flowrun-onnx: batching and the tail batch, an inner output tensor, and the
 * errors (each naming the model file): missing, not ONNX, unsupported opset,
 * unsupported operator, unknown output, image size mismatch, a wrong-sized
 * record.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <flowrun/harness.h>

#include "check.h"
#include "onnx.h"

#define SIDE 8

static char dir[] = "/tmp/embed-test-XXXXXX";
/* tiny.onnx, softmax.onnx, junk.onnx, opset18.onnx, missing.onnx */
static char path[5][128];

/* opset: of the default domain.  image [1,3,8,8] → Conv 3x3 pad 1 (4 channels) → Relu →
 * GlobalAveragePool → Flatten, then `tail_op` (Softmax to be refused, or Identity). */
static int write_model(const char *file, const char *tail_op, int64_t opset)
{
    char err[256];
    onnx_model *m = onnx_model_new(opset, "test", "tiny");
    float w[4 * 3 * 3 * 3], b[4] = {0.5f, -0.25f, 0, 1};
    for (int i = 0; i < 4 * 27; i++)
        w[i] = (float)((i * 7) % 11 - 5) / 40.0f;
    int ok = m && onnx_add_input(m, "image", ONNX_FLOAT, 4, (int64_t[]){1, 3, SIDE, SIDE}) &&
             onnx_add_initializer(m, "w", ONNX_FLOAT, 4, (int64_t[]){4, 3, 3, 3}, w) &&
             onnx_add_initializer(m, "b", ONNX_FLOAT, 1, (int64_t[]){4}, b) &&
             onnx_add_output(m, "out", ONNX_FLOAT, 2, (int64_t[]){1, 4});
    onnx_node *n = ok ? onnx_add_node(m, "Conv", "conv", 3, (const char *[]){"image", "w", "b"}, 1,
                                      (const char *[]){"c"})
                      : NULL;
    ok = n && onnx_set_ints(n, "pads", 4, (int64_t[]){1, 1, 1, 1}) == 0 &&
         onnx_add_node(m, "Relu", "relu", 1, (const char *[]){"c"}, 1, (const char *[]){"r"}) &&
         onnx_add_node(m, "GlobalAveragePool", "gap", 1, (const char *[]){"r"}, 1,
                       (const char *[]){"g"}) &&
         onnx_add_node(m, "Flatten", "flat", 1, (const char *[]){"g"}, 1,
                       (const char *[]){"features"}) &&
         onnx_add_node(m, tail_op, "head", 1, (const char *[]){"features"}, 1,
                       (const char *[]){"out"}) &&
         onnx_save(m, file, err, sizeof err) == 0;
    onnx_model_free(m);
    return ok ? 0 : -1;
}

/* Starts the plugin on model with extra config pairs; returns the harness
 * (started or not) and the init status in *status. */
static fr_harness *start(const char *model, const char *key, const char *value, fr_status *status)
{
    const char *config[] = {"model",     model,  "batch", "2",   "preprocess", "none",
                            "precision", "fp32", key,     value, NULL};
    char *err = NULL;
    fr_harness *h = fr_harness_new("resnet50-embed", config, &err);
    if (!h)
        fprintf(stderr, "%s\n", err);
    free(err);
    if (h) {
        fr_harness_set_input_type(h, "image/u8[8,8,3]");
        *status = fr_harness_start(h);
    }
    return h;
}

static fr_status push(fr_harness *h, int i, uint32_t side)
{
    unsigned char pixels[16 * 16 * 3];
    for (size_t k = 0; k < sizeof pixels; k++)
        pixels[k] = (unsigned char)(k * (size_t)(i + 3) % 251);
    char key[16];
    snprintf(key, sizeof key, "k%d", i);
    fr_record rec = {.id = key, .key = key, .label = "l"};
    rec.payload = (fr_payload){.kind = FR_KIND_IMAGE,
                               .rank = 3,
                               .dims = {side, side, 3},
                               .data = pixels,
                               .size = (size_t)side * side * 3};
    return fr_harness_push(h, &rec);
}

/* 3 images at batch 2: one full batch, then the tail at flush. */
static void test_batches(void)
{
    fr_status s = FR_FATAL;
    fr_harness *h = start(path[0], "output", "features", &s);
    REQUIRE_VOID(h && s == FR_OK);
    CHECK_STR(fr_harness_output_type(h), "tensor/f32[4]");
    CHECK_INT(push(h, 0, SIDE), FR_OK);
    CHECK_INT(fr_harness_output_count(h), 0);
    CHECK_INT(push(h, 1, SIDE), FR_OK);
    CHECK_INT(fr_harness_output_count(h), 2);
    CHECK_INT(push(h, 2, SIDE), FR_OK);
    CHECK_INT(fr_harness_flush(h), FR_OK);
    REQUIRE_VOID(fr_harness_output_count(h) == 3);
    for (int i = 0; i < 3; i++) {
        const fr_record *r = fr_harness_output(h, (size_t)i);
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        CHECK_STR(r->key, key);
        CHECK_STR(r->id, key);
        CHECK_INT(r->payload.dims[0], 4);
        /* ReLU then a mean: never negative. */
        for (int c = 0; c < 4; c++)
            CHECK(((const float *)r->payload.data)[c] >= 0);
    }
    CHECK(fr_harness_metric(h, "images") == 3);
    CHECK(fr_harness_metric(h, "batches") == 2);
    /* A record of the wrong size is rejected, naming the model. */
    CHECK_INT(push(h, 3, 16), FR_REJECT);
    CHECK_CONTAINS(fr_harness_reason(h), path[0]);
    fr_harness_free(h);
}

/* init must fail with a reason containing each of want. */
static void expect_init_error(const char *model, const char *key, const char *value,
                              const char *want1, const char *want2)
{
    fr_status s = FR_OK;
    fr_harness *h = start(model, key, value, &s);
    REQUIRE_VOID(h);
    CHECK_INT(s, FR_FATAL);
    CHECK_CONTAINS(fr_harness_reason(h), want1);
    CHECK_CONTAINS(fr_harness_reason(h), want2);
    fr_harness_free(h);
}

static void test_errors(void)
{
    expect_init_error(path[4], "output", "", path[4], "");
    expect_init_error(path[3], "output", "", path[3], "18");
    expect_init_error(path[2], "output", "", path[2], "");
    expect_init_error(path[1], "output", "", path[1], "\"head\" (Softmax): unsupported operator");
    expect_init_error(path[0], "output", "nowhere", path[0], "no tensor named \"nowhere\"");
    /* Upstream gives 8x8 images; a 16x16 model must refuse them at init. */
    fr_status s = FR_OK;
    const char *config[] = {"model", path[0], NULL};
    fr_harness *h = fr_harness_new("resnet50-embed", config, NULL);
    REQUIRE_VOID(h);
    fr_harness_set_input_type(h, "image/u8[16,16,3]");
    s = fr_harness_start(h);
    CHECK_INT(s, FR_FATAL);
    CHECK_CONTAINS(fr_harness_reason(h), path[0]);
    CHECK_CONTAINS(fr_harness_reason(h), "8x8");
    fr_harness_free(h);
}

static fr_harness *start_with(const char *calib, const char *precision, fr_status *status)
{
    const char *config[] = {
        "model",       path[0],   "batch",       "2",   "preprocess",         "none",
        "precision",   precision, "calibration", calib, "calibration_images", "3",
        "fp32_layers", "",        NULL};
    fr_harness *h = fr_harness_new("resnet50-embed", config, NULL);
    if (h) {
        fr_harness_set_input_type(h, "image/u8[8,8,3]");
        *status = fr_harness_start(h);
    }
    return h;
}

/* The first run holds 3 images (calibration_images), then calibrates,
 * chooses, writes the file and runs them; the second finds its choice in
 * the file and batches from the first image on, with the same choice. */
static void test_auto(void)
{
    char calib[160], first[1024] = "";
    snprintf(calib, sizeof calib, "%s/tiny.calibration", dir);
    for (int run = 0; run < 2; run++) {
        fr_status s = FR_FATAL;
        fr_harness *h = start_with(calib, "auto", &s);
        REQUIRE_VOID(h && s == FR_OK);
        CHECK_INT(push(h, 0, SIDE), FR_OK);
        CHECK_INT(push(h, 1, SIDE), FR_OK);
        CHECK_INT(fr_harness_output_count(h), run == 0 ? 0 : 2);
        CHECK_INT(push(h, 2, SIDE), FR_OK);
        CHECK_INT(fr_harness_output_count(h), 2);
        CHECK_INT(fr_harness_flush(h), FR_OK);
        CHECK_INT(fr_harness_output_count(h), 3);
        const char *choice = fr_harness_report(h, "precision");
        REQUIRE_VOID(choice != NULL);
        CHECK_CONTAINS(choice, "auto: ");
        if (run == 0)
            snprintf(first, sizeof first, "%s", choice);
        else
            CHECK_STR(choice, first);
        fr_harness_free(h);
    }
    FILE *f = fopen(calib, "r");
    char text[4096] = "";
    REQUIRE_VOID(f != NULL);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    fclose(f);
    CHECK_CONTAINS(text, "range ");
    CHECK_CONTAINS(text, "plan cpu \"");
    CHECK_CONTAINS(text, " auto = ");
    /* A malformed line: init fails naming the file and line. */
    f = fopen(calib, "w");
    REQUIRE_VOID(f != NULL);
    fputs("flowrun-resnet50-embed-calibration 1\nrange one two conv\n", f);
    fclose(f);
    fr_status s = FR_OK;
    fr_harness *h = start_with(calib, "auto", &s);
    REQUIRE_VOID(h);
    CHECK_INT(s, FR_FATAL);
    CHECK_CONTAINS(fr_harness_reason(h), "tiny.calibration:2:");
    fr_harness_free(h);
    unlink(calib);
}

/* The 4 features of 4 images in precision (FR_OK or the failure). */
static fr_status features(const char *calib, const char *precision, float out[4][4], char *choice,
                          size_t choice_size)
{
    fr_status s = FR_FATAL;
    fr_harness *h = start_with(calib, precision, &s);
    for (int i = 0; s == FR_OK && i < 4; i++)
        s = push(h, i, SIDE);
    if (s == FR_OK)
        s = fr_harness_flush(h);
    for (size_t i = 0; s == FR_OK && i < 4 && i < fr_harness_output_count(h); i++)
        memcpy(out[i], fr_harness_output(h, i)->payload.data, 4 * sizeof(float));
    const char *report = h ? fr_harness_report(h, "precision") : NULL;
    snprintf(choice, choice_size, "%s", report ? report : "");
    fr_harness_free(h);
    return s;
}

static double cosine(const float *a, const float *b)
{
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < 4; i++) {
        ab += a[i] * b[i];
        aa += a[i] * a[i];
        bb += b[i] * b[i];
    }
    return ab / sqrt(aa * bb);
}

/* oneDNN's ISA code for ONEDNN_MAX_CPU_ISA's value, as the file stores it. */
static const char *isa_code(const char *isa)
{
    static const char *codes[][2] = {{"AVX2", "isa 0x7 "},
                                     {"AVX512_CORE", "isa 0x27 "},
                                     {"AVX512_CORE_VNNI", "isa 0x67 "},
                                     {"AVX512_CORE_BF16", "isa 0xe7 "}};
    for (size_t i = 0; isa && i < sizeof codes / sizeof *codes; i++)
        if (!strcmp(isa, codes[i][0]))
            return codes[i][1];
    return "isa 0x";
}

static void test_isa(void)
{
    const char *isa = getenv("ONEDNN_MAX_CPU_ISA");
    char calib[160], choice[1024], text[4096] = "";
    float fp32[4][4], int8[4][4], chosen[4][4];
    snprintf(calib, sizeof calib, "%s/isa.calibration", dir);
    REQUIRE_VOID(features(calib, "fp32", fp32, choice, sizeof choice) == FR_OK);
    REQUIRE_VOID(features(calib, "int8", int8, choice, sizeof choice) == FR_OK);
    CHECK_CONTAINS(choice, "int8 1");
    REQUIRE_VOID(features(calib, "auto", chosen, choice, sizeof choice) == FR_OK);
    printf("ONEDNN_MAX_CPU_ISA=%s: %s\n", isa ? isa : "(unset)", choice);
    for (int i = 0; i < 4; i++) {
        CHECK(cosine(fp32[i], int8[i]) >= 0.99);
        CHECK(cosine(fp32[i], chosen[i]) >= 0.99);
    }
    if (isa && !strcmp(isa, "AVX2"))
        CHECK(strstr(choice, "bf16") == NULL);
    FILE *f = fopen(calib, "r");
    REQUIRE_VOID(f != NULL);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    fclose(f);
    CHECK_CONTAINS(text, isa_code(isa));
    unlink(calib);
}

int main(void)
{
    REQUIRE(mkdtemp(dir) != NULL);
    const char *names[5] = {"tiny.onnx", "softmax.onnx", "junk.onnx", "opset18.onnx",
                            "missing.onnx"};
    for (int i = 0; i < 5; i++)
        snprintf(path[i], sizeof path[i], "%s/%s", dir, names[i]);
    FILE *junk = fopen(path[2], "w");
    REQUIRE(junk != NULL);
    fputs("this is not a protobuf\n", junk);
    fclose(junk);
    REQUIRE(write_model(path[0], "Identity", 13) == 0);
    REQUIRE(write_model(path[1], "Softmax", 13) == 0);
    REQUIRE(write_model(path[3], "Identity", 18) == 0);
    test_batches();
    test_errors();
    test_auto();
    test_isa();
    for (int i = 0; i < 4; i++)
        unlink(path[i]);
    rmdir(dir);
    return check_exit();
}
