/* agreement.c — cosine and PCA-score agreement of two feature sets. */
#include "agreement.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double agreement_min_cosine(const float *ref, const float *got, int count, size_t f)
{
    double worst = 1;
    for (int i = 0; i < count; i++) {
        double ab = 0, aa = 0, bb = 0;
        for (size_t j = 0; j < f; j++) {
            double x = ref[(size_t)i * f + j], y = got[(size_t)i * f + j];
            ab += x * y;
            aa += x * x;
            bb += y * y;
        }
        double c = aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : (aa == bb ? 1 : 0);
        worst = c < worst ? c : worst;
    }
    return worst;
}

/* Cyclic Jacobi rotations on the symmetric n x n matrix a (destroyed):
 * eigenvalues on its diagonal, eigenvectors in the columns of v. */
static void jacobi(double *a, int n, double *v)
{
    for (int i = 0; i < n * n; i++)
        v[i] = i % (n + 1) == 0;
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++)
                off += a[p * n + q] * a[p * n + q];
        if (off < 1e-22)
            return;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) {
                if (fabs(a[p * n + q]) < 1e-300)
                    continue;
                double theta = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q]);
                double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < n; k++) { /* columns p, q */
                    double akp = a[k * n + p], akq = a[k * n + q];
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for (int k = 0; k < n; k++) { /* rows p, q */
                    double apk = a[p * n + k], aqk = a[q * n + k];
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for (int k = 0; k < n; k++) {
                    double vkp = v[k * n + p], vkq = v[k * n + q];
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
    }
}

static double correlation(const double *x, const double *y, int n)
{
    double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < n; i++) {
        mx += x[i] / n;
        my += y[i] / n;
    }
    for (int i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : 0;
}

/* gram = Xc Xc^T, cross = Yc Xc^T, both centred on ref's mean. */
static void products(const float *ref, const float *got, int n, size_t f, double *gram,
                     double *cross)
{
    for (size_t j = 0; j < f; j++) {
        double mean = 0, x[64], y[64];
        for (int i = 0; i < n; i++)
            mean += ref[(size_t)i * f + j] / n;
        for (int i = 0; i < n; i++) {
            x[i] = ref[(size_t)i * f + j] - mean;
            y[i] = got[(size_t)i * f + j] - mean;
        }
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++) {
                gram[a * n + b] += x[a] * x[b];
                cross[a * n + b] += y[a] * x[b];
            }
    }
}

double agreement_min_pca(const float *ref, const float *got, int count, size_t f)
{
    int n = count < 64 ? count : 64; /* the first 64 images are plenty */
    if (n < 3)
        return -1;
    int k = n - 1 < 16 ? n - 1 : 16, lead = k < 8 ? k : 8;
    double *gram = calloc((size_t)n * n, sizeof *gram),
           *cross = calloc((size_t)n * n, sizeof *cross);
    double *v = malloc((size_t)n * n * sizeof *v), *sx = malloc(2 * (size_t)n * sizeof *sx);
    int *order = malloc((size_t)n * sizeof *order);
    double worst = -1;
    if (gram && cross && v && sx && order) {
        products(ref, got, n, f, gram, cross);
        jacobi(gram, n, v);
        for (int i = 0; i < n; i++)
            order[i] = i;
        for (int i = 0; i < n; i++) /* eigenvalues, largest first */
            for (int j = i + 1; j < n; j++)
                if (gram[order[j] * n + order[j]] > gram[order[i] * n + order[i]]) {
                    int t = order[i];
                    order[i] = order[j];
                    order[j] = t;
                }
        worst = 1;
        for (int c = 0; c < lead; c++) {
            /* ref's scores ∝ u; got's = Yc Xc^T u (the common 1/sqrt(λ)
             * does not change a correlation). */
            double *su = sx, *sy = sx + n;
            for (int i = 0; i < n; i++) {
                su[i] = v[i * n + order[c]];
                sy[i] = 0;
                for (int j = 0; j < n; j++)
                    sy[i] += cross[i * n + j] * v[j * n + order[c]];
            }
            double r = correlation(su, sy, n);
            worst = r < worst ? r : worst;
        }
    }
    free(order);
    free(sx);
    free(v);
    free(cross);
    free(gram);
    return worst;
}
