/*
 * check_selftest — check.h itself: `check_selftest none` makes no check,
 * `fail` makes one failing check, `pass` one passing check.  The tests in
 * CMakeLists.txt expect exit status 1, 1 and 0: a test that checks nothing
 * must fail like a test whose check failed.
 */
#include <string.h>

#include "check.h"

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "fail") == 0)
        CHECK_INT(1 + 1, 3);
    else if (strcmp(mode, "pass") == 0)
        CHECK_INT(1 + 1, 2);
    return check_exit();
}
