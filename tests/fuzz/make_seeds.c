/* make_seeds.c — writes the generated seeds of tests/fuzz/onnx and tests/fuzz/wire
 * (tiny models through flowrun-onnx, record headers through the engine's
 * encoder).  Built by hand, from tests/fuzz, after a build in ../../build:
 *   cc -D_GNU_SOURCE -o /tmp/seeds make_seeds.c -I../../engine -I../../include \
 *      -I../../plugins/lib/onnx ../../build/lib/libflowrun-onnx.a -L../../build/lib \
 *      -lflowrun -lprotobuf-c -Wl,-rpath,$PWD/../../build/lib && /tmp/seeds */
#include "onnx.h"
#include "wire_codec.h"
#include <stdio.h>
#include <string.h>
static void put(const char *path, const void *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    fwrite(d, 1, n, f);
    fclose(f);
}
static void wire(const char *path, const fr_record *r, enum fr_wire_type t)
{
    uint8_t buf[4096];
    size_t n = wire_encode(r, t, buf);
    put(path, buf, n);
}
static void model(const char *path, int pool)
{
    char err[256];
    float w[4 * 27], b[4] = {0.5f, -0.25f, 0, 1};
    for (int i = 0; i < 108; i++)
        w[i] = (float)((i * 7) % 11 - 5) / 40.0f;
    onnx_model *m = onnx_model_new(13, "seed", "tiny");
    onnx_add_input(m, "image", ONNX_FLOAT, 4, (int64_t[]){1, 3, 8, 8});
    onnx_add_initializer(m, "w", ONNX_FLOAT, 4, (int64_t[]){4, 3, 3, 3}, w);
    onnx_add_initializer(m, "b", ONNX_FLOAT, 1, (int64_t[]){4}, b);
    onnx_add_output(m, "out", ONNX_FLOAT, 2, (int64_t[]){1, 4});
    onnx_node *n = onnx_add_node(m, "Conv", "conv", 3, (const char *[]){"image", "w", "b"}, 1,
                                 (const char *[]){"c"});
    onnx_set_ints(n, "pads", 4, (int64_t[]){1, 1, 1, 1});
    onnx_set_ints(n, "strides", 2, (int64_t[]){1, 1});
    onnx_add_node(m, "Relu", "relu", 1, (const char *[]){"c"}, 1, (const char *[]){"r"});
    const char *g = "r";
    if (pool) {
        onnx_node *p =
            onnx_add_node(m, "MaxPool", "pool", 1, (const char *[]){"r"}, 1, (const char *[]){"p"});
        onnx_set_ints(p, "kernel_shape", 2, (int64_t[]){2, 2});
        onnx_set_ints(p, "strides", 2, (int64_t[]){2, 2});
        g = "p";
    }
    onnx_add_node(m, "GlobalAveragePool", "gap", 1, (const char *[]){g}, 1, (const char *[]){"g"});
    onnx_add_node(m, "Flatten", "flat", 1, (const char *[]){"g"}, 1, (const char *[]){"out"});
    if (onnx_save(m, path, err, sizeof err))
        puts(err);
    onnx_model_free(m);
}
int main(void)
{
    model("onnx/conv-relu-gap.onnx", 0);
    model("onnx/conv-pool.onnx", 1);
    fr_attr attrs[2] = {{"bucket", "b"}, {"etag", "\"x\""}};
    fr_record r = {.id = "src:Training/Apple/1.jpg@x",
                   .key = "Training/Apple/1.jpg",
                   .label = "Apple",
                   .attrs = attrs,
                   .n_attrs = 2};
    r.payload.kind = FR_KIND_BYTES;
    strcpy(r.payload.media, "jpeg");
    r.payload.size = 100;
    wire("wire/bytes.bin", &r, FR_WIRE_DATA);
    fr_record t = {.id = "i", .key = "k", .label = ""};
    t.payload.kind = FR_KIND_TENSOR;
    t.payload.rank = 1;
    t.payload.dims[0] = 2048;
    t.payload.size = 8192;
    wire("wire/tensor.bin", &t, FR_WIRE_DATA);
    fr_record e = {.id = "", .key = "", .label = ""};
    wire("wire/eos.bin", &e, FR_WIRE_EOS);
    fr_record im = {.id = "x", .key = "k", .label = "l"};
    im.payload.kind = FR_KIND_IMAGE;
    im.payload.rank = 3;
    im.payload.dims[0] = 224;
    im.payload.dims[1] = 224;
    im.payload.dims[2] = 3;
    im.payload.size = 224 * 224 * 3;
    wire("wire/image.bin", &im, FR_WIRE_DATA);
    return 0;
}
