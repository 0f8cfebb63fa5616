/* precision_auto.c — measuring which precision each segment runs fastest
 * in within the accuracy bound (precision_auto.h). */
#include "precision_auto.h"

#include <math.h>
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agreement.h"
#include "net_profile.h"
#include "precision.h"

#define SEGMENTS   16
#define PRECISIONS 3
#define ROUNDS     5 /* interleaved timed runs per side */

void auto_key(char *buf, size_t size, int batch, int threads, const char *asked)
{
    char model[256] = "unknown", line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
            snprintf(model, sizeof model, "%s", strchr(line, ':') + 2);
            model[strcspn(model, "\n")] = 0;
            break;
        }
    if (f)
        fclose(f);
    snprintf(buf, size, "cpu \"%s\" isa 0x%x batch %d threads %d %s", model,
             (unsigned)dnnl_get_effective_cpu_isa(), batch, threads, asked);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median seconds per run of a and b, run in turns after a warm-up each. */
static int compare(net_plan *a, net_plan *b, double *ta, double *tb, char *err, size_t err_size)
{
    double t[2][ROUNDS];
    net_plan *plan[2] = {a, b};
    for (int r = -1; r < ROUNDS; r++)
        for (int k = 0; k < 2; k++) {
            double t0 = now();
            if (net_plan_run(plan[k], err, err_size) < 0)
                return -1;
            if (r >= 0)
                t[k][r] = now() - t0;
        }
    qsort(t[0], ROUNDS, sizeof t[0][0], by_value);
    qsort(t[1], ROUNDS, sizeof t[1][0], by_value);
    *ta = t[0][ROUNDS / 2];
    *tb = t[1][ROUNDS / 2];
    return 0;
}

double auto_speedup(const net *n, const net_mix *mix, int batch, int threads, char *err,
                    size_t err_size)
{
    net_plan *fp32 = net_plan_new(n, batch, NULL, threads, err, err_size);
    net_plan *other = fp32 ? net_plan_new(n, batch, mix, threads, err, err_size) : NULL;
    double t32 = 0, t = 0;
    int rc = other ? compare(fp32, other, &t32, &t, err, err_size) : -1;
    net_plan_free(other);
    net_plan_free(fp32);
    return rc == 0 && t > 0 ? t32 / t : -1;
}

/* Segment of every layer: -1 for non-convolutions, 0 the stem, then one
 * per output resolution in order of appearance.  Returns the count. */
static int segments(const net *n, int *seg)
{
    int h[SEGMENTS], count = 0;
    for (size_t i = 0; i < n->n_layers; i++) {
        seg[i] = -1;
        if (n->layers[i].kind != NET_CONV)
            continue;
        int oh = count == 0 ? -1 : n->tensors[n->layers[i].dst].h, s = 0;
        while (s < count && h[s] != oh)
            s++;
        if (s == count && count < SEGMENTS)
            h[count++] = oh;
        seg[i] = s < count ? s : count - 1;
    }
    return count;
}

/* Features of count images through p, a batch at a time (the last padded
 * with its first image), into out (count x features). */
static int features(net_plan *p, const net *n, const float *images, int count, int batch,
                    float *out, char *err, size_t err_size)
{
    size_t image = net_tensor_size(n, n->input), f = net_plan_features(p);
    float *in = net_plan_input(p);
    for (int at = 0; at < count; at += batch) {
        int k = count - at < batch ? count - at : batch;
        memcpy(in, images + (size_t)at * image, (size_t)k * image * sizeof *in);
        for (int j = k; j < batch; j++)
            memcpy(in + (size_t)j * image, in, image * sizeof *in);
        if (net_plan_run(p, err, err_size) < 0)
            return -1;
        memcpy(out + (size_t)at * f, net_plan_output(p), (size_t)k * f * sizeof *out);
    }
    return 0;
}

/* What a choice search needs. */
typedef struct search {
    const net *n;
    const net_quant *q;
    int batch, threads, count, n_seg;
    const float *images;
    int *seg;                          /* per layer */
    double time[PRECISIONS][SEGMENTS]; /* per precision and segment; < 0: unavailable */
    net_precision choice[SEGMENTS];
    net_precision *layer; /* per layer, from choice */
    float *ref, *got;     /* count x features: fp32's, the candidate's */
    size_t f;
} search;

/* Times every layer alone in a plan with all convolutions in prec, summed
 * per segment; -1 where oneDNN cannot build such a plan on this CPU or
 * would use a reference kernel for it. */
static void time_precision(search *s, net_precision prec)
{
    char err[256];
    for (size_t i = 0; i < s->n->n_layers; i++)
        s->layer[i] = s->n->layers[i].kind == NET_CONV ? prec : NET_FP32;
    net_mix mix = {.layer = s->layer, .quant = s->q};
    net_plan *p = prec == NET_INT8 && !s->q
                      ? NULL
                      : net_plan_new(s->n, s->batch, &mix, s->threads, err, sizeof err);
    double *t = malloc(s->n->n_layers * sizeof *t);
    /* A reference kernel is never the fast choice, and timing one is slow. */
    int usable = p && (prec == NET_FP32 || net_plan_reference_kernels(p) == 0);
    int ok = usable && t && net_profile_layers(p, 3, t) == 0;
    for (int g = 0; g < s->n_seg; g++)
        s->time[prec][g] = ok ? 0 : -1;
    for (size_t i = 0; ok && i < s->n->n_layers; i++)
        if (s->seg[i] >= 0)
            s->time[prec][s->seg[i]] += t[i];
    free(t);
    net_plan_free(p);
}

