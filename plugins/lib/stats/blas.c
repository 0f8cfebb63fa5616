/*
 * blas.c — loads OpenBLAS lazily so it can use this CPU's AVX-512 kernels.
 *
 * OpenBLAS picks its kernels once, in its library constructor, reading
 * OPENBLAS_CORETYPE then (docs/platform.md, "OpenBLAS": setting it later does
 * nothing).  A
 * plugin linked against libopenblas would have it loaded, and the choice
 * made, before any plugin code runs.  So nothing here links BLAS: the first
 * user calls stats_blas_load(), which sets OPENBLAS_CORETYPE=SkylakeX when
 * the CPU has the AVX-512 subsets those kernels use and the user has not
 * chosen, then dlopens the libraries and resolves the few calls stats needs.
 * If some other code in the process already loaded OpenBLAS, its choice
 * stands (stats_blas_core() tells which).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "blas.h"
#include "stats.h"

stats_blas_api stats_blas;

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;
static char blas_error[256];               /* set by blas_open on failure */
static void *blas_handle, *lapacke_handle; /* kept for the process lifetime */

static int cpu_has_avx512(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
}

/* setenv is not safe against a concurrent getenv in another thread; it runs
 * at most once per process, before OpenBLAS exists, and only when the
 * variable is unset, which is the best a plugin can do (the engine could
 * do it in main() instead: see bench/pca/README.md). */
static void choose_core(void)
{
    if (getenv("OPENBLAS_CORETYPE") || !cpu_has_avx512())
        return;
    if (dlopen("libopenblas.so.0", RTLD_NOW | RTLD_NOLOAD))
        return; /* already initialised: too late to choose */
    setenv("OPENBLAS_CORETYPE", "SkylakeX", 0);
}

static void *resolve(void *handle, const char *lib, const char *name)
{
    void *f = dlsym(handle, name);
    if (!f && !blas_error[0])
        snprintf(blas_error, sizeof blas_error, "%s: symbol %s not found", lib, name);
    return f;
}

static void blas_open(void)
{
    choose_core();
    blas_handle = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    lapacke_handle = dlopen("liblapacke.so.3", RTLD_NOW | RTLD_LOCAL);
    if (!blas_handle || !lapacke_handle) {
        snprintf(blas_error, sizeof blas_error, "loading OpenBLAS/LAPACKE: %s", dlerror());
        return;
    }
    stats_blas.dsyrk = resolve(blas_handle, "libopenblas.so.0", "cblas_dsyrk");
    stats_blas.sgemm = resolve(blas_handle, "libopenblas.so.0", "cblas_sgemm");
    stats_blas.corename = resolve(blas_handle, "libopenblas.so.0", "openblas_get_corename");
    stats_blas.dsyevr = resolve(lapacke_handle, "liblapacke.so.3", "LAPACKE_dsyevr");
}

int stats_blas_load(char *err, size_t err_size)
{
    pthread_once(&blas_once, blas_open);
    if (blas_error[0]) {
        snprintf(err, err_size, "%s", blas_error);
        return -1;
    }
    return 0;
}

const char *stats_blas_core(void)
{
    return stats_blas.corename ? stats_blas.corename() : "";
}
