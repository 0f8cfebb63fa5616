#include "loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <link.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "port_type.h"
#include "schema.h"

/* Every released minor's descriptor size, appended when FR_ABI_MINOR grows.
 * A plugin built for minor m must have exactly this size.  Each minor's size
 * is where its last field ends, so it stays right when fields are appended. */
#define END_OF(field) (offsetof(fr_plugin, field) + sizeof(((fr_plugin *)0)->field))
static const size_t descriptor_sizes[] = {
    [0] = END_OF(reserved),
    [1] = END_OF(reserved), /* 1.1: host calls and a param type, no field */
    [2] = END_OF(tick),     /* 1.2: host calls and the descriptor's tick */
};

size_t loader_descriptor_size(unsigned minor)
{
    return minor < sizeof descriptor_sizes / sizeof descriptor_sizes[0] ? descriptor_sizes[minor]
                                                                        : 0;
}

struct loader {
    char **added; /* loader_add_dir, in order */
    size_t n_added;
    char **path; /* the full search path, built at first use */
    size_t n_path;
    int path_built;
    loader_plugin **plugins; /* opened, in order */
    size_t n_plugins;
    char *path_text;
};

static int append(char ***list, size_t *n, const char *s, size_t len)
{
    for (size_t i = 0; i < *n; i++) /* a directory named twice is searched once */
        if (strlen((*list)[i]) == len && strncmp((*list)[i], s, len) == 0)
            return 0;
    char **grown = realloc(*list, (*n + 1) * sizeof *grown);
    if (!grown)
        return -1;
    *list = grown;
    if (!(grown[*n] = strndup(s, len)))
        return -1;
    (*n)++;
    return 0;
}

/* <dir of libflowrun.so>/flowrun/plugins: the same in the build tree and
 * when installed, so no path is compiled in. */
static void append_default_dir(loader *l)
{
    Dl_info info;
    if (!dladdr((void *)append_default_dir, &info) || !info.dli_fname)
        return;
    const char *slash = strrchr(info.dli_fname, '/');
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s/flowrun/plugins", slash ? (int)(slash - info.dli_fname) : 1,
             slash ? info.dli_fname : ".");
    append(&l->path, &l->n_path, dir, strlen(dir));
}

static void build_path(loader *l)
{
    if (l->path_built)
        return;
    l->path_built = 1;
    for (size_t i = 0; i < l->n_added; i++)
        append(&l->path, &l->n_path, l->added[i], strlen(l->added[i]));
    const char *env = getenv("FLOWRUN_PLUGIN_PATH");
    for (const char *p = env; p && *p;) {
        size_t len = strcspn(p, ":");
        if (len)
            append(&l->path, &l->n_path, p, len);
        p += len + (p[len] == ':');
    }
    append_default_dir(l);
}

loader *loader_new(void)
{
    return calloc(1, sizeof(loader));
}

void loader_add_dir(loader *l, const char *dir)
{
    append(&l->added, &l->n_added, dir, strlen(dir));
    l->path_built = 0;
    for (size_t i = 0; i < l->n_path; i++)
        free(l->path[i]);
    l->n_path = 0;
}

const char *loader_search_path(loader *l)
{
    build_path(l);
    size_t len = 1;
    for (size_t i = 0; i < l->n_path; i++)
        len += strlen(l->path[i]) + 1;
    free(l->path_text);
    if (!(l->path_text = calloc(1, len)))
        return "";
    for (size_t i = 0; i < l->n_path; i++) {
        if (i)
            strcat(l->path_text, ":");
        strcat(l->path_text, l->path[i]);
    }
    return l->path_text;
}

static void free_plugin(loader_plugin *p)
{
    if (!p)
        return;
    if (p->handle)
        dlclose(p->handle);
    free(p->path);
    free(p);
}

void loader_free(loader *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n_plugins; i++)
        free_plugin(l->plugins[i]);
    for (size_t i = 0; i < l->n_added; i++)
        free(l->added[i]);
    for (size_t i = 0; i < l->n_path; i++)
        free(l->path[i]);
    free(l->plugins);
    free(l->added);
    free(l->path);
    free(l->path_text);
    free(l);
}

/* ---- checking one descriptor ------------------------------------------ */

static int valid_name(const char *name)
{
    if (!name || !*name)
        return 0;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_'))
            return 0;
    return 1;
}

