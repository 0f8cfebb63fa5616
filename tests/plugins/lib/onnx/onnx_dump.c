/*
 * onnx_dump.c — test helper: `onnx-dump MODEL [--save OUT]` loads MODEL with
 * flowrun-onnx and prints it one element per line (format shared with
 * test_torch_export.py, which prints the same file read by python3-onnx);
 * with --save it also writes the loaded model to OUT.
 */
#include "onnx.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* zlib's CRC-32, so Python's zlib.crc32 gives the same digest. */
static uint32_t crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static void print_shape(const onnx_tensor *t)
{
    printf(" %d [", (int)t->dtype);
    for (int i = 0; i < t->rank; i++)
        printf(i ? ",%lld" : "%lld", (long long)t->dims[i]);
    printf("]");
}

static void print_tensor(const onnx_tensor *t)
{
    print_shape(t);
    int64_t n = onnx_numel(t);
    size_t bytes = (size_t)(n > 0 ? n : 0) * (t->dtype == ONNX_INT64 ? 8 : 4);
    printf(" crc=%08x", t->data ? crc32(t->data, bytes) : 0u);
}

static void print_attr(const onnx_attr *a)
{
    printf("  attr %s %d ", a->name, (int)a->type);
    switch (a->type) {
    case ONNX_ATTR_INT:
        printf("%lld", (long long)a->i);
        break;
    case ONNX_ATTR_FLOAT:
        printf("%.9g", a->f);
        break;
    case ONNX_ATTR_STRING:
        printf("%s", a->s);
        break;
    case ONNX_ATTR_INTS:
        for (size_t i = 0; i < a->n; i++)
            printf(i ? ",%lld" : "%lld", (long long)a->ints[i]);
        break;
    case ONNX_ATTR_FLOATS:
        for (size_t i = 0; i < a->n; i++)
            printf(i ? ",%.9g" : "%.9g", a->floats[i]);
        break;
    case ONNX_ATTR_TENSOR:
        print_tensor(a->t);
        break;
    }
    printf("\n");
}

static void print_names(const char *label, char **names, size_t n)
{
    printf(" %s=", label);
    for (size_t i = 0; i < n; i++)
        printf(i ? ",%s" : "%s", names[i]);
}

static void dump(const onnx_model *m)
{
    printf("opset %lld\n", (long long)m->opset);
    for (size_t i = 0; i < m->n_inputs; i++) {
        printf("input %s", m->inputs[i].name);
        print_shape(&m->inputs[i]);
        printf("\n");
    }
    for (size_t i = 0; i < m->n_outputs; i++) {
        printf("output %s", m->outputs[i].name);
        print_shape(&m->outputs[i]);
        printf("\n");
    }
    for (size_t i = 0; i < m->n_initializers; i++) {
        printf("init %s", m->initializers[i].name);
        print_tensor(&m->initializers[i]);
        printf("\n");
    }
    for (size_t i = 0; i < m->n_nodes; i++) {
        const onnx_node *n = &m->nodes[i];
        printf("node %s %s %s", n->op_type, n->name, n->domain);
        print_names("in", n->inputs, n->n_inputs);
        print_names("out", n->outputs, n->n_outputs);
        printf("\n");
        for (size_t a = 0; a < n->n_attrs; a++)
            print_attr(&n->attrs[a]);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2 && !(argc == 4 && strcmp(argv[2], "--save") == 0)) {
        fprintf(stderr, "usage: onnx-dump MODEL [--save OUT]\n");
        return 2;
    }
    char err[512];
    onnx_model *m = onnx_load(argv[1], err, sizeof(err));
    if (!m) {
        fprintf(stderr, "onnx-dump: %s\n", err);
        return 1;
    }
    dump(m);
    int rc = argc == 4 ? onnx_save(m, argv[3], err, sizeof(err)) : 0;
    if (rc < 0)
        fprintf(stderr, "onnx-dump: %s\n", err);
    onnx_model_free(m);
    return rc < 0 ? 1 : 0;
}
