/*
 * save.c — onnx_save(): onnx_model → .onnx file.
 *
 * The model is mirrored into a protobuf-c message tree whose strings and
 * tensor data point into the model (nothing large is copied), then packed
 * straight into the file through a ProtobufCBuffer that writes as it goes,
 * so a 100 MB model needs no 100 MB staging buffer.  Every message struct
 * comes from one arena freed at the end.
 */
#include "error.h"
#include "onnx.h"
#include "onnx.pb-c.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IR_VERSION 8

/* Every allocation of one save, freed together. */
typedef struct {
    void **blocks;
    size_t n;
    int failed;
} arena;

/* count zeroed elements of size bytes; NULL (and a->failed) when out of
 * memory, so callers check once at the end. */
static void *arena_calloc(arena *a, size_t count, size_t size)
{
    void **grown = realloc(a->blocks, (a->n + 1) * sizeof(*grown));
    void *p = calloc(count ? count : 1, size);
    if (grown)
        a->blocks = grown;
    if (!grown || !p) {
        free(p);
        a->failed = 1;
        return NULL;
    }
    a->blocks[a->n++] = p;
    return p;
}

static void arena_free(arena *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->blocks[i]);
    free(a->blocks);
}

static size_t dtype_size(onnx_dtype dtype)
{
    return dtype == ONNX_INT64 ? sizeof(int64_t) : sizeof(float);
}

static Onnx__TensorProto *tensor_proto(arena *a, const onnx_tensor *t)
{
    Onnx__TensorProto *tp = arena_calloc(a, 1, sizeof(*tp));
    if (!tp)
        return NULL;
    onnx__tensor_proto__init(tp);
    tp->name = t->name;
    tp->has_data_type = 1;
    tp->data_type = (int32_t)t->dtype;
    tp->n_dims = (size_t)(t->rank > 0 ? t->rank : 0);
    tp->dims = (int64_t *)t->dims;
    int64_t numel = onnx_numel(t);
    tp->has_raw_data = 1;
    tp->raw_data.len = t->data && numel > 0 ? (size_t)numel * dtype_size(t->dtype) : 0;
    tp->raw_data.data = t->data;
    return tp;
}

static Onnx__ValueInfoProto *value_info(arena *a, const onnx_tensor *t)
{
    Onnx__ValueInfoProto *vi = arena_calloc(a, 1, sizeof(*vi));
    Onnx__TypeProto *type = arena_calloc(a, 1, sizeof(*type));
    Onnx__TypeProto__Tensor *tt = arena_calloc(a, 1, sizeof(*tt));
    if (!vi || !type || !tt)
        return NULL;
    onnx__value_info_proto__init(vi);
    onnx__type_proto__init(type);
    onnx__type_proto__tensor__init(tt);
    vi->name = t->name;
    vi->type = type;
    type->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    type->tensor_type = tt;
    tt->has_elem_type = 1;
    tt->elem_type = (int32_t)t->dtype;
    if (t->rank < 0)
        return vi;
    Onnx__TensorShapeProto *shape = arena_calloc(a, 1, sizeof(*shape));
    Onnx__TensorShapeProto__Dimension *dims = arena_calloc(a, (size_t)t->rank, sizeof(*dims));
    Onnx__TensorShapeProto__Dimension **dimp = arena_calloc(a, (size_t)t->rank, sizeof(*dimp));
    if (!shape || !dims || !dimp)
        return NULL;
    onnx__tensor_shape_proto__init(shape);
    for (int i = 0; i < t->rank; i++) {
        onnx__tensor_shape_proto__dimension__init(&dims[i]);
        /* An unknown dimension is written as a dimension with no value. */
        if (t->dims[i] >= 0) {
            dims[i].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            dims[i].dim_value = t->dims[i];
        }
        dimp[i] = &dims[i];
    }
    shape->n_dim = (size_t)t->rank;
    shape->dim = dimp;
    tt->shape = shape;
    return vi;
}

static Onnx__AttributeProto *attr_proto(arena *a, const onnx_attr *at)
{
    Onnx__AttributeProto *ap = arena_calloc(a, 1, sizeof(*ap));
    if (!ap)
        return NULL;
    onnx__attribute_proto__init(ap);
    ap->name = at->name;
    ap->has_type = 1;
    ap->type = (Onnx__AttributeProto__AttributeType)at->type;
    switch (at->type) {
    case ONNX_ATTR_FLOAT:
        ap->has_f = 1;
        ap->f = at->f;
        break;
    case ONNX_ATTR_INT:
        ap->has_i = 1;
        ap->i = at->i;
        break;
    case ONNX_ATTR_STRING:
        ap->has_s = 1;
        ap->s.data = (uint8_t *)at->s;
        ap->s.len = strlen(at->s);
        break;
    case ONNX_ATTR_TENSOR:
        ap->t = tensor_proto(a, at->t);
        break;
    case ONNX_ATTR_FLOATS:
        ap->n_floats = at->n;
        ap->floats = at->floats;
        break;
    case ONNX_ATTR_INTS:
        ap->n_ints = at->n;
        ap->ints = at->ints;
        break;
    }
    return ap;
}

