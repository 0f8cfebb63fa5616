/*
 * runtime.h — runs a checked graph: one thread per stage instance, ZeroMQ
 * PUSH/PULL between them (inproc in one process, tcp/ipc between nodes),
 * end of stream as a message, dead letters, commits routed back to the
 * sources, progress, the run summary and a clean stop on SIGINT/SIGTERM.
 */
#ifndef FLOWRUN_RUNTIME_H
#define FLOWRUN_RUNTIME_H

#include "graph.h"

/* Exit codes of `flowrun run`, documented in `flowrun --help`. */
enum {
    EXIT_DELIVERED = 0,    /* every input reached every sink */
    EXIT_DEAD_LETTERS = 1, /* the run completed; some records were dead-lettered */
    EXIT_USAGE = 2,        /* bad command line, config or graph: nothing ran */
    EXIT_FAILED = 3,       /* a stage failed (init or FATAL) or records went unaccounted */
    EXIT_INTERRUPTED = 4,  /* stopped by SIGINT/SIGTERM; outputs not committed */
};

typedef struct runtime_options {
    const char *node;         /* run only this node's stages; NULL: the whole graph */
    const char *summary_path; /* write the JSON run summary there; NULL: none */
    int progress;             /* draw the progress line on stderr */
    unsigned queue_depth;     /* messages buffered per pipe (ZeroMQ HWM) */
    int fresh;                /* --fresh: start over, whatever the ledger holds */
    int retry_dead;           /* --retry-dead: read dead-lettered keys again */
    int no_ledger;            /* --no-ledger: no durability (benchmarks) */
    const char *metrics;      /* --metrics ADDR:PORT (over the pipeline's metrics:); NULL: none */
} runtime_options;

/* Returns one of the exit codes above. */
int runtime_run(const graph *g, const runtime_options *opt);

#endif
