/*
 * load.c — onnx_load(): a .onnx file → onnx_model.
 *
 * The file is read whole and unpacked by the protobuf-c code generated from
 * onnx.proto at build time; the result is then copied into an onnx_model
 * through the public builders, so the protobuf tree can be freed at once.
 * Raw tensor data is little-endian in ONNX files, as on every host flowrun
 * runs on (checked at compile time below).
 */
#include "error.h"
#include "onnx.h"
#include "onnx.pb-c.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* protobuf messages are limited to 2 GiB; a larger file is not a model. */
#define ONNX_MAX_FILE 0x7fffffffL

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "ONNX raw data is little-endian");

/* The whole file in a malloc'd buffer (caller frees), or NULL with err set. */
static uint8_t *read_file(const char *path, size_t *size, char *err, size_t err_size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        onnx_errorf(err, err_size, "%s: cannot open ONNX model: %s", path, strerror(errno));
        return NULL;
    }
    uint8_t *buf = NULL;
    struct stat sb;
    long len = -1;
    if (fstat(fileno(f), &sb) != 0) {
        onnx_errorf(err, err_size, "%s: cannot read ONNX model: %s", path, strerror(errno));
        goto done;
    }
    if (!S_ISREG(sb.st_mode) || sb.st_size > ONNX_MAX_FILE) {
        onnx_errorf(err, err_size, "%s: cannot read ONNX model: %s", path,
                    S_ISDIR(sb.st_mode)    ? "is a directory"
                    : !S_ISREG(sb.st_mode) ? "not a regular file"
                                           : "larger than 2 GiB (protobuf's limit)");
        goto done;
    }
    if (fseek(f, 0, SEEK_END) == 0)
        len = ftell(f);
    if (len < 0 || len > ONNX_MAX_FILE || fseek(f, 0, SEEK_SET) != 0) {
        onnx_errorf(err, err_size, "%s: cannot read ONNX model: %s", path, strerror(errno));
        goto done;
    }
    buf = malloc(len ? (size_t)len : 1);
    if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        onnx_errorf(err, err_size, "%s: cannot read ONNX model: %s", path,
                    buf ? "short read" : "out of memory");
        free(buf);
        buf = NULL;
        goto done;
    }
    *size = (size_t)len;
done:
    fclose(f);
    return buf;
}

/* State of one load: where errors go and which file they name. */
typedef struct {
    const char *path;
    char *err;
    size_t err_size;
} loader;

static int oom(const loader *ld)
{
    return onnx_errorf(ld->err, ld->err_size, "%s: out of memory", ld->path);
}

static const char *str(const char *s)
{
    return s ? s : "";
}

/* A view of tp's data (not copied) with its shape, or -1 with err set. */
static int tensor_view(const loader *ld, const Onnx__TensorProto *tp, onnx_tensor *view)
{
    const char *name = str(tp->name);
    if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return onnx_errorf(ld->err, ld->err_size,
                           "%s: tensor \"%s\": external data files are not supported", ld->path,
                           name);
    if (tp->n_dims > ONNX_MAX_RANK)
        return onnx_errorf(ld->err, ld->err_size, "%s: tensor \"%s\": rank %zu above %d", ld->path,
                           name, tp->n_dims, ONNX_MAX_RANK);
    memset(view, 0, sizeof(*view));
    view->name = (char *)name;
    view->dtype = (onnx_dtype)tp->data_type;
    view->rank = (int)tp->n_dims;
    for (size_t i = 0; i < tp->n_dims; i++)
        view->dims[i] = tp->dims[i];
    int64_t numel = onnx_numel(view);
    if (numel < 0)
        return onnx_errorf(ld->err, ld->err_size,
                           "%s: tensor \"%s\": a negative dimension, or more than 2^63 elements",
                           ld->path, name);
    size_t elem, n_typed;
    if (view->dtype == ONNX_FLOAT) {
        elem = sizeof(float);
        n_typed = tp->n_float_data;
        view->data = tp->float_data;
    } else if (view->dtype == ONNX_INT64) {
        elem = sizeof(int64_t);
        n_typed = tp->n_int64_data;
        view->data = tp->int64_data;
    } else {
        return onnx_errorf(ld->err, ld->err_size,
                           "%s: tensor \"%s\": data type %d not supported (float32, int64 only)",
                           ld->path, name, (int)tp->data_type);
    }
    size_t n_bytes = n_typed * elem;
    if (tp->has_raw_data) {
        n_bytes = tp->raw_data.len;
        view->data = tp->raw_data.data;
    }
    size_t needed;
    if (__builtin_mul_overflow((size_t)numel, elem, &needed) || n_bytes != needed)
        return onnx_errorf(ld->err, ld->err_size,
                           "%s: tensor \"%s\": holds %zu bytes of data, its shape needs %lld x %zu",
                           ld->path, name, n_bytes, (long long)numel, elem);
    return 0;
}

