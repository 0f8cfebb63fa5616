/*
 * net_run.c — builds a plan (oneDNN primitives over one arena) for a batch
 * size and runs it.
 *
 * Layouts: weights take the layout oneDNN's kernel prefers (format_tag any),
 * activations too in bf16; fp32 activations are nChw16c, for Winograd (see
 * activation_tag).  A layer's source is reordered only when its producer's
 * layout differs from the one it wants; for ResNet50 in fp32 that happens
 * nowhere between layers, only for the input (NHWC to the stem's layout) and
 * the output (net_plan_reorders() counts them for the tests).  Residual adds
 * are a sum post-op writing over the shortcut's buffer in place.  All scratchpads are
 * user-provided from the arena, so a run allocates nothing and concurrent
 * replicas share no library scratchpad.
 */
#include "net_run_priv.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

const char *dnnl_status_str(dnnl_status_t s)
{
    switch (s) {
    case dnnl_out_of_memory:
        return "out of memory";
    case dnnl_invalid_arguments:
        return "invalid arguments";
    case dnnl_unimplemented:
        return "no oneDNN implementation for this shape or data type";
    default:
        return "oneDNN error";
    }
}

const dnnl_memory_desc_t *value_md(const net_plan *p, int v)
{
    const dnnl_memory_desc_t *md = NULL;
    dnnl_memory_get_memory_desc(p->values[v].mem, &md);
    return md;
}

/* Adds a buffer described by md.  handle: DNNL_MEMORY_NONE for a buffer in
 * the arena, DNNL_MEMORY_ALLOCATE for one oneDNN owns (weights), or borrowed
 * memory that outlives the plan.  Returns its index or -1. */
int plan_add_value(net_plan *p, const dnnl_memory_desc_t *md, void *handle)
{
    if (p->n_values == p->cap_values) {
        size_t cap = p->cap_values ? 2 * p->cap_values : 64;
        plan_value *v = realloc(p->values, cap * sizeof *v);
        if (!v)
            return -1;
        p->values = v;
        p->cap_values = cap;
    }
    plan_value *v = &p->values[p->n_values];
    *v = (plan_value){.bytes = dnnl_memory_desc_get_size(md),
                      .first = -1,
                      .last = -1,
                      .alias = -1,
                      .in_arena = handle == DNNL_MEMORY_NONE,
                      .scale = 1};
    if (dnnl_memory_create(&v->mem, md, p->engine, handle) != dnnl_success)
        return -1;
    return (int)p->n_values++;
}

static plan_step *plan_add_step(net_plan *p, int layer, int is_reorder)
{
    if (p->n_steps == p->cap_steps) {
        size_t cap = p->cap_steps ? 2 * p->cap_steps : 64;
        plan_step *s = realloc(p->steps, cap * sizeof *s);
        if (!s)
            return NULL;
        p->steps = s;
        p->cap_steps = cap;
    }
    plan_step *s = &p->steps[p->n_steps++];
    *s = (plan_step){.layer = layer, .is_reorder = is_reorder};
    return s;
}

/* Passes value v to the step being built and extends v's lifetime to it. */
void step_arg(net_plan *p, plan_step *s, int arg, int v)
{
    int at = (int)(s - p->steps);
    s->args[s->n_args++] = (dnnl_exec_arg_t){.arg = arg, .memory = p->values[v].mem};
    if (p->values[v].first < 0)
        p->values[v].first = at;
    if (p->values[v].last < at)
        p->values[v].last = at;
}

/* Creates the primitive of pd as a new step, with a scratchpad from the
 * arena when it needs one.  Takes pd over (destroys it). */
