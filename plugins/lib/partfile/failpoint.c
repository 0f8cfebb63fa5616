/* failpoint.c — FLOWRUN_FAILPOINT=NAME:N (see failpoint.h). */
#include "failpoint.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static atomic_ulong passes;

void failpoint(const char *name)
{
    const char *spec = getenv("FLOWRUN_FAILPOINT");
    size_t n = strlen(name);
    if (!spec || strncmp(spec, name, n) != 0 || spec[n] != ':')
        return;
    unsigned long at = strtoul(spec + n + 1, NULL, 10);
    if (atomic_fetch_add(&passes, 1) + 1 != at)
        return;
    char line[128];
    int len = snprintf(line, sizeof line, "flowrun: failpoint %s:%lu\n", name, at);
    if (len > 0 && write(2, line, (size_t)len) < 0)
        line[0] = '\0'; /* dying anyway */
    raise(SIGKILL);
}
