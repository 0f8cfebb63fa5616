/*
 * net_quant.h — the activation ranges int8 runs are quantized with.
 *
 * A calibration pass runs the net in fp32 over some input images and keeps,
 * per tensor, the smallest and largest value seen.  From a range follow the
 * tensor's 8-bit form: u8 with zero point 0 for a tensor that is never
 * negative (after a ReLU, a max pool of one), u8 with a zero point for the
 * image (asymmetric: it holds negative values after preprocessing, and a
 * convolution can subtract a zero point from its source), s8 around 0 for
 * the rest (the residual branches before their sum).  The ranges are saved
 * as a text file so that later runs and other hosts reuse them; the file
 * names the model by a hash of its compiled parameters and the tensors by
 * the ONNX node producing them.
 */
#ifndef RESNET50_EMBED_NET_QUANT_H
#define RESNET50_EMBED_NET_QUANT_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"

#define QUANT_BINS 2048

typedef struct net_quant {
    size_t n_tensors;
    float *lo, *hi; /* owned, per net tensor: observed range; lo > hi: never observed */
    /* owned, between net_quant_histograms and net_quant_clip: per tensor,
     * QUANT_BINS counts of |x| over [0, max(-lo, hi)] */
    uint32_t *hist;
    int images;     /* how many images the ranges come from */
    uint64_t model; /* net_hash() of the net they belong to */
    /* owned: "KEY = VALUE" lines of the precision choices measured on
     * hosts (precision_auto.h), kept as read and written back */
    char **plans;
    size_t n_plans;
} net_quant;

/* How tensor t is stored in 8 bits: real value = scale * (q - zero_point). */
typedef struct quant_form {
    int is_signed; /* s8 (zero point 0), else u8 */
    float scale;
    int zero_point;
} quant_form;

/* Empty ranges for n's tensors, or NULL when out of memory. */
net_quant *net_quant_new(const net *n);
void net_quant_free(net_quant *q);

/* Widens tensor t's range by the count floats of data, or after
 * net_quant_histograms counts them into t's histogram. */
void net_quant_observe(net_quant *q, int t, const float *data, size_t count);

/* Starts the second pass over the same images: histograms within the ranges
 * the first pass found.  0, or -1 when out of memory. */
int net_quant_histograms(net_quant *q);

/* Ends the second pass: every tensor but the image gets the range clipped
 * where its 8-bit form's expected squared error (rounding inside, clipping
 * outside) is smallest.  A few outliers then no longer coarsen the steps
 * for all other values.  Frees the histograms. */
void net_quant_clip(net_quant *q, const net *n);

/* The 8-bit form of tensor t of n. */
quant_form net_quant_form(const net_quant *q, const net *n, int t);

/* Whether any tensor has a range (a calibration pass happened). */
int net_quant_has_ranges(const net_quant *q);

/* The value stored for key, or NULL.  Borrowed from q. */
const char *net_quant_plan(const net_quant *q, const char *key);
/* The value of the first key (in file order) that ends with " " suffix,
 * or NULL.  Borrowed from q. */
const char *net_quant_plan_ending(const net_quant *q, const char *suffix);
/* Stores value for key (replacing an earlier one).  0, or -1 when out of
 * memory. */
int net_quant_set_plan(net_quant *q, const char *key, const char *value);

/* FNV-1a over the layers' shapes, weights and biases: identifies the model
 * a calibration belongs to whatever its file is called. */
uint64_t net_hash(const net *n);

/* Writes q to path (atomically: a temporary file renamed).  0, or -1 with
 * "path: why" in err. */
int net_quant_save(const net_quant *q, const net *n, const char *path, char *err, size_t err_size);

/* Reads path, written by net_quant_save for n.  Returns NULL with
 * "path:line: why" in err when it is unreadable, for another model, or
 * lacks a tensor an 8-bit layer needs.  A missing file sets *missing (when
 * not NULL) so that the caller can calibrate instead. */
net_quant *net_quant_load(const net *n, const char *path, int *missing, char *err, size_t err_size);

#endif
