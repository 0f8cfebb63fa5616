/*
 * log.h — the engine's messages on stderr.  Thread-safe; a message never
 * tears the progress line (progress.c registers itself as the line to clear
 * and redraw).
 */
#ifndef FLOWRUN_LOG_H
#define FLOWRUN_LOG_H

#include <stdarg.h>

#include "flowrun/plugin.h"

/* Messages above level are dropped.  Default FR_LOG_INFO; -v → DEBUG, -q → ERROR. */
void log_set_level(fr_log_level level);
fr_log_level log_get_level(void);

/* "flowrun: error: ..." or, with scope, "[resize#1] warning: ..." */
FR_PRINTF(3, 4) void log_msg(fr_log_level level, const char *scope, const char *fmt, ...);
void log_vmsg(fr_log_level level, const char *scope, const char *fmt, va_list ap);

/* The progress line hook: clear() before a message, redraw() after. */
void log_set_status_line(void (*clear)(void *), void (*redraw)(void *), void *ctx);

#endif
