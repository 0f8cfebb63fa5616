/*
 * embed_precision.c — how the stage decides each convolution's precision.
 *
 * The calibration file (key `calibration`, default MODEL.calibration) holds
 * the activation ranges (host-independent) and, per host key (CPU model,
 * oneDNN ISA, batch, threads, precision asked), the per-layer choice and its
 * measured speed over fp32.  A run that finds its key reuses the choice
 * without measuring: the result is deterministic for a given file.  A run
 * that does not measures, stores its line and writes the file back (a
 * read-only location costs the measurement on every start, with a warning).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calibrate.h"
#include "embed.h"
#include "precision.h"
#include "precision_auto.h"

net_plan *embed_plan(embed *e, int n, char *err, size_t err_size)
{
    net_mix mix = {.layer = e->layers, .quant = e->quant};
    return net_plan_new(e->net, n, &mix, e->threads, err, err_size);
}

static net_precision forced_precision(const char *asked)
{
    return !strcmp(asked, "int8") ? NET_INT8 : !strcmp(asked, "bf16") ? NET_BF16 : NET_FP32;
}

/* Makes the batch plan and reports how it runs; warns once when a forced
 * precision was measured slower than fp32. */
static fr_status embed_ready(embed *e, fr_stage *st)
{
    char err[512] = "";
    net_plan_free(e->plan);
    e->plan = embed_plan(e, e->batch, err, sizeof err);
    if (!e->plan)
        return fr_fail(st, FR_FATAL, "%s: %s", e->path, err);
    char json[1100], line[960];
    snprintf(json, sizeof json, "%zu", net_plan_reorders(e->plan));
    fr_report(st, "reorders_per_batch", json);
    precision_describe(e->net, e->layers, line, sizeof line);
    snprintf(json, sizeof json, "\"%s: %s\"", e->asked, line);
    fr_report(st, "precision", json);
    if (e->speedup > 0) {
        snprintf(json, sizeof json, "%.3f", e->speedup);
        fr_report(st, "precision_speedup_over_fp32", json);
    }
    if (e->speedup > 0 && e->speedup < 1 && strcmp(e->asked, "auto"))
        fr_log(st, FR_LOG_WARN,
               "precision: %s runs at %.2fx the speed of fp32 on this CPU (measured at batch %d); "
               "precision: auto picks the fastest within the accuracy bound",
               e->asked, e->speedup, e->batch);
    return FR_OK;
}

/* Writes the file back; failing is a warning (the choice is still used). */
static void embed_save(embed *e, fr_stage *st)
{
    char err[512] = "";
    if (net_quant_save(e->quant, e->net, e->quant_path, err, sizeof err) < 0)
        fr_log(st, FR_LOG_WARN, "%s (measured on every start until it can be written)", err);
}

/* Measures the choice (auto: searches it; forced: its speed), stores it
 * under this host's key and makes the plan.  images: count preprocessed
 * images for auto's accuracy check. */
static fr_status embed_decide(embed *e, fr_stage *st, const float *images, int count)
{
    char err[512] = "", key[512], value[1024];
    auto_key(key, sizeof key, e->batch, e->threads, e->asked);
    if (!strcmp(e->asked, "auto")) {
        e->layers = auto_choose(e->net, e->quant, e->batch, e->threads, images, count, &e->speedup,
                                err, sizeof err);
    } else {
        e->layers = precision_uniform(e->net, forced_precision(e->asked));
        net_mix mix = {.layer = e->layers, .quant = e->quant};
        e->speedup =
            e->layers ? auto_speedup(e->net, &mix, e->batch, e->threads, err, sizeof err) : -1;
    }
    if (!e->layers || e->speedup < 0)
        return fr_fail(st, FR_FATAL, "%s: choosing precisions: %s", e->path,
                       err[0] ? err : "out of memory");
    auto_format(e->net, e->layers, e->speedup, value, sizeof value);
    if (net_quant_set_plan(e->quant, key, value) < 0)
        return fr_fail(st, FR_FATAL, "out of memory");
    embed_save(e, st);
    return embed_ready(e, st);
}

/* The file's name: the key, or MODEL.calibration. */
static int embed_quant_path(embed *e, fr_stage *st)
{
    const char *key = fr_config_string(st, "calibration");
    size_t len = strlen(e->path) + sizeof ".calibration";
    e->quant_path = key[0] ? strdup(key) : malloc(len);
    if (e->quant_path && !key[0])
        snprintf(e->quant_path, len, "%s.calibration", e->path);
    return e->quant_path ? 0 : -1;
}

/* Holds the first images: a buffer for their pixels, an fp32 plan to
 * calibrate with. */
static fr_status embed_hold_for_calibration(embed *e, fr_stage *st)
{
    char err[512] = "";
    e->calib_images = (int)fr_config_int(st, "calibration_images");
    e->cap_held = e->calib_images > e->batch ? e->calib_images : e->batch;
    fr_record **held = realloc(e->held, (size_t)e->cap_held * sizeof *held);
    if (held)
        e->held = held;
    e->calib = malloc((size_t)e->cap_held * net_tensor_size(e->net, e->net->input) * sizeof(float));
    e->plan = held && e->calib ? embed_plan(e, e->batch, err, sizeof err) : NULL;
    if (!e->plan)
        return fr_fail(st, FR_FATAL, "%s: %s", e->path, err[0] ? err : "out of memory");
    fr_log(st, FR_LOG_INFO, "%s: precision %s: calibrating on the first %d images into %s", e->path,
           e->asked, e->calib_images, e->quant_path);
    return FR_OK;
}

