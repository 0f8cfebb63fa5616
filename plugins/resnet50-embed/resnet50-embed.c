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

#include "net_compile.h"
#include "net_run.h"
#include "preprocess.h"

typedef struct embed {
    const char *path; /* config string, owned by the engine */
    net *net;         /* owned */
    net_plan *plan;   /* owned: for `batch` images */
    net_precision precision;
    int batch, threads;
    preprocess pre;
    fr_record **held; /* owned: n_held kept records, their pixels already in plan */
    int n_held;
} embed;

static const fr_param embed_params[] = {
    {"model", FR_PARAM_INPUT_FILE, NULL, 0, 0, NULL, "the ONNX model file"},
    {"output", FR_PARAM_STRING, "", 0, 0, NULL,
     "tensor to emit, by ONNX name (default: the graph output), e.g. the pooled features"},
    {"preprocess", FR_PARAM_ENUM, "keras", 0, 0, "keras|torch|none",
     "keras: RGB→BGR minus ImageNet means; torch: /255, mean/std; none: raw pixel values"},
    {"precision", FR_PARAM_ENUM, "fp32", 0, 0, "fp32|bf16",
     "bf16 convolutions (fp32 accumulation) except the fp32_layers"},
    {"fp32_layers", FR_PARAM_STRING, "stem,stage1", 0, 0, NULL,
     "bf16 only: convolutions kept fp32: node names, \"stem\" (the first), \"entry\" (those "
     "reading the max pool), \"stage1\" (all at the max pool's resolution)"},
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
    net_plan_free(e->plan);
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
        return fr_fail(st, FR_FATAL, "%s: the model takes %dx%d images, the input is %s", e->path,
                       in->h, in->w, type);
    char out[64];
    snprintf(out, sizeof out, "tensor/f32[%zu]", net_tensor_size(e->net, e->net->output));
    return fr_set_output_type(st, out);
}

static fr_status embed_load(embed *e, fr_stage *st)
{
    char err[512] = "";
    onnx_model *m = onnx_load(e->path, err, sizeof err);
    if (!m)
        return fr_fail(st, FR_FATAL, "%s", err);
    net_options opts = {.output = fr_config_string(st, "output"),
                        .fp32_layers = fr_config_string(st, "fp32_layers")};
    e->net = net_compile(m, &opts, e->path, err, sizeof err);
    onnx_model_free(m);
    if (!e->net)
        return fr_fail(st, FR_FATAL, "%s", err);
    fr_status s = embed_check_input(e, st);
    if (s != FR_OK)
        return s;
    e->plan = net_plan_new(e->net, e->batch, e->precision, e->threads, err, sizeof err);
    if (!e->plan)
        return fr_fail(st, FR_FATAL, "%s: %s", e->path, err);
    char json[32];
    snprintf(json, sizeof json, "%zu", net_plan_reorders(e->plan));
    fr_report(st, "reorders_per_batch", json);
    return FR_OK;
}

static fr_status embed_init(fr_stage *st, void **state)
{
    embed *e = calloc(1, sizeof *e);
    if (!e)
        return fr_fail(st, FR_FATAL, "out of memory");
    e->path = fr_config_string(st, "model");
    e->batch = (int)fr_config_int(st, "batch");
    e->threads = (int)fr_config_int(st, "threads");
    e->precision = strcmp(fr_config_string(st, "precision"), "bf16") ? NET_FP32 : NET_BF16;
    preprocess_init(&e->pre, fr_config_string(st, "preprocess"));
    e->held = calloc((size_t)e->batch, sizeof *e->held);
    fr_status s = e->held ? embed_load(e, st) : fr_fail(st, FR_FATAL, "out of memory");
    if (s != FR_OK) {
        embed_fini(e, st);
        return s;
    }
    *state = e;
    return FR_OK;
}

/* Runs plan on the held records, emits one tensor each, releases them. */
static fr_status embed_run(embed *e, fr_stage *st, net_plan *plan)
{
    char err[512];
    if (net_plan_run(plan, err, sizeof err) < 0)
        return fr_fail(st, FR_FATAL, "%s: %s", e->path, err);
    uint32_t n = (uint32_t)net_plan_features(plan);
    const float *out = net_plan_output(plan);
    fr_status s = FR_OK;
    for (int i = 0; i < e->n_held; i++) {
        fr_record rec = *e->held[i];
        if (s == FR_OK)
            s = fr_payload_alloc(st, &rec.payload, FR_KIND_TENSOR, 1, &n);
        if (s == FR_OK) {
            memcpy(rec.payload.data, out + (size_t)i * n, (size_t)n * sizeof *out);
            s = fr_emit(st, &rec);
        }
        fr_record_free(st, e->held[i]);
    }
    fr_metric_add(st, "images", e->n_held);
    fr_metric_add(st, "batches", 1);
    e->n_held = 0;
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
    preprocess_image(&e->pre, p->data, pixels, net_plan_input(e->plan) + e->n_held * pixels * 3);
    e->held[e->n_held++] = kept;
    return e->n_held == e->batch ? embed_run(e, st, e->plan) : FR_OK;
}

/* The tail batch gets a plan of its own size, made once at the end of the
 * stream: cheaper than running a full batch of padding. */
static fr_status embed_flush(void *state, fr_stage *st)
{
    embed *e = state;
    if (e->n_held == 0)
        return FR_OK;
    char err[512];
    net_plan *tail = net_plan_new(e->net, e->n_held, e->precision, e->threads, err, sizeof err);
    if (!tail)
        return fr_fail(st, FR_FATAL, "%s: %s", e->path, err);
    size_t floats = (size_t)e->n_held * net_tensor_size(e->net, e->net->input);
    memcpy(net_plan_input(tail), net_plan_input(e->plan), floats * sizeof(float));
    fr_status s = embed_run(e, st, tail);
    net_plan_free(tail);
    return s;
}

FR_PLUGIN_EXPORT const fr_plugin flowrun_plugin = {
    FR_PLUGIN_HEADER,
    .name = "resnet50-embed",
    .summary = "Images to feature vectors with an ONNX ResNet on oneDNN (fp32 or bf16)",
    .version = "0.1",
    .input = "image/u8[h,w,3]",
    .output = "tensor/f32[n]",
    .params = embed_params,
    .init = embed_init,
    .process = embed_process,
    .flush = embed_flush,
    .fini = embed_fini,
};
