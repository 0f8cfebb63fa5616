/*
 * A plugin as a third party would have built it against an older release:
 * compiled against a frozen copy of the headers (fixtures/abi-1.<minor>),
 * or against the current headers patched to another ABI version.  It
 * upper-cases byte records, using the config, buffer, emit, metric and
 * fail parts of the host API, so a layout change shows up as a wrong
 * result, not only as a refused load.
 */
#include <ctype.h>
#include <flowrun/plugin.h>
#include <string.h>

#ifndef FIXTURE_SIZE
#define FIXTURE_SIZE sizeof(fr_plugin)
#endif

static const fr_param compat_params[] = {
    {"prefix", FR_PARAM_STRING, "", 0, 0, NULL, "prepended to every record's payload"},
    {"max_size", FR_PARAM_SIZE, "1KiB", 0, 0, NULL, "longer payloads are rejected"},
#if FR_ABI_MINOR >= 1
    /* ABI 1.1: an enum read by its index. */
    {"case", FR_PARAM_ENUM, "upper", 0, 0, "lower|upper", "the case of the output"},
#endif
    {NULL},
};

/* ABI 1.0 plugins upper-case; 1.1 ones as `case` says (default upper). */
static int compat_upper(fr_stage *st)
{
#if FR_ABI_MINOR >= 1
    return fr_config_enum(st, "case") == 1;
#else
    (void)st;
    return 1;
#endif
}

static fr_status compat_init(fr_stage *st, void **state)
{
    *state = NULL;
#if FR_ABI_MINOR >= 2
    /* ABI 1.2: a value only init can judge is the configuration's error. */
    if (strcmp(fr_config_string(st, "prefix"), "!") == 0)
        return fr_config_error(st, "prefix", "\"!\" is reserved");
#endif
    return FR_OK;
}

static fr_status compat_process(void *state, fr_stage *st, const fr_record *in)
{
    const char *prefix = fr_config_string(st, "prefix");
    size_t n = strlen(prefix), size = n + in->payload.size;
    if ((int64_t)in->payload.size > fr_config_int(st, "max_size"))
        return fr_fail(st, FR_REJECT, "%zu bytes is more than max_size", in->payload.size);
    fr_record out = *in;
    void *data;
    if (!(out.payload.buffer = fr_buffer_new(st, size ? size : 1, &data)))
        return fr_fail(st, FR_FATAL, "out of memory");
    char *p = data;
    int upper = compat_upper(st);
    memcpy(p, prefix, n);
    for (size_t i = 0; i < in->payload.size; i++)
        p[n + i] = upper ? (char)toupper(((const unsigned char *)in->payload.data)[i])
                         : (char)tolower(((const unsigned char *)in->payload.data)[i]);
    out.payload.data = data;
    out.payload.size = size;
    fr_metric_add(st, "bytes", (double)size);
    return fr_emit(st, &out);
}

FR_PLUGIN_EXPORT const fr_plugin flowrun_plugin = {
    .abi_major = FR_ABI_MAJOR,
    .abi_minor = FR_ABI_MINOR,
    .size = FIXTURE_SIZE,
    .name = FIXTURE_NAME,
    .summary = "upper-cases bytes (ABI fixture)",
    .version = "1",
    .input = "bytes/*",
    .output = "bytes/*",
    .params = compat_params,
    .init = compat_init,
    .process = compat_process,
};
