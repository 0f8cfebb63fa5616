/* internal.h — the model's layout, shared by train.c, predict.c, file.c. */
#ifndef FLOWRUN_CLASSIFIER_INTERNAL_H
#define FLOWRUN_CLASSIFIER_INTERNAL_H

#include <linear.h>

#include "classifier.h"

struct clf_model {
    /* liblinear's model.  Its label[] holds class indices (0..n_classes-1)
     * in liblinear's order (of first appearance when training), w has
     * clf_weight_count() doubles; both malloc'd and owned here. */
    struct model lin;
    char **names;   /* owned, n_classes */
    double *weight; /* owned, n_classes: the class weights trained with, or NULL */
    clf_options opt;
    char *metrics; /* owned JSON text, or NULL */
};

/* Weight vectors liblinear keeps: 1 for two classes, else one per class. */
int clf_weight_vectors(const clf_model *m);
/* Doubles in lin.w. */
size_t clf_weight_count(const clf_model *m);
/* An empty model with copies of names (n of them), or NULL. */
clf_model *clf_alloc(const char *const *names, uint32_t n);

#endif
