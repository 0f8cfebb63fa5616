/*
 * net_int8.c — convolutions in 8 bits.
 *
 * The source is u8 (or s8, or u8 with a zero point for the image) with the
 * scale of its calibrated range; the weights s8 with one scale per output
 * channel (their largest magnitude maps to 127); oneDNN accumulates in int32,
 * adds the bias (fp32, in accumulator units: bias / (source scale · weight
 * scale)), multiplies by the output scale (source scale · weight scale /
 * result scale), adds the residual shortcut read in its own 8-bit type times
 * (its scale / result scale), applies the ReLU, and rounds to the result's
 * type.  The result stays in 8 bits when every layer reading it takes 8 bits
 * (int8 convolutions, max pools), else it is fp32: no separate dequantizing
 * pass before the global average pool or an fp32 layer.
 */
#include <math.h>
#include <stdlib.h>

#include "net_run_priv.h"

/* Whether every layer reading tensor t takes 8 bits: int8 convolutions (as
 * source or residual shortcut) and max pools whose results do. */
static int read_in_8_bits(const net_plan *p, int t)
{
    const net *n = p->net;
    int readers = 0;
    for (size_t i = 0; i < n->n_layers; i++) {
        const net_layer *l = &n->layers[i];
        if (l->src != t && l->sum != t)
            continue;
        readers++;
        int ok = l->kind == NET_MAXPOOL ? read_in_8_bits(p, l->dst)
                                        : l->kind == NET_CONV && p->layer_precision[i] == NET_INT8;
        if (!ok)
            return 0;
    }
    return readers > 0 && t != n->output;
}

/* A max pool's result counts in its source's units: the tensor it pools. */
static int counted_as(const net *n, int t)
{
    for (size_t i = 0; i < n->n_layers; i++)
        if (n->layers[i].dst == t && n->layers[i].kind == NET_MAXPOOL)
            return counted_as(n, n->layers[i].src);
    return t;
}

/* Tensor t's 8-bit form, or -1 when the calibration never saw it. */
static int form_of(const net_plan *p, int t, const char *name, quant_form *f, char *err,
                   size_t err_size)
{
    t = counted_as(p->net, t);
    if (!(p->quant->lo[t] <= p->quant->hi[t])) {
        snprintf(err, err_size, "%s: the calibration has no range for this layer's tensors", name);
        return -1;
    }
    *f = net_quant_form(p->quant, p->net, t);
    return 0;
}

static dnnl_data_type_t form_type(const quant_form *f)
{
    return f->is_signed ? dnnl_s8 : dnnl_u8;
}

/* The per-output-channel numbers of an int8 convolution. */
typedef struct int8_scales {
    float *w_scale; /* quantizing: 127 / max|w[o]| */
    float *out;     /* source scale · weight scale / result scale */
    float *bias;    /* in accumulator units */
} int8_scales;

static void scales_free(int8_scales *s)
{
    free(s->w_scale);
    free(s->out);
    free(s->bias);
}

static int scales_init(int8_scales *s, const net_layer *l, int oc, size_t per_out,
                       const quant_form *src, const quant_form *dst)
{
    s->w_scale = malloc((size_t)oc * sizeof *s->w_scale);
    s->out = malloc((size_t)oc * sizeof *s->out);
    s->bias = malloc((size_t)oc * sizeof *s->bias);
    if (!s->w_scale || !s->out || !s->bias)
        return -1;
    for (int o = 0; o < oc; o++) {
        const float *w = l->weights + (size_t)o * per_out;
        float big = 0;
        for (size_t i = 0; i < per_out; i++)
            big = fabsf(w[i]) > big ? fabsf(w[i]) : big;
        float step = big > 0 ? big / 127 : 1; /* one s8 step of this channel's weights */
        s->w_scale[o] = 1 / step;
        s->out[o] = src->scale * step / dst->scale;
        s->bias[o] = l->bias[o] / (src->scale * step);
    }
    return 0;
}