/* calibration_fixed: the file's choice, nothing measured, nothing written. */
static fr_status embed_choose_fixed(embed *e, fr_stage *st, const char *key)
{
    int is_auto = !strcmp(e->asked, "auto");
    const char *stored = net_quant_plan(e->quant, key);
    if (!stored && is_auto)
        stored = net_quant_plan_ending(e->quant, "auto");
    if (stored)
        e->layers = auto_parse(e->net, stored, &e->speedup);
    else if (!is_auto)
        e->layers = precision_uniform(e->net, forced_precision(e->asked));
    if (!stored && is_auto)
        return fr_fail(st, FR_FATAL,
                       "%s: holds no precision choice for auto (calibration_fixed: nothing is "
                       "measured here; train with precision: auto to store one)",
                       e->quant_path);
    if (!e->layers)
        return fr_fail(st, FR_FATAL, "%s: %s", e->quant_path,
                       stored ? "the stored choice does not fit this model" : "out of memory");
    for (size_t i = 0; i < e->net->n_layers; i++)
        if (e->layers[i] == NET_INT8 && !net_quant_has_ranges(e->quant))
            return fr_fail(st, FR_FATAL,
                           "%s: holds no activation ranges for int8 (calibration_fixed: they "
                           "are not measured here)",
                           e->quant_path);
    if (!stored)
        e->speedup = 0; /* forced and never measured on this host */
    return embed_ready(e, st);
}

fr_status embed_choose(embed *e, fr_stage *st)
{
    char err[512] = "", key[512];
    if (!strcmp(e->asked, "fp32")) {
        e->layers = precision_uniform(e->net, NET_FP32);
        return e->layers ? embed_ready(e, st) : fr_fail(st, FR_FATAL, "out of memory");
    }
    if (embed_quant_path(e, st) < 0)
        return fr_fail(st, FR_FATAL, "out of memory");
    int missing = 0;
    e->quant = net_quant_load(e->net, e->quant_path, &missing, err, sizeof err);
    if (!e->quant && missing && e->fixed)
        return fr_fail(st, FR_FATAL, "%s: no such calibration file (calibration_fixed)",
                       e->quant_path);
    if (!e->quant && missing)
        e->quant = net_quant_new(e->net);
    if (!e->quant)
        return fr_fail(st, FR_FATAL, "%s", err[0] ? err : "out of memory");
    auto_key(key, sizeof key, e->batch, e->threads, e->asked);
    if (e->fixed)
        return embed_choose_fixed(e, st, key);
    const char *stored = net_quant_plan(e->quant, key);
    if (stored && (e->layers = auto_parse(e->net, stored, &e->speedup)))
        return embed_ready(e, st);
    if (stored)
        fr_log(st, FR_LOG_WARN, "%s: the stored choice for %s does not fit this model: measuring",
               e->quant_path, key);
    /* auto checks its choice's accuracy on images; int8 needs ranges. */
    int ranged = net_quant_has_ranges(e->quant);
    if (!strcmp(e->asked, "auto") || (!strcmp(e->asked, "int8") && !ranged))
        return embed_hold_for_calibration(e, st);
    return embed_decide(e, st, NULL, 0);
}

/* The ranges from the held images, unless the file had them. */
static fr_status embed_ranges(embed *e, fr_stage *st)
{
    if (net_quant_has_ranges(e->quant))
        return FR_OK;
    char err[512] = "";
    net_quant *q = calibrate_images(e->plan, e->net, e->calib, e->n_held, err, sizeof err);
    if (!q)
        return fr_fail(st, FR_FATAL, "%s: %s", e->path, err);
    /* Keep the other hosts' lines. */
    q->plans = e->quant->plans;
    q->n_plans = e->quant->n_plans;
    e->quant->plans = NULL;
    e->quant->n_plans = 0;
    net_quant_free(e->quant);
    e->quant = q;
    fr_log(st, FR_LOG_INFO, "%s: calibrated on %d images", e->quant_path, e->n_held);
    return FR_OK;
}

fr_status embed_calibrated(embed *e, fr_stage *st)
{
    fr_status s = embed_ranges(e, st);
    if (s == FR_OK)
        s = embed_decide(e, st, e->calib, e->n_held);
    size_t image = net_tensor_size(e->net, e->net->input);
    int at = 0;
    for (; s == FR_OK && e->n_held - at >= e->batch; at += e->batch) {
        memcpy(net_plan_input(e->plan), e->calib + (size_t)at * image,
               (size_t)e->batch * image * sizeof(float));
        s = embed_run(e, st, e->plan, e->held + at, e->batch);
    }
    if (s != FR_OK)
        return s;
    memcpy(net_plan_input(e->plan), e->calib + (size_t)at * image,
           (size_t)(e->n_held - at) * image * sizeof(float));
    memmove(e->held, e->held + at, (size_t)(e->n_held - at) * sizeof *e->held);
    e->n_held -= at;
    free(e->calib);
    e->calib = NULL;
    return FR_OK;
}