plan_step *plan_add_primitive(net_plan *p, dnnl_primitive_desc_t pd, int layer, int is_reorder)
{
    plan_step *s = plan_add_step(p, layer, is_reorder);
    int ok = s && dnnl_primitive_create(&s->prim, pd) == dnnl_success;
    const char *impl = NULL;
    if (ok && !is_reorder &&
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success && impl &&
        !strncmp(impl, "ref", 3))
        p->n_reference++;
    const dnnl_memory_desc_t *scratch =
        dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    if (ok && scratch && dnnl_memory_desc_get_size(scratch) > 0) {
        int v = plan_add_value(p, scratch, DNNL_MEMORY_NONE);
        ok = v >= 0;
        if (ok)
            step_arg(p, s, DNNL_ARG_SCRATCHPAD, v);
    }
    dnnl_primitive_desc_destroy(pd);
    if (!ok && s) {
        if (s->prim)
            dnnl_primitive_destroy(s->prim);
        p->n_steps--;
    }
    return ok ? s : NULL;
}

dnnl_primitive_attr_t user_scratchpad_attr(void)
{
    dnnl_primitive_attr_t attr = NULL;
    if (dnnl_primitive_attr_create(&attr) != dnnl_success)
        return NULL;
    dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    return attr;
}

/* The primitive descriptor of op (a dnnl_*_desc_t) with only the user
 * scratchpad as attribute, into *pd (the caller's; destroyed by the caller). */
static dnnl_status_t plain_primitive_desc(const net_plan *p, const void *op,
                                          dnnl_primitive_desc_t *pd)
{
    dnnl_primitive_attr_t attr = user_scratchpad_attr();
    dnnl_status_t s = dnnl_primitive_desc_create(pd, op, attr, p->engine, NULL);
    dnnl_primitive_attr_destroy(attr);
    return s;
}

/* The attributes converting value from's numbers into value to's: real =
 * scale · (q − zero point) on both sides.  NULL when out of memory. */
static dnnl_primitive_attr_t convert_attr(const net_plan *p, int from, int to)
{
    const plan_value *a = &p->values[from], *b = &p->values[to];
    dnnl_primitive_attr_t attr = user_scratchpad_attr();
    if (attr && a->scale != b->scale) {
        float scale = a->scale / b->scale;
        dnnl_primitive_attr_set_output_scales(attr, 1, 0, &scale);
    }
    if (attr && a->zero_point)
        dnnl_primitive_attr_set_zero_points(attr, DNNL_ARG_FROM, 1, 0, &a->zero_point);
    if (attr && b->zero_point)
        dnnl_primitive_attr_set_zero_points(attr, DNNL_ARG_TO, 1, 0, &b->zero_point);
    return attr;
}

int plan_add_reorder(net_plan *p, int from, int to, const char *name, char *err, size_t err_size)
{
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t attr = convert_attr(p, from, to);
    dnnl_status_t s = attr ? dnnl_reorder_primitive_desc_create(&pd, value_md(p, from), p->engine,
                                                                value_md(p, to), p->engine, attr)
                           : dnnl_out_of_memory;
    dnnl_primitive_attr_destroy(attr);
    CHECK_DNNL(s, "reorder");
    plan_step *step = plan_add_primitive(p, pd, -1, 1);
    if (!step) {
        snprintf(err, err_size, "%s: creating a reorder failed", name);
        return -1;
    }
    step_arg(p, step, DNNL_ARG_FROM, from);
    step_arg(p, step, DNNL_ARG_TO, to);
    p->n_reorders++;
    return 0;
}

int plan_value_as(net_plan *p, int t, const dnnl_memory_desc_t *md, quant_form form,
                  const char *name, char *err, size_t err_size)
{
    int v = p->tensor_value[t];
    const plan_value *have = &p->values[v];
    if (dnnl_memory_desc_equal(value_md(p, v), md) && have->scale == form.scale &&
        have->zero_point == form.zero_point)
        return v;
    int w = plan_add_value(p, md, DNNL_MEMORY_NONE);
    if (w < 0) {
        snprintf(err, err_size, "%s: out of memory", name);
        return -1;
    }
    p->values[w].scale = form.scale;
    p->values[w].zero_point = form.zero_point;
    return plan_add_reorder(p, v, w, name, err, err_size) == 0 ? w : -1;
}

