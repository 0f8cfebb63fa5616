/* net_quant.c — activation ranges: observed, turned into 8-bit forms,
 * saved and loaded. */
#include "net_quant.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define QUANT_MAGIC "flowrun-resnet50-embed-calibration 1"

net_quant *net_quant_new(const net *n)
{
    net_quant *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->n_tensors = n->n_tensors;
    q->lo = malloc(n->n_tensors * sizeof *q->lo);
    q->hi = malloc(n->n_tensors * sizeof *q->hi);
    if (!q->lo || !q->hi) {
        net_quant_free(q);
        return NULL;
    }
    for (size_t t = 0; t < n->n_tensors; t++) {
        q->lo[t] = INFINITY;
        q->hi[t] = -INFINITY;
    }
    q->model = net_hash(n);
    return q;
}

void net_quant_free(net_quant *q)
{
    if (!q)
        return;
    free(q->hist);
    for (size_t i = 0; i < q->n_plans; i++)
        free(q->plans[i]);
    free(q->plans);
    free(q->lo);
    free(q->hi);
    free(q);
}

static float magnitude(const net_quant *q, int t)
{
    return -q->lo[t] > q->hi[t] ? -q->lo[t] : q->hi[t];
}

static void histogram_add(net_quant *q, int t, const float *data, size_t count)
{
    uint32_t *hist = q->hist + (size_t)t * QUANT_BINS;
    float big = magnitude(q, t);
    float per_bin = big > 0 ? QUANT_BINS / big : 0;
    for (size_t i = 0; i < count; i++) {
        int b = (int)(fabsf(data[i]) * per_bin);
        hist[b < QUANT_BINS ? b : QUANT_BINS - 1]++;
    }
}

int net_quant_histograms(net_quant *q)
{
    q->hist = calloc(q->n_tensors * QUANT_BINS, sizeof *q->hist);
    return q->hist ? 0 : -1;
}

/* The clipping magnitude with the least expected squared error for
 * `levels` steps above 0, from t's histogram: with suffix sums of n, n·x,
 * n·x² over the bins above a candidate c, the clipped values' error is
 * Σn·x² − 2c·Σn·x + c²·Σn; the others' is step²/12 each. */
static float best_clip(const net_quant *q, int t, int levels)
{
    const uint32_t *hist = q->hist + (size_t)t * QUANT_BINS;
    double width = magnitude(q, t) / QUANT_BINS, n = 0, nx = 0, nxx = 0, total = 0;
    for (int b = 0; b < QUANT_BINS; b++)
        total += hist[b];
    double best_err = INFINITY;
    float best = magnitude(q, t);
    for (int b = QUANT_BINS - 1; b >= QUANT_BINS / 64; b--) {
        double c = (b + 1) * width, x = (b + 0.5) * width, step = c / levels;
        double err = nxx - 2 * c * nx + c * c * n + (total - n) * step * step / 12;
        if (err < best_err) {
            best_err = err;
            best = (float)c;
        }
        n += hist[b];
        nx += hist[b] * x;
        nxx += hist[b] * x * x;
    }
    return best;
}

void net_quant_clip(net_quant *q, const net *n)
{
    for (size_t t = 0; q->hist && t < q->n_tensors; t++) {
        if ((int)t == n->input || !(q->lo[t] <= q->hi[t]))
            continue;
        float c = best_clip(q, (int)t, q->lo[t] < 0 ? 127 : 255);
        q->lo[t] = q->lo[t] < -c ? -c : q->lo[t];
        q->hi[t] = q->hi[t] > c ? c : q->hi[t];
    }
    free(q->hist);
    q->hist = NULL;
}

void net_quant_observe(net_quant *q, int t, const float *data, size_t count)
{
    if (q->hist) {
        histogram_add(q, t, data, count);
        return;
    }
    float lo = q->lo[t], hi = q->hi[t];
    for (size_t i = 0; i < count; i++) {
        lo = data[i] < lo ? data[i] : lo;
        hi = data[i] > hi ? data[i] : hi;
    }
    q->lo[t] = lo;
    q->hi[t] = hi;
}

