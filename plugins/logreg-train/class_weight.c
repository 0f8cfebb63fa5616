/* class_weight.c — per-class multipliers of C, as scikit-learn's
 * class_weight ("balanced" or a mapping). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "class_weight.h"
#include "classifier.h"

static int class_weight_balanced(const rows *r, double *weight, char *err, size_t err_size)
{
    size_t *counts = calloc(r->n_names, sizeof *counts);
    if (!counts) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < r->n; i++)
        counts[r->classes[i]]++;
    clf_balanced_weights(counts, r->n_names, weight);
    free(counts);
    return 0;
}

/* One "NAME=W" entry (len bytes at e). */
static int class_weight_entry(const char *e, size_t len, const rows *r, double *weight, char *err,
                              size_t err_size)
{
    const char *eq = memchr(e, '=', len);
    char *end = NULL;
    double w = eq ? strtod(eq + 1, &end) : 0;
    if (!eq || end != e + len || !(w > 0)) {
        snprintf(err, err_size, "class_weight: expected NAME=WEIGHT (WEIGHT > 0), got \"%.*s\"",
                 (int)len, e);
        return -1;
    }
    for (uint32_t c = 0; c < r->n_names; c++)
        if (strlen(r->names[c]) == (size_t)(eq - e) && memcmp(r->names[c], e, eq - e) == 0) {
            weight[c] = w;
            return 0;
        }
    snprintf(err, err_size, "class_weight: no class \"%.*s\" in the training rows", (int)(eq - e),
             e);
    return -1;
}

int class_weight_parse(const char *spec, const rows *r, double *weight, char *err, size_t err_size)
{
    for (uint32_t c = 0; c < r->n_names; c++)
        weight[c] = 1.0;
    if (strcmp(spec, "balanced") == 0)
        return class_weight_balanced(r, weight, err, err_size);
    for (const char *p = spec; *p;) {
        size_t len = strcspn(p, ",");
        if (class_weight_entry(p, len, r, weight, err, err_size) < 0)
            return -1;
        p += len + (p[len] == ',');
    }
    return 0;
}