int plan_weights(net_plan *p, const float *w, const dnnl_dims_t dims, int ndims,
                 const dnnl_memory_desc_t *md, const float *per_out_scale, const char *name,
                 char *err, size_t err_size)
{
    dnnl_memory_desc_t user_md;
    dnnl_format_tag_t tag = ndims == 4 ? dnnl_abcd : dnnl_ab;
    CHECK_DNNL(dnnl_memory_desc_init_by_tag(&user_md, ndims, dims, dnnl_f32, tag), "weights");
    dnnl_memory_t user = NULL;
    CHECK_DNNL(dnnl_memory_create(&user, &user_md, p->engine, (void *)w), "weights");
    int v = plan_add_value(p, md, DNNL_MEMORY_ALLOCATE);
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t prim = NULL;
    dnnl_status_t s = v < 0 ? dnnl_out_of_memory : dnnl_primitive_attr_create(&attr);
    /* Quantizing: q = w · scale[o], rounded and saturated by the reorder. */
    if (s == dnnl_success && per_out_scale)
        s = dnnl_primitive_attr_set_output_scales(attr, dims[0], 1 << 0, per_out_scale);
    if (s == dnnl_success)
        s = dnnl_reorder_primitive_desc_create(&pd, &user_md, p->engine, md, p->engine, attr);
    if (s == dnnl_success)
        s = dnnl_primitive_create(&prim, pd);
    if (s == dnnl_success) {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, p->values[v].mem}};
        s = dnnl_primitive_execute(prim, p->stream, 2, args);
    }
    if (s == dnnl_success)
        s = dnnl_stream_wait(p->stream);
    dnnl_primitive_destroy(prim);
    dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_attr_destroy(attr);
    dnnl_memory_destroy(user);
    CHECK_DNNL(s, "reordering weights");
    return v;
}

static dnnl_data_type_t conv_type(const net_plan *p, int li)
{
    return p->layer_precision[li] == NET_BF16 ? dnnl_bf16 : dnnl_f32;
}

dnnl_primitive_attr_t conv_attr(const net_layer *l, float sum_scale, dnnl_data_type_t sum_type)
{
    dnnl_primitive_attr_t attr = user_scratchpad_attr();
    dnnl_post_ops_t ops = NULL;
    if (!attr || dnnl_post_ops_create(&ops) != dnnl_success)
        return attr;
    /* Order matters: relu(conv + bias + shortcut), as ResNet's Add → Relu. */
    if (l->sum >= 0)
        dnnl_post_ops_append_sum_v2(ops, sum_scale, sum_type);
    if (l->relu)
        dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
    dnnl_primitive_attr_set_post_ops(attr, ops);
    dnnl_post_ops_destroy(ops);
    return attr;
}

/* The value a layer writes: fresh, or for a residual sum written in place
 * over the shortcut, first brought into sum_md and form (a copy, unless it
 * already is). */
static int layer_dst(net_plan *p, const net_layer *l, const weighted_io *io, char *err,
                     size_t err_size)
{
    const char *name = l->name;
    int r = l->sum < 0 ? -1 : plan_value_as(p, l->sum, &io->sum_md, io->sum, name, err, err_size);
    if (l->sum >= 0 && r < 0)
        return -1;
    int d = plan_add_value(p, &io->dst_md, DNNL_MEMORY_NONE);
    if (d < 0) {
        snprintf(err, err_size, "%s: out of memory", name);
        return -1;
    }
    p->values[d].scale = io->dst.scale;
    p->values[d].alias = r;
    return d;
}

/* The bias value: the layer's own, borrowed (fp32, plain), or a copy of
 * io->bias owned by oneDNN. */
