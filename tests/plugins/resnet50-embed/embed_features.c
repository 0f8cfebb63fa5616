/*
 * embed_features — runs the resnet50-embed plugin through the test harness
 * on raw images and writes the features, for the Python checks.
 *
 *   embed_features IMAGES.u8 COUNT SIZE OUT.f32 key=value...
 *
 * IMAGES.u8: COUNT uint8 RGB images of SIZE x SIZE x 3, back to back.  The
 * key=value pairs are the stage's configuration.  Checks on the way what the
 * Python side cannot see: one output per input, in order, with the input's
 * id, key and label, the declared output type.  Prints the stage's reports.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <flowrun/harness.h>

#include "check.h"

#define MAX_KEYS 16

static unsigned char *read_file(const char *path, size_t size)
{
    FILE *f = fopen(path, "rb");
    unsigned char *data = malloc(size);
    int ok = f && data && fread(data, 1, size, f) == size;
    if (f)
        fclose(f);
    if (!ok) {
        free(data);
        return NULL;
    }
    return data;
}

/* Pushes image i with its own key, id and label. */
static fr_status push_image(fr_harness *h, unsigned char *pixels, int i, uint32_t size)
{
    char key[32], id[48];
    snprintf(key, sizeof key, "img/%03d.jpg", i);
    snprintf(id, sizeof id, "src:img/%03d.jpg", i);
    fr_record rec = {.id = id, .key = key, .label = i % 2 ? "odd" : "even"};
    rec.payload = (fr_payload){.kind = FR_KIND_IMAGE,
                               .rank = 3,
                               .dims = {size, size, 3},
                               .data = pixels,
                               .size = (size_t)size * size * 3};
    return fr_harness_push(h, &rec);
}

/* Checks the outputs and writes their features. */
static void write_outputs(fr_harness *h, int count, FILE *out)
{
    CHECK_INT(fr_harness_output_count(h), count);
    for (size_t i = 0; i < fr_harness_output_count(h); i++) {
        const fr_record *r = fr_harness_output(h, i);
        char key[32];
        snprintf(key, sizeof key, "img/%03zu.jpg", i);
        CHECK_STR(r->key, key);
        CHECK_CONTAINS(r->id, key);
        CHECK_STR(r->label, i % 2 ? "odd" : "even");
        CHECK_INT(r->payload.kind, FR_KIND_TENSOR);
        CHECK(fwrite(r->payload.data, 1, r->payload.size, out) == r->payload.size);
    }
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc - 5 > MAX_KEYS) {
        fprintf(stderr, "usage: embed_features IMAGES.u8 COUNT SIZE OUT.f32 key=value...\n");
        return 2;
    }
    int count = atoi(argv[2]);
    uint32_t size = (uint32_t)atoi(argv[3]);
    size_t image = (size_t)size * size * 3;
    const char *config[2 * MAX_KEYS + 1] = {NULL};
    for (int i = 5; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        REQUIRE(eq != NULL);
        *eq = 0;
        config[2 * (i - 5)] = argv[i];
        config[2 * (i - 5) + 1] = eq + 1;
    }
    unsigned char *pixels = read_file(argv[1], (size_t)count * image);
    REQUIRE(pixels != NULL);
    char *err = NULL;
    fr_harness *h = fr_harness_new("resnet50-embed", config, &err);
    if (!h)
        fprintf(stderr, "%s\n", err);
    free(err);
    REQUIRE(h != NULL);
    char type[64];
    snprintf(type, sizeof type, "image/u8[%u,%u,3]", size, size);
    fr_harness_set_input_type(h, type);
    fr_status s = fr_harness_start(h);
    for (int i = 0; s == FR_OK && i < count; i++)
        s = push_image(h, pixels + (size_t)i * image, i, size);
    if (s == FR_OK)
        s = fr_harness_flush(h);
    if (s != FR_OK)
        fprintf(stderr, "status %d: %s\n", s, fr_harness_reason(h));
    CHECK_INT(s, FR_OK);
    printf("output_type %s\n", fr_harness_output_type(h));
    const char *reports[] = {"reorders_per_batch", "precision", "precision_speedup_over_fp32"};
    for (size_t i = 0; i < sizeof reports / sizeof *reports; i++) {
        const char *value = fr_harness_report(h, reports[i]);
        printf("%s %s\n", reports[i], value ? value : "none");
    }
    FILE *out = fopen(argv[4], "wb");
    CHECK(out != NULL);
    if (out) {
        write_outputs(h, count, out);
        fclose(out);
    }
    fr_harness_free(h);
    free(pixels);
    return check_exit();
}
