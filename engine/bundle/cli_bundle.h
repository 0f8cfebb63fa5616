/*
 * cli_bundle.h — the model bundle: a directory holding what a trained
 * pipeline fitted (scaler and PCA statistics, the classifier) and
 * manifest.json, which says how to compute a photo's classes again:
 *
 *   {"format": "flowrun-bundle", "version": 1, "name": "fruits-train",
 *    "pipeline": "pipelines/fruits-train.yaml", "created": "2026-12-04T21:50:00Z",
 *    "onnx": {"path": "/models/resnet50.onnx", "sha256": "…"},
 *    "calibration": {"path": "embed.calibration", "sha256": "…", "precision": "auto"},
 *    "preprocessing": {"resize": {"width": 224, "height": 224, "filter": "bicubic"},
 *                      "preprocess": "keras"},
 *    "stages": [{"name": "decode", "plugin": "jpeg-decode", "config": {"dct": "islow"}},
 *               …, {"name": "classifier", "plugin": "logreg-predict",
 *                   "config": {"model": "classifier.json"}}],
 *    "classes": ["Apple Braeburn", …],
 *    "metrics": {"training": {…}, "test": {…}}}
 *
 * "stages" is the trained pipeline's chain from its source to its
 * logreg-train stage, with every fitted stage switched to applying its saved
 * model (fit: none), the network reading the bundle's calibration file
 * (null for fp32) without changing it, and logreg-train replaced by
 * logreg-predict: `flowrun
 * classify`, `flowrun evaluate` and `flowrun serve` run those plugins, so
 * they compute what the training pipeline computed.  Relative paths are
 * relative to the bundle directory.
 */
#ifndef FLOWRUN_CLI_BUNDLE_H
#define FLOWRUN_CLI_BUNDLE_H

#include <stddef.h>

#include "config.h"

#define BUNDLE_MANIFEST "manifest.json"
#define BUNDLE_FORMAT   "flowrun-bundle"
#define BUNDLE_VERSION  1
/* The network's calibration file in the bundle (precision not fp32). */
#define BUNDLE_CALIBRATION "embed.calibration"

/* The directory the pipeline's logreg-train stage writes its model into
 * (the bundle), or NULL with err. Points into a static buffer. */
const char *bundle_dir_of(const config_pipeline *cfg, char *err, size_t err_size);

/* Writes DIR/manifest.json for the pipeline cfg that has run (its fitted
 * files are in DIR).  0, or -1 with err. */
int bundle_write(const config_pipeline *cfg, char *err, size_t err_size);

/* One stage of the serving chain, as the manifest says. */
typedef struct bundle_stage {
    char *name, *plugin; /* owned */
    char **config;       /* owned: key, value, ..., NULL; paths resolved */
} bundle_stage;

typedef struct bundle {
    char *dir;     /* owned */
    char *name;    /* owned: the manifest's name, e.g. "fruits-train" */
    int version;   /* the manifest's format version */
    char *created; /* owned */
    bundle_stage *stages;
    size_t n_stages;
    char **classes; /* owned, n_classes */
    size_t n_classes;
    char *onnx_path, *onnx_sha256; /* owned */
} bundle;

/* Reads DIR/manifest.json.  onnx: the ONNX file to use instead of the one
 * recorded, or NULL.  The ONNX file's sha256 must equal the recorded one;
 * otherwise -1 with err saying which file differs from which.  b is filled
 * and owned by the caller (bundle_free). */
int bundle_open(bundle *b, const char *dir, const char *onnx, char *err, size_t err_size);
void bundle_free(bundle *b);
/* The stage named so, or NULL. */
bundle_stage *bundle_find(const bundle *b, const char *plugin);
/* Sets (or adds) key = value in a stage's config.  0 or -1 (out of memory). */
int bundle_stage_set(bundle_stage *s, const char *key, const char *value);

/* Adds "test": json (copied) to the manifest's metrics, rewriting it
 * atomically.  0, or -1 with err. */
int bundle_add_metrics(const char *dir, const char *key, const char *json, char *err,
                       size_t err_size);

/* Hex sha256 of a file's content into out.  0, or -1 with err. */
int bundle_sha256_file(const char *path, char out[65], char *err, size_t err_size);

#endif