static int layer_bias(net_plan *p, const net_layer *l, const dnnl_memory_desc_t *b_md,
                      const weighted_io *io)
{
    int b = plan_add_value(p, b_md, io->bias ? DNNL_MEMORY_ALLOCATE : l->bias);
    void *data = NULL;
    if (b >= 0 && io->bias && dnnl_memory_get_data_handle(p->values[b].mem, &data) == dnnl_success)
        memcpy(data, io->bias, dnnl_memory_desc_get_size(b_md));
    return b;
}

int plan_weighted(net_plan *p, int li, dnnl_primitive_desc_t pd, const dnnl_dims_t w_dims,
                  const dnnl_memory_desc_t *b_md, const weighted_io *io, char *err, size_t err_size)
{
    const net_layer *l = &p->net->layers[li];
    const char *name = l->name;
    int src = plan_value_as(p, l->src, dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0),
                            io->src, name, err, err_size);
    int w = src < 0 ? -1
                    : plan_weights(p, l->weights, w_dims, 4,
                                   dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0),
                                   io->w_scale, name, err, err_size);
    int b = w < 0 ? -1 : layer_bias(p, l, b_md, io);
    if (w >= 0 && b < 0)
        snprintf(err, err_size, "%s: out of memory", name);
    int dst = b < 0 ? -1 : layer_dst(p, l, io, err, err_size);
    if (dst < 0) {
        dnnl_primitive_desc_destroy(pd);
        return -1;
    }
    plan_step *step = plan_add_primitive(p, pd, li, 0);
    if (!step) {
        snprintf(err, err_size, "%s: creating the primitive failed", name);
        return -1;
    }
    step_arg(p, step, DNNL_ARG_SRC, src);
    step_arg(p, step, DNNL_ARG_WEIGHTS, w);
    step_arg(p, step, DNNL_ARG_BIAS, b);
    step_arg(p, step, DNNL_ARG_DST, dst);
    p->tensor_value[l->dst] = dst;
    return 0;
}

/* Sources, weights and results in floating point (fp32 or bf16). */
static weighted_io float_io(const dnnl_primitive_desc_t pd)
{
    weighted_io io = {.src = {.scale = 1}, .dst = {.scale = 1}, .sum = {.scale = 1}};
    io.dst_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    io.sum_md = io.dst_md;
    return io;
}

/* fp32 activations use the nChw16c layout, which oneDNN's Winograd kernel
 * for 3x3 stride-1 layers needs, so that every layer agrees on it: measured
 * +28 % images per CPU-second on ResNet50 (batch 8, 1 thread) over brgconv's
 * nhwc with the same accuracy.  bf16 has no Winograd: oneDNN picks. */
