/*
 * onnx.h — a small in-memory ONNX graph: load a .onnx file, inspect it,
 * build one and save it.
 *
 * The model is plain C structs and arrays the caller may read directly:
 * tensors by name (shape, element type, data for initializers and constant
 * attributes), nodes in file order (op type, name, input/output tensor names,
 * typed attributes) and the graph's inputs and outputs.  Parsing and writing
 * go through protobuf-c code generated at build time from Debian's
 * onnx.proto; nothing here knows about any particular network.
 *
 * Ownership: an onnx_model owns every string, array and tensor reachable from
 * it; onnx_model_free() releases all of it.  Pointers into a model stay valid
 * until the model is freed, except that adding to an array (onnx_add_*) may
 * move that array: re-read pointers into it after an add.
 *
 * Errors: functions that can fail return NULL or -1 and write one line into
 * err (err_size bytes, may be 0) naming the file and what failed.
 */
#ifndef FLOWRUN_ONNX_H
#define FLOWRUN_ONNX_H

#include <stddef.h>
#include <stdint.h>

/* Opsets of the default ("ai.onnx") domain accepted by onnx_load. */
#define ONNX_OPSET_MIN 7
#define ONNX_OPSET_MAX 17
#define ONNX_MAX_RANK  8

/* Element types, numbered as ONNX's TensorProto.DataType.  Tensor data is
 * held for FLOAT and INT64 only; other types may appear in graph input and
 * output declarations but are refused in initializers and attributes. */
typedef enum {
    ONNX_UNDEFINED = 0,
    ONNX_FLOAT = 1,
    ONNX_INT64 = 7,
} onnx_dtype;

/* A named tensor.  dims[i] is -1 for a dimension the file leaves symbolic
 * ("N") or unknown; rank is -1 when a declaration has no shape at all.  data is NULL for
 * declarations (graph inputs/outputs); for initializers and tensor attributes it holds numel
 * elements of dtype (float or int64_t), owned by the model. */
typedef struct onnx_tensor {
    char *name;
    onnx_dtype dtype;
    int rank;
    int64_t dims[ONNX_MAX_RANK];
    void *data;
} onnx_tensor;

typedef enum {
    ONNX_ATTR_FLOAT = 1,
    ONNX_ATTR_INT = 2,
    ONNX_ATTR_STRING = 3,
    ONNX_ATTR_TENSOR = 4,
    ONNX_ATTR_FLOATS = 6,
    ONNX_ATTR_INTS = 7,
} onnx_attr_type;

/* A node attribute; only the member matching type is set. */
typedef struct onnx_attr {
    char *name;
    onnx_attr_type type;
    float f;
    int64_t i;
    char *s;        /* STRING, NUL-terminated */
    onnx_tensor *t; /* TENSOR */
    float *floats;  /* FLOATS, n elements */
    int64_t *ints;  /* INTS, n elements */
    size_t n;
} onnx_attr;

/* A node.  An empty input name ("") marks an omitted optional input. */
typedef struct onnx_node {
    char *name;
    char *op_type;
    char *domain; /* "" for the default domain */
    char **inputs;
    size_t n_inputs;
    char **outputs;
    size_t n_outputs;
    onnx_attr *attrs;
    size_t n_attrs;
} onnx_node;

/* A model: one graph.  inputs lists the graph inputs that are not
 * initializers (older exporters list initializers as inputs too; onnx_load
 * drops those).  Nodes are in file order, which ONNX requires to be a
 * topological order. */
typedef struct onnx_model {
    int64_t opset; /* of the default domain */
    char *producer;
    char *graph_name;
    onnx_tensor *inputs;
    size_t n_inputs;
    onnx_tensor *outputs;
    size_t n_outputs;
    onnx_tensor *initializers;
    size_t n_initializers;
    onnx_node *nodes;
    size_t n_nodes;
} onnx_model;

/* ---- loading and saving ---- */

/* Reads path.  Returns a model the caller frees with onnx_model_free, or
 * NULL: the file is missing or unreadable, is not an ONNX model, uses an
 * opset outside ONNX_OPSET_MIN..MAX, keeps tensor data in external files, or
 * holds tensor data of a type other than float32/int64. */
onnx_model *onnx_load(const char *path, char *err, size_t err_size);

/* The same from size bytes at data (borrowed for the call); path only names
 * the model in errors. */
onnx_model *onnx_load_memory(const void *data, size_t size, const char *path, char *err,
                             size_t err_size);

/* Writes m (borrowed) to path as an ONNX model (IR version 8, tensor data as
 * raw little-endian bytes).  Returns 0, or -1 if the file cannot be written. */
int onnx_save(const onnx_model *m, const char *path, char *err, size_t err_size);

void onnx_model_free(onnx_model *m);

/* ---- building (for generators and tests) ---- */

/* An empty model of the given default-domain opset.  producer and
 * graph_name are copied.  NULL only when out of memory. */
onnx_model *onnx_model_new(int64_t opset, const char *producer, const char *graph_name);

/* Each add copies its arguments (name, dims, data) into the model and returns
 * the new element, valid until the next add to the same array, or NULL when
 * out of memory or rank > ONNX_MAX_RANK.  data may be NULL for a declaration. */
onnx_tensor *onnx_add_initializer(onnx_model *m, const char *name, onnx_dtype dtype, int rank,
                                  const int64_t *dims, const void *data);
onnx_tensor *onnx_add_input(onnx_model *m, const char *name, onnx_dtype dtype, int rank,
                            const int64_t *dims);
onnx_tensor *onnx_add_output(onnx_model *m, const char *name, onnx_dtype dtype, int rank,
                             const int64_t *dims);
onnx_node *onnx_add_node(onnx_model *m, const char *op_type, const char *name, size_t n_inputs,
                         const char *const *inputs, size_t n_outputs, const char *const *outputs);

/* Attribute setters copy name and values into node.  Return 0, -1 when out
 * of memory. */
int onnx_set_int(onnx_node *node, const char *name, int64_t v);
int onnx_set_float(onnx_node *node, const char *name, float v);
int onnx_set_string(onnx_node *node, const char *name, const char *v);
int onnx_set_ints(onnx_node *node, const char *name, size_t n, const int64_t *v);
int onnx_set_floats(onnx_node *node, const char *name, size_t n, const float *v);
/* Copies t (name, shape, data) as a TENSOR attribute; -1 also when t's rank
 * is above ONNX_MAX_RANK. */
int onnx_set_tensor(onnx_node *node, const char *name, const onnx_tensor *t);

/* ---- queries ---- */

/* Number of elements (product of dims; 1 for a scalar, -1 if the rank or any
 * dim is unknown, or the product does not fit in int64). */
int64_t onnx_numel(const onnx_tensor *t);
/* The initializer called name, or NULL. */
const onnx_tensor *onnx_find_initializer(const onnx_model *m, const char *name);
/* The attribute called name, or NULL. */
const onnx_attr *onnx_find_attr(const onnx_node *node, const char *name);
/* Attribute value of type INT / FLOAT, or dflt when absent or of another type. */
int64_t onnx_attr_int(const onnx_node *node, const char *name, int64_t dflt);
float onnx_attr_float(const onnx_node *node, const char *name, float dflt);
/* Attribute INTS: sets *n and returns the array (owned by the model), or
 * returns NULL with *n = 0 when absent. */
const int64_t *onnx_attr_ints(const onnx_node *node, const char *name, size_t *n);

#endif
