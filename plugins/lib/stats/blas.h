/*
 * blas.h — the OpenBLAS/LAPACKE entry points stats uses, resolved by
 * stats_blas_load().  Private to plugins/lib/stats.
 */
#ifndef FLOWRUN_STATS_BLAS_H
#define FLOWRUN_STATS_BLAS_H

#include <cblas.h>
#include <lapacke.h>

/* Filled once by stats_blas_load(); read-only afterwards. */
typedef struct stats_blas_api {
    __typeof__(cblas_dsyrk) *dsyrk;
    __typeof__(cblas_sgemm) *sgemm;
    __typeof__(LAPACKE_dsyevr) *dsyevr;
    __typeof__(openblas_get_corename) *corename;
} stats_blas_api;

/* Valid after a successful stats_blas_load(). */
extern stats_blas_api stats_blas;

#endif