static dnnl_format_tag_t activation_tag(dnnl_data_type_t dt, int channels)
{
    /* nChw16c is AVX-512's block; elsewhere (AVX2: 8 floats) oneDNN has only
     * its reference kernel for it, so it picks. */
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    int avx512 = (isa & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core;
    return dt == dnnl_f32 && channels % 16 == 0 && avx512 ? dnnl_nChw16c : dnnl_format_tag_any;
}

static int winograd_fits(const net_layer *l, dnnl_data_type_t dt)
{
    return dt == dnnl_f32 && net_conv_is_3x3_s1(l);
}

/* The convolution's primitive descriptor with algorithm alg. */
static dnnl_status_t conv_pd(net_plan *p, const net_layer *l, dnnl_alg_kind_t alg,
                             const dnnl_memory_desc_t md[4], dnnl_primitive_desc_t *pd)
{
    dnnl_dims_t strides = {l->sh, l->sw}, pad_l = {l->pt, l->pl}, pad_r = {l->pb, l->pr};
    dnnl_convolution_desc_t desc;
    dnnl_status_t s = dnnl_convolution_forward_desc_init(
        &desc, dnnl_forward_inference, alg, &md[0], &md[1], &md[2], &md[3], strides, pad_l, pad_r);
    dnnl_primitive_attr_t attr =
        s == dnnl_success ? conv_attr(l, 1.0f, dnnl_data_type_undef) : NULL;
    if (s == dnnl_success)
        s = dnnl_primitive_desc_create(pd, &desc, attr, p->engine, NULL);
    dnnl_primitive_attr_destroy(attr);
    return s;
}

static int plan_conv(net_plan *p, int li, char *err, size_t err_size)
{
    if (p->layer_precision[li] == NET_INT8)
        return plan_conv_int8(p, li, err, err_size);
    const net_layer *l = &p->net->layers[li];
    const net_tensor *in = &p->net->tensors[l->src], *out = &p->net->tensors[l->dst];
    const char *name = l->name;
    dnnl_data_type_t dt = conv_type(p, li);
    dnnl_dims_t src_dims = {p->batch, in->c, in->h, in->w};
    dnnl_dims_t w_dims = {out->c, in->c, l->kh, l->kw};
    dnnl_dims_t b_dims = {out->c};
    dnnl_dims_t dst_dims = {p->batch, out->c, out->h, out->w};
    dnnl_memory_desc_t md[4]; /* src, weights, bias, dst */
    CHECK_DNNL(dnnl_memory_desc_init_by_tag(&md[0], 4, src_dims, dt, activation_tag(dt, in->c)),
               "src");
    CHECK_DNNL(dnnl_memory_desc_init_by_tag(&md[1], 4, w_dims, dt, dnnl_format_tag_any), "weights");
    CHECK_DNNL(dnnl_memory_desc_init_by_tag(&md[2], 1, b_dims, dnnl_f32, dnnl_a), "bias");
    CHECK_DNNL(dnnl_memory_desc_init_by_tag(&md[3], 4, dst_dims, dt, activation_tag(dt, out->c)),
               "dst");
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t s = dnnl_unimplemented;
    /* Winograd where oneDNN has it for this shape, else direct. */
    if (winograd_fits(l, dt))
        s = conv_pd(p, l, dnnl_convolution_winograd, md, &pd);
    if (s != dnnl_success)
        s = conv_pd(p, l, dnnl_convolution_direct, md, &pd);
    CHECK_DNNL(s, "convolution");
    weighted_io io = float_io(pd);
    return plan_weighted(p, li, pd, w_dims, &md[2], &io, err, err_size);
}

static dnnl_alg_kind_t pool_alg(const net_layer *l)
{
    if (l->kind == NET_MAXPOOL)
        return dnnl_pooling_max;
    return l->count_pad ? dnnl_pooling_avg_include_padding : dnnl_pooling_avg_exclude_padding;
}

/* Pools read their source in whatever layout and type its producer chose,
 * except that averages of 8-bit numbers are taken in fp32 (rounding a mean
 * to 8 bits would lose what the fp32 features keep). */
static int pool_source(net_plan *p, const net_layer *l, char *err, size_t err_size)
{
    int v = p->tensor_value[l->src];
    const dnnl_memory_desc_t *md = value_md(p, v);
    if (l->kind == NET_MAXPOOL || (md->data_type != dnnl_u8 && md->data_type != dnnl_s8))
        return v;
    dnnl_memory_desc_t f32_md;
    CHECK_DNNL_NAMED(
        dnnl_memory_desc_init_by_tag(&f32_md, md->ndims, md->dims, dnnl_f32, dnnl_nhwc), l->name,
        "pooling source");
    return plan_value_as(p, l->src, &f32_md, (quant_form){.scale = 1}, l->name, err, err_size);
}

/* Pools read their source in whatever layout its producer chose. */
static int plan_pool(net_plan *p, int li, char *err, size_t err_size)
{
    const net_layer *l = &p->net->layers[li];
    const net_tensor *out = &p->net->tensors[l->dst];
    const char *name = l->name;
    int src = pool_source(p, l, err, err_size);
    if (src < 0)
        return -1;
    const dnnl_memory_desc_t *src_md = value_md(p, src);
    dnnl_dims_t dst_dims = {p->batch, out->c, out->h, out->w};
    dnnl_dims_t strides = {l->sh, l->sw}, kernel = {l->kh, l->kw};
    dnnl_dims_t pad_l = {l->pt, l->pl}, pad_r = {l->pb, l->pr};
    dnnl_memory_desc_t dst_md;
    CHECK_DNNL(
        dnnl_memory_desc_init_by_tag(&dst_md, 4, dst_dims, src_md->data_type, dnnl_format_tag_any),
        "dst");
    dnnl_pooling_desc_t desc;
    CHECK_DNNL(dnnl_pooling_forward_desc_init(&desc, dnnl_forward_inference, pool_alg(l), src_md,
                                              &dst_md, strides, kernel, pad_l, pad_r),
               "pooling");
    dnnl_primitive_desc_t pd = NULL;
    CHECK_DNNL(plain_primitive_desc(p, &desc, &pd), "pooling");
    int dst =
        plan_add_value(p, dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0), DNNL_MEMORY_NONE);
    plan_step *step = dst < 0 ? NULL : plan_add_primitive(p, pd, li, 0);
    if (!step) {
        if (dst < 0)
            dnnl_primitive_desc_destroy(pd);
        snprintf(err, err_size, "%s: creating the pooling failed", name);
        return -1;
    }
    step_arg(p, step, DNNL_ARG_SRC, src);
    step_arg(p, step, DNNL_ARG_DST, dst);
    /* A max pool's 8-bit result counts in its source's units. */
    p->values[dst].scale = p->values[src].scale;
    p->values[dst].zero_point = p->values[src].zero_point;
    p->tensor_value[l->dst] = dst;
    return 0;
}

