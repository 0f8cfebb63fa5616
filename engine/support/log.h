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

/* How a message is written (docs/operations.md "Logs"):
 *   LOG_TEXT  "flowrun: error: ..." or, with scope, "[resize#1] warning: ...";
 *             under systemd (stderr is the journal: JOURNAL_STREAM) each line
 *             starts with its syslog priority ("<3>"), which journald reads;
 *   LOG_JSON  one JSON object per line: time (UTC, RFC 3339, ms), level,
 *             stage and instance (from the scope), node, key (when the message
 *             is about one record) and message. */
typedef enum log_format { LOG_TEXT = 0, LOG_JSON } log_format;
void log_set_format(log_format format);
log_format log_get_format(void);
/* The node this process runs (--node), put in JSON events; borrowed, NULL none. */
void log_set_node(const char *node);

FR_PRINTF(3, 4) void log_msg(fr_log_level level, const char *scope, const char *fmt, ...);
void log_vmsg(fr_log_level level, const char *scope, const char *fmt, va_list ap);
/* A message about the record with key (borrowed; NULL: none). */
FR_PRINTF(4, 5)
void log_key(fr_log_level level, const char *scope, const char *key, const char *fmt, ...);

/* Where a diagnostic found before the run points (a configuration or graph
 * error): the file (NULL: none), line and col (0: unknown), the stage and the
 * configuration key it is about (NULL: none).  All borrowed. */
typedef struct log_place {
    const char *file;
    int line, col;
    const char *stage, *config_key;
} log_place;
/* Writes such a diagnostic, whatever the level set: in text, the line as is (it starts with its
 * place, "file:line:col: ..."; under systemd after its priority); in JSON, one event whose
 * message is that line and whose fields file, line, col, stage and config_key say the place. */
void log_diag(fr_log_level level, const log_place *at, const char *text);

/* The progress line hook: clear() before a message, redraw() after. */
void log_set_status_line(void (*clear)(void *), void (*redraw)(void *), void *ctx);

#endif
