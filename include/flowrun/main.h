/*
 * flowrun/main.h — the `flowrun` command line as a function of libflowrun,
 * for programs that embed it (the `flowrun` executable is nothing else).
 * libflowrun exports this and nothing of its internals.
 */
#ifndef FLOWRUN_MAIN_H
#define FLOWRUN_MAIN_H

#ifdef __cplusplus
extern "C" {
#endif

/* Runs `flowrun ARGS...` (argv[0] is the program name) and returns its exit
 * status: 0 all delivered, 1 some dead-lettered, 2 usage/config/graph error,
 * 3 a stage failed or records unaccounted, 4 interrupted.  Prints to stdout
 * and stderr as the command does. */
#if defined(__GNUC__)
__attribute__((visibility("default")))
#endif
int flowrun_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif /* FLOWRUN_MAIN_H */
