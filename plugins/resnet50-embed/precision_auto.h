/*
 * precision_auto.h — each convolution's precision chosen on this CPU by
 * measuring, never from a table of CPU models.
 *
 * The convolutions are grouped into segments (the stem, then one per
 * output resolution: a ResNet's stages), so that layouts change only at a
 * few boundaries.  Every layer is timed alone in fp32, bf16 and int8 plans;
 * each segment starts in its fastest precision; while the features on the
 * calibration images agree with fp32's less than AUTO_MIN_COSINE (per
 * image) or AUTO_MIN_PCA (scores under fp32's PCA(16), agreement.h), the
 * earliest segment not yet at its most accurate option moves up (int8 to
 * the faster of bf16 and fp32, bf16 to fp32).  The mix is then timed as a
 * whole against fp32, interleaved, and kept only if faster.
 */
#ifndef RESNET50_EMBED_PRECISION_AUTO_H
#define RESNET50_EMBED_PRECISION_AUTO_H

#include <stddef.h>

#include "net.h"
#include "net_quant.h"
#include "net_run.h"

/* The README's int8 bound is 0.99 for both; measured on the calibration
 * images, a margin keeps other images within it. */
#define AUTO_MIN_COSINE 0.995
#define AUTO_MIN_PCA    0.995

/* The key this host's measurements are stored under: CPU model name,
 * oneDNN's ISA, batch, threads and the precision asked for. */
void auto_key(char *buf, size_t size, int batch, int threads, const char *asked);

/* Per layer precisions for batch images on threads (0: default): the
 * choice described above, from count preprocessed images (ranges q for
 * int8; NULL: no int8).  *speedup: fp32's time over the mix's (>= 1).
 * Returns the per-layer array (owned by the caller) or NULL with err. */
net_precision *auto_choose(const net *n, const net_quant *q, int batch, int threads,
                           const float *images, int count, double *speedup, char *err,
                           size_t err_size);

/* fp32's time over mix's for batch images on threads, interleaved runs,
 * medians.  Returns the ratio (> 0) or -1 with err. */
double auto_speedup(const net *n, const net_mix *mix, int batch, int threads, char *err,
                    size_t err_size);

/* The stored form: one letter per layer (f, b, i), a space, the speed-up.
 * auto_parse returns the per-layer array (owned by the caller) or NULL for
 * a value that does not fit n. */
void auto_format(const net *n, const net_precision *layer, double speedup, char *buf, size_t size);
net_precision *auto_parse(const net *n, const char *value, double *speedup);

#endif
