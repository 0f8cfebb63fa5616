/*
 * cli_top.c — `flowrun top ADDR:PORT`: a live view of a running pipeline,
 * like `vector top`.  Every interval it scrapes the run's /metrics
 * (top_scrape.h) and redraws one row per stage: records in and out per
 * second (from the difference to the last scrape), busy % (busy seconds per
 * wall second and instance), queue depth, dead letters.  Plain ANSI on the
 * terminal's alternate screen; q or Ctrl-C quits.
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "http.h"
#include "runtime.h"
#include "top_scrape.h"

static const char top_usage[] =
    "usage: flowrun top [--interval SECONDS] ADDR:PORT\n"
    "\n"
    "Shows a running pipeline live, from its metrics endpoint (flowrun run\n"
    "--metrics ADDR:PORT, or the pipeline's metrics: key): per stage the records\n"
    "in and out per second, busy %, queue depth and dead letters.\n"
    "Keys: q quits (as does Ctrl-C).\n"
    "\n"
    "options:\n"
    "  --interval SECONDS  between refreshes (default 1)\n"
    "  -h, --help          this help\n";

static volatile sig_atomic_t top_stop;

static void on_top_signal(int signo)
{
    (void)signo;
    top_stop = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The row of name in the previous sample, or NULL. */
static const top_stage *before(const top_sample *prev, const char *name)
{
    for (size_t i = 0; i < prev->n_stages; i++)
        if (strcmp(prev->stages[i].name, name) == 0)
            return &prev->stages[i];
    return NULL;
}

static void draw(const char *endpoint, const top_sample *now, const top_sample *prev, double dt,
                 const char *problem)
{
    printf("\033[H\033[2J");
    printf("flowrun top — %s  %s  up %.0fs  (q quits)\n", now->pipeline[0] ? now->pipeline : "?",
           now->ready ? "flowing" : "not ready", now->uptime_s);
    printf("%s%s%s\n\n", endpoint, problem ? "  — " : "", problem ? problem : "");
    printf("%-20s %-18s %12s %12s %7s %8s %10s\n", "STAGE", "PLUGIN", "IN/s", "OUT/s", "BUSY%",
           "QUEUED", "DEAD");
    for (size_t i = 0; i < now->n_stages; i++) {
        const top_stage *st = &now->stages[i], *was = before(prev, st->name);
        double in_rate = was && dt > 0 ? (st->received - was->received) / dt : 0;
        double out_rate = was && dt > 0 ? (st->sent - was->sent) / dt : 0;
        double inst = st->instances > 0 ? st->instances : 1;
        double busy = was && dt > 0 ? 100.0 * (st->busy_s - was->busy_s) / dt / inst : 0;
        printf("%-20.20s %-18.18s %12.1f %12.1f %6.1f%% %8.0f %10.0f\n", st->name, st->plugin,
               in_rate, out_rate, busy, st->queued, st->dead);
    }
    fflush(stdout);
}

/* Waits up to ms for a key; 1 if it was q (or the input ended). */
static int wants_quit(int ms)
{
    struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
    char c;
    if (poll(&p, 1, ms) <= 0)
        return 0;
    ssize_t n = read(STDIN_FILENO, &c, 1);
    return n == 0 || (n == 1 && (c == 'q' || c == 'Q' || c == 3));
}

static int top_loop(const char *host, const char *port, double interval)
{
    char endpoint[600], err[1024] = "";
    top_sample now = {0}, prev = {0};
    snprintf(endpoint, sizeof endpoint, "http://%s:%s/metrics", host, port);
    if (top_scrape(host, port, &now, err, sizeof err) != 0) {
        cli_say(FR_LOG_ERROR, "top", "%s", err);
        return 1; /* as curl and vector top: the endpoint cannot be read */
    }
    struct termios saved, raw;
    int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
    if (tty) {
        raw = saved;
        raw.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    }
    printf("\033[?1049h\033[?25l"); /* alternate screen, no cursor */
    double t_prev = now_s(), t_now = t_prev;
    draw(endpoint, &now, &prev, 0, NULL);
    while (!top_stop && !wants_quit((int)(interval * 1000))) {
        top_sample_free(&prev);
        prev = now;
        memset(&now, 0, sizeof now);
        err[0] = '\0';
        int ok = top_scrape(host, port, &now, err, sizeof err) == 0;
        t_prev = t_now;
        t_now = now_s();
        if (!ok) { /* keep the last figures, say why they are stale */
            top_sample_free(&now);
            now = prev;
            memset(&prev, 0, sizeof prev);
        }
        draw(endpoint, &now, &prev, t_now - t_prev, ok ? NULL : err);
    }
    printf("\033[?25h\033[?1049l");
    fflush(stdout);
    if (tty)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    top_sample_free(&now);
    top_sample_free(&prev);
    return EXIT_DELIVERED;
}

int cli_top(int argc, char **argv)
{
    double interval = 1;
    const char *listen = NULL;
    if (cli_wants_help(argc, argv, top_usage))
        return EXIT_DELIVERED;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--interval") == 0 && i + 1 < argc)
            interval = strtod(argv[++i], NULL);
        else if (!listen && argv[i][0] != '-')
            listen = argv[i];
        else
            listen = NULL, i = argc; /* usage below */
    }
    char host[256], port[8], err[256] = "";
    uint16_t port_number;
    if (!listen || interval < 0.1 || interval > 3600) {
        cli_usage_error(top_usage);
        return EXIT_USAGE;
    }
    if (http_parse_listen(listen, host, sizeof host, &port_number, err, sizeof err) != 0 ||
        !host[0] || port_number == 0) {
        cli_say(FR_LOG_ERROR, "top", "%s: %s", listen,
                err[0] ? err : "expected ADDR:PORT with an address and a port");
        return EXIT_USAGE;
    }
    snprintf(port, sizeof port, "%u", (unsigned)port_number);
    struct sigaction sa = {.sa_handler = on_top_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int code = top_loop(host, port, interval);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    return code;
}
