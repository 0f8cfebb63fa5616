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
    /* No version and no '@' in the key: "<stage>:<key>", the id sources
     * always had; otherwise the '@' splits key and version. */
    if (id && !version[0] && !strchr(key, '@'))
        snprintf(id, n, "%s:%s", stage, key);
    else if (id)
        snprintf(id, n, "%s:%s@%s", stage, key, version);
    return id;
}

int source_id_parse(const char *id, source_id_parts *out)
{
    const char *colon = strchr(id, ':');
    const char *at = colon ? strrchr(colon, '@') : NULL;
    if (!colon || colon == id)
        return -1;
    if (!at)
        at = id + strlen(id); /* no version */
    *out = (source_id_parts){.stage = id,
                             .stage_len = (size_t)(colon - id),
                             .key = colon + 1,
                             .key_len = (size_t)(at - colon - 1),
                             .version = *at ? at + 1 : at,
                             .version_len = *at ? strlen(at + 1) : 0};
    return 0;
}
