/* fuzz-jpeg: the jpeg-decode plugin, loaded through the real loader by the
 * plugin harness, fed each input as a bytes/jpeg record: it must emit an
 * image or reject the record with a reason, never crash or leak. */
#include <flowrun/harness.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fr_harness *harness;

static fr_harness *fuzz_harness(void)
{
    /* max_pixels well below the default, so a header claiming a huge
     * image is refused (as it must be) without long decodes. */
    const char *config[] = {"max_pixels", "4000000", "orientation", "exif", NULL};
    char *err = NULL;
    fr_harness *h = fr_harness_new("jpeg-decode", config, &err);
    if (!h || (fr_harness_set_input_type(h, "bytes/jpeg"), fr_harness_start(h)) != FR_OK) {
        fprintf(stderr, "fuzz-jpeg: cannot start jpeg-decode: %s\n", err ? err : "?");
        abort();
    }
    free(err);
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!harness)
        harness = fuzz_harness();
    fr_record rec = {.id = "fuzz", .key = "fuzz.jpg", .label = ""};
    rec.payload = (fr_payload){.kind = FR_KIND_BYTES, .data = (void *)data, .size = size};
    snprintf(rec.payload.media, sizeof rec.payload.media, "jpeg");
    fr_status s = fr_harness_push(harness, &rec);
    if (s != FR_OK && s != FR_REJECT)
        abort(); /* a bad file is a rejected record, never a failed stage */
    if (s == FR_REJECT && !fr_harness_reason(harness)[0])
        abort(); /* every rejection says why */
    fr_harness_clear_outputs(harness);
    if (fr_harness_rejected_count(harness) > 4096) { /* the harness keeps them */
        fr_harness_free(harness);
        harness = NULL;
    }
    return 0;
}
