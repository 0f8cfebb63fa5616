/*
 * diag.h — collects the errors of one run of the config/graph checks, so a
 * user sees every mistake in a file at once, each as file:line:col: message.
 */
#ifndef FLOWRUN_DIAG_H
#define FLOWRUN_DIAG_H

#include <stddef.h>
#include <stdio.h>

#include "flowrun/plugin.h" /* FR_PRINTF */

typedef struct diag diag;

diag *diag_new(void);
void diag_free(diag *d);

/* Records an error.  file may be NULL (no position: harness, CLI flags);
 * line/col are 1-based, 0 when unknown (then omitted).  Message copied. */
FR_PRINTF(5, 6) void diag_error(diag *d, const char *file, int line, int col, const char *fmt, ...);
FR_PRINTF(5, 6) void diag_warn(diag *d, const char *file, int line, int col, const char *fmt, ...);

size_t diag_error_count(const diag *d);
/* Every message, in the order reported: an error is "file:line:col: msg"
 * (the form in HACKING.md, e.g. `x.yaml:12:5: stage "resize": key "filter":
 * expected ...`), a warning "file:line:col: warning: msg"; without a file
 * just "msg" / "warning: msg"; ":col" or ":line:col" is left out when 0. */
void diag_print(const diag *d, FILE *out);
/* The same through the log (support/log.h, log_diag): as diag_print on
 * stderr in text; one JSON event per message, its place as fields (file,
 * line, col, the stage and config_key it names), with --log-format json. */
void diag_log(const diag *d);
/* Number of messages (errors and warnings), and message i formatted as
 * above, owned by d; NULL when i is out of range. */
size_t diag_count(const diag *d);
const char *diag_message(const diag *d, size_t i);
/* All messages joined by newlines; malloc'd, the caller frees.  "" if none. */
char *diag_join(const diag *d);

#endif
