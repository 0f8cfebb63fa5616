#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json_out.h"

static struct {
    pthread_mutex_t lock;
    fr_log_level level;
    log_format format;
    int journal; /* stderr is journald's stream: prefix lines with <priority> */
    const char *node;
    void (*clear)(void *);
    void (*redraw)(void *);
    void *ctx;
} logger = {PTHREAD_MUTEX_INITIALIZER, FR_LOG_INFO, LOG_TEXT, -1, NULL, NULL, NULL, NULL};

static const char *const level_names[] = {"error", "warning", "info", "debug"};
/* syslog priorities of the levels: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG */
static const int level_priorities[] = {3, 4, 6, 7};

void log_set_level(fr_log_level level)
{
    logger.level = level;
}
fr_log_level log_get_level(void)
{
    return logger.level;
}

void log_set_format(log_format format)
{
    logger.format = format;
}

log_format log_get_format(void)
{
    return logger.format;
}

void log_set_node(const char *node)
{
    logger.node = node;
}

void log_set_status_line(void (*clear)(void *), void (*redraw)(void *), void *ctx)
{
    pthread_mutex_lock(&logger.lock);
    logger.clear = clear;
    logger.redraw = redraw;
    logger.ctx = ctx;
    pthread_mutex_unlock(&logger.lock);
}

/* systemd sets JOURNAL_STREAM=DEV:INODE for a service whose stderr is the
 * journal (systemd.exec(5)); it counts only if stderr is still that stream. */
static int stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) != 0)
        return 0;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
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

/* A text line's syslog priority prefix, when stderr is the journal. */
static void write_priority(fr_log_level level)
{
    if (logger.journal < 0)
        logger.journal = stderr_is_journal();
    if (logger.journal)
        fprintf(stderr, "<%d>", level_priorities[level]);
}

static void write_text(fr_log_level level, const char *scope, const char *raw)
{
    char text[4 * 2048 + 1];
    log_visible(raw, text);
    write_priority(level);
    if (scope)
        fprintf(stderr, "[%s] %s: %s\n", scope, level_names[level], text);
    else
        fprintf(stderr, "flowrun: %s: %s\n", level_names[level], text);
}

/* The scope "resize#1" as stage "resize" and instance 1. */
static void json_scope(json_out *j, const char *scope)
{
    char stage[96];
    const char *hash = strrchr(scope, '#');
    size_t n = hash ? (size_t)(hash - scope) : strlen(scope);
    snprintf(stage, sizeof stage, "%.*s", (int)(n < sizeof stage ? n : sizeof stage - 1), scope);
    json_string(j, "stage", stage);
    if (hash)
        json_int(j, "instance", strtol(hash + 1, NULL, 10));
}

/* The time now as UTC RFC 3339 with milliseconds. */
static void json_time(char *when, size_t size)
{
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    size_t n = strftime(when, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, size - n, ".%03ldZ", now.tv_nsec / 1000000L);
}

/* One event: time, level, then what add() puts, node, key and message. */
static void write_json(fr_log_level level, void (*add)(json_out *, const void *), const void *ctx,
                       const char *key, const char *raw)
{
    char when[40];
    json_time(when, sizeof when);
    json_out j = {0};
    json_open(&j, NULL);
    json_string(&j, "time", when);
    json_string(&j, "level", level_names[level]);
    if (add)
        add(&j, ctx);
    if (logger.node)
        json_string(&j, "node", logger.node);
    if (key)
        json_string(&j, "key", key);
    json_string(&j, "message", raw);
    json_close(&j);
    if (!j.failed)
        fprintf(stderr, "%s\n", j.text);
    json_out_free(&j);
}

static void add_scope(json_out *j, const void *scope)
{
    json_scope(j, scope);
}

static void add_place(json_out *j, const void *ctx)
{
    const log_place *at = ctx;
    if (at->file)
        json_string(j, "file", at->file);
    if (at->line > 0)
        json_int(j, "line", at->line);
    if (at->col > 0)
        json_int(j, "col", at->col);
    if (at->stage)
        json_string(j, "stage", at->stage);
    if (at->config_key)
        json_string(j, "config_key", at->config_key);
}

static void log_vkey(fr_log_level level, const char *scope, const char *key, const char *fmt,
                     va_list ap)
{
    if (level > logger.level)
        return;
    char raw[2048];
    vsnprintf(raw, sizeof raw, fmt, ap);
    pthread_mutex_lock(&logger.lock);
    if (logger.clear)
        logger.clear(logger.ctx);
    if (logger.format == LOG_JSON)
        write_json(level, scope ? add_scope : NULL, scope, key, raw);
    else
        write_text(level, scope, raw);
    if (logger.redraw)
        logger.redraw(logger.ctx);
    pthread_mutex_unlock(&logger.lock);
}

void log_vmsg(fr_log_level level, const char *scope, const char *fmt, va_list ap)
{
    log_vkey(level, scope, NULL, fmt, ap);
}

void log_msg(fr_log_level level, const char *scope, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vkey(level, scope, NULL, fmt, ap);
    va_end(ap);
}

void log_key(fr_log_level level, const char *scope, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vkey(level, scope, key, fmt, ap);
    va_end(ap);
}

void log_diag(fr_log_level level, const log_place *at, const char *text)
{
    pthread_mutex_lock(&logger.lock);
    if (logger.format == LOG_JSON)
        write_json(level, add_place, at, NULL, text);
    else {
        write_priority(level);
        fprintf(stderr, "%s\n", text);
    }
    pthread_mutex_unlock(&logger.lock);
}
