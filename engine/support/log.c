#include "log.h"

#include <pthread.h>
#include <stdio.h>

static struct {
    pthread_mutex_t lock;
    fr_log_level level;
    void (*clear)(void *);
    void (*redraw)(void *);
    void *ctx;
} logger = {PTHREAD_MUTEX_INITIALIZER, FR_LOG_INFO, NULL, NULL, NULL};

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void log_set_level(fr_log_level level)
{
    logger.level = level;
}
fr_log_level log_get_level(void)
{
    return logger.level;
}

void log_set_status_line(void (*clear)(void *), void (*redraw)(void *), void *ctx)
{
    pthread_mutex_lock(&logger.lock);
    logger.clear = clear;
    logger.redraw = redraw;
    logger.ctx = ctx;
    pthread_mutex_unlock(&logger.lock);
}

/* Copies text into out (4x its size) with control bytes written as \xNN:
 * messages carry keys and file names of any bytes, and a newline or a
 * terminal escape in one must not forge a log line or drive the terminal. */
static void log_visible(const char *text, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if (*c < 0x20 && *c != '\t') {
            *out++ = '\\';
            *out++ = 'x';
            *out++ = hex[*c >> 4];
            *out++ = hex[*c & 15];
        } else {
            *out++ = (char)(*c == 0x7f ? '?' : *c);
        }
    }
    *out = '\0';
}

void log_vmsg(fr_log_level level, const char *scope, const char *fmt, va_list ap)
{
    if (level > logger.level)
        return;
    char raw[2048], text[4 * sizeof raw];
    vsnprintf(raw, sizeof raw, fmt, ap);
    log_visible(raw, text);
    pthread_mutex_lock(&logger.lock);
    if (logger.clear)
        logger.clear(logger.ctx);
    if (scope)
        fprintf(stderr, "[%s] %s: %s\n", scope, level_names[level], text);
    else
        fprintf(stderr, "flowrun: %s: %s\n", level_names[level], text);
    if (logger.redraw)
        logger.redraw(logger.ctx);
    pthread_mutex_unlock(&logger.lock);
}

void log_msg(fr_log_level level, const char *scope, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, scope, fmt, ap);
    va_end(ap);
}
