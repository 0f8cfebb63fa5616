#include "source_id.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *source_id_format(const char *stage, const char *key, const char *version)
{
    if (!version)
        version = "";
    size_t n = strlen(stage) + strlen(key) + strlen(version) + 3;
    char *id = malloc(n);
    if (id)
        snprintf(id, n, "%s:%s@%s", stage, key, version);
    return id;
}

int source_id_parse(const char *id, source_id_parts *out)
{
    const char *colon = strchr(id, ':');
    const char *at = strrchr(id, '@');
    if (!colon || colon == id || !at || at < colon)
        return -1;
    *out = (source_id_parts){.stage = id,
                             .stage_len = (size_t)(colon - id),
                             .key = colon + 1,
                             .key_len = (size_t)(at - colon - 1),
                             .version = at + 1,
                             .version_len = strlen(at + 1)};
    return 0;
}