/* The .so's file name without directory and ".so". */
static void file_stem(const char *path, char *out, size_t size)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t len = strlen(base);
    if (len > 3 && strcmp(base + len - 3, ".so") == 0)
        len -= 3;
    snprintf(out, size, "%.*s", (int)len, base);
}

/* Header fields first: version and size decide how much may be read. */
static int check_header(const char *path, const void *sym, size_t sym_size, fr_plugin *out,
                        char *err, size_t err_size)
{
    uint32_t head[3];
    if (sym_size && sym_size < sizeof head) {
        snprintf(err, err_size, "%s: descriptor is %zu bytes, too small to be a flowrun plugin",
                 path, sym_size);
        return -1;
    }
    memcpy(head, sym, sizeof head);
    uint32_t major = head[0], minor = head[1], size = head[2];
    if (major != FR_ABI_MAJOR) {
        snprintf(err, err_size,
                 "%s: built for plugin ABI %u.%u, this flowrun has ABI %d.%d; rebuild the plugin "
                 "against flowrun's headers",
                 path, major, minor, FR_ABI_MAJOR, FR_ABI_MINOR);
        return -1;
    }
    if (minor > FR_ABI_MINOR) {
        snprintf(err, err_size,
                 "%s: built for plugin ABI %u.%u, newer than this flowrun's ABI %d.%d; upgrade "
                 "flowrun or rebuild the plugin against these headers",
                 path, major, minor, FR_ABI_MAJOR, FR_ABI_MINOR);
        return -1;
    }
    size_t expected = loader_descriptor_size(minor);
    if (size != expected || (sym_size && sym_size != size)) {
        snprintf(err, err_size,
                 "%s: descriptor size %u (symbol %zu bytes) does not match ABI %u.%u's %zu bytes",
                 path, size, sym_size, major, minor, expected);
        return -1;
    }
    memset(out, 0, sizeof *out);
    memcpy(out, sym, size < sizeof *out ? size : sizeof *out);
    return 0;
}

static int check_type(const char *path, const char *what, const char *type, char *err,
                      size_t err_size)
{
    port_type t;
    char why[256];
    if (!type)
        return 0;
    /* ${key} dims are checked once a config exists; here only the shape. */
    char probe[256];
    size_t n = 0;
    for (const char *p = type; *p && n + 2 < sizeof probe; p++) {
        if (p[0] == '$' && p[1] == '{') {
            const char *close = strchr(p, '}');
            if (close) {
                probe[n++] = 'x';
                p = close;
                continue;
            }
        }
        probe[n++] = *p;
    }
    probe[n] = '\0';
    if (port_type_parse(probe, &t, why, sizeof why) != 0) {
        snprintf(err, err_size, "%s: %s type: %s", path, what, why);
        return -1;
    }
    return 0;
}

static int check_descriptor(const char *path, const fr_plugin *d, char *err, size_t err_size)
{
    char stem[256], why[512];
    file_stem(path, stem, sizeof stem);
    if (!valid_name(d->name)) {
        snprintf(err, err_size, "%s: plugin name \"%s\" must be made of [a-z0-9_-]", path,
                 d->name ? d->name : "(null)");
        return -1;
    }
    if (strcmp(d->name, stem) != 0) {
        snprintf(err, err_size, "%s: declares the name \"%s\" but the file is %s.so", path, d->name,
                 stem);
        return -1;
    }
    if (!d->summary || !d->init) {
        snprintf(err, err_size, "%s: descriptor lacks %s", path,
                 !d->summary ? "a summary" : "an init callback");
        return -1;
    }
    if (d->input ? !d->process : !d->produce) {
        snprintf(err, err_size, "%s: a %s needs a %s callback", path,
                 d->input ? "stage with an input" : "source (no input)",
                 d->input ? "process" : "produce");
        return -1;
    }
    if (check_type(path, "input", d->input, err, err_size) ||
        check_type(path, "output", d->output, err, err_size))
        return -1;
    if (d->params && schema_check_table(d->params, why, sizeof why) != 0) {
        snprintf(err, err_size, "%s: config table: %s", path, why);
        return -1;
    }
    return 0;
}

