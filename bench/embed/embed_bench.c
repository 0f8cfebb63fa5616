/*
 * embed-bench — images per second of resnet50-embed's executor on one
 * setting, and the conv-only bound of the same plan.
 *
 *   embed-bench MODEL OUTPUT BATCH THREADS fp32|bf16|int8|auto SECONDS [FP32_LAYERS [IMAGES.u8 N]]
 *
 * Prints one line: "flowrun <prec> batch <b> threads <t> <img/s> bound <img/s>
 * cpu <img/s>", the last being images per second of process CPU time: with
 * 1 thread, a figure that time slices lost to other processes do not bend.
 * Runs the plan (compiled as the plugin does; FP32_LAYERS as its key, same default)
 * on zero images after one warm-up run, for about SECONDS.  int8 and auto
 * first calibrate on N 224x224 RGB images (torch preprocessing) from
 * IMAGES.u8, as the plugin does on its first images; auto then chooses as
 * the plugin does (precision_auto.h) and prints its choice on stderr.  bench/embed/run calls it for
 * every setting next to PyTorch.
 *
 *   embed-bench --flops MODEL [FP32_LAYERS]
 *
 * Prints "flops total <G> winograd <G> fp32_kept <G> fp32_kept_winograd <G>":
 * GFLOP of one image through the convolutions (net_count_flops).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calibrate.h"
#include "net_compile.h"
#include "net_profile.h"
#include "net_run.h"
#include "precision.h"
#include "precision_auto.h"
#include "preprocess.h"

static double clock_s(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double now(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

/* embed-bench's own name for precision: auto (not a net_precision). */
#define PREC_AUTO ((net_precision)3)

static double cpu_rate; /* of the last throughput(): images per CPU second */

/* Images per second over about `seconds` of whole runs. */
static double throughput(net_plan *p, int batch, double seconds, char *err, size_t err_size)
{
    if (net_plan_run(p, err, err_size) < 0)
        return -1;
    int runs = 0;
    double t0 = now(), t = t0, c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    while (t - t0 < seconds || runs < 3) {
        if (net_plan_run(p, err, err_size) < 0)
            return -1;
        runs++;
        t = now();
    }
    cpu_rate = runs * batch / (clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0);
    return runs * batch / (t - t0);
}

/* The net of path as the plugin compiles it; NULL with err. */
static net *load_net(const char *path, const char *output, const char *fp32_layers, char *err,
                     size_t err_size)
{
    onnx_model *m = onnx_load(path, err, err_size);
    net_options opts = {.output = output, .fp32_layers = fp32_layers};
    net *n = m ? net_compile(m, &opts, path, err, err_size) : NULL;
    onnx_model_free(m);
    return n;
}

/* count 224x224 RGB images of path, preprocessed as torchvision's (owned
 * by the caller), or NULL with err. */
static float *read_images(const net *n, const char *path, int count, char *err, size_t err_size)
{
    size_t pixels = net_tensor_size(n, n->input) / 3;
    unsigned char *rgb = malloc(pixels * 3);
    float *images = malloc((size_t)count * pixels * 3 * sizeof *images);
    FILE *f = fopen(path, "rb");
    preprocess pre;
    preprocess_init(&pre, "torch");
    int ok = rgb && images && f && count > 0;
    for (int i = 0; ok && i < count; i++) {
        ok = fread(rgb, 1, pixels * 3, f) == pixels * 3;
        if (ok)
            preprocess_image(&pre, rgb, pixels, images + (size_t)i * pixels * 3);
    }
    if (f)
        fclose(f);
    free(rgb);
    if (!ok) {
        snprintf(err, err_size, "%s: cannot read %d images", path, count);
        free(images);
        return NULL;
    }
    return images;
}

/* int8 and auto: the ranges from the images, as the plugin makes them on its
 * first images; auto: its choice (replacing *layers).  0 or -1 with err. */