quant_form net_quant_form(const net_quant *q, const net *n, int t)
{
    float lo = q->lo[t] < 0 ? q->lo[t] : 0, hi = q->hi[t] > 0 ? q->hi[t] : 0;
    quant_form f = {0};
    if (lo == 0) {
        f.scale = hi / 255;
    } else if (t == n->input) {
        /* Asymmetric: the 256 levels span [lo, hi], 0 falls on a level. */
        f.scale = (hi - lo) / 255;
        f.zero_point = (int)lrintf(-lo / f.scale);
    } else {
        f.is_signed = 1;
        f.scale = (hi > -lo ? hi : -lo) / 127;
    }
    if (!(f.scale > 0) || !isfinite(f.scale)) /* all zeros, or never observed */
        f = (quant_form){.scale = 1};
    return f;
}

int net_quant_has_ranges(const net_quant *q)
{
    for (size_t t = 0; t < q->n_tensors; t++)
        if (q->lo[t] <= q->hi[t])
            return 1;
    return 0;
}

/* The line of key: "KEY = VALUE" */
static char **plan_line(const net_quant *q, const char *key)
{
    size_t len = strlen(key);
    for (size_t i = 0; i < q->n_plans; i++)
        if (!strncmp(q->plans[i], key, len) && !strncmp(q->plans[i] + len, " = ", 3))
            return &q->plans[i];
    return NULL;
}

const char *net_quant_plan(const net_quant *q, const char *key)
{
    char **line = plan_line(q, key);
    return line ? *line + strlen(key) + 3 : NULL;
}

const char *net_quant_plan_ending(const net_quant *q, const char *suffix)
{
    size_t len = strlen(suffix);
    for (size_t i = 0; i < q->n_plans; i++) {
        const char *eq = strstr(q->plans[i], " = ");
        size_t key = eq ? (size_t)(eq - q->plans[i]) : 0;
        if (eq && key > len && q->plans[i][key - len - 1] == ' ' &&
            !strncmp(q->plans[i] + key - len, suffix, len))
            return eq + 3;
    }
    return NULL;
}

int net_quant_set_plan(net_quant *q, const char *key, const char *value)
{
    size_t size = strlen(key) + strlen(value) + 4;
    char *text = malloc(size), **line = plan_line(q, key);
    if (text && !line) {
        /* the grown array is kept at once: realloc may have freed the old one */
        char **grown = realloc(q->plans, (q->n_plans + 1) * sizeof *grown);
        if (grown) {
            q->plans = grown;
            line = &q->plans[q->n_plans++];
            *line = NULL;
        }
    }
    if (!text || !line) {
        free(text);
        return -1;
    }
    snprintf(text, size, "%s = %s", key, value);
    free(*line);
    *line = text;
    return 0;
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t size)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < size; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

uint64_t net_hash(const net *n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n->n_layers; i++) {
        const net_layer *l = &n->layers[i];
        const net_tensor *in = &n->tensors[l->src], *out = &n->tensors[l->dst];
        int shape[] = {l->kind, in->c, in->h, in->w, out->c, out->h, out->w, l->kh, l->kw};
        h = fnv1a(h, shape, sizeof shape);
        if (l->weights) {
            size_t per_out =
                l->kind == NET_CONV ? (size_t)in->c * l->kh * l->kw : net_tensor_size(n, l->src);
            size_t oc = (size_t)out->c * (l->kind == NET_FC ? (size_t)out->h * out->w : 1);
            h = fnv1a(h, l->weights, oc * per_out * sizeof *l->weights);
            h = fnv1a(h, l->bias, oc * sizeof *l->bias);
        }
    }
    return h;
}

/* The name a tensor goes by in the file: its producing layer's. */
static const char *tensor_name(const net *n, int t)
{
    if (t == n->input)
        return "input";
    for (size_t i = 0; i < n->n_layers; i++)
        if (n->layers[i].dst == t)
            return n->layers[i].name;
    return NULL;
}

