/*
 * main.c — flowrun_main(), the `flowrun` command line (include/flowrun/main.h):
 * dispatches to a command.  `flowrun FILE.yaml` is `flowrun run FILE.yaml`.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "flowrun/main.h"
#include "flowrun/plugin.h"
#include "log.h"
#include "runtime.h"

static const char usage[] =
    "usage: flowrun [-v|-q] COMMAND [ARGS]\n"
    "       flowrun [-v|-q] PIPELINE.yaml [run options]\n"
    "\n"
    "Streaming dataflow engine: runs a YAML pipeline of stage plugins connected\n"
    "by ZeroMQ, as threads in one process or split over nodes.\n"
    "\n"
    "commands:\n"
    "  run PIPELINE.yaml     run a pipeline (see flowrun run --help)\n"
    "  validate FILE.yaml    check a pipeline file and its plugins; report every error\n"
    "  plugins               list the plugins found, with ABI version and summary\n"
    "  describe PLUGIN       show a plugin's ports and configuration keys\n"
    "  state PIPELINE.yaml   show the pipeline's ledger: last run, done/pending/dead keys\n"
    "  new-plugin NAME       write a new plugin's skeleton (code, build file, test)\n"
    "  train PIPELINE.yaml   run a training pipeline and write its model bundle\n"
    "  classify BUNDLE PHOTO...  classify photos with a bundle\n"
    "  evaluate BUNDLE DIR   accuracy, precision/recall, confusion matrix on labelled photos\n"
    "  serve BUNDLE          serve a bundle over HTTP (KServe v2 and /v1/classify)\n"
    "  keygen PREFIX         write a CURVE key pair for a node (PREFIX.key, PREFIX.pub)\n"
    "  top [ADDR:PORT]       live view of a running pipeline's metrics endpoint\n"
    "\n"
    "options:\n"
    "  -v, --verbose         more messages (debug)\n"
    "  -q, --quiet           errors only; no progress line or closing report\n"
    "  --log-format FORMAT   text (default) or json: one JSON object per line\n"
    "  -h, --help            this help (each command has its own --help)\n"
    "  --version             print the version and the plugin ABI version\n"
    "\n"
    "environment:\n"
    "  FLOWRUN_PLUGIN_PATH   colon-separated directories searched for <plugin>.so\n"
    "                        before the installed plugin directory\n"
    "\n"
    "exit codes:\n"
    "  0  every record was delivered to every sink\n"
    "  1  the run completed, but some records were dead-lettered\n"
    "  2  usage, configuration or graph error: nothing ran\n"
    "  3  a stage failed, or records were lost (neither delivered nor dead-lettered)\n"
    "  4  interrupted by SIGINT/SIGTERM: outputs of this run were not committed\n"
    "     (a watching run's first signal ends its input instead: what is in flight\n"
    "     is committed and it exits 0 or 1; a second signal interrupts it)\n";

int cli_log_format(const char *value)
{
    if (strcmp(value, "text") == 0)
        log_set_format(LOG_TEXT);
    else if (strcmp(value, "json") == 0)
        log_set_format(LOG_JSON);
    else {
        fprintf(stderr, "flowrun: --log-format: expected text or json, got \"%s\"\n", value);
        return -1;
    }
    return 0;
}

/* A command-line message: "flowrun[ COMMAND]: text" in text (under systemd
 * after its priority), one event "[COMMAND: ]text" in JSON. */
static void cli_vsay(fr_log_level level, const char *command, const char *fmt, va_list ap)
{
    if (level > log_get_level())
        return;
    char text[4096], line[4200];
    vsnprintf(text, sizeof text, fmt, ap);
    int json = log_get_format() == LOG_JSON;
    snprintf(line, sizeof line, "%s%s%s%s",
             json      ? ""
             : command ? "flowrun "
                       : "flowrun: ",
             command ? command : "", command ? ": " : "", text);
    log_diag(level, &(log_place){0}, line);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_vsay(FR_LOG_ERROR, NULL, fmt, ap);
    va_end(ap);
}

void cli_usage_error(const char *text)
{
    if (log_get_format() == LOG_JSON)
        log_msg(FR_LOG_ERROR, NULL, "%s", text);
    else
        fputs(text, stderr);
}

void cli_say(fr_log_level level, const char *command, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_vsay(level, command, fmt, ap);
    va_end(ap);
}

int cli_number(const char *opt, const char *text, long long lo, long long hi, long long *out)
{
    char *end;
    long long n = text ? strtoll(text, &end, 10) : 0;
    if (!text || *end || end == text || n < lo || n > hi) {
        cli_error("%s: expected a whole number in %lld..%lld, got \"%s\"", opt, lo, hi,
                  text ? text : "");
        return -1;
    }
    *out = n;
    return 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int flowrun_main(int argc, char **argv)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            log_set_level(FR_LOG_DEBUG);
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            log_set_level(FR_LOG_ERROR);
        } else if (!strcmp(a, "--log-format") && i + 1 < argc) {
            if (cli_log_format(argv[++i]) != 0)
                return EXIT_USAGE;
        } else if (!strncmp(a, "--log-format=", 13)) {
            if (cli_log_format(a + 13) != 0)
                return EXIT_USAGE;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            return EXIT_DELIVERED;
        } else if (!strcmp(a, "--version")) {
            printf("flowrun %s (plugin ABI %d.%d)\n", FLOWRUN_VERSION, FR_ABI_MAJOR, FR_ABI_MINOR);
            return EXIT_DELIVERED;
        } else {
            cli_error("unknown option '%s'", a);
            cli_usage_error(usage);
            return EXIT_USAGE;
        }
    }
    if (i == argc) {
        cli_usage_error(usage);
        return EXIT_USAGE;
    }
    const char *cmd = argv[i];
    int n = argc - i;
    char **args = argv + i;
    if (!strcmp(cmd, "run"))
        return cli_run(n, args);
    if (!strcmp(cmd, "validate"))
        return cli_validate(n, args);
    if (!strcmp(cmd, "plugins"))
        return cli_plugins(n, args);
    if (!strcmp(cmd, "describe"))
        return cli_describe(n, args);
    if (!strcmp(cmd, "state"))
        return cli_state(n, args);
    if (!strcmp(cmd, "new-plugin"))
        return cli_new_plugin(n, args);
    if (!strcmp(cmd, "train"))
        return cli_train(n, args);
    if (!strcmp(cmd, "classify"))
        return cli_classify(n, args);
    if (!strcmp(cmd, "evaluate"))
        return cli_evaluate(n, args);
    if (!strcmp(cmd, "serve"))
        return cli_serve(n, args);
    if (!strcmp(cmd, "keygen"))
        return cli_keygen(n, args);
    if (!strcmp(cmd, "top"))
        return cli_top(n, args);
    if (ends_with(cmd, ".yaml") || ends_with(cmd, ".yml")) {
        /* flowrun FILE.yaml [options]: run, with the file as the last argument. */
        return cli_run(n, args);
    }
    cli_error("unknown command '%s' (see flowrun --help)", cmd);
    return EXIT_USAGE;
}
