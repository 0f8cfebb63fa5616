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
} peak_kind;

/* GFLOP/s of `threads` threads each running independent FMA (or bf16 dot
 * product) chains for about `seconds`: the best of three tries.  Returns 0
 * when the CPU lacks the instruction or a thread cannot start. */
double peak_gflops(peak_kind kind, int threads, double seconds);

#endif
