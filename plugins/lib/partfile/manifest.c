/* manifest.c — the parts list of a parts directory (see manifest.h). */
#include "manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "partfile.h"

static int append(manifest *m, const char *line, size_t n)
{
    size_t sep = m->len ? 2 : 0;
    char *p = realloc(m->entries, m->len + sep + n + 1);
    if (!p)
        return -1;
    memcpy(p + m->len, ",\n", sep);
    memcpy(p + m->len + sep, line, n);
    m->len += sep + n;
    p[m->len] = '\0';
    m->entries = p;
    size_t size = m->len + 3;
    char *json = realloc(m->json, size);
    if (!json)
        return -1;
    snprintf(json, size, "[%s]", m->entries);
    m->json = json;
    return 0;
}

int manifest_load(manifest *m, const char *path, char *err, size_t err_size)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, err_size, "reading %s: %s", path, strerror(errno));
        return -1;
    }
    char line[4096];
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        size_t n = strcspn(line, "\n");
        if (strncmp(line, "{\"file\":", 8) != 0)
            continue;
        if (n && line[n - 1] == ',')
            n--;
        rc = append(m, line, n);
    }
    fclose(f);
    if (rc)
        snprintf(err, err_size, "out of memory reading %s", path);
    return rc;
}

int manifest_add(manifest *m, const char *file, uint64_t rows, uint64_t bytes)
{
    char line[4096]; /* part names are ours: no characters JSON must escape */
    int n = snprintf(line, sizeof line, "{\"file\":\"%s\",\"rows\":%llu,\"bytes\":%llu}", file,
                     (unsigned long long)rows, (unsigned long long)bytes);
    return n < 0 || (size_t)n >= sizeof line ? -1 : append(m, line, (size_t)n);
}

int manifest_write(const manifest *m, const char *path, char *err, size_t err_size)
{
    partfile_sink *s = partfile_local_open(path, 1, err, err_size);
    if (!s)
        return -1;
    const char *head = "{\"parts\":[\n", *tail = "\n]}\n";
    if (s->ops->write(s, head, strlen(head), err, err_size) ||
        s->ops->write(s, m->entries ? m->entries : "", m->len, err, err_size) ||
        s->ops->write(s, tail, strlen(tail), err, err_size)) {
        s->ops->abort(s);
        return -1;
    }
    return s->ops->commit(s, err, err_size);
}

void manifest_free(manifest *m)
{
    free(m->entries);
    free(m->json);
    *m = (manifest){0};
}
