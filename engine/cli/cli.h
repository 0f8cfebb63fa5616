/*
 * cli.h — the flowrun commands (main.c dispatches to them).  Each returns
 * the process exit code (runtime.h).
 */
#ifndef FLOWRUN_CLI_H
#define FLOWRUN_CLI_H

#include "flowrun/plugin.h" /* FR_PRINTF */

int cli_run(int argc, char **argv);      /* flowrun run [options] FILE */
int cli_validate(int argc, char **argv); /* flowrun validate FILE */
int cli_plugins(int argc, char **argv);  /* flowrun plugins */
int cli_describe(int argc, char **argv); /* flowrun describe PLUGIN */
int cli_keygen(int argc, char **argv);   /* flowrun keygen [--force] PREFIX */
int cli_state(int argc, char **argv);    /* flowrun state [--keys [S]] FILE */
/* flowrun new-plugin NAME [--dir DIR] */
int cli_new_plugin(int argc, char **argv);

/* flowrun train [run options] PIPELINE.yaml: run, then write the bundle */
int cli_train(int argc, char **argv);
/* flowrun classify BUNDLE PHOTO... */
int cli_classify(int argc, char **argv);
/* flowrun evaluate BUNDLE DIR: accuracy, precision/recall, confusion matrix */
int cli_evaluate(int argc, char **argv);
/* flowrun serve BUNDLE --listen ADDR:PORT */
int cli_serve(int argc, char **argv);
/* flowrun top [ADDR:PORT]: a live view of a run's /metrics */
int cli_top(int argc, char **argv);

/* --log-format text|json: 0, or -1 after a message naming the value. */
int cli_log_format(const char *value);
/* An error before the run starts, as the log format says: "flowrun: ..." in
 * text, one JSON event (level error) with --log-format json. */
FR_PRINTF(1, 2) void cli_error(const char *fmt, ...);
/* A usage error: the usage text on stderr, or one JSON error event holding it. */
void cli_usage_error(const char *usage);
/* A message of a command that runs no pipeline (train, classify, evaluate,
 * serve), as the log format says: "flowrun COMMAND: ..." in text, one JSON
 * event whose message starts with "COMMAND: " with --log-format json.  Above
 * the level set (-q: errors only) it is dropped. */
FR_PRINTF(3, 4) void cli_say(fr_log_level level, const char *command, const char *fmt, ...);
/* A whole number in [lo, hi] from the value text (NULL: missing) of the
 * command-line option opt: 0 and *out, or -1 after a message naming both. */
int cli_number(const char *opt, const char *text, long long lo, long long hi, long long *out);

/* mkdir -p: dir and its missing parents.  Returns 0 or -1 with errno. */
int cli_mkdirs(const char *dir);

/* 1 if argv has -h/--help; prints usage then. */
int cli_wants_help(int argc, char **argv, const char *usage);

#endif
