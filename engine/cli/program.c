/*
 * program.c — the `flowrun` executable: all of it is flowrun_main() in
 * libflowrun (main.c), so the command finds its plugins next to the library.
 */
#include "flowrun/main.h"

int main(int argc, char **argv)
{
    return flowrun_main(argc, argv);
}
