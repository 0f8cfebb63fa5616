/* error.h — the one-line error messages of the onnx library (private). */
#ifndef FLOWRUN_ONNX_ERROR_H
#define FLOWRUN_ONNX_ERROR_H

#include <stddef.h>

/* printf into err (err_size bytes; nothing when err is NULL or err_size 0).
 * Returns -1 so callers can `return onnx_errorf(...)`. */
int onnx_errorf(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
