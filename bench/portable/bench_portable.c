/*
 * bench_portable.c — CPU seconds of the hand-written hot loops: resize-224's
 * Pillow-exact bilinear resize of 100x100 and 500x375 images to 224x224,
 * then resnet50-embed's preprocessing of the result.  Built twice (portable
 * flags and -march=native, bench/portable/CMakeLists.txt); run.py runs both
 * interleaved and prints the ratio.
 *
 *   bench-portable-VARIANT IMAGES
 *
 * Prints one JSON line: images and the CPU seconds they took, and a checksum
 * of the outputs (both variants must agree: the kernels are exact).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "preprocess.h"
#include "resizer.h"

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    long images = argc > 1 ? atol(argv[1]) : 2000;
    static const uint32_t sizes[2][2] = {{100, 100}, {500, 375}};
    char err[256];
    resizer *rz = resizer_new("bilinear", "clamp", "srgb", 224, 224, err, sizeof err);
    preprocess pre;
    uint8_t *in = malloc(500 * 375 * 3), *out = malloc(224 * 224 * 3);
    float *tensor = malloc(224 * 224 * 3 * sizeof *tensor);
    if (!rz || preprocess_init(&pre, "torch") != 0 || !in || !out || !tensor) {
        fprintf(stderr, "bench-portable: set-up failed: %s\n", rz ? "out of memory" : err);
        return 1;
    }
    for (size_t i = 0; i < 500 * 375 * 3; i++)
        in[i] = (uint8_t)((i * 2654435761u) >> 13);
    double checksum = 0, start = cpu_seconds();
    for (long n = 0; n < images; n++) {
        const uint32_t *wh = sizes[n % 2];
        if (resizer_run(rz, in, wh[0], wh[1], out, err, sizeof err) != 0) {
            fprintf(stderr, "bench-portable: %s\n", err);
            return 1;
        }
        preprocess_image(&pre, out, 224 * 224, tensor);
        checksum += tensor[n % (224 * 224 * 3)];
    }
    double seconds = cpu_seconds() - start;
    printf("{\"images\": %ld, \"cpu_seconds\": %.6f, \"checksum\": %.6f}\n", images, seconds,
           checksum);
    free(tensor);
    free(out);
    free(in);
    resizer_free(rz);
    return 0;
}
