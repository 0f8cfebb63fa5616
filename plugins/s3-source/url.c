/* url.c — which urls s3-source reads as a local folder (file:// or a plain
 * path): those are read by the SDK source base's local reader, with the
 * records dir-source makes, so a pipeline moves between a laptop and S3 by
 * changing the url alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_source.h"

int source_url_local_root(const char *url, char **root)
{
    *root = NULL;
    if (strncmp(url, "s3://", 5) == 0)
        return 0;
    const char *path = url;
    if (strncmp(url, "file://", 7) == 0) {
        path = url + 7;
        if (strncmp(path, "localhost/", 10) == 0)
            path += 9;
        if (path[0] != '/')
            return -1; /* file://otherhost/... */
    } else if (strstr(url, "://")) {
        return -1;
    }
    if (!path[0])
        return -1;
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    return (*root = strndup(path, n)) ? 1 : -1;
}
