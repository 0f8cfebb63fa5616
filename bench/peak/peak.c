/* peak.c — FMA and bf16 dot-product throughput of this machine. */
#include "peak.h"

#include <pthread.h>
#include <time.h>

#define CHAINS 12 /* independent accumulators: more than latency x ports */

typedef struct peak_job {
    peak_kind kind;
    long iters;
} peak_job;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Written in assembly because a C compiler sees that twelve identical
 * chains compute the same value and keeps one.  Operands are zeros (no
 * denormal slow paths); one instruction per chain per iteration, no loads.
 * Laid out by hand, a group of instructions per line. */
// clang-format off
#define ON(op, n) op " %%zmm14,%%zmm15,%%zmm" #n "\n"
#define ZERO(n)   "vxorps %%zmm" #n ",%%zmm" #n ",%%zmm" #n "\n"
#define ZERO_CHAINS \
    ZERO(0) ZERO(1) ZERO(2) ZERO(3) ZERO(4) ZERO(5) ZERO(6) ZERO(7) \
    ZERO(8) ZERO(9) ZERO(10) ZERO(11) ZERO(14) ZERO(15)
#define CHAIN_STEP(op) \
    ON(op, 0) ON(op, 1) ON(op, 2) ON(op, 3) ON(op, 4) ON(op, 5) \
    ON(op, 6) ON(op, 7) ON(op, 8) ON(op, 9) ON(op, 10) ON(op, 11)
// clang-format on
#define CHAIN_LOOP(op) ZERO_CHAINS "1:\n" CHAIN_STEP(op) "dec %0\n jnz 1b\n vzeroupper\n"
#define CHAIN_CLOBBERS                                                                             \
    "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",       \
        "xmm11", "xmm14", "xmm15", "cc"

static void fp32_loop(long iters)
{
    __asm__ volatile(CHAIN_LOOP("vfmadd231ps") : "+r"(iters) : : CHAIN_CLOBBERS);
}

static void bf16_loop(long iters)
{
    __asm__ volatile(CHAIN_LOOP("vdpbf16ps") : "+r"(iters) : : CHAIN_CLOBBERS);
}

static void fp64_loop(long iters)
{
    __asm__ volatile(CHAIN_LOOP("vfmadd231pd") : "+r"(iters) : : CHAIN_CLOBBERS);
}

static void *peak_thread(void *arg)
{
    peak_job *j = arg;
    if (j->kind == PEAK_FP32)
        fp32_loop(j->iters);
    else if (j->kind == PEAK_BF16)
        bf16_loop(j->iters);
    else
        fp64_loop(j->iters);
    return NULL;
}

/* Seconds for `threads` threads to run iters iterations each; -1 on failure. */
static double peak_time(peak_kind kind, int threads, long iters)
{
    pthread_t tid[64];
    peak_job job[64];
    int started = 0;
    double t0 = now();
    for (; started < threads && started < 64; started++) {
        job[started] = (peak_job){.kind = kind, .iters = iters};
        if (pthread_create(&tid[started], NULL, peak_thread, &job[started]) != 0)
            break;
    }
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    return started == threads ? now() - t0 : -1;
}

double peak_gflops(peak_kind kind, int threads, double seconds)
{
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f") ||
        (kind == PEAK_BF16 && !__builtin_cpu_supports("avx512bf16")))
        return 0;
    static const double flops_per_instruction[] = {
        [PEAK_FP32] = 32, [PEAK_BF16] = 64, [PEAK_FP64] = 16};
    double flops_per_iter = CHAINS * flops_per_instruction[kind];
    long iters = 1000000;
    double t = peak_time(kind, 1, iters);
    if (t <= 0)
        return 0;
    iters = (long)(iters * seconds / t / 3) + 1; /* three tries of about seconds/3 */
    double best = 0;
    for (int r = 0; r < 3; r++) {
        t = peak_time(kind, threads, iters);
        if (t > 0 && threads * iters * flops_per_iter / t > best)
            best = threads * iters * flops_per_iter / t;
    }
    return best / 1e9;
}
