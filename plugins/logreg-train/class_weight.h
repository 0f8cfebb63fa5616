/* class_weight.h — the `class_weight` key: "" (all 1), "balanced", or
 * "NAME=W,NAME=W" (unlisted classes 1). */
#ifndef LOGREG_TRAIN_CLASS_WEIGHT_H
#define LOGREG_TRAIN_CLASS_WEIGHT_H

#include "rows.h"

/* Fills weight (r->n_names doubles) from spec for the classes of r.  0, or
 * -1 with err naming the bad entry. */
int class_weight_parse(const char *spec, const rows *r, double *weight, char *err, size_t err_size);

#endif
