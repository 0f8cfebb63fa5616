/*
 * source_id.h — the id the engine stamps on a source's record:
 * "<stage>:<key>@<version>", or "<stage>:<key>" when there is no version
 * and the key has no '@' (docs/durable-runs.md).  The stage name has no
 * ':' ([a-z0-9_-]), the version no '@' (an ETag, a version id, or
 * "<size>-<mtime ns>"), so the id splits back into its parts whatever the
 * key holds.  Formatted and parsed here only.
 */
#ifndef FLOWRUN_SOURCE_ID_H
#define FLOWRUN_SOURCE_ID_H

#include <stddef.h>

/* The id of key at version from stage: malloc'd (caller frees), NULL when
 * out of memory.  version NULL is "". */
char *source_id_format(const char *stage, const char *key, const char *version);

/* The parts of id, pointing into it (not terminated): returns 0, or -1
 * when id is not one the engine stamped. */
typedef struct source_id_parts {
    const char *stage, *key, *version;
    size_t stage_len, key_len, version_len;
} source_id_parts;
int source_id_parse(const char *id, source_id_parts *out);

#endif
