/*
 * test_logreg — logreg-train and logreg-predict through the real loader and
 * harness, on three separable blobs of 4-feature rows: the model file's
 * classes, training accuracy and commits; class weights (balanced, named,
 * a misspelt class refused); rows without a label or of the wrong size
 * rejected with a reason; predict's top-k records (scores decreasing and
 * summing with the rest to 1, labels in attributes, the input's label kept);
 * a model file that is not one refused at init.  The numbers themselves are
 * checked against scikit-learn in tests/pipelines/classify.
 */
#include <flowrun/harness.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

#define DIM 4
#define PER 30

static const char *const names[] = {"Banana", "Apple", "Cherry"};

/* Row i of class c: the class's centre plus a small deterministic spread. */
static void blob_row(int c, int i, float *row)
{
    for (int j = 0; j < DIM; j++)
        row[j] = (float)(j == c ? 3.0 : 0.0) + 0.3f * (float)(((i * 7 + j * 3) % 11) - 5) / 5.0f;
}

static fr_status push_row(fr_harness *h, const char *label, const float *row, uint32_t dim, int n)
{
    char id[32];
    snprintf(id, sizeof id, "src:%d", n);
    fr_record r = {.id = id, .key = id, .label = label};
    r.payload = (fr_payload){.kind = FR_KIND_TENSOR,
                             .rank = 1,
                             .dims = {dim},
                             .data = (void *)row,
                             .size = dim * sizeof(float)};
    return fr_harness_push(h, &r);
}

/* Trains on the blobs with class_weight; returns the flush status. */
static fr_status train(const char *model, const char *class_weight, fr_harness **out)
{
    const char *cfg[] = {"model", model, "class_weight", class_weight, NULL};
    char *err = NULL;
    fr_harness *h = fr_harness_new("logreg-train", cfg, &err);
    *out = h;
    if (!h) {
        fprintf(stderr, "%s\n", err);
        free(err);
        return FR_FATAL;
    }
    fr_harness_set_input_type(h, "tensor/f32[4]");
    if (fr_harness_start(h) != FR_OK)
        return FR_FATAL;
    float row[DIM];
    for (int i = 0; i < PER; i++)
        for (int c = 0; c < 3; c++) {
            blob_row(c, i, row);
            if (push_row(h, names[c], row, DIM, i * 3 + c) != FR_OK)
                return FR_FATAL;
        }
    return fr_harness_flush(h);
}

static void check_rejects(fr_harness *h)
{
    float row[DIM + 1] = {0};
    CHECK_INT(push_row(h, "", row, DIM, 900), FR_REJECT);
    CHECK_CONTAINS(fr_harness_reason(h), "no label");
    CHECK_INT(push_row(h, "Apple", row, DIM + 1, 901), FR_REJECT);
    CHECK_CONTAINS(fr_harness_reason(h), "tensor/f32[4]");
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *text = f ? calloc(1, 1 << 20) : NULL;
    if (text)
        fread(text, 1, (1 << 20) - 1, f);
    if (f)
        fclose(f);
    return text;
}

