/*
 * classifier.h — a linear classifier of feature rows: L2-regularised
 * logistic regression trained and applied by Debian's liblinear 2.3.
 *
 * liblinear 2.3 has no multinomial (softmax) solver: with more than two
 * classes its L2R_LR trains one-vs-rest, one weight vector per class, and
 * predict_probability() normalises the per-class sigmoids to sum to 1.
 * That is what is used here (scikit-learn's LogisticRegression with
 * solver="liblinear" does the same); the bias is liblinear's: an extra
 * constant feature `bias`, regularised with the weights.
 *
 * No knowledge of the engine: rows are float32 vectors, classes are
 * names.  Every function that can fail returns 0/-1 (or NULL) and writes
 * one line naming what failed into err.
 */
#ifndef FLOWRUN_CLASSIFIER_H
#define FLOWRUN_CLASSIFIER_H

#include <stddef.h>
#include <stdint.h>

typedef struct clf_model clf_model;

/* The rows to train on: n rows of dim floats (borrowed), the class of each
 * as an index into names (borrowed, n_classes of them, distinct). */
typedef struct clf_data {
    const float *rows;
    const uint32_t *classes;
    size_t n;
    uint32_t dim;
    const char *const *names;
    uint32_t n_classes;
} clf_data;

typedef struct clf_options {
    double C;    /* inverse regularisation strength, > 0 */
    double eps;  /* liblinear's stopping tolerance, > 0 */
    double bias; /* the constant feature's value; < 0: no bias term */
    /* Per class multipliers of C (n_classes, borrowed), or NULL for 1. */
    const double *class_weight;
} clf_options;

/* Trains.  Returns a model owned by the caller (clf_free), or NULL with err. */
clf_model *clf_train(const clf_data *d, const clf_options *o, char *err, size_t err_size);
void clf_free(clf_model *m);

uint32_t clf_dim(const clf_model *m);
uint32_t clf_classes(const clf_model *m);
/* Name of class i (0 <= i < clf_classes), owned by the model. */
const char *clf_class_name(const clf_model *m, uint32_t i);
const clf_options *clf_model_options(const clf_model *m);

/* Class probabilities of one row (dim floats, borrowed) into prob
 * (clf_classes doubles, caller's), by class index: liblinear's
 * predict_probability.  Thread-safe on a shared model. */
void clf_predict(const clf_model *m, const float *row, double *prob);

/* The k most probable classes (k <= n): indices into prob by decreasing
 * probability, the lower index first on ties.  top: k entries, caller's. */
void clf_top(const double *prob, uint32_t n, uint32_t k, uint32_t *top);

/* "balanced" class weights as scikit-learn: n / (n_classes * count_c);
 * counts by class, weight out (n_classes each).  A class without rows
 * gets 1. */
void clf_balanced_weights(const size_t *counts, uint32_t n_classes, double *weight);

/* Metrics stored with the model (a JSON object, copied), e.g. training
 * accuracy; replaced by the next call. */
int clf_set_metrics(clf_model *m, const char *json, char *err, size_t err_size);

/* Writes the model as JSON (format "flowrun-classifier", version 1: the
 * options, class names, liblinear's weights written to round-trip exactly,
 * and the metrics) to path atomically (temporary file, then rename). */
int clf_save(const clf_model *m, const char *path, char *err, size_t err_size);
/* Reads a file written by clf_save.  NULL with err naming the file and what
 * is wrong (format, version, sizes). */
clf_model *clf_load(const char *path, char *err, size_t err_size);

#endif /* FLOWRUN_CLASSIFIER_H */