static int load_initializers(const loader *ld, const Onnx__GraphProto *g, onnx_model *m)
{
    for (size_t i = 0; i < g->n_initializer; i++) {
        onnx_tensor v;
        if (tensor_view(ld, g->initializer[i], &v) < 0)
            return -1;
        if (!onnx_add_initializer(m, v.name, v.dtype, v.rank, v.dims, v.data))
            return oom(ld);
    }
    return 0;
}

/* Copies a graph input/output declaration; shapes may be partly or wholly
 * unknown. */
static onnx_tensor *load_value_info(const loader *ld, const Onnx__ValueInfoProto *vi, onnx_model *m,
                                    int output)
{
    onnx_dtype dtype = ONNX_UNDEFINED;
    int rank = -1;
    int64_t dims[ONNX_MAX_RANK];
    const Onnx__TypeProto *tp = vi->type;
    if (tp && tp->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE && tp->tensor_type) {
        const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
        dtype = (onnx_dtype)tt->elem_type;
        if (tt->shape && tt->shape->n_dim <= ONNX_MAX_RANK) {
            rank = (int)tt->shape->n_dim;
            for (int i = 0; i < rank; i++) {
                const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
                dims[i] = d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
                              ? d->dim_value
                              : -1;
            }
        }
    }
    onnx_tensor *t = output ? onnx_add_output(m, str(vi->name), dtype, rank, dims)
                            : onnx_add_input(m, str(vi->name), dtype, rank, dims);
    if (!t)
        oom(ld);
    return t;
}

static int load_io(const loader *ld, const Onnx__GraphProto *g, onnx_model *m)
{
    for (size_t i = 0; i < g->n_input; i++) {
        /* Exporters before IR 4 listed every initializer as an input too. */
        if (onnx_find_initializer(m, str(g->input[i]->name)))
            continue;
        if (!load_value_info(ld, g->input[i], m, 0))
            return -1;
    }
    for (size_t i = 0; i < g->n_output; i++)
        if (!load_value_info(ld, g->output[i], m, 1))
            return -1;
    return 0;
}

static int load_attr(const loader *ld, const Onnx__NodeProto *np, const Onnx__AttributeProto *ap,
                     onnx_node *node)
{
    const char *name = str(ap->name);
    int rc;
    switch (ap->type) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
        rc = onnx_set_float(node, name, ap->f);
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
        rc = onnx_set_int(node, name, ap->i);
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
        rc = onnx_set_floats(node, name, ap->n_floats, ap->floats);
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
        rc = onnx_set_ints(node, name, ap->n_ints, ap->ints);
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: {
        /* ONNX strings are bytes without a terminator: copy exactly len bytes
         * (strndup would look for a NUL, past the end of the data). */
        char *s = malloc(ap->s.len + 1);
        if (s) {
            if (ap->s.len)
                memcpy(s, ap->s.data, ap->s.len);
            s[ap->s.len] = '\0';
        }
        rc = s ? onnx_set_string(node, name, s) : -1;
        free(s);
        break;
    }
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: {
        onnx_tensor v;
        if (!ap->t || tensor_view(ld, ap->t, &v) < 0)
            return ap->t ? -1
                         : onnx_errorf(ld->err, ld->err_size,
                                       "%s: node \"%s\": attribute \"%s\" has no tensor", ld->path,
                                       str(np->name), name);
        rc = onnx_set_tensor(node, name, &v);
        break;
    }
    default:
        return onnx_errorf(ld->err, ld->err_size,
                           "%s: node \"%s\" (%s): attribute \"%s\" of type %d not supported",
                           ld->path, str(np->name), str(np->op_type), name, (int)ap->type);
    }
    return rc < 0 ? oom(ld) : 0;
}