static loader_plugin *open_checked(const char *path, char *err, size_t err_size)
{
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        snprintf(err, err_size, "cannot load %s: %s", path, dlerror());
        return NULL;
    }
    void *sym = dlsym(handle, FR_PLUGIN_SYMBOL);
    Dl_info info;
    const ElfW(Sym) *elf_sym = NULL;
    if (!sym) {
        snprintf(err, err_size, "%s: no '%s' descriptor: not a flowrun plugin", path,
                 FR_PLUGIN_SYMBOL);
        goto fail;
    }
    size_t sym_size = 0;
    if (dladdr1(sym, &info, (void **)&elf_sym, RTLD_DL_SYMENT) && elf_sym)
        sym_size = elf_sym->st_size;
    loader_plugin *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, err_size, "%s: out of memory", path);
        goto fail;
    }
    if (check_header(path, sym, sym_size, &p->desc, err, err_size) != 0 ||
        check_descriptor(path, &p->desc, err, err_size) != 0 || !(p->path = strdup(path))) {
        free(p);
        goto fail;
    }
    p->handle = handle;
    return p;
fail:
    dlclose(handle);
    return NULL;
}

/* ---- lookup ----------------------------------------------------------- */

static const loader_plugin *find_opened(loader *l, const char *name)
{
    for (size_t i = 0; i < l->n_plugins; i++)
        if (strcmp(l->plugins[i]->desc.name, name) == 0)
            return l->plugins[i];
    return NULL;
}

static const loader_plugin *keep(loader *l, loader_plugin *p, char *err, size_t err_size)
{
    const loader_plugin *same = find_opened(l, p->desc.name);
    if (same) {
        if (strcmp(same->path, p->path) != 0) {
            snprintf(err, err_size, "%s: a plugin named \"%s\" is already loaded from %s", p->path,
                     p->desc.name, same->path);
            free_plugin(p);
            return NULL;
        }
        free_plugin(p);
        return same;
    }
    loader_plugin **grown = realloc(l->plugins, (l->n_plugins + 1) * sizeof *grown);
    if (!grown) {
        snprintf(err, err_size, "%s: out of memory", p->path);
        free_plugin(p);
        return NULL;
    }
    l->plugins = grown;
    l->plugins[l->n_plugins++] = p;
    return p;
}

const loader_plugin *loader_open_file(loader *l, const char *path, char *err, size_t err_size)
{
    for (size_t i = 0; i < l->n_plugins; i++)
        if (strcmp(l->plugins[i]->path, path) == 0)
            return l->plugins[i];
    loader_plugin *p = open_checked(path, err, err_size);
    return p ? keep(l, p, err, err_size) : NULL;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

const loader_plugin *loader_get(loader *l, const char *name, char *err, size_t err_size)
{
    if (strchr(name, '/'))
        return loader_open_file(l, name, err, err_size);
    const loader_plugin *opened = find_opened(l, name);
    if (opened)
        return opened;
    build_path(l);
    for (size_t i = 0; i < l->n_path; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.so", l->path[i], name);
        if (is_file(path))
            return loader_open_file(l, path, err, err_size);
    }
    snprintf(err, err_size, "no plugin \"%s\": %s.so is not in %s", name, name,
             loader_search_path(l));
    return NULL;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_so(const struct dirent *e)
{
    size_t len = strlen(e->d_name);
    return len > 3 && strcmp(e->d_name + len - 3, ".so") == 0;
}

void loader_scan(loader *l,
                 void (*fn)(void *ctx, const char *path, const loader_plugin *p, const char *error),
                 void *ctx)
{
    build_path(l);
    for (size_t i = 0; i < l->n_path; i++) {
        struct dirent **entries;
        int n = scandir(l->path[i], &entries, is_so, by_name);
        for (int k = 0; k < n; k++) {
            char path[4096], err[2048] = "", stem[256];
            snprintf(path, sizeof path, "%s/%s", l->path[i], entries[k]->d_name);
            file_stem(path, stem, sizeof stem);
            const loader_plugin *seen = find_opened(l, stem);
            if (seen && strcmp(seen->path, path) != 0) {
                snprintf(err, sizeof err, "%.900s: shadowed by %.900s (earlier on the plugin path)",
                         path, seen->path);
                fn(ctx, path, NULL, err);
            } else {
                const loader_plugin *p = loader_open_file(l, path, err, sizeof err);
                fn(ctx, path, p, p ? NULL : err);
            }
            free(entries[k]);
        }
        if (n >= 0)
            free(entries);
    }
}
