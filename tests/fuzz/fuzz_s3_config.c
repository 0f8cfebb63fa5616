/* fuzz-s3_config: the AWS shared credentials/config files (INI), the
 * container credentials JSON and its expiry timestamps: files and replies
 * the client reads from outside.  The input is the file (through a memfd,
 * as s3_ini_get reads a path) and the JSON. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "s3_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fd = -1;
static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fd < 0) {
        fd = memfd_create("fuzz-ini", 0);
        if (fd < 0)
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    char out[256];
    s3_ini_get(path, "default", "aws_access_key_id", out, sizeof out);
    s3_ini_get(path, "profile fuzz", "region", out, sizeof out);
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (s3_json_string(text, "AccessKeyId", out, sizeof out) && strlen(out) >= sizeof out)
        abort();
    s3_json_string(text, "Expiration", out, sizeof out);
    s3_parse_iso8601(out);
    s3_parse_iso8601(text);
    free(text);
    return 0;
}