/* The convolution's descriptor with the scales and zero point as attributes. */
static dnnl_status_t int8_pd(net_plan *p, const net_layer *l, const dnnl_memory_desc_t md[4],
                             const int8_scales *s, const weighted_io *io, dnnl_primitive_desc_t *pd)
{
    dnnl_dims_t strides = {l->sh, l->sw}, pad_l = {l->pt, l->pl}, pad_r = {l->pb, l->pr};
    dnnl_convolution_desc_t desc;
    dnnl_status_t st =
        dnnl_convolution_forward_desc_init(&desc, dnnl_forward_inference, dnnl_convolution_direct,
                                           &md[0], &md[1], &md[2], &md[3], strides, pad_l, pad_r);
    dnnl_primitive_attr_t attr =
        st == dnnl_success ? conv_attr(l, io->sum.scale / io->dst.scale, io->sum_md.data_type)
                           : NULL;
    if (st == dnnl_success && !attr)
        st = dnnl_out_of_memory;
    if (st == dnnl_success)
        st = dnnl_primitive_attr_set_output_scales(attr, md[3].dims[1], 1 << 1, s->out);
    if (st == dnnl_success && io->src.zero_point)
        st = dnnl_primitive_attr_set_zero_points(attr, DNNL_ARG_SRC, 1, 0, &io->src.zero_point);
    if (st == dnnl_success)
        st = dnnl_primitive_desc_create(pd, &desc, attr, p->engine, NULL);
    dnnl_primitive_attr_destroy(attr);
    return st;
}

/* Forms of the source, the result and the shortcut; the result (and the
 * shortcut with it) is fp32 unless its readers all take 8 bits. */
static int int8_forms(net_plan *p, const net_layer *l, int eight, weighted_io *io, char *err,
                      size_t err_size)
{
    *io = (weighted_io){.dst = {.scale = 1}, .sum = {.scale = 1}};
    if (form_of(p, l->src, l->name, &io->src, err, err_size) < 0)
        return -1;
    if (!eight)
        return 0;
    if (form_of(p, l->dst, l->name, &io->dst, err, err_size) < 0)
        return -1;
    return l->sum >= 0 ? form_of(p, l->sum, l->name, &io->sum, err, err_size) : 0;
}

int plan_conv_int8(net_plan *p, int li, char *err, size_t err_size)
{
    const net_layer *l = &p->net->layers[li];
    const net_tensor *in = &p->net->tensors[l->src], *out = &p->net->tensors[l->dst];
    const char *name = l->name;
    int eight = read_in_8_bits(p, l->dst);
    weighted_io io;
    if (int8_forms(p, l, eight, &io, err, err_size) < 0)
        return -1;
    dnnl_data_type_t dst_dt = eight ? form_type(&io.dst) : dnnl_f32;
    dnnl_dims_t src_dims = {p->batch, in->c, in->h, in->w};
    dnnl_dims_t w_dims = {out->c, in->c, l->kh, l->kw};
    dnnl_dims_t b_dims = {out->c};
    dnnl_dims_t dst_dims = {p->batch, out->c, out->h, out->w};
    dnnl_memory_desc_t md[4]; /* src, weights, bias, dst */
    CHECK_DNNL(dnnl_memory_desc_init_by_tag(&md[0], 4, src_dims, form_type(&io.src), dnnl_nhwc),
               "src");
    CHECK_DNNL(dnnl_memory_desc_init_by_tag(&md[1], 4, w_dims, dnnl_s8, dnnl_format_tag_any),
               "weights");
    CHECK_DNNL(dnnl_memory_desc_init_by_tag(&md[2], 1, b_dims, dnnl_f32, dnnl_a), "bias");
    CHECK_DNNL(dnnl_memory_desc_init_by_tag(&md[3], 4, dst_dims, dst_dt, dnnl_nhwc), "dst");
    io.dst_md = md[3];
    io.sum_md = md[3];
    io.sum_md.data_type = eight ? form_type(&io.sum) : dnnl_f32;
    int8_scales s = {0};
    if (scales_init(&s, l, out->c, (size_t)in->c * l->kh * l->kw, &io.src, &io.dst) < 0) {
        scales_free(&s);
        snprintf(err, err_size, "%s: out of memory", name);
        return -1;
    }
    io.w_scale = s.w_scale;
    io.bias = s.bias;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t st = int8_pd(p, l, md, &s, &io, &pd);
    int rc = st == dnnl_success ? plan_weighted(p, li, pd, w_dims, &md[2], &io, err, err_size) : -1;
    if (st != dnnl_success)
        snprintf(err, err_size, "%s: int8 convolution: %s", name, dnnl_status_str(st));
    scales_free(&s);
    return rc;
}
