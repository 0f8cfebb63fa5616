/* cli_serve.c — `flowrun serve` (being written). */
#include <stdio.h>

#include "cli.h"
#include "runtime.h"

int cli_serve(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "flowrun serve: not built yet\n");
    return EXIT_USAGE;
}
