/*
 * cli_chain.h — a bundle's stages run in this process, one photo batch at a
 * time: `flowrun classify`, `flowrun evaluate` and `flowrun serve` compute
 * through it.  The stages are the bundle's plugins (jpeg-decode,
 * resize-224, resnet50-embed, online-scaler and incremental-pca with fit:
 * none, logreg-predict) loaded through the engine's loader and driven by
 * the plugin harness (flowrun/harness.h) on the caller's thread, so a photo
 * gets exactly the numbers the training pipeline's plugins give it.
 * Not thread-safe: one thread drives a chain.
 */
#ifndef FLOWRUN_CLI_CHAIN_H
#define FLOWRUN_CLI_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "cli_bundle.h"

typedef struct chain chain;

typedef struct chain_options {
    int batch;           /* photos per network run (1..256) */
    int threads;         /* oneDNN threads; 0: OpenMP's default */
    uint64_t max_pixels; /* larger photos are refused before decoding */
} chain_options;

/* Loads the bundle's stages (b borrowed for the call).  NULL with err. */
chain *chain_new(const bundle *b, const chain_options *o, char *err, size_t err_size);
void chain_free(chain *c);

typedef struct chain_photo {
    const void *data; /* the encoded photo, borrowed for the call */
    size_t size;
    const char *name; /* for messages: a file name, "request 12" */
} chain_photo;

typedef enum chain_status {
    CHAIN_OK = 0,
    CHAIN_BAD_PHOTO = 1, /* the photo was refused: not a JPEG, truncated, too large */
    CHAIN_FAILED = 2,    /* the chain failed: a server error */
} chain_status;

typedef struct chain_answer {
    chain_status status;
    char error[512]; /* status != OK: why, naming the photo */
    float *prob;     /* caller's, n_classes: the class probabilities (status OK) */
} chain_answer;

/* Classifies n photos (n <= batch) into out[0..n).  Returns 0, or -1 when
 * the chain itself failed (then every answer not OK says why). */
int chain_classify(chain *c, const chain_photo *in, size_t n, chain_answer *out);

/* Runs grey images through every stage after the decode, in each batch
 * size 1..batch, so that the network's plans (one per batch size) and every
 * stage's buffers exist before the first photo: a server warms up before it
 * says it is ready.  0, or -1 with err. */
int chain_warm(chain *c, char *err, size_t err_size);

/* How the network runs, as resnet50-embed reports it without the layers'
 * names (e.g. "auto: int8 29, fp32 11, bf16 13"), into buf. */
void chain_precision(const chain *c, char *buf, size_t size);

size_t chain_classes(const chain *c);
const char *chain_class(const chain *c, size_t i); /* owned by the chain */

/* The k most probable of n classes (k <= n): indices into prob by
 * decreasing probability, the lower index first on ties.  top: k, caller's. */
void chain_top(const float *prob, size_t n, size_t k, uint32_t *top);

/* Reads a whole file (at most max_bytes) into *data (malloc'd, the caller
 * frees).  0, or -1 with err naming the file. */
int chain_read_file(const char *path, size_t max_bytes, void **data, size_t *size, char *err,
                    size_t err_size);

/* The options classify, evaluate and serve share: --onnx, --threads,
 * --max-pixels, --batch, --log-format (the global option, also here).
 * Returns 1 if argv[*i] was one of them (and consumed its value), 0 if not,
 * -1 on a bad value (message printed). */
int chain_option(int argc, char **argv, int *i, chain_options *o, const char **onnx);
#define CHAIN_OPTIONS_HELP                                                                         \
    "  --onnx FILE        the ONNX model, if not at the path the bundle records\n"                 \
    "                     (its sha256 must be the recorded one)\n"                                 \
    "  --threads N        oneDNN threads (default 0: OpenMP's default)\n"                          \
    "  --max-pixels N     refuse photos with more pixels (default 50000000)\n"                     \
    "  --log-format FMT   text (default) or json: one JSON object per line\n"

#endif
