/*
 * The brightness-filter's own test, through flowrun's plugin harness: the
 * .so is loaded by the real loader, its config checked by the real schema.
 *
 *     test-brightness-filter PATH/TO/brightness-filter.so
 */
#include <flowrun/harness.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond);                    \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

enum { H = 8, W = 6 };

/* An H x W RGB image of one colour, as jpeg-decode would emit it. */
static fr_record image(const char *key, uint8_t *px, uint8_t r, uint8_t g, uint8_t b)
{
    for (int i = 0; i < H * W; i++) {
        px[3 * i] = r;
        px[3 * i + 1] = g;
        px[3 * i + 2] = b;
    }
    static const fr_attr attrs[] = {{"source", "test"}};
    return (fr_record){
        .id = key,
        .key = key,
        .label = "",
        .attrs = attrs,
        .n_attrs = 1,
        .payload = {
            .kind = FR_KIND_IMAGE, .rank = 3, .dims = {H, W, 3}, .data = px, .size = H * W * 3}};
}

static fr_harness *start(const char *so, const char *const *config)
{
    char *err = NULL;
    fr_harness *h = fr_harness_new(so, config, &err);
    if (!h) {
        fprintf(stderr, "cannot load %s: %s\n", so, err ? err : "?");
        free(err);
        exit(1);
    }
    fr_harness_set_input_type(h, "image/u8[8,6,3]");
    return h;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s brightness-filter.so\n", argv[0]);
        return 2;
    }
    const char *so = argv[1];
    uint8_t px[H * W * 3];

    /* Defaults: min 40, max 215. */
    fr_harness *h = start(so, NULL);
    EXPECT(fr_harness_start(h) == FR_OK);

    fr_record dark = image("dark", px, 20, 20, 20); /* luma 20 */
    EXPECT(fr_harness_push(h, &dark) == FR_REJECT);
    EXPECT(strcmp(fr_harness_reason(h), "under-exposed: mean luma 20.0 is below min 40") == 0);

    fr_record bright = image("bright", px, 240, 240, 240); /* luma 240 */
    EXPECT(fr_harness_push(h, &bright) == FR_REJECT);
    EXPECT(strcmp(fr_harness_reason(h), "over-exposed: mean luma 240.0 is above max 215") == 0);

    fr_record fine = image("fine", px, 200, 100, 0); /* luma 118.5 */
    EXPECT(fr_harness_push(h, &fine) == FR_OK);
    EXPECT(fr_harness_output_count(h) == 1);
    const fr_record *out = fr_harness_output(h, 0);
    EXPECT(strcmp(out->key, "fine") == 0);
    EXPECT(out->payload.size == sizeof px && memcmp(out->payload.data, px, sizeof px) == 0);
    EXPECT(out->payload.dims[0] == H && out->payload.dims[1] == W);
    EXPECT(out->n_attrs == 2 && strcmp(fr_record_attr(out, "source"), "test") == 0);
    EXPECT(fr_record_attr(out, "mean_luma") && !strcmp(fr_record_attr(out, "mean_luma"), "118.5"));

    /* Zero-copy: pushing a record that already has an engine buffer
     * forwards that very buffer, so the pixels are not copied. */
    EXPECT(fr_harness_push(h, out) == FR_OK);
    EXPECT(fr_harness_output_count(h) == 2);
    EXPECT(fr_harness_output(h, 1)->payload.data == out->payload.data);

    /* Not an image: rejected with the reason, not a crash. */
    fr_record bytes = {.id = "b",
                       .key = "b",
                       .label = "",
                       .payload = {.kind = FR_KIND_BYTES, .media = "jpeg", .data = px, .size = 4}};
    EXPECT(fr_harness_push(h, &bytes) == FR_REJECT);
    EXPECT(strstr(fr_harness_reason(h), "not an RGB image") != NULL);

    EXPECT(fr_harness_flush(h) == FR_OK);
    EXPECT(fr_harness_metric(h, "passed") == 2);
    EXPECT(fr_harness_metric(h, "too_dark") == 1);
    EXPECT(fr_harness_metric(h, "too_bright") == 1);
    const char *report = fr_harness_report(h, "decisions");
    EXPECT(report && strstr(report, "\"too_dark\": 1"));
    fr_harness_free(h);

    /* Bounds are configurable; the edges are inclusive. */
    const char *const narrow[] = {"min", "118.5", "max", "118.5", NULL};
    h = start(so, narrow);
    EXPECT(fr_harness_start(h) == FR_OK);
    fine = image("fine", px, 200, 100, 0);
    EXPECT(fr_harness_push(h, &fine) == FR_OK);
    fr_harness_free(h);

    /* Configuration errors come from the engine, from the schema table. */
    char *err = NULL;
    const char *const out_of_range[] = {"max", "300", NULL};
    EXPECT(fr_harness_new(so, out_of_range, &err) == NULL);
    EXPECT(err && strstr(err, "max"));
    free(err);
    err = NULL;
    const char *const unknown[] = {"maximum", "100", NULL};
    EXPECT(fr_harness_new(so, unknown, &err) == NULL);
    EXPECT(err && strstr(err, "maximum"));
    free(err);

    /* min > max: init refuses with a reason. */
    const char *const inverted[] = {"min", "200", "max", "100", NULL};
    h = start(so, inverted);
    EXPECT(fr_harness_start(h) == FR_FATAL);
    EXPECT(strstr(fr_harness_reason(h), "min (200) is greater than max (100)") != NULL);
    fr_harness_free(h);

    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    else
        printf("brightness-filter: all checks passed\n");
    return failures ? 1 : 0;
}
