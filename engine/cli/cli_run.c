/*
 * cli_run.c — `flowrun run` and `flowrun validate`: read the file, load the
 * plugins, build the graph (every error reported at once), then run it,
 * print it (--dry-run) or stop there (validate).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "graph.h"
#include "http.h"
#include "input_files.h"
#include "loader.h"
#include "log.h"
#include "runtime.h"

static const char run_usage[] =
    "usage: flowrun run [options] PIPELINE.yaml\n"
    "       flowrun PIPELINE.yaml [options]\n"
    "\n"
    "Runs the pipeline.  Without nodes: in the file, every stage runs as threads\n"
    "of this process.  With nodes, --node NAME runs that node's stages; start one\n"
    "process per node (systemd, Kubernetes, ssh, ...).\n"
    "\n"
    "options:\n"
    "  --node NAME        run only the stages placed on node NAME\n"
    "  --summary FILE     write a JSON run summary (counts, throughput, reports)\n"
    "  --dry-run          check everything (keys, edge types, the files the stages\n"
    "                     read) and print the placed graph; run nothing\n"
    "  --dot              with --dry-run: print the graph as Graphviz dot\n"
    "  --queue N          messages buffered per connection (default 16): bounds memory\n"
    "  --no-progress      no progress line, even on a terminal\n"
    "  --fresh            start over: forget what the ledger holds (docs/durable-runs.md)\n"
    "  --retry-dead       read the keys dead-lettered by earlier runs again\n"
    "  --no-ledger        no ledger: nothing is resumed or skipped (benchmarks)\n"
    "  --metrics ADDR:PORT  serve /metrics, /health/live, /health/ready there\n"
    "                     (over the pipeline's metrics: key; docs/operations.md)\n"
    "  --log-format FMT   text (default) or json: one JSON object per line\n"
    "  -h, --help         this help\n";

typedef struct loaded {
    config_pipeline *cfg;
    loader *loader;
    graph *graph;
} loaded;

static void unload(loaded *l)
{
    graph_free(l->graph);
    loader_free(l->loader);
    config_free(l->cfg);
}

/* Returns 0, or prints every error and returns -1.  The input files checked
 * are those of node's stages (all with node NULL). */
static int load(const char *path, const char *node, loaded *l)
{
    diag *d = diag_new();
    memset(l, 0, sizeof *l);
    l->loader = loader_new();
    if (!d || !l->loader)
        return -1;
    l->cfg = config_load(path, d);
    if (l->cfg && diag_error_count(d) == 0)
        l->graph = graph_build(l->cfg, l->loader, d);
    else if (l->cfg)
        graph_free(graph_build(l->cfg, l->loader, d)); /* more errors in one run */
    if (l->graph && diag_error_count(d) == 0)
        input_files_check(l->graph, node, d);
    int ok = l->graph && diag_error_count(d) == 0;
    diag_log(d);
    if (!ok && diag_error_count(d))
        cli_error("%zu error%s in %s", diag_error_count(d), diag_error_count(d) == 1 ? "" : "s",
                  path);
    diag_free(d);
    return ok ? 0 : -1;
}

static int check_node(const loaded *l, const char *node)
{
    for (size_t i = 0; node && i < l->cfg->n_nodes; i++)
        if (strcmp(l->cfg->nodes[i].name, node) == 0)
            return 0;
    if (!node)
        return 0;
    cli_error("--node %s: %s has no such node", node, l->cfg->file);
    return -1;
}

/* --metrics ADDR:PORT, checked before anything loads. */
static int check_metrics(const char *listen)
{
    char host[256], err[256];
    uint16_t port;
    if (!listen || http_parse_listen(listen, host, sizeof host, &port, err, sizeof err) == 0)
        return 0;
    cli_error("--metrics: %s", err);
    return -1;
}