int net_quant_save(const net_quant *q, const net *n, const char *path, char *err, size_t err_size)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(err, err_size, "%s: cannot write: %s", tmp, strerror(errno));
        return -1;
    }
    fprintf(f, "%s\nmodel %016llx\nimages %d\n", QUANT_MAGIC, (unsigned long long)q->model,
            q->images);
    for (size_t t = 0; t < q->n_tensors; t++) {
        const char *name = tensor_name(n, (int)t);
        if (name && q->lo[t] <= q->hi[t])
            fprintf(f, "range %.9g %.9g %s\n", q->lo[t], q->hi[t], name);
    }
    for (size_t i = 0; i < q->n_plans; i++)
        fprintf(f, "plan %s\n", q->plans[i]);
    int ok = !ferror(f);
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, err_size, "%s: cannot write: %s", path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

/* The tensor a layer name (or "input") stands for, or -1. */
static int tensor_named(const net *n, const char *name)
{
    if (!strcmp(name, "input"))
        return n->input;
    for (size_t i = 0; i < n->n_layers; i++)
        if (!strcmp(n->layers[i].name, name))
            return n->layers[i].dst;
    return -1;
}

/* Reads one "key value" or "range lo hi name" line into q. */
static int parse_line(net_quant *q, const net *n, char *line, int lineno, const char *path,
                      char *err, size_t err_size)
{
    unsigned long long model;
    float lo, hi;
    int used = 0;
    line[strcspn(line, "\n")] = 0;
    if (lineno == 1) {
        if (strcmp(line, QUANT_MAGIC) == 0)
            return 0;
        snprintf(err, err_size, "%s:1: not a calibration file (expected \"%s\")", path,
                 QUANT_MAGIC);
        return -1;
    }
    if (sscanf(line, "model %llx", &model) == 1) {
        if (model == q->model)
            return 0;
        snprintf(err, err_size,
                 "%s:%d: calibrated for another model (%016llx, this one is %016llx)", path, lineno,
                 model, (unsigned long long)q->model);
        return -1;
    }
    if (sscanf(line, "images %d", &q->images) == 1)
        return 0;
    char *eq = strstr(line, " = ");
    if (!strncmp(line, "plan ", 5) && eq) {
        *eq = 0;
        int rc = net_quant_set_plan(q, line + 5, eq + 3);
        if (rc < 0)
            snprintf(err, err_size, "%s:%d: out of memory", path, lineno);
        return rc;
    }
    if (sscanf(line, "range %g %g %n", &lo, &hi, &used) == 2 && used > 0 && lo <= hi) {
        int t = tensor_named(n, line + used);
        if (t >= 0) {
            q->lo[t] = lo;
            q->hi[t] = hi;
            return 0;
        }
        snprintf(err, err_size, "%s:%d: the model has no layer \"%s\"", path, lineno, line + used);
        return -1;
    }
    snprintf(err, err_size,
             "%s:%d: expected \"model HASH\", \"images N\", \"range LO HI NAME\" or \"plan KEY = "
             "VALUE\"",
             path, lineno);
    return -1;
}

net_quant *net_quant_load(const net *n, const char *path, int *missing, char *err, size_t err_size)
{
    if (missing)
        *missing = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (missing)
            *missing = errno == ENOENT;
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return NULL;
    }
    net_quant *q = net_quant_new(n);
    char line[4096];
    int lineno = 0, rc = q ? 0 : -1;
    if (!q)
        snprintf(err, err_size, "%s: out of memory", path);
    while (rc == 0 && fgets(line, sizeof line, f))
        rc = parse_line(q, n, line, ++lineno, path, err, err_size);
    fclose(f);
    if (rc == 0 && lineno == 0) {
        snprintf(err, err_size, "%s: empty calibration file", path);
        rc = -1;
    }
    if (rc < 0) {
        net_quant_free(q);
        return NULL;
    }
    return q;
}
