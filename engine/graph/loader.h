/*
 * loader.h — finds plugin shared objects and checks their descriptors
 * before anything else touches them (docs/architecture.md, "The plugin ABI"): ABI major and
 * minor, the descriptor's size against the ABI it claims, the symbol's real
 * size in the ELF file, name, callbacks, port types and schema table.
 *
 * Search order for a name: plugin_path entries (loader_add_dir, from the
 * pipeline file), FLOWRUN_PLUGIN_PATH (colon-separated), then the plugin
 * directory beside libflowrun (<libdir>/flowrun/plugins, in the build tree
 * and when installed).  A name containing '/' is a path to a .so.
 */
#ifndef FLOWRUN_LOADER_H
#define FLOWRUN_LOADER_H

#include <stddef.h>

#include "flowrun/plugin.h"

typedef struct loader_plugin {
    fr_plugin desc; /* the plugin's descriptor, only its first .size bytes; the rest 0 */
    char *path;     /* the .so it came from */
    void *handle;   /* dlopen handle */
} loader_plugin;

typedef struct loader loader;

loader *loader_new(void);
/* Frees the loader and closes every plugin it opened. */
void loader_free(loader *l);

/* Adds dir to the front part of the search path (after earlier added dirs).
 * Copied. */
void loader_add_dir(loader *l, const char *dir);

/* Opens plugin `name` (once; later calls return the same).  Returns a
 * pointer owned by the loader, valid until loader_free, or NULL with a
 * message naming the file (or the directories searched) in err. */
const loader_plugin *loader_get(loader *l, const char *name, char *err, size_t err_size);

/* Opens and checks one .so file outside the search (tests, `flowrun
 * describe ./x.so`).  Same ownership as loader_get. */
const loader_plugin *loader_open_file(loader *l, const char *path, char *err, size_t err_size);

/* Calls fn for every *.so on the search path, in search order, with either
 * the checked plugin or the reason it was refused (then p is NULL).  A name
 * already seen earlier on the path is reported as shadowed. */
void loader_scan(loader *l,
                 void (*fn)(void *ctx, const char *path, const loader_plugin *p, const char *error),
                 void *ctx);

/* The search path as one line, for messages ("a:b:c"). */
const char *loader_search_path(loader *l);

/* sizeof(fr_plugin) for ABI 1.minor, or 0 for an unknown minor. */
size_t loader_descriptor_size(unsigned minor);

#endif
