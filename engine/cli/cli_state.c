/*
 * cli_state.c — `flowrun state PIPELINE.yaml`: what the pipeline's ledger
 * holds (docs/durable-runs.md).  Reads the file only: no plugin is loaded.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "ledger.h"
#include "runtime.h"
#include "state_dir.h"

static const char state_usage[] =
    "usage: flowrun state [--keys [pending|done|dead|all]] PIPELINE.yaml\n"
    "\n"
    "Shows the pipeline's ledger: where its state directory is, the last run\n"
    "(and whether the next run resumes it), and per source how many keys are\n"
    "done (every sink committed them), pending (read but not yet committed\n"
    "everywhere: the next run reads them again, unless held in a checkpoint)\n"
    "and dead (dead-lettered).\n"
    "\n"
    "options:\n"
    "  --keys [STATE]   list keys instead, one per line: source, key, version,\n"
    "                   state and, for dead ones, the dead letter (default: all)\n"
    "  -h, --help       this help\n";

static int state_dir_of(const char *file, char *dir, size_t size)
{
    diag *d = diag_new();
    config_pipeline *p = d ? config_load(file, d) : NULL;
    char err[4400];
    int rc = -1;
    err[0] = '\0';
    /* Only name: and state: matter here: errors elsewhere in the file (an
     * unset ${FRUITS_MODEL}) do not hide the ledger. */
    if (p && p->name)
        rc = state_dir_resolve(p->state, p->file, p->name, dir, size, err, sizeof err);
    else if (d)
        diag_log(d);
    if (rc != 0 && err[0])
        cli_error("%s", err);
    config_free(p);
    diag_free(d);
    return rc;
}

int cli_state(int argc, char **argv)
{
    static const struct option options[] = {
        {"keys", optional_argument, NULL, 'k'}, {"help", no_argument, NULL, 'h'}, {0}};
    const char *keys = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (c == 'k') {
            keys = optarg ? optarg : "all";
            if (strcmp(keys, "all") && strcmp(keys, "pending") && strcmp(keys, "done") &&
                strcmp(keys, "dead")) {
                cli_say(FR_LOG_ERROR, "state", "--keys %s: expected pending, done, dead or all",
                        keys);
                return EXIT_USAGE;
            }
        } else if (c == 'h') {
            fputs(state_usage, stdout);
            return EXIT_DELIVERED;
        } else {
            cli_usage_error(state_usage);
            return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        cli_usage_error(state_usage);
        return EXIT_USAGE;
    }
    char dir[4096], err[4400];
    if (state_dir_of(argv[optind], dir, sizeof dir) != 0)
        return EXIT_USAGE;
    if (ledger_inspect(dir, keys, stdout, err, sizeof err) != 0) {
        cli_error("%s", err);
        return EXIT_FAILED;
    }
    return EXIT_DELIVERED;
}
