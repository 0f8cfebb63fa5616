/*
 * peak.h — this machine's arithmetic peak, measured, so that a benchmark can
 * say how far from the hardware a rate is (bench/embed, bench/pca).  The
 * project's machines differ (docs/platform.md, "CPU"): a Zen 5 has a full
 * 512-bit FMA datapath; a Zen 4 issues one 512-bit FMA per cycle, half of that.
 */
#ifndef BENCH_EMBED_PEAK_H
#define BENCH_EMBED_PEAK_H

typedef enum peak_kind {
    PEAK_FP32, /* vfmadd231ps zmm: 32 flops per instruction */
    PEAK_BF16, /* vdpbf16ps zmm: 64 flops per instruction */
    PEAK_FP64, /* vfmadd231pd zmm: 16 flops per instruction */
    PEAK_INT8, /* vpdpbusd zmm (AVX-512 VNNI): 64 u8 x s8 multiply-adds = 128 ops */
    /* AMX tiles (16 rows x 64 bytes), where the CPU and kernel expose them:
     * tdpbusd 16x16x64 multiply-adds = 32768 ops, tdpbf16ps 16x16x32 = 16384 */
    PEAK_AMX_INT8,
    PEAK_AMX_BF16,
} peak_kind;

/* GFLOP/s (GOP/s for the integer kinds) of `threads` threads each running
 * independent FMA (or dot product) chains for about `seconds`: the best of
 * three tries.  Returns 0 when the CPU lacks the instruction, the kernel
 * refuses AMX, or a thread cannot start. */
double peak_gflops(peak_kind kind, int threads, double seconds);

#endif
