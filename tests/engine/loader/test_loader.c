/* The loader refuses every broken plugin with a message naming the file
 * (and both ABI versions where they differ), and never crashes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "loader.h"

static char err[4096];

static const loader_plugin *open_fixture(loader *l, const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s.so", FIXTURES, dir, name);
    err[0] = '\0';
    return loader_open_file(l, path, err, sizeof err);
}

static void refused(const char *name, const char *want)
{
    loader *l = loader_new();
    CHECK(open_fixture(l, "main", name) == NULL);
    CHECK_CONTAINS(err, name); /* the file */
    CHECK_CONTAINS(err, want);
    loader_free(l);
}

int main(void)
{
    loader *l = loader_new();
    const loader_plugin *good = open_fixture(l, "main", "good");
    REQUIRE(good);
    CHECK_STR(good->desc.name, "good");
    CHECK(open_fixture(l, "main", "good") == good); /* opened once */
    CHECK(open_fixture(l, "dup", "good") == NULL);
    CHECK_CONTAINS(err, "dup/good.so: a plugin named \"good\" is already loaded from");
    loader_free(l);

    char want[128];
    snprintf(want, sizeof want, "built for plugin ABI 2.%d, this flowrun has ABI 1.%d",
             FR_ABI_MINOR, FR_ABI_MINOR);
    refused("abi-major", want);
    snprintf(want, sizeof want, "built for plugin ABI 1.7, newer than this flowrun's ABI 1.%d",
             FR_ABI_MINOR);
    refused("abi-minor", want);
    refused("bad-size", "descriptor size");
    refused("truncated", "too small to be a flowrun plugin");
    refused("no-descriptor", "no 'flowrun_plugin' descriptor");
    refused("wrong-name", "declares the name \"other\" but the file is wrong-name.so");
    refused("bad-type", "output type");
    refused("bad-table", "config table");

    /* Search: FLOWRUN_PLUGIN_PATH, with the directories named on a miss. */
    char path_env[2048];
    snprintf(path_env, sizeof path_env, "%s/nowhere:%s/main", FIXTURES, FIXTURES);
    setenv("FLOWRUN_PLUGIN_PATH", path_env, 1);
    l = loader_new();
    CHECK(loader_get(l, "good", err, sizeof err) != NULL);
    CHECK(loader_get(l, "missing", err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "no plugin \"missing\": missing.so is not in");
    CHECK_CONTAINS(err, "/nowhere:");
    loader_free(l);

    /* plugin_path entries come before the environment. */
    l = loader_new();
    char dup_dir[1024];
    snprintf(dup_dir, sizeof dup_dir, "%s/dup", FIXTURES);
    loader_add_dir(l, dup_dir);
    const loader_plugin *p = loader_get(l, "good", err, sizeof err);
    REQUIRE(p);
    CHECK_CONTAINS(p->path, "/dup/good.so");
    loader_free(l);
    return check_exit();
}
