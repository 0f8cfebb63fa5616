/*
 * decode_files — runs files through the jpeg-decode plugin (real loader,
 * harness) and reports each outcome on stdout for decode_check.py:
 *
 *   decode_files [KEY=VALUE ...] FILE ...
 *
 * Per file, in order: "OK <h> <w>\n" then h*w*3 RGB bytes, or
 * "REJECT <reason>\n".  Exit status 0 unless the harness itself fails.
 */
#include <flowrun/harness.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads a whole file into a malloc'd buffer (caller frees); NULL on error. */
static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) &&
        fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static int decode_one(fr_harness *h, const char *path)
{
    size_t size;
    uint8_t *bytes = read_file(path, &size);
    if (!bytes) {
        fprintf(stderr, "decode_files: cannot read %s\n", path);
        return -1;
    }
    fr_record rec = {.id = path, .key = path, .label = ""};
    rec.payload = (fr_payload){.kind = FR_KIND_BYTES, .media = "jpeg", .data = bytes, .size = size};
    fr_harness_clear_outputs(h);
    fr_status st = fr_harness_push(h, &rec);
    free(bytes);
    if (st == FR_REJECT) {
        printf("REJECT %s\n", fr_harness_reason(h));
        return 0;
    }
    const fr_record *out =
        st == FR_OK && fr_harness_output_count(h) == 1 ? fr_harness_output(h, 0) : NULL;
    if (!out || strcmp(out->key, path) != 0 || out->payload.kind != FR_KIND_IMAGE) {
        fprintf(stderr, "decode_files: %s: status %d, %zu outputs: %s\n", path, (int)st,
                fr_harness_output_count(h), fr_harness_reason(h));
        return -1;
    }
    printf("OK %u %u\n", out->payload.dims[0], out->payload.dims[1]);
    fwrite(out->payload.data, 1, out->payload.size, stdout);
    return 0;
}

int main(int argc, char **argv)
{
    const char *config[2 * 16 + 1] = {NULL};
    char *pairs[16] = {NULL};
    int i = 1, n = 0;
    for (; i < argc && strchr(argv[i], '=') && n < 16; i++, n++) {
        pairs[n] = strdup(argv[i]);
        *strchr(pairs[n], '=') = '\0';
        config[2 * n] = pairs[n];
        config[2 * n + 1] = pairs[n] + strlen(pairs[n]) + 1;
    }
    char *err = NULL;
    fr_harness *h = fr_harness_new("jpeg-decode", config, &err);
    int rc = 1;
    if (!h)
        fprintf(stderr, "decode_files: %s\n", err);
    else if (fr_harness_start(h) != FR_OK)
        fprintf(stderr, "decode_files: init: %s\n", fr_harness_reason(h));
    else {
        rc = 0;
        for (; i < argc && rc == 0; i++)
            rc = decode_one(h, argv[i]) == 0 ? 0 : 1;
    }
    fr_harness_free(h);
    free(err);
    for (int k = 0; k < n; k++)
        free(pairs[k]);
    return rc;
}