static int prepare(const net *n, net_precision prec, net_precision **layers, net_quant **q,
                   int batch, int threads, const char *path, int count, char *err, size_t err_size)
{
    float *images = read_images(n, path, count, err, err_size);
    net_plan *p = images ? net_plan_new(n, batch, NULL, threads, err, err_size) : NULL;
    *q = p ? calibrate_images(p, n, images, count, err, err_size) : NULL;
    net_plan_free(p);
    double speedup = 0;
    if (*q && prec == PREC_AUTO) {
        free(*layers);
        *layers = auto_choose(n, *q, batch, threads, images, count, &speedup, err, err_size);
    }
    if (*layers && speedup > 0) {
        char line[1024];
        precision_describe(n, *layers, line, sizeof line);
        fprintf(stderr, "auto: %s (measured %.2fx fp32 while choosing)\n", line, speedup);
    }
    free(images);
    return *q && *layers ? 0 : -1;
}

static net_precision parse_precision(const char *name)
{
    return !strcmp(name, "auto")   ? PREC_AUTO
           : !strcmp(name, "int8") ? NET_INT8
           : !strcmp(name, "bf16") ? NET_BF16
                                   : NET_FP32;
}

static int print_flops(const char *path, const char *fp32_layers)
{
    char err[512] = "";
    net *n = load_net(path, "", fp32_layers, err, sizeof err);
    if (!n) {
        fprintf(stderr, "embed-bench: %s\n", err);
        return 1;
    }
    net_flops f;
    net_count_flops(n, &f);
    printf("flops total %.4f winograd %.4f fp32_kept %.4f fp32_kept_winograd %.4f\n", f.total / 1e9,
           f.winograd / 1e9, f.fp32_kept / 1e9, f.fp32_kept_winograd / 1e9);
    net_free(n);
    return 0;
}

int main(int argc, char **argv)
{
    const char *default_fp32_layers = "stem,stage1";
    if ((argc == 3 || argc == 4) && !strcmp(argv[1], "--flops"))
        return print_flops(argv[2], argc > 3 ? argv[3] : default_fp32_layers);
    if (argc != 7 && argc != 8 && argc != 10) {
        fprintf(stderr, "usage: embed-bench MODEL OUTPUT BATCH THREADS fp32|bf16|int8|auto SECONDS "
                        "[FP32_LAYERS [IMAGES.u8 N]]\n"
                        "       embed-bench --flops MODEL [FP32_LAYERS]\n");
        return 2;
    }
    int batch = atoi(argv[3]), threads = atoi(argv[4]);
    net_precision prec = parse_precision(argv[5]);
    char err[512] = "";
    net *n = load_net(argv[1], argv[2], argc > 7 ? argv[7] : default_fp32_layers, err, sizeof err);
    net_precision *layers = n ? precision_uniform(n, prec == PREC_AUTO ? NET_FP32 : prec) : NULL;
    net_quant *q = NULL;
    int ready = layers && prec != NET_INT8 && prec != PREC_AUTO;
    if (layers && !ready && argc == 10)
        ready = prepare(n, prec, &layers, &q, batch, threads, argv[8], atoi(argv[9]), err,
                        sizeof err) == 0;
    net_mix mix = {.layer = layers, .quant = q};
    net_plan *p = ready ? net_plan_new(n, batch, &mix, threads, err, sizeof err) : NULL;
    if (!p && !err[0])
        snprintf(err, sizeof err, "%s needs IMAGES.u8 N to calibrate on", argv[5]);
    double rate = -1, bound = -1;
    if (p) {
        size_t floats = (size_t)batch * net_tensor_size(n, n->input);
        memset(net_plan_input(p), 0, floats * sizeof(float));
        rate = throughput(p, batch, atof(argv[6]), err, sizeof err);
        double conv = rate > 0 ? net_profile_convs(p, batch >= 8 ? 3 : 10) : -1;
        bound = conv > 0 ? batch / conv : -1;
    }
    if (rate > 0 && bound > 0)
        printf("flowrun %s batch %d threads %d %.2f bound %.2f cpu %.2f\n", argv[5], batch, threads,
               rate, bound, cpu_rate);
    else
        fprintf(stderr, "embed-bench: %s\n", err[0] ? err : "a convolution failed");
    net_plan_free(p);
    free(layers);
    net_quant_free(q);
    net_free(n);
    return rate > 0 && bound > 0 ? 0 : 1;
}
