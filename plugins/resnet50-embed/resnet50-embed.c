/*
 * resnet50-embed — images to feature vectors with an ONNX convolutional
 * network (ResNet50 from Keras/tf2onnx or torchvision) on oneDNN.
 *
 * Records are held (fr_record_keep) until `batch` of them are in; each
 * image is preprocessed straight into the network's input tensor when it
 * arrives.  A full batch runs at once and gives one tensor record per input,
 * with its id, key and label; the tail batch runs in flush with a plan made
 * for its size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <flowrun/plugin.h>

#include "embed.h"
#include "net_compile.h"

static const fr_param embed_params[] = {
    {"model", FR_PARAM_INPUT_FILE, NULL, 0, 0, NULL, "the ONNX model file"},
    {"output", FR_PARAM_STRING, "", 0, 0, NULL,
     "tensor to emit, by ONNX name (default: the graph output), e.g. the pooled features"},
    {"preprocess", FR_PARAM_ENUM, "keras", 0, 0, "keras|torch|none",
     "keras: RGB→BGR minus ImageNet means; torch: /255, mean/std; none: raw pixel values"},
    {"precision", FR_PARAM_ENUM, "auto", 0, 0, "auto|fp32|bf16|int8",
     "auto: per network segment, the fastest of fp32, bf16 and int8 on this CPU within the "
     "accuracy bound, measured at start (on the first calibration_images images) and stored in "
     "the calibration file; fp32|bf16|int8 force one (bf16 and int8 except the fp32_layers), "
     "with a warning when it was measured slower than fp32 here"},
    {"fp32_layers", FR_PARAM_STRING, "stem,stage1", 0, 0, NULL,
     "bf16 and int8: convolutions kept fp32: node names, \"stem\" (the first), \"entry\" "
     "(those reading the max pool), \"stage1\" (all at the max pool's resolution)"},
    {"calibration", FR_PARAM_PATH, "", 0, 0, NULL,
     "auto, bf16, int8: the file of activation ranges and of the choices measured per host "
     "(CPU, batch, threads); default MODEL.calibration.  Reused when it has them, else "
     "completed and written back"},
    {"calibration_fixed", FR_PARAM_BOOL, "false", 0, 0, NULL,
     "true: the calibration file is complete and read only (a model bundle's): never written, "
     "never completed from the stream's images and nothing measured; int8 needs its ranges, "
     "auto the choice stored for this host, else the first auto choice in the file (the "
     "training host's); what is missing is an error at start.  flowrun serve, classify and "
     "evaluate set it, so they compute as the training did and never calibrate on the photos "
     "they are sent"},
    {"calibration_images", FR_PARAM_INT, "32", 1, 4096, NULL,
     "auto, int8: images held at the start of the stream to calibrate and check accuracy on, "
     "when the file lacks what is needed"},
    {"batch", FR_PARAM_INT, "8", 1, 256, NULL, "images per network run"},
    {"threads", FR_PARAM_INT, "0", 0, 256, NULL, "oneDNN (OpenMP) threads; 0: OpenMP's default"},
    {NULL},
};

static void embed_fini(void *state, fr_stage *st)
{
    embed *e = state;
    for (int i = 0; i < e->n_held; i++)
        fr_record_free(st, e->held[i]);
    free(e->held);
    free(e->calib);
    for (int i = 0; e->tails && i < e->batch; i++)
        net_plan_free(e->tails[i]);
    free(e->tails);
    net_plan_free(e->plan);
    net_quant_free(e->quant);
    free(e->quant_path);
    free(e->layers);
    net_free(e->net);
    free(e);
}

/* The upstream image size must be the model's.  Unresolved names ("h")
 * are left to the per-record check. */
static fr_status embed_check_input(embed *e, fr_stage *st)
{
    const net_tensor *in = &e->net->tensors[e->net->input];
    const char *type = fr_input_type(st);
    int h = 0, w = 0;
    if (type && sscanf(type, "image/u8[%d,%d,3]", &h, &w) == 2 && (h != in->h || w != in->w))
        return fr_config_error(st, "model", "%s: the model takes %dx%d images, the input is %s",
                               e->path, in->h, in->w, type);
    char out[64];
    snprintf(out, sizeof out, "tensor/f32[%zu]", net_tensor_size(e->net, e->net->output));
    return fr_set_output_type(st, out);
}

static fr_status embed_load(embed *e, fr_stage *st)
{
    char err[512] = "";
    onnx_model *m = onnx_load(e->path, err, sizeof err);
    if (!m)
        return fr_config_error(st, "model", "%s", err);
    net_options opts = {.output = fr_config_string(st, "output"),
                        .fp32_layers = fr_config_string(st, "fp32_layers")};
    e->net = net_compile(m, &opts, e->path, err, sizeof err);
    onnx_model_free(m);
    if (!e->net)
        return fr_config_error(st, "model", "%s", err);
    fr_status s = embed_check_input(e, st);
    if (s != FR_OK)
        return s;
    return embed_choose(e, st);
}

static fr_status embed_init(fr_stage *st, void **state)
{
    embed *e = calloc(1, sizeof *e);
    if (!e)
        return fr_fail(st, FR_FATAL, "out of memory");
    e->path = fr_config_string(st, "model");
    e->batch = (int)fr_config_int(st, "batch");
    e->threads = (int)fr_config_int(st, "threads");
    e->asked = fr_config_string(st, "precision");
    e->fixed = fr_config_bool(st, "calibration_fixed");
    preprocess_init(&e->pre, fr_config_string(st, "preprocess"));
    e->cap_held = e->batch;
    e->held = calloc((size_t)e->batch, sizeof *e->held);
    e->tails = calloc((size_t)e->batch, sizeof *e->tails);
    fr_status s = e->held && e->tails ? embed_load(e, st) : fr_fail(st, FR_FATAL, "out of memory");
    if (s == FR_OK) /* another model file: a rerun refuses to resume (the ledger) */
        s = fr_fingerprint_file(st, "model");
    if (s != FR_OK) {
        embed_fini(e, st);
        return s;
    }
    *state = e;
    return FR_OK;
}

