/* peak.c — FMA and bf16 dot-product throughput of this machine. */
#include "peak.h"

#include <cpuid.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

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

static void int8_loop(long iters)
{
    __asm__ volatile(CHAIN_LOOP("vpdpbusd") : "+r"(iters) : : CHAIN_CLOBBERS);
}

/* AMX: tiles 4 and 5 (zeros) multiplied into accumulators 0-3, four
 * independent chains.  The tile configuration: palette 1, 16 rows of 64
 * bytes in tiles 0-5.  Never run on the machines this was written on (no
 * AMX): the figures are only printed where the CPU has it. */
typedef struct amx_config {
    unsigned char palette, start_row, reserved[14];
    unsigned short colsb[16];
    unsigned char rows[16];
} amx_config;

#define AMX_LOOP(op)                                                                               \
    "ldtilecfg (%1)\n tilezero %%tmm0\n tilezero %%tmm1\n tilezero %%tmm2\n tilezero %%tmm3\n"     \
    "tilezero %%tmm4\n tilezero %%tmm5\n"                                                          \
    "1:\n" op " %%tmm5,%%tmm4,%%tmm0\n" op " %%tmm5,%%tmm4,%%tmm1\n" op                            \
    " %%tmm5,%%tmm4,%%tmm2\n" op " %%tmm5,%%tmm4,%%tmm3\n dec %0\n jnz 1b\n tilerelease\n"

static void amx_loop(peak_kind kind, long iters)
{
    amx_config cfg = {.palette = 1};
    for (int t = 0; t < 6; t++) {
        cfg.colsb[t] = 64;
        cfg.rows[t] = 16;
    }
    if (kind == PEAK_AMX_INT8)
        __asm__ volatile(AMX_LOOP("tdpbusd") : "+r"(iters) : "r"(&cfg) : "cc", "memory");
    else
        __asm__ volatile(AMX_LOOP("tdpbf16ps") : "+r"(iters) : "r"(&cfg) : "cc", "memory");
}

static void *peak_thread(void *arg)
{
    peak_job *j = arg;
    if (j->kind == PEAK_FP32)
        fp32_loop(j->iters);
    else if (j->kind == PEAK_BF16)
        bf16_loop(j->iters);
    else if (j->kind == PEAK_INT8)
        int8_loop(j->iters);
    else if (j->kind == PEAK_FP64)
        fp64_loop(j->iters);
    else
        amx_loop(j->kind, j->iters);
    return NULL;
}

/* CPUID leaf 7 EDX: AMX-BF16 bit 22, AMX-TILE 24, AMX-INT8 25; Linux then
 * grants the tile data state to the process on request (kernel 5.16+). */
static int amx_usable(peak_kind kind)
{
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(d & (1u << 24)) ||
        !(d & (1u << (kind == PEAK_AMX_INT8 ? 25 : 22))))
        return 0;
    const long arch_req_xcomp_perm = 0x1023, xfeature_xtiledata = 18;
    return syscall(SYS_arch_prctl, arch_req_xcomp_perm, xfeature_xtiledata) == 0;
}

static int kind_usable(peak_kind kind)
{
    __builtin_cpu_init();
    if (kind == PEAK_AMX_INT8 || kind == PEAK_AMX_BF16)
        return amx_usable(kind);
    if (!__builtin_cpu_supports("avx512f"))
        return 0;
    if (kind == PEAK_BF16)
        return __builtin_cpu_supports("avx512bf16");
    if (kind == PEAK_INT8)
        return __builtin_cpu_supports("avx512vnni");
    return 1;
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
    if (!kind_usable(kind))
        return 0;
    static const double flops_per_instruction[] = {
        [PEAK_FP32] = 32,  [PEAK_BF16] = 64,        [PEAK_FP64] = 16,
        [PEAK_INT8] = 128, [PEAK_AMX_INT8] = 32768, [PEAK_AMX_BF16] = 16384};
    int chains = kind == PEAK_AMX_INT8 || kind == PEAK_AMX_BF16 ? 4 : CHAINS;
    double flops_per_iter = chains * flops_per_instruction[kind];
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
