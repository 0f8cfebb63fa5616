/*
 * file.c — the model file: JSON, so that a person (and Python) can read it.
 *
 *   {"format": "flowrun-classifier", "version": 1,
 *    "algorithm": "liblinear L2R_LR one-vs-rest", "C": 1, "eps": 0.01,
 *    "bias": 1, "features": 200, "classes": ["Apple", ...],
 *    "class_weight": [..] (optional),
 *    "liblinear_labels": [3, 0, ...],    class index of liblinear's label i
 *    "weights": [...],                   liblinear's w, (features + 1) x vectors
 *    "metrics": {...}}
 *
 * Doubles are written with 17 significant digits: they read back exactly.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define CLF_FORMAT  "flowrun-classifier"
#define CLF_VERSION 1

int clf_set_metrics(clf_model *m, const char *json, char *err, size_t err_size)
{
    char *copy = strdup(json);
    if (!copy) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    free(m->metrics);
    m->metrics = copy;
    return 0;
}

/* libflowrun exports a json_string of its own (engine/support/json_out.h) that
 * shadows jansson's in a plugin's calls: strings are made with jansson's
 * json_stringn instead. */
static json_t *clf_json_string(const char *s)
{
    return json_stringn(s, strlen(s));
}

static json_t *clf_doubles(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_real(v[i]));
    return a;
}

static json_t *clf_to_json(const clf_model *m)
{
    uint32_t n = clf_classes(m);
    json_t *names = json_array(), *labels = json_array();
    for (uint32_t i = 0; i < n; i++) {
        json_array_append_new(names, clf_json_string(m->names[i]));
        json_array_append_new(labels, json_integer(m->lin.label[i]));
    }
    json_t *o = json_pack(
        "{s:s, s:i, s:s, s:f, s:f, s:f, s:i, s:o, s:o, s:o}", "format", CLF_FORMAT, "version",
        CLF_VERSION, "algorithm", "liblinear L2R_LR one-vs-rest", "C", m->opt.C, "eps", m->opt.eps,
        "bias", m->lin.bias, "features", m->lin.nr_feature, "classes", names, "liblinear_labels",
        labels, "weights", clf_doubles(m->lin.w, clf_weight_count(m)));
    if (o && m->weight)
        json_object_set_new(o, "class_weight", clf_doubles(m->weight, n));
    if (o && m->metrics)
        json_object_set_new(o, "metrics", json_loads(m->metrics, 0, NULL));
    return o;
}

