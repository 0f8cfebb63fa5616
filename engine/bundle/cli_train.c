/*
 * cli_train.c — `flowrun train`: runs a training pipeline (one with a
 * logreg-train stage), then writes its bundle's manifest (cli_bundle.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_bundle.h"
#include "config.h"
#include "runtime.h"

static const char train_usage[] =
    "usage: flowrun train [run options] PIPELINE.yaml\n"
    "\n"
    "Runs a training pipeline (e.g. pipelines/fruits-train.yaml), then writes\n"
    "the model bundle: the directory of its logreg-train stage's `model`, where\n"
    "the scaler and PCA save their statistics too, gets manifest.json, which\n"
    "records the ONNX model's path and sha256, the preprocessing, every stage a\n"
    "photo goes through and the training metrics.  Use the bundle with\n"
    "flowrun classify, flowrun evaluate and flowrun serve.\n"
    "\n"
    "The run options are flowrun run's (see flowrun run --help).  A run whose\n"
    "dead letters hold some photos (exit 1) still writes the bundle.\n";

/* The pipeline file: the last argument. */
static config_pipeline *train_config(const char *file)
{
    diag *d = diag_new();
    config_pipeline *cfg = d ? config_load(file, d) : NULL;
    if (d && diag_error_count(d)) {
        diag_log(d);
        config_free(cfg);
        cfg = NULL;
    }
    diag_free(d);
    return cfg;
}

int cli_train(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, train_usage))
        return EXIT_DELIVERED;
    if (argc < 2 || argv[argc - 1][0] == '-') {
        cli_usage_error(train_usage);
        return EXIT_USAGE;
    }
    char err[1024];
    config_pipeline *cfg = train_config(argv[argc - 1]);
    const char *dir = cfg ? bundle_dir_of(cfg, err, sizeof err) : NULL;
    if (cfg && !dir)
        cli_say(FR_LOG_ERROR, "train", "%s", err);
    else if (dir && cli_mkdirs(dir) != 0)
        cli_say(FR_LOG_ERROR, "train", "creating %s: %s", dir, strerror(errno));
    else if (dir) {
        argv[0] = "run";
        int code = cli_run(argc, argv);
        if (code != EXIT_DELIVERED && code != EXIT_DEAD_LETTERS) {
            config_free(cfg);
            return code;
        }
        if (bundle_write(cfg, err, sizeof err) == 0) {
            printf("bundle written: %s/%s\n", dir, BUNDLE_MANIFEST);
            config_free(cfg);
            return code;
        }
        cli_say(FR_LOG_ERROR, "train", "%s", err);
        config_free(cfg);
        return EXIT_FAILED;
    }
    config_free(cfg);
    return EXIT_USAGE;
}