fr_status embed_run(embed *e, fr_stage *st, net_plan *plan, fr_record **recs, int n)
{
    char err[512];
    if (net_plan_run(plan, err, sizeof err) < 0)
        return fr_fail(st, FR_FATAL, "%s: %s", e->path, err);
    uint32_t size = (uint32_t)net_plan_features(plan);
    const float *out = net_plan_output(plan);
    fr_status s = FR_OK;
    for (int i = 0; i < n; i++) {
        fr_record rec = *recs[i];
        if (s == FR_OK)
            s = fr_payload_alloc(st, &rec.payload, FR_KIND_TENSOR, 1, &size);
        if (s == FR_OK) {
            memcpy(rec.payload.data, out + (size_t)i * size, (size_t)size * sizeof *out);
            s = fr_emit(st, &rec);
        }
        fr_record_free(st, recs[i]);
        recs[i] = NULL;
    }
    fr_metric_add(st, "images", n);
    fr_metric_add(st, "batches", 1);
    return s;
}

static fr_status embed_process(void *state, fr_stage *st, const fr_record *in)
{
    embed *e = state;
    const net_tensor *t = &e->net->tensors[e->net->input];
    const fr_payload *p = &in->payload;
    if (p->kind != FR_KIND_IMAGE || p->rank != 3 || p->dims[0] != (uint32_t)t->h ||
        p->dims[1] != (uint32_t)t->w || p->dims[2] != 3)
        return fr_fail(st, FR_REJECT, "%s: expected a %dx%dx3 image", e->path, t->h, t->w);
    fr_record *kept = fr_record_keep(st, in);
    if (!kept)
        return fr_fail(st, FR_RETRY, "out of memory keeping a record");
    size_t pixels = (size_t)t->h * (size_t)t->w;
    float *into = e->calib ? e->calib : net_plan_input(e->plan);
    preprocess_image(&e->pre, p->data, pixels, into + e->n_held * pixels * 3);
    e->held[e->n_held++] = kept;
    if (e->calib)
        return e->n_held == e->calib_images ? embed_calibrated(e, st) : FR_OK;
    if (e->n_held < e->batch)
        return FR_OK;
    e->n_held = 0;
    return embed_run(e, st, e->plan, e->held, e->batch);
}

/* The input is idle (a watched pipeline between uploads): the images held
 * run now, one by one through the plan for one image, rather than wait
 * for a full batch.  One image costs one image's work (a padded full batch
 * would cost a batch's), and one more plan at most (a plan per tail size
 * would keep a copy of the weights for each size a watch meets).  Not
 * while the precision is still being measured (auto): that needs its
 * calibration images. */
static fr_status embed_tick(void *state, fr_stage *st)
{
    embed *e = state;
    if (e->calib || e->n_held == 0)
        return FR_OK;
    char err[512];
    net_plan **one = &e->tails[1]; /* n_held > 0 while idle: batch >= 2 */
    if (!*one && !(*one = embed_plan(e, 1, err, sizeof err)))
        return fr_fail(st, FR_FATAL, "%s: %s", e->path, err);
    size_t image = net_tensor_size(e->net, e->net->input);
    int n = e->n_held;
    e->n_held = 0;
    fr_status s = FR_OK;
    for (int i = 0; i < n; i++) {
        if (s == FR_OK) {
            memcpy(net_plan_input(*one), net_plan_input(e->plan) + (size_t)i * image,
                   image * sizeof(float));
            s = embed_run(e, st, *one, &e->held[i], 1);
        }
        if (e->held[i]) { /* the stage is failing: the rest is not run */
            fr_record_free(st, e->held[i]);
            e->held[i] = NULL;
        }
    }
    return s;
}

/* The tail batch gets a plan of its own size: cheaper than running a full
 * batch of padding.  A pipeline flushes once, at the end of the stream;
 * `flowrun serve` flushes after every group of requests, so each size's
 * plan is made once and kept (each holds its own copy of the weights). */
static fr_status embed_flush(void *state, fr_stage *st)
{
    embed *e = state;
    fr_status s = e->calib && e->n_held ? embed_calibrated(e, st) : FR_OK;
    if (s != FR_OK || e->n_held == 0)
        return s;
    char err[512];
    net_plan **tail = &e->tails[e->n_held];
    if (!*tail && !(*tail = embed_plan(e, e->n_held, err, sizeof err)))
        return fr_fail(st, FR_FATAL, "%s: %s", e->path, err);
    size_t floats = (size_t)e->n_held * net_tensor_size(e->net, e->net->input);
    memcpy(net_plan_input(*tail), net_plan_input(e->plan), floats * sizeof(float));
    int n = e->n_held;
    e->n_held = 0;
    return embed_run(e, st, *tail, e->held, n);
}

FR_PLUGIN_EXPORT const fr_plugin flowrun_plugin = {
    FR_PLUGIN_HEADER,
    .name = "resnet50-embed",
    .summary =
        "Images to feature vectors with an ONNX ResNet on oneDNN (fp32, bf16, int8, or auto)",
    .version = "0.1",
    .input = "image/u8[h,w,3]",
    .output = "tensor/f32[n]",
    .params = embed_params,
    .init = embed_init,
    .process = embed_process,
    .flush = embed_flush,
    .fini = embed_fini,
    .tick = embed_tick,
};
