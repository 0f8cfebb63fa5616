/*
 * deadletter.c — the format of a dead-letter line.  The coordinator appends
 * the lines to the pipeline's dead_letters file (runtime.c).
 */
#include <stdio.h>
#include <time.h>

#include "instance.h"
#include "json_out.h"

char *deadletter_format(const graph *g, size_t stage_index, const fr_record *rec,
                        const char *reason, unsigned attempts)
{
    const graph_stage *s = &g->stages[stage_index];
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    json_out j = {0};
    json_open(&j, NULL);
    json_string(&j, "key", rec->key);
    json_string(&j, "id", rec->id);
    json_string(&j, "label", rec->label);
    json_string(&j, "stage", s->cfg->name);
    json_string(&j, "plugin", s->plugin->desc.name);
    json_string(&j, "reason", reason);
    json_int(&j, "attempts", attempts);
    json_string(&j, "time", when);
    json_close(&j);
    if (j.failed) {
        json_out_free(&j);
        return NULL;
    }
    return j.text;
}
