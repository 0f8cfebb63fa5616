/* calibrate.c — ranges of every tensor in an fp32 run. */
#include "calibrate.h"

#include <stdlib.h>
#include <string.h>

#include "net_run_priv.h"

/* Widens tensor t's range by the value holding it (fp32, any layout:
 * padding, if any, holds zeros, which every range here includes anyway). */
static int observe(net_plan *p, net_quant *q, int t, char *err, size_t err_size)
{
    int v = p->tensor_value[t];
    const dnnl_memory_desc_t *md = value_md(p, v);
    void *data = NULL;
    if (md->data_type != dnnl_f32 ||
        dnnl_memory_get_data_handle(p->values[v].mem, &data) != dnnl_success) {
        snprintf(err, err_size, "calibration needs an fp32 plan");
        return -1;
    }
    net_quant_observe(q, t, data, dnnl_memory_desc_get_size(md) / sizeof(float));
    return 0;
}

/* Runs p (all fp32, its input written) step by step and widens q's ranges
 * by the input and every layer's result. */
static int calibrate_run(net_plan *p, net_quant *q, char *err, size_t err_size)
{
    plan_set_threads(p);
    if (observe(p, q, p->net->input, err, err_size) < 0)
        return -1;
    for (size_t i = 0; i < p->n_steps; i++) {
        const plan_step *s = &p->steps[i];
        if (dnnl_primitive_execute(s->prim, p->stream, s->n_args, s->args) != dnnl_success ||
            dnnl_stream_wait(p->stream) != dnnl_success) {
            snprintf(err, err_size, "calibration: running step %zu failed", i);
            return -1;
        }
        /* Read each result before a later step reuses its bytes. */
        if (!s->is_reorder && observe(p, q, p->net->layers[s->layer].dst, err, err_size) < 0)
            return -1;
    }
    return 0;
}

/* One pass of all images through p, a batch at a time. */
static int calibrate_pass(net_plan *p, net_quant *q, const float *images, int count, char *err,
                          size_t err_size)
{
    size_t image = net_tensor_size(p->net, p->net->input);
    float *in = net_plan_input(p);
    for (int at = 0; at < count; at += p->batch) {
        int n = count - at < p->batch ? count - at : p->batch;
        memcpy(in, images + (size_t)at * image, (size_t)n * image * sizeof *in);
        for (int k = n; k < p->batch; k++)
            memcpy(in + (size_t)k * image, in, image * sizeof *in);
        if (calibrate_run(p, q, err, err_size) < 0)
            return -1;
    }
    return 0;
}

net_quant *calibrate_images(net_plan *p, const net *n, const float *images, int count, char *err,
                            size_t err_size)
{
    net_quant *q = net_quant_new(n);
    int rc = q ? calibrate_pass(p, q, images, count, err, err_size) : -1;
    if (rc == 0 && net_quant_histograms(q) < 0)
        rc = -1;
    if (rc == 0)
        rc = calibrate_pass(p, q, images, count, err, err_size);
    if (rc < 0) {
        if (!q || !err[0])
            snprintf(err, err_size, "calibration: out of memory");
        net_quant_free(q);
        return NULL;
    }
    net_quant_clip(q, n);
    q->images = count;
    return q;
}
