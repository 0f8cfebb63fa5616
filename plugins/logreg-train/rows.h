/* rows.h — the training rows a logreg-train instance holds until the end of
 * the stream: features, class indices, record ids; classes named in order
 * of first appearance.  All owned by the table. */
#ifndef LOGREG_TRAIN_ROWS_H
#define LOGREG_TRAIN_ROWS_H

#include <stddef.h>
#include <stdint.h>

typedef struct rows {
    uint32_t dim; /* 0 until the first row */
    size_t n, cap;
    float *values;     /* n x dim */
    uint32_t *classes; /* n */
    char **ids;        /* n */
    char **names;      /* n_names */
    uint32_t n_names;
} rows;

/* Appends a row (values: dim floats, label and id borrowed).  0 or -1 (out
 * of memory). */
int rows_add(rows *r, const float *values, const char *label, const char *id);
/* Renumbers the classes so that names are sorted (class i = i-th name in
 * strcmp order): the model's classes do not depend on the rows' order. */
void rows_sort_classes(rows *r);
void rows_free(rows *r);

#endif
