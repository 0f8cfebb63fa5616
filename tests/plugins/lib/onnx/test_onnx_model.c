/*
 * test_onnx_model.c — flowrun-onnx: a built model survives save + load with
 * every attribute type, tensor type and shape form; load errors name the
 * file and the reason.
 */
#include "check.h"
#include "onnx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/test-onnx-XXXXXX";

static char *path_in_dir(const char *name)
{
    static char buf[4][256];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
    return p;
}

/* A two-node graph using every attribute type the library supports. */
static onnx_model *build(void)
{
    onnx_model *m = onnx_model_new(13, "test", "g");
    int64_t in_dims[4] = {-1, 3, 4, 4}, w_dims[4] = {2, 3, 1, 1}, shape_dims[1] = {2};
    float w[6] = {1.5f, -2, 3, 0.25f, 1e-5f, 7};
    int64_t shape[2] = {-1, 32};
    onnx_add_input(m, "x", ONNX_FLOAT, 4, in_dims);
    onnx_add_output(m, "y", ONNX_FLOAT, 2, (int64_t[]){-1, 32});
    onnx_add_initializer(m, "w", ONNX_FLOAT, 4, w_dims, w);
    onnx_add_initializer(m, "shape", ONNX_INT64, 1, shape_dims, shape);
    onnx_node *conv = onnx_add_node(m, "Conv", "conv1", 3, (const char *[]){"x", "w", ""}, 1,
                                    (const char *[]){"c"});
    onnx_set_ints(conv, "kernel_shape", 2, (int64_t[]){1, 1});
    onnx_set_int(conv, "group", 1);
    onnx_set_float(conv, "alpha", 1.001e-5f);
    onnx_set_string(conv, "auto_pad", "NOTSET");
    onnx_set_floats(conv, "scales", 2, (float[]){0.5f, 2});
    onnx_node *cst = onnx_add_node(m, "Constant", "k", 0, NULL, 1, (const char *[]){"kv"});
    onnx_tensor scalar = {.name = "", .dtype = ONNX_FLOAT, .rank = 0, .data = &(float){42}};
    onnx_set_tensor(cst, "value", &scalar);
    onnx_add_node(m, "Reshape", "flat", 2, (const char *[]){"c", "shape"}, 1,
                  (const char *[]){"y"});
    return m;
}

static int check_built(const onnx_model *m)
{
    CHECK_INT(m->opset, 13);
    CHECK_STR(m->producer, "test");
    REQUIRE(m->n_inputs == 1 && m->n_outputs == 1 && m->n_initializers == 2 && m->n_nodes == 3);
    CHECK_STR(m->inputs[0].name, "x");
    CHECK_INT(m->inputs[0].rank, 4);
    CHECK_INT(m->inputs[0].dims[0], -1);
    CHECK_INT(m->inputs[0].dims[3], 4);
    const onnx_tensor *w = onnx_find_initializer(m, "w");
    REQUIRE(w && w->dtype == ONNX_FLOAT && onnx_numel(w) == 6);
    CHECK(((float *)w->data)[4] == 1e-5f);
    const onnx_tensor *shape = onnx_find_initializer(m, "shape");
    REQUIRE(shape && shape->dtype == ONNX_INT64);
    CHECK_INT(((int64_t *)shape->data)[1], 32);
    const onnx_node *conv = &m->nodes[0];
    CHECK_STR(conv->op_type, "Conv");
    CHECK_STR(conv->name, "conv1");
    REQUIRE(conv->n_inputs == 3);
    CHECK_STR(conv->inputs[2], "");
    size_t n;
    const int64_t *ks = onnx_attr_ints(conv, "kernel_shape", &n);
    CHECK(ks && n == 2 && ks[1] == 1);
    CHECK_INT(onnx_attr_int(conv, "group", 7), 1);
    CHECK_INT(onnx_attr_int(conv, "missing", 7), 7);
    CHECK(onnx_attr_float(conv, "alpha", 0) == 1.001e-5f);
    const onnx_attr *s = onnx_find_attr(conv, "auto_pad");
    CHECK(s && s->type == ONNX_ATTR_STRING && strcmp(s->s, "NOTSET") == 0);
    const onnx_attr *fl = onnx_find_attr(conv, "scales");
    CHECK(fl && fl->type == ONNX_ATTR_FLOATS && fl->n == 2 && fl->floats[1] == 2);
    const onnx_attr *t = onnx_find_attr(&m->nodes[1], "value");
    REQUIRE(t && t->type == ONNX_ATTR_TENSOR);
    CHECK_INT(t->t->rank, 0);
    CHECK(*(float *)t->t->data == 42);
    CHECK_INT(m->nodes[2].n_outputs, 1);
    return 0;
}

static int test_round_trip(void)
{
    char err[512] = "";
    onnx_model *m = build();
    check_built(m);
    int saved = onnx_save(m, path_in_dir("a.onnx"), err, sizeof(err));
    REQUIRE(saved == 0);
    onnx_model *back = onnx_load(path_in_dir("a.onnx"), err, sizeof(err));
    if (!back)
        fprintf(stderr, "%s\n", err);
    REQUIRE(back);
    check_built(back);
    onnx_model_free(back);
    onnx_model_free(m);
    return 0;
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f);
    if (!f)
        return;
    CHECK_INT(fwrite(data, 1, n, f), n);
    fclose(f);
}

/* Loading path fails with a message containing the path and want. */
static void expect_load_error(const char *path, const char *want)
{
    char err[512] = "";
    onnx_model *m = onnx_load(path, err, sizeof(err));
    CHECK(m == NULL);
    CHECK_CONTAINS(err, path);
    CHECK_CONTAINS(err, want);
    onnx_model_free(m);
}

static int test_errors(void)
{
    char err[512] = "";
    expect_load_error(path_in_dir("missing.onnx"), "No such file");

    const char text[] = "this is a text file, not a model\n";
    write_bytes(path_in_dir("text.onnx"), text, sizeof(text) - 1);
    expect_load_error(path_in_dir("text.onnx"), "not an ONNX model");
    write_bytes(path_in_dir("empty.onnx"), "", 0);
    expect_load_error(path_in_dir("empty.onnx"), "not an ONNX model");

    onnx_model *m = build();
    m->opset = ONNX_OPSET_MAX + 1;
    int saved = onnx_save(m, path_in_dir("new.onnx"), err, sizeof(err));
    REQUIRE(saved == 0);
    expect_load_error(path_in_dir("new.onnx"), "opset 18 not supported");

    /* A file cut short no longer parses. */
    m->opset = 13;
    saved = onnx_save(m, path_in_dir("full.onnx"), err, sizeof(err));
    REQUIRE(saved == 0);
    FILE *f = fopen(path_in_dir("full.onnx"), "rb");
    REQUIRE(f);
    char buf[4096];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    write_bytes(path_in_dir("cut.onnx"), buf, n - 20);
    expect_load_error(path_in_dir("cut.onnx"), "not an ONNX model");

    CHECK(onnx_save(m, "/nonexistent-dir/x.onnx", err, sizeof(err)) < 0);
    CHECK_CONTAINS(err, "/nonexistent-dir/x.onnx");
    onnx_model_free(m);
    return 0;
}

int main(void)
{
    char *made = mkdtemp(dir); /* REQUIRE evaluates its argument twice */
    REQUIRE(made);
    if (test_round_trip() == 0)
        test_errors();
    const char *names[] = {"a.onnx",   "text.onnx", "empty.onnx",
                           "new.onnx", "full.onnx", "cut.onnx"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        unlink(path_in_dir(names[i]));
    rmdir(dir);
    return check_exit();
}
