/*
 * embed.h — the resnet50-embed stage's state, shared by the plugin
 * (resnet50-embed.c: records in, batches, tensors out) and the choice of
 * precisions (embed_precision.c: the calibration file, calibrating on the
 * first images, measuring).
 */
#ifndef RESNET50_EMBED_EMBED_H
#define RESNET50_EMBED_EMBED_H

#include <flowrun/plugin.h>

#include "net.h"
#include "net_quant.h"
#include "net_run.h"
#include "preprocess.h"

typedef struct embed {
    const char *path;      /* config string, owned by the engine */
    net *net;              /* owned */
    net_plan *plan;        /* owned: for `batch` images; fp32 while calibrating */
    const char *asked;     /* the precision key: fp32, bf16, int8, auto; owned by the engine */
    net_precision *layers; /* owned: per layer, NULL until chosen */
    double speedup;        /* fp32's time over the chosen plan's, measured; 0: not measured */
    net_quant *quant;      /* owned: activation ranges, NULL until known */
    char *quant_path;      /* owned: the calibration file */
    int batch, threads;
    int fixed;        /* calibration_fixed: the file is read only and must be complete */
    int calib_images; /* images the calibration pass takes */
    float *calib;     /* owned while calibrating: the held images, preprocessed */
    preprocess pre;
    fr_record **held; /* owned: n_held kept records, pixels in plan (or calib) */
    int n_held, cap_held;
    /* owned, batch entries: tails[n] is the plan for a tail of n images,
     * made at its first use and kept (NULL until then) */
    net_plan **tails;
} embed;

/* After the net is compiled: reads the calibration file, and either makes
 * the plan now (fp32, or a choice the file holds for this host, or a forced
 * precision whose speed is measured now) or prepares to hold the first
 * calibration_images images (e->calib set) to calibrate and choose on. */
fr_status embed_choose(embed *e, fr_stage *st);

/* Called with the images held once enough arrived (or at the end of the
 * stream): ranges, choice, file, plan; then runs the whole batches among
 * them, leaving the rest held with their pixels in the plan's input. */
fr_status embed_calibrated(embed *e, fr_stage *st);

/* Runs plan (its input written) for the n records of recs, emits one
 * tensor each and releases them (recs[i] set to NULL). */
fr_status embed_run(embed *e, fr_stage *st, net_plan *plan, fr_record **recs, int n);

/* The plan for n images in the chosen precisions (all fp32 before). */
net_plan *embed_plan(embed *e, int n, char *err, size_t err_size);

#endif
