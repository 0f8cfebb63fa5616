#include "state_dir.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static uint32_t fnv1a32(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

int state_dir_resolve(const char *state_key, const char *pipeline_file, const char *name, char *out,
                      size_t size, char *err, size_t err_size)
{
    if (state_key && state_key[0]) {
        snprintf(out, size, "%s", state_key);
        return 0;
    }
    char absolute[PATH_MAX];
    if (!realpath(pipeline_file, absolute))
        snprintf(absolute, sizeof absolute, "%s", pipeline_file);
    const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0] == '/')
        snprintf(out, size, "%s/flowrun/%s-%08x", xdg, name, fnv1a32(absolute));
    else if (home && home[0])
        snprintf(out, size, "%s/.local/state/flowrun/%s-%08x", home, name, fnv1a32(absolute));
    else {
        snprintf(err, err_size,
                 "%s: no state directory: HOME and XDG_STATE_HOME are unset; set the "
                 "pipeline's `state:` key",
                 pipeline_file);
        return -1;
    }
    return 0;
}

int state_dir_make(const char *path)
{
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = dir + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(dir, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    if (mkdir(dir, 0755) == 0)
        return 0;
    struct stat st;
    if (errno != EEXIST || stat(dir, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

static int empty_failed_errno;

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag;
    if (ftw->level == 0)
        return 0; /* the directory itself stays */
    if (remove(path) != 0 && errno != ENOENT) {
        empty_failed_errno = errno;
        return 1;
    }
    return 0;
}

int state_dir_empty(const char *path, char *err, size_t err_size)
{
    empty_failed_errno = 0;
    int rc = nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (rc != 0 && !(rc < 0 && errno == ENOENT)) {
        snprintf(err, err_size, "cannot empty %s: %s", path,
                 strerror(empty_failed_errno ? empty_failed_errno : errno));
        return -1;
    }
    return 0;
}
