/* calibrate.c — ranges of every tensor in an fp32 run. */
#include "calibrate.h"

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

int calibrate_run(net_plan *p, net_quant *q, char *err, size_t err_size)
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
    q->images += p->batch;
    return 0;
}