static Onnx__NodeProto *node_proto(arena *a, const onnx_node *n)
{
    Onnx__NodeProto *np = arena_calloc(a, 1, sizeof(*np));
    Onnx__AttributeProto **attrs = arena_calloc(a, n->n_attrs, sizeof(*attrs));
    if (!np || !attrs)
        return NULL;
    onnx__node_proto__init(np);
    np->name = n->name;
    np->op_type = n->op_type;
    np->domain = n->domain;
    np->n_input = n->n_inputs;
    np->input = n->inputs;
    np->n_output = n->n_outputs;
    np->output = n->outputs;
    np->n_attribute = n->n_attrs;
    np->attribute = attrs;
    for (size_t i = 0; i < n->n_attrs; i++)
        attrs[i] = attr_proto(a, &n->attrs[i]);
    return np;
}

static Onnx__GraphProto *graph_proto(arena *a, const onnx_model *m)
{
    Onnx__GraphProto *g = arena_calloc(a, 1, sizeof(*g));
    Onnx__NodeProto **nodes = arena_calloc(a, m->n_nodes, sizeof(*nodes));
    Onnx__TensorProto **inits = arena_calloc(a, m->n_initializers, sizeof(*inits));
    Onnx__ValueInfoProto **ins = arena_calloc(a, m->n_inputs, sizeof(*ins));
    Onnx__ValueInfoProto **outs = arena_calloc(a, m->n_outputs, sizeof(*outs));
    if (!g || !nodes || !inits || !ins || !outs)
        return NULL;
    onnx__graph_proto__init(g);
    g->name = m->graph_name;
    for (size_t i = 0; i < m->n_nodes; i++)
        nodes[i] = node_proto(a, &m->nodes[i]);
    for (size_t i = 0; i < m->n_initializers; i++)
        inits[i] = tensor_proto(a, &m->initializers[i]);
    for (size_t i = 0; i < m->n_inputs; i++)
        ins[i] = value_info(a, &m->inputs[i]);
    for (size_t i = 0; i < m->n_outputs; i++)
        outs[i] = value_info(a, &m->outputs[i]);
    g->n_node = m->n_nodes;
    g->node = nodes;
    g->n_initializer = m->n_initializers;
    g->initializer = inits;
    g->n_input = m->n_inputs;
    g->input = ins;
    g->n_output = m->n_outputs;
    g->output = outs;
    return g;
}

/* A ProtobufCBuffer that appends to a FILE and remembers a write error. */
typedef struct {
    ProtobufCBuffer base;
    FILE *f;
    int failed;
} file_buffer;

static void file_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
    file_buffer *fb = (file_buffer *)b;
    if (!fb->failed && fwrite(data, 1, len, fb->f) != len)
        fb->failed = 1;
}

static int write_model(const Onnx__ModelProto *mp, const char *path, char *err, size_t err_size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return onnx_errorf(err, err_size, "%s: cannot create ONNX model: %s", path,
                           strerror(errno));
    file_buffer fb = {{file_append}, f, 0};
    onnx__model_proto__pack_to_buffer(mp, &fb.base);
    int failed = fb.failed || ferror(f);
    if (fclose(f) != 0 || failed) {
        onnx_errorf(err, err_size, "%s: cannot write ONNX model: %s", path, strerror(errno));
        remove(path);
        return -1;
    }
    return 0;
}

int onnx_save(const onnx_model *m, const char *path, char *err, size_t err_size)
{
    arena a = {0};
    Onnx__ModelProto mp = ONNX__MODEL_PROTO__INIT;
    Onnx__OperatorSetIdProto opset = ONNX__OPERATOR_SET_ID_PROTO__INIT;
    Onnx__OperatorSetIdProto *opsets[1] = {&opset};
    opset.domain = "";
    opset.has_version = 1;
    opset.version = m->opset;
    mp.has_ir_version = 1;
    mp.ir_version = IR_VERSION;
    mp.n_opset_import = 1;
    mp.opset_import = opsets;
    mp.producer_name = m->producer;
    mp.graph = graph_proto(&a, m);
    int rc = a.failed ? onnx_errorf(err, err_size, "%s: out of memory", path)
                      : write_model(&mp, path, err, err_size);
    arena_free(&a);
    return rc;
}
