/*
 * cpu.h — run-time dispatch of hand-written hot loops by CPU feature.
 *
 * Portable builds compile hot code for the x86-64-v3 baseline (AVX2, FMA).
 * CPU_CLONES on a function makes GCC compile it twice, for x86-64-v4
 * (AVX-512 F/BW/DQ/VL) and for the baseline, and pick one copy when the
 * library is loaded (an ifunc, resolved once from cpuid): the same binary
 * uses AVX-512 where the host has it and runs where it does not.  Native
 * builds (FLOWRUN_NATIVE, CPU_NATIVE defined) and other compilers or
 * architectures get the function once, as written.
 */
#ifndef FLOWRUN_CPU_H
#define FLOWRUN_CPU_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(CPU_NATIVE)
#define CPU_CLONES __attribute__((target_clones("arch=x86-64-v4", "default")))
#else
#define CPU_CLONES
#endif

#endif