/* Fully connected layers stay fp32: they are tiny, and their output is the
 * result. */
static int plan_fc(net_plan *p, int li, char *err, size_t err_size)
{
    const net_layer *l = &p->net->layers[li];
    const net_tensor *in = &p->net->tensors[l->src], *out = &p->net->tensors[l->dst];
    const char *name = l->name;
    int oc = out->c * out->h * out->w;
    dnnl_dims_t src_dims = {p->batch, in->c, in->h, in->w};
    dnnl_dims_t w_dims = {oc, in->c, in->h, in->w};
    dnnl_dims_t b_dims = {oc}, dst_dims = {p->batch, oc};
    dnnl_memory_desc_t src_md, w_md, b_md, dst_md;
    CHECK_DNNL(dnnl_memory_desc_init_by_tag(&src_md, 4, src_dims, dnnl_f32, dnnl_format_tag_any),
               "src");
    CHECK_DNNL(dnnl_memory_desc_init_by_tag(&w_md, 4, w_dims, dnnl_f32, dnnl_format_tag_any),
               "weights");
    CHECK_DNNL(dnnl_memory_desc_init_by_tag(&b_md, 1, b_dims, dnnl_f32, dnnl_a), "bias");
    CHECK_DNNL(dnnl_memory_desc_init_by_tag(&dst_md, 2, dst_dims, dnnl_f32, dnnl_ab), "dst");
    dnnl_inner_product_desc_t desc;
    CHECK_DNNL(dnnl_inner_product_forward_desc_init(&desc, dnnl_forward_inference, &src_md, &w_md,
                                                    &b_md, &dst_md),
               "fully connected");
    dnnl_primitive_desc_t pd = NULL;
    CHECK_DNNL(plain_primitive_desc(p, &desc, &pd), "fully connected");
    weighted_io io = float_io(pd);
    return plan_weighted(p, li, pd, w_dims, &b_md, &io, err, err_size);
}

/* The input value: fp32 NHWC, which is what the caller writes. */
static int plan_input(net_plan *p, char *err, size_t err_size)
{
    const net_tensor *in = &p->net->tensors[p->net->input];
    const char *name = "input";
    dnnl_dims_t dims = {p->batch, in->c, in->h, in->w};
    dnnl_memory_desc_t md;
    CHECK_DNNL(dnnl_memory_desc_init_by_tag(&md, 4, dims, dnnl_f32, dnnl_nhwc), "input");
    p->input_value = plan_add_value(p, &md, DNNL_MEMORY_NONE);
    if (p->input_value < 0)
        return -1;
    p->tensor_value[p->net->input] = p->input_value;
    return 0;
}

