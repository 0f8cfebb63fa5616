/* fuzz-onnx: the ONNX loader (plugins/lib/onnx, protobuf-c underneath) and,
 * for what loads, resnet50-embed's network compiler: any bytes must give a
 * model and a net, or an error naming the file, never a crash, a signed
 * overflow or a division by zero. */
#include <stdint.h>
#include <stdlib.h>

#include "net_compile.h"
#include "onnx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    onnx_model *m = onnx_load_memory(data, size, "fuzz.onnx", err, sizeof err);
    if (!m)
        return 0;
    net_options opts = {0};
    net_free(net_compile(m, &opts, "fuzz.onnx", err, sizeof err));
    onnx_model_free(m);
    return 0;
}