static int load_nodes(const loader *ld, const Onnx__GraphProto *g, onnx_model *m)
{
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *np = g->node[i];
        onnx_node *node = onnx_add_node(m, str(np->op_type), str(np->name), np->n_input,
                                        (const char *const *)np->input, np->n_output,
                                        (const char *const *)np->output);
        if (!node)
            return oom(ld);
        if (np->domain && np->domain[0]) {
            char *domain = strdup(np->domain);
            if (!domain)
                return oom(ld);
            free(node->domain);
            node->domain = domain;
        }
        for (size_t a = 0; a < np->n_attribute; a++)
            if (load_attr(ld, np, np->attribute[a], node) < 0)
                return -1;
    }
    return 0;
}

/* The default domain's opset, or -1 with err set when absent or outside
 * the supported range. */
static int64_t default_opset(const loader *ld, const Onnx__ModelProto *mp)
{
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *op = mp->opset_import[i];
        const char *d = str(op->domain);
        if (d[0] && strcmp(d, "ai.onnx") != 0)
            continue;
        if (op->version < ONNX_OPSET_MIN || op->version > ONNX_OPSET_MAX)
            return onnx_errorf(ld->err, ld->err_size,
                               "%s: ONNX opset %lld not supported (supported: %d to %d)", ld->path,
                               (long long)op->version, ONNX_OPSET_MIN, ONNX_OPSET_MAX);
        return op->version;
    }
    return onnx_errorf(ld->err, ld->err_size, "%s: ONNX model imports no default-domain opset",
                       ld->path);
}

static onnx_model *convert(const loader *ld, const Onnx__ModelProto *mp)
{
    int64_t opset = default_opset(ld, mp);
    if (opset < 0)
        return NULL;
    const Onnx__GraphProto *g = mp->graph;
    onnx_model *m = onnx_model_new(opset, str(mp->producer_name), str(g->name));
    if (!m) {
        oom(ld);
        return NULL;
    }
    if (load_initializers(ld, g, m) < 0 || load_io(ld, g, m) < 0 || load_nodes(ld, g, m) < 0) {
        onnx_model_free(m);
        return NULL;
    }
    return m;
}

onnx_model *onnx_load(const char *path, char *err, size_t err_size)
{
    size_t size = 0;
    uint8_t *buf = read_file(path, &size, err, err_size);
    if (!buf)
        return NULL;
    onnx_model *m = onnx_load_memory(buf, size, path, err, err_size);
    free(buf);
    return m;
}

onnx_model *onnx_load_memory(const void *data, size_t size, const char *path, char *err,
                             size_t err_size)
{
    loader ld = {path, err, err_size};
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, size, data);
    /* Arbitrary bytes sometimes parse as some protobuf message; a model
     * always has an IR version and a graph. */
    if (!mp || !mp->has_ir_version || !mp->graph) {
        onnx_errorf(err, err_size, "%s: not an ONNX model (%s)", path,
                    mp ? "no IR version or graph" : "not a valid ModelProto");
        if (mp)
            onnx__model_proto__free_unpacked(mp, NULL);
        return NULL;
    }
    onnx_model *m = convert(&ld, mp);
    onnx__model_proto__free_unpacked(mp, NULL);
    return m;
}
