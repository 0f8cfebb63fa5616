/*
 * cli.h — the flowrun commands (main.c dispatches to them).  Each returns
 * the process exit code (runtime.h).
 */
#ifndef FLOWRUN_CLI_H
#define FLOWRUN_CLI_H

int cli_run(int argc, char **argv);      /* flowrun run [options] FILE */
int cli_validate(int argc, char **argv); /* flowrun validate FILE */
int cli_plugins(int argc, char **argv);  /* flowrun plugins */
int cli_describe(int argc, char **argv); /* flowrun describe PLUGIN */
int cli_state(int argc, char **argv);    /* flowrun state [--keys [S]] FILE */
/* flowrun new-plugin NAME [--dir DIR] */
int cli_new_plugin(int argc, char **argv);

/* 1 if argv has -h/--help; prints usage then. */
int cli_wants_help(int argc, char **argv, const char *usage);

#endif