/* The output value: fp32, plain [batch][c][h][w], alive to the end. */
static int plan_output(net_plan *p, char *err, size_t err_size)
{
    const net_tensor *o = &p->net->tensors[p->net->output];
    const char *name = "output";
    int v = p->tensor_value[p->net->output];
    int nd = value_md(p, v)->ndims;
    dnnl_dims_t dims4 = {p->batch, o->c, o->h, o->w};
    dnnl_dims_t dims2 = {p->batch, o->c * o->h * o->w};
    dnnl_memory_desc_t md;
    CHECK_DNNL(dnnl_memory_desc_init_by_tag(&md, nd, nd == 4 ? dims4 : dims2, dnnl_f32,
                                            nd == 4 ? dnnl_abcd : dnnl_ab),
               "output");
    p->output_value =
        plan_value_as(p, p->net->output, &md, (quant_form){.scale = 1}, name, err, err_size);
    if (p->output_value < 0)
        return -1;
    /* The caller reads it after the run: no later step may reuse it. */
    p->values[p->output_value].last = (int)p->n_steps;
    return 0;
}

/* Places every arena value and points its memory object into the arena.
 * A value written in place over another shares its root's bytes, so the
 * root lives as long as the last of them. */
static int plan_arena(net_plan *p)
{
    arena_item *items = calloc(p->n_values, sizeof *items);
    int *order = calloc(p->n_values, sizeof *order);
    int ok = items && order;
    for (size_t i = 0; ok && i < p->n_values; i++) {
        const plan_value *v = &p->values[i];
        int root = (int)i;
        while (p->values[root].alias >= 0)
            root = p->values[root].alias;
        items[i] = (arena_item){.bytes = v->in_arena && root == (int)i ? v->bytes : 0,
                                .first = v->first < 0 ? 0 : v->first,
                                .last = v->last};
        if (root != (int)i && items[root].last < v->last)
            items[root].last = v->last;
    }
    size_t total = ok ? arena_place(items, p->n_values, order) : 0;
    p->arena = ok ? aligned_alloc(ARENA_ALIGN, total ? total : ARENA_ALIGN) : NULL;
    for (size_t i = 0; p->arena && i < p->n_values; i++) {
        int root = (int)i;
        while (p->values[root].alias >= 0)
            root = p->values[root].alias;
        if (p->values[i].in_arena)
            dnnl_memory_set_data_handle(p->values[i].mem, (char *)p->arena + items[root].offset);
    }
    free(order);
    free(items);
    return p->arena ? 0 : -1;
}

static int plan_layers(net_plan *p, char *err, size_t err_size)
{
    for (size_t i = 0; i < p->net->n_layers; i++) {
        const net_layer *l = &p->net->layers[i];
        int rc = l->kind == NET_CONV ? plan_conv(p, (int)i, err, err_size)
                 : l->kind == NET_FC ? plan_fc(p, (int)i, err, err_size)
                                     : plan_pool(p, (int)i, err, err_size);
        if (rc < 0)
            return -1;
    }
    return 0;
}

void plan_set_threads(const net_plan *p)
{
    /* OpenMP's thread count is per calling thread: set it on the stage's own
     * thread before each parallel section oneDNN starts. */
    if (p->threads > 0)
        omp_set_num_threads(p->threads);
}

/* A plan being built borrows the caller's per-layer precisions (copied)
 * and activation ranges (only while building). */
