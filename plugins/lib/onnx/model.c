/*
 * model.c — building, querying and freeing the in-memory ONNX model.
 * onnx_load() builds through the same onnx_add_* / onnx_set_* calls, so a
 * loaded and a generated model are made of identical allocations.
 */
#include "onnx.h"

#include <stdlib.h>
#include <string.h>

static size_t dtype_size(onnx_dtype dtype)
{
    return dtype == ONNX_INT64 ? sizeof(int64_t) : sizeof(float);
}

int64_t onnx_numel(const onnx_tensor *t)
{
    if (t->rank < 0)
        return -1;
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++) {
        /* Dims come from files: a product past int64 is as unknown as a
         * negative dim, never a wrapped number. */
        if (t->dims[i] < 0 || __builtin_mul_overflow(n, t->dims[i], &n))
            return -1;
    }
    return n;
}

/* Fills t with copies of name, shape and (if given) data.  0, or -1 when out
 * of memory or rank is above ONNX_MAX_RANK. */
static int tensor_init(onnx_tensor *t, const char *name, onnx_dtype dtype, int rank,
                       const int64_t *dims, const void *data)
{
    memset(t, 0, sizeof(*t));
    if (rank > ONNX_MAX_RANK)
        return -1;
    t->dtype = dtype;
    t->rank = rank < 0 ? -1 : rank;
    for (int i = 0; i < t->rank; i++)
        t->dims[i] = dims[i];
    t->name = strdup(name ? name : "");
    if (!t->name)
        return -1;
    if (!data)
        return 0;
    int64_t n = onnx_numel(t);
    size_t bytes = (size_t)(n > 0 ? n : 0) * dtype_size(dtype);
    t->data = malloc(bytes ? bytes : 1);
    if (!t->data)
        return -1;
    memcpy(t->data, data, bytes);
    return 0;
}

static void tensor_clear(onnx_tensor *t)
{
    free(t->name);
    free(t->data);
}

/* Grows *array of *n elements of size elem by one zeroed slot and returns
 * it, or NULL when out of memory (the array is then unchanged). */
static void *array_push(void **array, size_t *n, size_t elem)
{
    char *grown = realloc(*array, (*n + 1) * elem);
    if (!grown)
        return NULL;
    *array = grown;
    char *slot = grown + *n * elem;
    memset(slot, 0, elem);
    (*n)++;
    return slot;
}

static onnx_tensor *tensor_push(onnx_tensor **array, size_t *n, const char *name, onnx_dtype dtype,
                                int rank, const int64_t *dims, const void *data)
{
    onnx_tensor *t = array_push((void **)array, n, sizeof(**array));
    if (!t)
        return NULL;
    if (tensor_init(t, name, dtype, rank, dims, data) < 0) {
        tensor_clear(t);
        (*n)--;
        return NULL;
    }
    return t;
}

onnx_tensor *onnx_add_initializer(onnx_model *m, const char *name, onnx_dtype dtype, int rank,
                                  const int64_t *dims, const void *data)
{
    return tensor_push(&m->initializers, &m->n_initializers, name, dtype, rank, dims, data);
}

onnx_tensor *onnx_add_input(onnx_model *m, const char *name, onnx_dtype dtype, int rank,
                            const int64_t *dims)
{
    return tensor_push(&m->inputs, &m->n_inputs, name, dtype, rank, dims, NULL);
}

onnx_tensor *onnx_add_output(onnx_model *m, const char *name, onnx_dtype dtype, int rank,
                             const int64_t *dims)
{
    return tensor_push(&m->outputs, &m->n_outputs, name, dtype, rank, dims, NULL);
}

static char **strings_dup(size_t n, const char *const *src)
{
    char **out = calloc(n ? n : 1, sizeof(*out));
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        out[i] = strdup(src[i] ? src[i] : "");
        if (!out[i]) {
            while (i--)
                free(out[i]);
            free(out);
            return NULL;
        }
    }
    return out;
}

static void strings_free(char **s, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        free(s[i]);
    free(s);
}

static void attr_clear(onnx_attr *a)
{
    free(a->name);
    free(a->s);
    if (a->t) {
        tensor_clear(a->t);
        free(a->t);
    }
    free(a->floats);
    free(a->ints);
}

static void node_clear(onnx_node *n)
{
    free(n->name);
    free(n->op_type);
    free(n->domain);
    strings_free(n->inputs, n->n_inputs);
    strings_free(n->outputs, n->n_outputs);
    for (size_t i = 0; i < n->n_attrs; i++)
        attr_clear(&n->attrs[i]);
    free(n->attrs);
}

onnx_node *onnx_add_node(onnx_model *m, const char *op_type, const char *name, size_t n_inputs,
                         const char *const *inputs, size_t n_outputs, const char *const *outputs)
{
    onnx_node *n = array_push((void **)&m->nodes, &m->n_nodes, sizeof(*m->nodes));
    if (!n)
        return NULL;
    n->op_type = strdup(op_type);
    n->name = strdup(name ? name : "");
    n->domain = strdup("");
    n->inputs = strings_dup(n_inputs, inputs);
    n->n_inputs = n->inputs ? n_inputs : 0;
    n->outputs = strings_dup(n_outputs, outputs);
    n->n_outputs = n->outputs ? n_outputs : 0;
    if (!n->op_type || !n->name || !n->domain || !n->inputs || !n->outputs) {
        node_clear(n);
        m->n_nodes--;
        return NULL;
    }
    return n;
}

