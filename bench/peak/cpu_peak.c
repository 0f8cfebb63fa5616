/*
 * cpu-peak — this machine's arithmetic peak, for the benchmarks' ceilings.
 *
 *   cpu-peak THREADS SECONDS
 *
 * Prints "peak threads <t> fp32 <GFLOP/s> bf16 <GFLOP/s> fp64 <GFLOP/s>
 * int8 <GOP/s>" (int8: vpdpbusd), then " amx_int8 <GOP/s> amx_bf16 <GFLOP/s>"
 * where the CPU and kernel expose AMX; 0 for an instruction the CPU lacks.
 * Spends about SECONDS in all.
 */
#include <stdio.h>
#include <stdlib.h>

#include "peak.h"

int main(int argc, char **argv)
{
    int threads = argc == 3 ? atoi(argv[1]) : 0;
    double seconds = argc == 3 ? atof(argv[2]) : 0;
    if (threads < 1 || threads > 64 || seconds <= 0) {
        fprintf(stderr, "usage: cpu-peak THREADS(1..64) SECONDS\n");
        return 2;
    }
    double amx_int8 = peak_gflops(PEAK_AMX_INT8, threads, seconds / 6);
    double amx_bf16 = amx_int8 > 0 ? peak_gflops(PEAK_AMX_BF16, threads, seconds / 6) : 0;
    double part = amx_int8 > 0 ? seconds / 6 : seconds / 4;
    printf("peak threads %d fp32 %.1f bf16 %.1f fp64 %.1f int8 %.1f", threads,
           peak_gflops(PEAK_FP32, threads, part), peak_gflops(PEAK_BF16, threads, part),
           peak_gflops(PEAK_FP64, threads, part), peak_gflops(PEAK_INT8, threads, part));
    if (amx_int8 > 0)
        printf(" amx_int8 %.1f amx_bf16 %.1f", amx_int8, amx_bf16);
    printf("\n");
    return 0;
}
