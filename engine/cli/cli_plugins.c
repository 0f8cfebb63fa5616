/*
 * cli_plugins.c — `flowrun plugins` and `flowrun describe`, rendered from
 * the descriptors and config tables alone: third-party plugins show
 * exactly like built-in ones.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "loader.h"
#include "runtime.h"
#include "schema.h"

int cli_wants_help(int argc, char **argv, const char *usage)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(usage, stdout);
            return 1;
        }
    return 0;
}

typedef struct scan_state {
    int problems;
} scan_state;

static void list_one(void *ctx, const char *path, const loader_plugin *p, const char *error)
{
    scan_state *state = ctx;
    if (!p) {
        cli_error("%s", error);
        state->problems++;
        return;
    }
    printf("%-18s %u.%-4u %s\n", p->desc.name, p->desc.abi_major, p->desc.abi_minor,
           p->desc.summary);
    (void)path;
}

int cli_plugins(int argc, char **argv)
{
    static const char usage[] =
        "usage: flowrun plugins\n"
        "\n"
        "Lists every plugin on the plugin path (FLOWRUN_PLUGIN_PATH, then the installed\n"
        "directory): name, the plugin ABI it was built for, summary.  Files that are not\n"
        "loadable plugins are reported on stderr with the reason.\n";
    if (cli_wants_help(argc, argv, usage))
        return EXIT_DELIVERED;
    loader *l = loader_new();
    scan_state state = {0};
    printf("%-18s %-6s %s\n", "plugin", "abi", "summary");
    loader_scan(l, list_one, &state);
    printf("(plugin path: %s)\n", loader_search_path(l));
    loader_free(l);
    return EXIT_DELIVERED;
}

static void describe_params(const fr_param *params)
{
    if (!params || !params[0].key) {
        printf("\nno configuration keys\n");
        return;
    }
    printf("\nconfiguration:\n");
    for (const fr_param *p = params; p->key; p++) {
        char range[160] = "";
        if (p->type == FR_PARAM_ENUM)
            snprintf(range, sizeof range, "one of %s", p->choices);
        else if (p->type == FR_PARAM_INPUT_FILE && p->choices && *p->choices)
            snprintf(range, sizeof range, "read, and checked before the run, when %s", p->choices);
        else
            schema_bounds_text(p, range, sizeof range);
        printf("  %s (%s%s%s)\n", p->key, schema_type_name(p->type),
               p->default_value ? ", default " : ", required",
               p->default_value ? (p->default_value[0] ? p->default_value : "\"\"") : "");
        if (range[0])
            printf("      %s\n", range);
        if (p->description)
            printf("      %s\n", p->description);
    }
}

int cli_describe(int argc, char **argv)
{
    static const char usage[] =
        "usage: flowrun describe PLUGIN\n"
        "\n"
        "Shows a plugin's summary, ABI version, file, ports and configuration keys\n"
        "(type, default, allowed values, description).  PLUGIN is a name on the plugin\n"
        "path or a path to a .so file.\n";
    if (cli_wants_help(argc, argv, usage))
        return EXIT_DELIVERED;
    if (argc != 2) {
        cli_usage_error(usage);
        return EXIT_USAGE;
    }
    loader *l = loader_new();
    char err[2048];
    const loader_plugin *p = loader_get(l, argv[1], err, sizeof err);
    if (!p) {
        cli_error("%s", err);
        loader_free(l);
        return EXIT_USAGE;
    }
    const fr_plugin *d = &p->desc;
    printf("%s: %s\n", d->name, d->summary);
    printf("  plugin ABI %u.%u, version %s\n  file %s\n", d->abi_major, d->abi_minor,
           d->version ? d->version : "-", p->path);
    printf("\nports:\n  input:  %s\n  output: %s\n", d->input ? d->input : "none (a source)",
           d->output ? d->output : "none (a sink)");
    describe_params(d->params);
    loader_free(l);
    return EXIT_DELIVERED;
}