/* A new attribute called name on node, type set, value left to the caller;
 * NULL when out of memory. */
static onnx_attr *attr_push(onnx_node *node, const char *name, onnx_attr_type type)
{
    char *copy = strdup(name);
    if (!copy)
        return NULL;
    onnx_attr *a = array_push((void **)&node->attrs, &node->n_attrs, sizeof(*node->attrs));
    if (!a) {
        free(copy);
        return NULL;
    }
    a->name = copy;
    a->type = type;
    return a;
}

/* Undoes the last attr_push after its value failed to allocate. */
static int attr_pop(onnx_node *node)
{
    attr_clear(&node->attrs[--node->n_attrs]);
    return -1;
}

int onnx_set_int(onnx_node *node, const char *name, int64_t v)
{
    onnx_attr *a = attr_push(node, name, ONNX_ATTR_INT);
    if (!a)
        return -1;
    a->i = v;
    return 0;
}

int onnx_set_float(onnx_node *node, const char *name, float v)
{
    onnx_attr *a = attr_push(node, name, ONNX_ATTR_FLOAT);
    if (!a)
        return -1;
    a->f = v;
    return 0;
}

int onnx_set_string(onnx_node *node, const char *name, const char *v)
{
    onnx_attr *a = attr_push(node, name, ONNX_ATTR_STRING);
    if (!a)
        return -1;
    a->s = strdup(v);
    return a->s ? 0 : attr_pop(node);
}

static void *copy_array(const void *src, size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (p && bytes)
        memcpy(p, src, bytes);
    return p;
}

/* An INTS or FLOATS attribute holding a copy of n values of elem bytes. */
static int set_array(onnx_node *node, const char *name, onnx_attr_type type, size_t n,
                     const void *v, size_t elem)
{
    onnx_attr *a = attr_push(node, name, type);
    if (!a)
        return -1;
    void *copy = copy_array(v, n * elem);
    if (!copy)
        return attr_pop(node);
    if (type == ONNX_ATTR_INTS)
        a->ints = copy;
    else
        a->floats = copy;
    a->n = n;
    return 0;
}

int onnx_set_ints(onnx_node *node, const char *name, size_t n, const int64_t *v)
{
    return set_array(node, name, ONNX_ATTR_INTS, n, v, sizeof(*v));
}

int onnx_set_floats(onnx_node *node, const char *name, size_t n, const float *v)
{
    return set_array(node, name, ONNX_ATTR_FLOATS, n, v, sizeof(*v));
}

int onnx_set_tensor(onnx_node *node, const char *name, const onnx_tensor *t)
{
    onnx_attr *a = attr_push(node, name, ONNX_ATTR_TENSOR);
    if (!a)
        return -1;
    a->t = calloc(1, sizeof(*a->t));
    if (!a->t || tensor_init(a->t, t->name, t->dtype, t->rank, t->dims, t->data) < 0)
        return attr_pop(node);
    return 0;
}

onnx_model *onnx_model_new(int64_t opset, const char *producer, const char *graph_name)
{
    onnx_model *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->opset = opset;
    m->producer = strdup(producer ? producer : "");
    m->graph_name = strdup(graph_name ? graph_name : "");
    if (!m->producer || !m->graph_name) {
        onnx_model_free(m);
        return NULL;
    }
    return m;
}

static void tensors_free(onnx_tensor *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tensor_clear(&t[i]);
    free(t);
}

void onnx_model_free(onnx_model *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_nodes; i++)
        node_clear(&m->nodes[i]);
    free(m->nodes);
    tensors_free(m->initializers, m->n_initializers);
    tensors_free(m->outputs, m->n_outputs);
    tensors_free(m->inputs, m->n_inputs);
    free(m->graph_name);
    free(m->producer);
    free(m);
}

const onnx_tensor *onnx_find_initializer(const onnx_model *m, const char *name)
{
    for (size_t i = 0; i < m->n_initializers; i++)
        if (strcmp(m->initializers[i].name, name) == 0)
            return &m->initializers[i];
    return NULL;
}

const onnx_attr *onnx_find_attr(const onnx_node *node, const char *name)
{
    for (size_t i = 0; i < node->n_attrs; i++)
        if (strcmp(node->attrs[i].name, name) == 0)
            return &node->attrs[i];
    return NULL;
}

int64_t onnx_attr_int(const onnx_node *node, const char *name, int64_t dflt)
{
    const onnx_attr *a = onnx_find_attr(node, name);
    return a && a->type == ONNX_ATTR_INT ? a->i : dflt;
}

float onnx_attr_float(const onnx_node *node, const char *name, float dflt)
{
    const onnx_attr *a = onnx_find_attr(node, name);
    return a && a->type == ONNX_ATTR_FLOAT ? a->f : dflt;
}

const int64_t *onnx_attr_ints(const onnx_node *node, const char *name, size_t *n)
{
    const onnx_attr *a = onnx_find_attr(node, name);
    if (!a || a->type != ONNX_ATTR_INTS) {
        *n = 0;
        return NULL;
    }
    *n = a->n;
    return a->ints;
}
