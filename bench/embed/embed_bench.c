/*
 * embed-bench — images per second of resnet50-embed's executor on one
 * setting, and the conv-only bound of the same plan.
 *
 *   embed-bench MODEL OUTPUT BATCH THREADS fp32|bf16 SECONDS [FP32_LAYERS]
 *
 * Prints one line: "flowrun <prec> batch <b> threads <t> <img/s> bound <img/s>
 * cpu <img/s>", the last being images per second of process CPU time: with
 * 1 thread, a figure that time slices lost to other processes do not bend.
 * Runs the plan (compiled as the plugin does; FP32_LAYERS as its key, same default)
 * on zero images after one warm-up run, for about SECONDS.  bench/embed/run
 * calls it for every setting next to PyTorch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net_compile.h"
#include "net_profile.h"
#include "net_run.h"

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

int main(int argc, char **argv)
{
    if (argc != 7 && argc != 8) {
        fprintf(stderr,
                "usage: embed-bench MODEL OUTPUT BATCH THREADS fp32|bf16 SECONDS [FP32_LAYERS]\n");
        return 2;
    }
    int batch = atoi(argv[3]), threads = atoi(argv[4]);
    net_precision prec = strcmp(argv[5], "bf16") ? NET_FP32 : NET_BF16;
    char err[512] = "";
    onnx_model *m = onnx_load(argv[1], err, sizeof err);
    net_options opts = {.output = argv[2], .fp32_layers = argc > 7 ? argv[7] : "stem,stage1"};
    net *n = m ? net_compile(m, &opts, argv[1], err, sizeof err) : NULL;
    onnx_model_free(m);
    net_plan *p = n ? net_plan_new(n, batch, prec, threads, err, sizeof err) : NULL;
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
    net_free(n);
    return rate > 0 && bound > 0 ? 0 : 1;
}
