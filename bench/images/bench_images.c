/*
 * bench_images.c — flowrun's jpeg-decode -> resize-224 on JPEG files, on
 * one thread (one core), through the real plugins (loader and harness, as
 * a stage instance runs them) without the engine's record passing.
 *
 *   bench-images FILTER ROUNDS DUMP_N DUMP FILE ...
 *
 * Reads every file into memory first, then decodes and resizes them all
 * ROUNDS times and prints one JSON line: images, the best round's wall
 * seconds and CPU seconds.  The 224x224 outputs of the first DUMP_N files are written to
 * DUMP (raw RGB, in file order) so run.py can check they equal Pillow's.
 */
#include <flowrun/harness.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct jpeg_file {
    uint8_t *data; /* owned */
    size_t size;
    const char *path; /* borrowed from argv */
} jpeg_file;

/* Wall time, or the process's CPU time: on a machine shared with other
 * work, CPU time is what one core spent, wall time includes waiting. */
static double now(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int read_file(jpeg_file *f)
{
    FILE *in = fopen(f->path, "rb");
    if (!in)
        return -1;
    long n = fseek(in, 0, SEEK_END) == 0 ? ftell(in) : -1;
    int rc = -1;
    if (n > 0 && fseek(in, 0, SEEK_SET) == 0 && (f->data = malloc((size_t)n))) {
        f->size = (size_t)n;
        rc = fread(f->data, 1, f->size, in) == f->size ? 0 : -1;
    }
    fclose(in);
    return rc;
}

/* Decodes and resizes one file; out is resize's output, valid until the
 * next clear.  Returns NULL with a message printed on failure. */
static const fr_record *one(fr_harness *dec, fr_harness *rsz, const jpeg_file *f)
{
    fr_record rec = {.id = f->path, .key = f->path, .label = ""};
    rec.payload =
        (fr_payload){.kind = FR_KIND_BYTES, .media = "jpeg", .data = f->data, .size = f->size};
    fr_harness_clear_outputs(dec);
    fr_harness_clear_outputs(rsz);
    if (fr_harness_push(dec, &rec) != FR_OK || fr_harness_output_count(dec) != 1) {
        fprintf(stderr, "bench-images: decode %s: %s\n", f->path, fr_harness_reason(dec));
        return NULL;
    }
    if (fr_harness_push(rsz, fr_harness_output(dec, 0)) != FR_OK ||
        fr_harness_output_count(rsz) != 1) {
        fprintf(stderr, "bench-images: resize %s: %s\n", f->path, fr_harness_reason(rsz));
        return NULL;
    }
    return fr_harness_output(rsz, 0);
}

static fr_harness *stage(const char *plugin, const char *const *config)
{
    char *err = NULL;
    fr_harness *h = fr_harness_new(plugin, config, &err);
    if (!h || fr_harness_start(h) != FR_OK) {
        fprintf(stderr, "bench-images: %s: %s\n", plugin, h ? fr_harness_reason(h) : err);
        fr_harness_free(h);
        h = NULL;
    }
    free(err);
    return h;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: bench-images FILTER ROUNDS DUMP_N DUMP FILE ...\n");
        return 2;
    }
    const char *filter = argv[1];
    int rounds = atoi(argv[2]), dump_n = atoi(argv[3]);
    int n = argc - 5, rc = 1;
    jpeg_file *files = calloc((size_t)n, sizeof *files);
    const char *dec_config[] = {NULL};
    const char *rsz_config[] = {"filter", filter, NULL};
    fr_harness *dec = stage("jpeg-decode", dec_config);
    fr_harness *rsz = stage("resize-224", rsz_config);
    FILE *dump = fopen(argv[4], "wb");
    if (!files || !dec || !rsz || !dump)
        goto done;
    for (int i = 0; i < n; i++) {
        files[i].path = argv[5 + i];
        if (read_file(&files[i]) != 0) {
            fprintf(stderr, "bench-images: cannot read %s\n", files[i].path);
            goto done;
        }
    }
    for (int i = 0; i < n && i < dump_n; i++) {
        const fr_record *out = one(dec, rsz, &files[i]);
        if (!out || fwrite(out->payload.data, 1, out->payload.size, dump) != out->payload.size)
            goto done;
    }
    double best = 1e30, best_cpu = 1e30;
    for (int r = 0; r < rounds; r++) {
        double t0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
        for (int i = 0; i < n; i++)
            if (!one(dec, rsz, &files[i]))
                goto done;
        double t = now(CLOCK_MONOTONIC) - t0, c = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
        best = t < best ? t : best;
        best_cpu = c < best_cpu ? c : best_cpu;
    }
    printf("{\"images\": %d, \"seconds\": %.6f, \"cpu_seconds\": %.6f}\n", n, best, best_cpu);
    rc = 0;
done:
    if (dump && fclose(dump) != 0)
        rc = 1;
    fr_harness_free(rsz);
    fr_harness_free(dec);
    for (int i = 0; files && i < n; i++)
        free(files[i].data);
    free(files);
    return rc;
}
