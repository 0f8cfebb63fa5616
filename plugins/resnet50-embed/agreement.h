/*
 * agreement.h — how closely features computed in lower precision agree
 * with the fp32 ones: the criteria tests/plugins/resnet50-embed/check_embed.py
 * states in the README, computed in the plugin so that precision: auto can
 * hold its choice to them.
 */
#ifndef RESNET50_EMBED_AGREEMENT_H
#define RESNET50_EMBED_AGREEMENT_H

#include <stddef.h>

/* The smallest cosine between rows i of ref and got (count rows of f). */
double agreement_min_cosine(const float *ref, const float *got, int count, size_t f);

/* The smallest correlation, over the leading min(8, k) components, between
 * the scores of ref and of got under ref's PCA(k), k = min(16, count - 1):
 * how far a downstream PCA fitted on fp32 features moves the others.
 * Computed through the count x count Gram matrix.  Returns -1 when out of
 * memory or count < 3. */
double agreement_min_pca(const float *ref, const float *got, int count, size_t f);

#endif