/* The fastest available precision for segment g among those at least as
 * accurate as `from` (fp32 > bf16 > int8), excluding `from` when above. */
static net_precision fastest(const search *s, int g, int above, net_precision from)
{
    static const net_precision by_accuracy[] = {NET_INT8, NET_BF16, NET_FP32};
    net_precision best = NET_FP32;
    int rank_from = from == NET_INT8 ? 0 : from == NET_BF16 ? 1 : 2;
    for (int r = rank_from + (above ? 1 : 0); r < PRECISIONS; r++) {
        net_precision p = by_accuracy[r];
        if (s->time[p][g] >= 0 && s->time[p][g] < s->time[best][g])
            best = p;
    }
    return best;
}

/* Whether the features with the current choice agree with fp32's: 1 yes,
 * 0 no, -1 failure. */
static int accurate(search *s, char *err, size_t err_size)
{
    for (size_t i = 0; i < s->n->n_layers; i++)
        s->layer[i] = s->seg[i] >= 0 ? s->choice[s->seg[i]] : NET_FP32;
    net_mix mix = {.layer = s->layer, .quant = s->q};
    net_plan *p = net_plan_new(s->n, s->batch, &mix, s->threads, err, err_size);
    int rc = p ? features(p, s->n, s->images, s->count, s->batch, s->got, err, err_size) : -1;
    net_plan_free(p);
    if (rc < 0)
        return -1;
    double pca = agreement_min_pca(s->ref, s->got, s->count, s->f);
    return agreement_min_cosine(s->ref, s->got, s->count, s->f) >= AUTO_MIN_COSINE &&
           (pca < -0.5 || pca >= AUTO_MIN_PCA);
}

/* Moves the earliest segment that can up; 0 when none can. */
static int promote(search *s)
{
    for (int g = 0; g < s->n_seg; g++)
        if (s->choice[g] != NET_FP32) {
            s->choice[g] = fastest(s, g, 1, s->choice[g]);
            return 1;
        }
    return 0;
}

static int search_choice(search *s, char *err, size_t err_size)
{
    net_plan *fp32 = net_plan_new(s->n, s->batch, NULL, s->threads, err, err_size);
    int rc = fp32 ? features(fp32, s->n, s->images, s->count, s->batch, s->ref, err, err_size) : -1;
    net_plan_free(fp32);
    if (rc < 0)
        return -1;
    for (int p = 0; p < PRECISIONS; p++)
        time_precision(s, (net_precision)p);
    if (s->time[NET_FP32][0] < 0) {
        snprintf(err, err_size, "timing the fp32 plan failed");
        return -1;
    }
    for (int g = 0; g < s->n_seg; g++)
        s->choice[g] = fastest(s, g, 0, NET_INT8);
    int ok;
    while ((ok = accurate(s, err, err_size)) == 0 && promote(s))
        ;
    return ok < 0 ? -1 : 0;
}

net_precision *auto_choose(const net *n, const net_quant *q, int batch, int threads,
                           const float *images, int count, double *speedup, char *err,
                           size_t err_size)
{
    search s = {.n = n,
                .q = q,
                .batch = batch,
                .threads = threads,
                .count = count,
                .images = images,
                .f = net_tensor_size(n, n->output)};
    s.seg = malloc(n->n_layers * sizeof *s.seg);
    s.layer = malloc(n->n_layers * sizeof *s.layer);
    s.ref = malloc((size_t)count * s.f * sizeof *s.ref);
    s.got = malloc((size_t)count * s.f * sizeof *s.got);
    int rc = s.seg && s.layer && s.ref && s.got ? 0 : -1;
    if (rc < 0)
        snprintf(err, err_size, "out of memory");
    if (rc == 0) {
        s.n_seg = segments(n, s.seg);
        rc = search_choice(&s, err, err_size);
    }
    net_mix mix = {.layer = s.layer, .quant = q};
    *speedup = rc == 0 ? auto_speedup(n, &mix, batch, threads, err, err_size) : -1;
    if (rc == 0 && *speedup > 0 && *speedup < 1) {
        /* Slower than fp32 as a whole (reorders at the boundaries, caches):
         * fp32 it is. */
        for (size_t i = 0; i < n->n_layers; i++)
            s.layer[i] = NET_FP32;
        *speedup = 1;
    }
    free(s.seg);
    free(s.ref);
    free(s.got);
    if (rc < 0 || *speedup < 0) {
        free(s.layer);
        return NULL;
    }
    return s.layer;
}

void auto_format(const net *n, const net_precision *layer, double speedup, char *buf, size_t size)
{
    size_t at = 0;
    for (size_t i = 0; i < n->n_layers && at + 1 < size; i++)
        buf[at++] = "fbi"[layer[i]];
    snprintf(buf + at, size - at, " %.3f", speedup);
}

net_precision *auto_parse(const net *n, const char *value, double *speedup)
{
    size_t len = strcspn(value, " ");
    if (len != n->n_layers || sscanf(value + len, "%lf", speedup) != 1 || !(*speedup > 0))
        return NULL;
    net_precision *layer = malloc(n->n_layers * sizeof *layer);
    for (size_t i = 0; layer && i < n->n_layers; i++) {
        const char *at = strchr("fbi", value[i]);
        if (!at || (n->layers[i].kind != NET_CONV && value[i] != 'f')) {
            free(layer);
            return NULL;
        }
        layer[i] = (net_precision)(at - "fbi");
    }
    return layer;
}
