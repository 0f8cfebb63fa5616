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
/* Prints every message in the order reported, "file:line:col: error: msg". */
void diag_print(const diag *d, FILE *out);
/* All messages joined by newlines; malloc'd, the caller frees.  "" if none. */
char *diag_join(const diag *d);

#endif
