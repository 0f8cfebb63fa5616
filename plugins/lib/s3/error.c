/* error.c — filling an s3_error. */
#include <stdarg.h>
#include <stdio.h>

#include "s3_private.h"

void s3_err_set(s3_error *err, s3_error_class cls, long status, const char *fmt, ...)
{
    va_list ap;
    err->cls = cls;
    err->http_status = status;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}
