/*
 * cpu-peak — this machine's arithmetic peak, for the benchmarks' ceilings.
 *
 *   cpu-peak THREADS SECONDS
 *
 * Prints "peak threads <t> fp32 <GFLOP/s> bf16 <GFLOP/s> fp64 <GFLOP/s>"
 * (0 for an instruction the CPU lacks), spending about SECONDS in all.
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
    printf("peak threads %d fp32 %.1f bf16 %.1f fp64 %.1f\n", threads,
           peak_gflops(PEAK_FP32, threads, seconds / 3),
           peak_gflops(PEAK_BF16, threads, seconds / 3),
           peak_gflops(PEAK_FP64, threads, seconds / 3));
    return 0;
}