int cli_run(int argc, char **argv)
{
    static const struct option options[] = {{"node", required_argument, NULL, 'n'},
                                            {"summary", required_argument, NULL, 's'},
                                            {"dry-run", no_argument, NULL, 'd'},
                                            {"dot", no_argument, NULL, 'g'},
                                            {"queue", required_argument, NULL, 'Q'},
                                            {"no-progress", no_argument, NULL, 'P'},
                                            {"fresh", no_argument, NULL, 'F'},
                                            {"retry-dead", no_argument, NULL, 'R'},
                                            {"no-ledger", no_argument, NULL, 'L'},
                                            {"metrics", required_argument, NULL, 'M'},
                                            {"log-format", required_argument, NULL, 'J'},
                                            {"help", no_argument, NULL, 'h'},
                                            {0}};
    runtime_options opt = {.queue_depth = 16, .progress = 1};
    int dry_run = 0, dot = 0, c;
    int first = strcmp(argv[0], "run") == 0 ? 1 : 0;
    char *file = first ? NULL : argv[0];
    optind = 1;
    opterr = log_get_format() != LOG_JSON; /* getopt's own message would be text */
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case 'n':
            opt.node = optarg;
            break;
        case 's':
            opt.summary_path = optarg;
            break;
        case 'd':
            dry_run = 1;
            break;
        case 'g':
            dot = 1;
            break;
        case 'P':
            opt.progress = 0;
            break;
        case 'Q':
            opt.queue_depth = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'F':
            opt.fresh = 1;
            break;
        case 'R':
            opt.retry_dead = 1;
            break;
        case 'L':
            opt.no_ledger = 1;
            break;
        case 'M':
            opt.metrics = optarg;
            break;
        case 'J':
            if (cli_log_format(optarg) != 0)
                return EXIT_USAGE;
            break;
        case 'h':
            fputs(run_usage, stdout);
            return EXIT_DELIVERED;
        default:
            if (opterr)
                cli_usage_error(run_usage);
            else
                cli_error("run: %s: unknown option or missing value (see flowrun run --help)",
                          argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (first && optind < argc)
        file = argv[optind++];
    if (!file || optind != argc || opt.queue_depth == 0) {
        cli_usage_error(run_usage);
        return EXIT_USAGE;
    }
    if (check_metrics(opt.metrics) != 0)
        return EXIT_USAGE;
    log_set_node(opt.node);
    loaded l;
    if (load(file, opt.node, &l) != 0 || check_node(&l, opt.node) != 0) {
        unload(&l);
        return EXIT_USAGE;
    }
    int code = EXIT_DELIVERED;
    if (dry_run && dot)
        graph_print_dot(l.graph, stdout);
    else if (dry_run)
        graph_print(l.graph, stdout);
    else
        code = runtime_run(l.graph, &opt);
    unload(&l);
    return code;
}

int cli_validate(int argc, char **argv)
{
    static const char usage[] =
        "usage: flowrun validate PIPELINE.yaml [--node NAME]\n"
        "\n"
        "Checks the file, loads its plugins and checks every stage's keys and every edge's\n"
        "types, and that the files the stages read (models) exist and are readable,\n"
        "reporting all errors as file:line:col.  With --node, only the files of the\n"
        "stages placed on NAME are checked.  Exit 0 when valid, 2 otherwise.\n";
    if (cli_wants_help(argc, argv, usage))
        return EXIT_DELIVERED;
    const char *node = argc == 4 && strcmp(argv[2], "--node") == 0 ? argv[3] : NULL;
    if (argc != 2 && !node) {
        cli_usage_error(usage);
        return EXIT_USAGE;
    }
    loaded l;
    int ok = load(argv[1], node, &l) == 0 && check_node(&l, node) == 0;
    if (ok)
        printf("%s: ok (%zu stages)\n", argv[1], l.graph->n_stages);
    unload(&l);
    return ok ? EXIT_DELIVERED : EXIT_USAGE;
}