static int plan_mix(net_plan *p, const net_mix *mix, char *err, size_t err_size)
{
    const net *n = p->net;
    p->layer_precision = calloc(n->n_layers, sizeof *p->layer_precision);
    if (!p->layer_precision) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    for (size_t i = 0; mix && mix->layer && i < n->n_layers; i++)
        p->layer_precision[i] = n->layers[i].kind == NET_CONV ? mix->layer[i] : NET_FP32;
    p->quant = mix ? mix->quant : NULL;
    for (size_t i = 0; i < n->n_layers; i++)
        if (p->layer_precision[i] == NET_INT8 && !p->quant) {
            snprintf(err, err_size, "%s: int8 needs activation ranges (a calibration)",
                     n->layers[i].name);
            return -1;
        }
    return 0;
}

net_plan *net_plan_new(const net *n, int batch, const net_mix *mix, int threads, char *err,
                       size_t err_size)
{
    net_plan *p = calloc(1, sizeof *p);
    const char *name = "oneDNN";
    if (!p || !(p->tensor_value = malloc(n->n_tensors * sizeof *p->tensor_value))) {
        free(p);
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n->n_tensors; i++)
        p->tensor_value[i] = -1;
    *p = (net_plan){.net = n, .batch = batch, .threads = threads, .tensor_value = p->tensor_value};
    plan_set_threads(p);
    int rc = plan_mix(p, mix, err, err_size);
    if (rc == 0 &&
        (dnnl_engine_create(&p->engine, dnnl_cpu, 0) != dnnl_success ||
         dnnl_stream_create(&p->stream, p->engine, dnnl_stream_default_flags) != dnnl_success)) {
        snprintf(err, err_size, "%s: cannot create the CPU engine", name);
        rc = -1;
    } else if (rc == 0) {
        rc = plan_input(p, err, err_size) == 0 && plan_layers(p, err, err_size) == 0 &&
                     plan_output(p, err, err_size) == 0
                 ? plan_arena(p)
                 : -1;
    }
    p->quant = NULL;
    if (rc < 0) {
        if (!err[0])
            snprintf(err, err_size, "out of memory planning %d images", batch);
        net_plan_free(p);
        return NULL;
    }
    return p;
}

float *net_plan_input(net_plan *p)
{
    void *data = NULL;
    dnnl_memory_get_data_handle(p->values[p->input_value].mem, &data);
    return data;
}

const float *net_plan_output(const net_plan *p)
{
    void *data = NULL;
    dnnl_memory_get_data_handle(p->values[p->output_value].mem, &data);
    return data;
}

size_t net_plan_features(const net_plan *p)
{
    return net_tensor_size(p->net, p->net->output);
}

size_t net_plan_reorders(const net_plan *p)
{
    return p->n_reorders;
}

size_t net_plan_reference_kernels(const net_plan *p)
{
    return p->n_reference;
}

int net_plan_run(net_plan *p, char *err, size_t err_size)
{
    plan_set_threads(p);
    for (size_t i = 0; i < p->n_steps; i++) {
        const plan_step *s = &p->steps[i];
        dnnl_status_t st = dnnl_primitive_execute(s->prim, p->stream, s->n_args, s->args);
        if (st != dnnl_success) {
            const char *name = s->layer >= 0 ? p->net->layers[s->layer].name : "reorder";
            snprintf(err, err_size, "%s: running: %s", name, dnnl_status_str(st));
            return -1;
        }
    }
    if (dnnl_stream_wait(p->stream) != dnnl_success) {
        snprintf(err, err_size, "oneDNN: waiting for the stream failed");
        return -1;
    }
    return 0;
}

void net_plan_free(net_plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_steps; i++)
        dnnl_primitive_destroy(p->steps[i].prim);
    for (size_t i = 0; i < p->n_values; i++)
        dnnl_memory_destroy(p->values[i].mem);
    free(p->arena);
    free(p->steps);
    free(p->values);
    free(p->tensor_value);
    free(p->layer_precision);
    if (p->stream)
        dnnl_stream_destroy(p->stream);
    if (p->engine)
        dnnl_engine_destroy(p->engine);
    free(p);
}
