/* One plugin descriptor, broken in the way the FIXTURE_* macros say. */
#include "flowrun/plugin.h"

#ifndef FIXTURE_MAJOR
#define FIXTURE_MAJOR FR_ABI_MAJOR
#endif
#ifndef FIXTURE_MINOR
#define FIXTURE_MINOR FR_ABI_MINOR
#endif
#ifndef FIXTURE_PAD
#define FIXTURE_PAD 0
#endif
#ifndef FIXTURE_OUTPUT
#define FIXTURE_OUTPUT "bytes/*"
#endif

static fr_status fixture_init(fr_stage *st, void **state)
{
    (void)st;
    *state = NULL;
    return FR_OK;
}

static fr_status fixture_produce(void *state, fr_stage *st)
{
    (void)state;
    (void)st;
    return FR_DONE;
}

#ifdef FIXTURE_BAD_TABLE
static const fr_param fixture_params[] = {
    {"mode", FR_PARAM_ENUM, "fast", 0, 0, NULL, "an enum without choices"},
    {0},
};
#else
static const fr_param fixture_params[] = {{0}};
#endif

#if defined(FIXTURE_NO_DESCRIPTOR)
/* Exported so the callbacks are used, but under another name. */
FR_PLUGIN_EXPORT const fr_plugin not_a_plugin = {
    .init = fixture_init, .produce = fixture_produce, .params = fixture_params};
#elif defined(FIXTURE_TRUNCATED)
FR_PLUGIN_EXPORT const uint32_t flowrun_plugin[2] = {FR_ABI_MAJOR, FR_ABI_MINOR};
FR_PLUGIN_EXPORT const fr_plugin unused_callbacks = {
    .init = fixture_init, .produce = fixture_produce, .params = fixture_params};
#else
#define FIXTURE_DESCRIPTOR                                                                         \
    {                                                                                              \
        .abi_major = FIXTURE_MAJOR, .abi_minor = FIXTURE_MINOR,                                    \
        .size = sizeof(fr_plugin) + FIXTURE_PAD, .name = FIXTURE_NAME, .summary = "fixture",       \
        .output = FIXTURE_OUTPUT, .params = fixture_params, .init = fixture_init,                  \
        .produce = fixture_produce,                                                                \
    }
#if FIXTURE_PAD
FR_PLUGIN_EXPORT const struct {
    fr_plugin d;
    char pad[FIXTURE_PAD];
} flowrun_plugin = {FIXTURE_DESCRIPTOR, {0}};
#else
FR_PLUGIN_EXPORT const fr_plugin flowrun_plugin = FIXTURE_DESCRIPTOR;
#endif
#endif