int clf_save(const clf_model *m, const char *path, char *err, size_t err_size)
{
    char tmp[4096];
    json_t *o = clf_to_json(m);
    if (!o) {
        snprintf(err, err_size, "%s: out of memory", path);
        return -1;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int rc = json_dump_file(o, tmp, JSON_INDENT(1) | JSON_REAL_PRECISION(17));
    json_decref(o);
    if (rc < 0 || rename(tmp, path) < 0) {
        snprintf(err, err_size, "%s: cannot write: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Reads n numbers of array key into out (n doubles). */
static int clf_read_doubles(json_t *o, const char *key, double *out, size_t n, const char *path,
                            char *err, size_t err_size)
{
    json_t *a = json_object_get(o, key);
    if (!json_is_array(a) || json_array_size(a) != n) {
        snprintf(err, err_size, "%s: \"%s\" must be an array of %zu numbers", path, key, n);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(a, i);
        if (!json_is_number(v)) {
            snprintf(err, err_size, "%s: \"%s\"[%zu] is not a number", path, key, i);
            return -1;
        }
        out[i] = json_number_value(v);
    }
    return 0;
}

/* The class names and liblinear's label order. */
static clf_model *clf_read_classes(json_t *o, const char *path, char *err, size_t err_size)
{
    json_t *names = json_object_get(o, "classes"), *labels = json_object_get(o, "liblinear_labels");
    size_t n = json_array_size(names);
    if (n < 2 || n > 1u << 20 || !json_is_array(labels) || json_array_size(labels) != n) {
        snprintf(err, err_size,
                 "%s: \"classes\" and \"liblinear_labels\" must be arrays of the "
                 "same length >= 2",
                 path);
        return NULL;
    }
    const char **v = calloc(n, sizeof *v);
    clf_model *m = NULL;
    size_t i = 0;
    for (; v && i < n && json_is_string(json_array_get(names, i)); i++)
        v[i] = json_string_value(json_array_get(names, i));
    if (v && i == n)
        m = clf_alloc(v, (uint32_t)n);
    free(v);
    if (!m) {
        snprintf(err, err_size, "%s: \"classes\" must hold %zu strings", path, n);
        return NULL;
    }
    if (!(m->lin.label = malloc(n * sizeof *m->lin.label)))
        goto fail;
    for (i = 0; i < n; i++) {
        json_int_t l = json_integer_value(json_array_get(labels, i));
        if (!json_is_integer(json_array_get(labels, i)) || l < 0 || (size_t)l >= n)
            goto fail;
        m->lin.label[i] = (int)l;
    }
    return m;
fail:
    snprintf(err, err_size, "%s: \"liblinear_labels\" must be class indices 0..%zu", path, n - 1);
    clf_free(m);
    return NULL;
}

static int clf_read_numbers(clf_model *m, json_t *o, const char *path, char *err, size_t err_size)
{
    json_int_t features = json_integer_value(json_object_get(o, "features"));
    double c = 0, eps = 0, bias = 0;
    if (json_unpack(o, "{s:F, s:F, s:F}", "C", &c, "eps", &eps, "bias", &bias) < 0 ||
        features < 1 || features > 1 << 24) {
        snprintf(err, err_size, "%s: needs numbers \"C\", \"eps\", \"bias\" and \"features\"",
                 path);
        return -1;
    }
    m->lin.nr_feature = (int)features;
    m->lin.bias = bias;
    m->lin.param = (struct parameter){.solver_type = L2R_LR, .C = c, .eps = eps};
    m->opt = (clf_options){.C = c, .eps = eps, .bias = bias};
    size_t nw = clf_weight_count(m);
    if (!(m->lin.w = malloc(nw * sizeof *m->lin.w)) ||
        clf_read_doubles(o, "weights", m->lin.w, nw, path, err, err_size) < 0)
        return -1;
    if (!json_object_get(o, "class_weight"))
        return 0;
    if (!(m->weight = malloc(clf_classes(m) * sizeof *m->weight)))
        return -1;
    m->opt.class_weight = m->weight;
    return clf_read_doubles(o, "class_weight", m->weight, clf_classes(m), path, err, err_size);
}

clf_model *clf_load(const char *path, char *err, size_t err_size)
{
    json_error_t je;
    err[0] = '\0';
    json_t *o = json_load_file(path, 0, &je);
    if (!o) {
        snprintf(err, err_size, "%s:%d: %s", path, je.line, je.text);
        return NULL;
    }
    clf_model *m = NULL;
    const char *format = json_string_value(json_object_get(o, "format"));
    json_int_t version = json_integer_value(json_object_get(o, "version"));
    if (!format || strcmp(format, CLF_FORMAT) != 0)
        snprintf(err, err_size, "%s: not a flowrun classifier (format \"%s\")", path,
                 format ? format : "");
    else if (version < 1 || version > CLF_VERSION)
        snprintf(err, err_size, "%s: classifier format version %lld, this flowrun reads up to %d",
                 path, (long long)version, CLF_VERSION);
    else if ((m = clf_read_classes(o, path, err, err_size)) &&
             clf_read_numbers(m, o, path, err, err_size) < 0) {
        if (!err[0])
            snprintf(err, err_size, "%s: out of memory", path);
        clf_free(m);
        m = NULL;
    }
    json_t *metrics = m ? json_object_get(o, "metrics") : NULL;
    if (metrics)
        m->metrics = json_dumps(metrics, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(o);
    return m;
}
