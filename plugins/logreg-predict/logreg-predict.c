/*
 * logreg-predict — classifies feature rows with a model written by
 * logreg-train: each record comes out with its top-k classes.
 *
 * Output record: the payload is tensor/f32[k], the k highest class
 * probabilities in decreasing order; the label is the most probable class
 * (so a CSV sink writes key, predicted class, scores); attributes top1 ..
 * topk name the classes of the scores and true_label keeps the input's
 * label.  Probabilities are liblinear's predict_probability, the same call
 * `flowrun classify` and `flowrun serve` make through this stage.
 */
#include <flowrun/plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classifier.h"

#define PREDICT_MAX_TOP 1024

typedef struct predict_state {
    clf_model *model;  /* owned */
    uint32_t k;        /* scores per record: min(top, classes) */
    double *prob;      /* owned, classes */
    uint32_t *top;     /* owned, k: class indices, most probable first */
    fr_attr *attrs;    /* owned, k + 1: an output record's attributes */
    char (*names)[16]; /* owned, k: "top1", "top2", ... */
} predict_state;

static const fr_param predict_params[] = {
    {"model", FR_PARAM_PATH, NULL, 0, 0, NULL, "the model file written by logreg-train"},
    {"top", FR_PARAM_INT, "5", 1, PREDICT_MAX_TOP, NULL,
     "classes per record, most probable first (fewer if the model has fewer)"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static void predict_fini(void *state, fr_stage *st)
{
    (void)st;
    predict_state *s = state;
    clf_free(s->model);
    free(s->prob);
    free(s->top);
    free(s->attrs);
    free(s->names);
    free(s);
}

static fr_status predict_init(fr_stage *st, void **state)
{
    char err[512], type[64];
    predict_state *s = calloc(1, sizeof *s);
    if (!s)
        return fr_fail(st, FR_FATAL, "out of memory");
    if (!(s->model = clf_load(fr_config_string(st, "model"), err, sizeof err))) {
        predict_fini(s, st);
        return fr_config_error(st, "model", "%s", err);
    }
    uint32_t n = clf_classes(s->model);
    uint32_t top = (uint32_t)fr_config_int(st, "top");
    s->k = top < n ? top : n;
    s->prob = malloc(n * sizeof *s->prob);
    s->top = malloc(s->k * sizeof *s->top);
    s->attrs = malloc((s->k + 1) * sizeof *s->attrs);
    s->names = malloc(s->k * sizeof *s->names);
    for (uint32_t i = 0; s->names && i < s->k; i++)
        snprintf(s->names[i], sizeof s->names[i], "top%u", i + 1);
    unsigned in_dim = 0;
    const char *in = fr_input_type(st);
    fr_status rc =
        s->prob && s->top && s->attrs && s->names ? FR_OK : fr_fail(st, FR_FATAL, "out of memory");
    if (rc == FR_OK && in && sscanf(in, "tensor/f32[%u]", &in_dim) == 1 &&
        in_dim != clf_dim(s->model))
        rc = fr_config_error(st, "model", "%s takes %u features, the input is %s",
                             fr_config_string(st, "model"), clf_dim(s->model), in);
    snprintf(type, sizeof type, "tensor/f32[%u]", s->k);
    if (rc == FR_OK)
        rc = fr_set_output_type(st, type);
    if (rc != FR_OK) {
        predict_fini(s, st);
        return rc;
    }
    *state = s;
    return FR_OK;
}

static fr_status predict_process(void *state, fr_stage *st, const fr_record *in)
{
    predict_state *s = state;
    const fr_payload *p = &in->payload;
    uint32_t dim = clf_dim(s->model);
    if (p->kind != FR_KIND_TENSOR || p->rank != 1 || !p->data || p->dims[0] != dim ||
        p->size != (size_t)dim * sizeof(float))
        return fr_fail(st, FR_REJECT,
                       "expected a tensor/f32[%u] payload, got kind %d, rank %u, "
                       "%u values",
                       dim, (int)p->kind, p->rank, p->rank ? p->dims[0] : 0);
    uint32_t *top = s->top;
    clf_predict(s->model, p->data, s->prob);
    clf_top(s->prob, clf_classes(s->model), s->k, top);
    s->attrs[0] = (fr_attr){"true_label", in->label ? in->label : ""};
    for (uint32_t i = 0; i < s->k; i++)
        s->attrs[i + 1] = (fr_attr){s->names[i], clf_class_name(s->model, top[i])};
    fr_record out = {.id = in->id,
                     .key = in->key,
                     .label = clf_class_name(s->model, top[0]),
                     .model_version = in->model_version,
                     .attrs = s->attrs,
                     .n_attrs = s->k + 1};
    fr_status rc = fr_payload_alloc(st, &out.payload, FR_KIND_TENSOR, 1, &s->k);
    if (rc != FR_OK)
        return rc;
    float *score = out.payload.data;
    for (uint32_t i = 0; i < s->k; i++)
        score[i] = (float)s->prob[top[i]];
    return fr_emit(st, &out);
}

FR_PLUGIN_EXPORT const fr_plugin flowrun_plugin = {
    FR_PLUGIN_HEADER,
    .name = "logreg-predict",
    .summary = "Classify feature rows with a logreg-train model: top-k classes and probabilities",
    .version = "1",
    .input = "tensor/f32[n]",
    .output = "tensor/f32[k]",
    .params = predict_params,
    .init = predict_init,
    .process = predict_process,
    .fini = predict_fini,
};
