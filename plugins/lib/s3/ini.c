/* ini.c — the AWS shared files (~/.aws/credentials, ~/.aws/config):
 * "[section]" headers and "key = value" lines, '#' and ';' comments. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_private.h"

static char *ini_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

int s3_ini_get(const char *path, const char *section, const char *key, char *out, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[4096];
    int in_section = 0, found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        char *s = ini_trim(line);
        if (*s == '#' || *s == ';' || !*s)
            continue;
        if (*s == '[') {
            char *close = strchr(s, ']');
            if (close)
                *close = '\0';
            in_section = strcmp(ini_trim(s + 1), section) == 0;
            continue;
        }
        char *eq = strchr(s, '=');
        if (!in_section || !eq)
            continue;
        *eq = '\0';
        if (strcmp(ini_trim(s), key) == 0) {
            snprintf(out, n, "%s", ini_trim(eq + 1));
            found = 1;
        }
    }
    fclose(f);
    return found;
}

static void ini_home_file(const char *env, const char *name, char *out, size_t n)
{
    const char *v = getenv(env);
    if (v && *v) {
        snprintf(out, n, "%s", v);
        return;
    }
    const char *home = getenv("HOME");
    snprintf(out, n, "%s/.aws/%s", home ? home : "", name);
}

void s3_credentials_file(char *out, size_t n)
{
    ini_home_file("AWS_SHARED_CREDENTIALS_FILE", "credentials", out, n);
}

void s3_config_file(char *out, size_t n)
{
    ini_home_file("AWS_CONFIG_FILE", "config", out, n);
}

int s3_profile_get(const char *profile, const char *key, char *out, size_t n)
{
    char path[1024], section[256];
    s3_credentials_file(path, sizeof path);
    if (s3_ini_get(path, profile, key, out, n))
        return 1;
    s3_config_file(path, sizeof path);
    if (strcmp(profile, "default") == 0)
        snprintf(section, sizeof section, "default");
    else
        snprintf(section, sizeof section, "profile %s", profile);
    return s3_ini_get(path, section, key, out, n);
}
