/*
 * null-sink — commits every record it receives and keeps nothing: the
 * cheapest possible sink, so benchmarks measure the engine, not a writer.
 */
#include <stdlib.h>

#include "flowrun/plugin.h"

static fr_status null_init(fr_stage *st, void **state)
{
    (void)st;
    *state = NULL;
    return FR_OK;
}

static fr_status null_process(void *state, fr_stage *st, const fr_record *in)
{
    (void)state;
    fr_commit(st, &in->id, 1);
    return FR_OK;
}

FR_PLUGIN_EXPORT const fr_plugin flowrun_plugin = {
    FR_PLUGIN_HEADER,
    .name = "null-sink",
    .summary = "Test sink: commits and discards every record",
    .input = "*",
    .init = null_init,
    .process = null_process,
};