static void check_training(const char *dir)
{
    char model[512];
    snprintf(model, sizeof model, "%s/model.json", dir);
    fr_harness *h;
    REQUIRE_VOID(train(model, "", &h) == FR_OK);
    CHECK_INT(fr_harness_commit_count(h), 3 * PER);
    CHECK_CONTAINS(fr_harness_report(h, "training"), "\"accuracy\": 1.000000");
    check_rejects(h);
    fr_harness_free(h);
    char *text = slurp(model);
    REQUIRE_VOID(text);
    CHECK_CONTAINS(text, "\"flowrun-classifier\"");
    CHECK_CONTAINS(text, "\"Apple\",\n  \"Banana\",\n  \"Cherry\""); /* sorted */
    CHECK(strstr(text, "class_weight") == NULL);
    free(text);

    REQUIRE_VOID(train(model, "balanced", &h) == FR_OK);
    fr_harness_free(h);
    text = slurp(model);
    CHECK_CONTAINS(text, "\"class_weight\": [\n  1.0,\n  1.0,\n  1.0\n ]"); /* equal counts */
    free(text);
    REQUIRE_VOID(train(model, "Cherry=2.5", &h) == FR_OK);
    fr_harness_free(h);
    text = slurp(model);
    CHECK_CONTAINS(text, "\"class_weight\": [\n  1.0,\n  1.0,\n  2.5\n ]");
    free(text);
    CHECK_INT(train(model, "Kiwi=2", &h), FR_FATAL);
    CHECK_CONTAINS(fr_harness_reason(h), "no class \"Kiwi\"");
    fr_harness_free(h);
    CHECK_INT(train(model, "Apple=-1", &h), FR_FATAL);
    CHECK_CONTAINS(fr_harness_reason(h), "NAME=WEIGHT");
    fr_harness_free(h);
}

static void check_predict(const char *dir)
{
    char model[512];
    snprintf(model, sizeof model, "%s/model.json", dir);
    fr_harness *h;
    REQUIRE_VOID(train(model, "", &h) == FR_OK);
    fr_harness_free(h);
    const char *cfg[] = {"model", model, "top", "2", NULL};
    h = fr_harness_new("logreg-predict", cfg, NULL);
    REQUIRE_VOID(h);
    fr_harness_set_input_type(h, "tensor/f32[4]");
    REQUIRE_VOID(fr_harness_start(h) == FR_OK);
    CHECK_STR(fr_harness_output_type(h), "tensor/f32[2]");
    float row[DIM];
    for (int c = 0; c < 3; c++) {
        blob_row(c, 2, row);
        REQUIRE_VOID(push_row(h, "truth", row, DIM, c) == FR_OK);
        const fr_record *out = fr_harness_output(h, (size_t)c);
        REQUIRE_VOID(out && out->payload.dims[0] == 2);
        const float *score = out->payload.data;
        CHECK_STR(out->label, names[c]);
        CHECK_STR(fr_record_attr(out, "top1"), names[c]);
        CHECK(fr_record_attr(out, "top2") && strcmp(fr_record_attr(out, "top2"), names[c]));
        CHECK_STR(fr_record_attr(out, "true_label"), "truth");
        CHECK(score[0] > 0.5f && score[0] >= score[1] && score[0] + score[1] <= 1.0f + 1e-6f);
    }
    CHECK_INT(push_row(h, "", row, 3, 9), FR_REJECT);
    fr_harness_free(h);

    const char *wrong[] = {"model", model, NULL};
    h = fr_harness_new("logreg-predict", wrong, NULL);
    REQUIRE_VOID(h);
    fr_harness_set_input_type(h, "tensor/f32[7]");
    CHECK_INT(fr_harness_start(h), FR_FATAL);
    CHECK_CONTAINS(fr_harness_reason(h), "takes 4 features");
    fr_harness_free(h);

    char bogus[512];
    snprintf(bogus, sizeof bogus, "%s/bogus.json", dir);
    FILE *f = fopen(bogus, "w");
    REQUIRE_VOID(f);
    fputs("{\"format\": \"something-else\"}", f);
    fclose(f);
    const char *bad[] = {"model", bogus, NULL};
    h = fr_harness_new("logreg-predict", bad, NULL);
    REQUIRE_VOID(h);
    CHECK_INT(fr_harness_start(h), FR_FATAL);
    CHECK_CONTAINS(fr_harness_reason(h), "not a flowrun classifier");
    fr_harness_free(h);
    unlink(bogus);
}

int main(void)
{
    char dir[] = "/tmp/test-logreg-XXXXXX";
    REQUIRE(mkdtemp(dir));
    check_training(dir);
    check_predict(dir);
    char model[512];
    snprintf(model, sizeof model, "%s/model.json", dir);
    unlink(model);
    rmdir(dir);
    return check_exit();
}
