/*
 * ABI compatibility with real .so files (see CMakeLists.txt):
 *   - compat-1-<m>.so, built from the frozen headers of every released
 *     minor m <= FR_ABI_MINOR, loads through the real loader and runs;
 *   - next-minor.so / next-major.so (current headers with the macro
 *     patched) are refused naming the file and both versions;
 *   - size-lies.so (a 1.0 descriptor whose .size is short) is refused;
 *   - `flowrun plugins` over all of them lists the good ones, reports each
 *     refused one with its reason, and exits normally.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "flowrun/harness.h"
#include "loader.h"

static char err[4096];

static void fixture_path(char *path, size_t size, const char *name)
{
    snprintf(path, size, "%s/%s.so", FIXTURES, name);
}

/* A plugin built for minor m: loads, validates its config, and works. */
static void compat_runs(unsigned minor)
{
    char dir[1024], name[64], path[1024];
    snprintf(dir, sizeof dir, "%s/abi-%d.%u", FROZEN_DIR, FR_ABI_MAJOR, minor);
    struct stat st;
    if (stat(dir, &st) != 0) {
        fprintf(stderr,
                "FR_ABI_MINOR is %d but %s is missing: freeze a copy of include/flowrun/"
                "{plugin.h,record.h} for every released minor (fixtures/README.md)\n",
                FR_ABI_MINOR, dir);
        CHECK(0);
        return;
    }
    snprintf(name, sizeof name, "compat-%d-%u", FR_ABI_MAJOR, minor);
    fixture_path(path, sizeof path, name);

    loader *l = loader_new();
    const loader_plugin *p = loader_open_file(l, path, err, sizeof err);
    REQUIRE_VOID(p);
    CHECK_INT(p->desc.abi_minor, minor);
    CHECK_INT(p->desc.size, loader_descriptor_size(minor));
    loader_free(l);

    const char *const config[] = {"prefix", "v1:", NULL};
    char *why = NULL;
    fr_harness *h = fr_harness_new(path, config, &why);
    if (!h)
        fprintf(stderr, "%s\n", why ? why : "?");
    REQUIRE_VOID(h);
    CHECK(fr_harness_start(h) == FR_OK);
    fr_record rec = {.id = "s:a",
                     .key = "a",
                     .label = "",
                     .payload = {.kind = FR_KIND_BYTES, .media = "*", .data = "abc", .size = 3}};
    CHECK(fr_harness_push(h, &rec) == FR_OK);
    REQUIRE_VOID(fr_harness_output_count(h) == 1);
    const fr_record *out = fr_harness_output(h, 0);
    CHECK(out->payload.size == 6 && memcmp(out->payload.data, "v1:ABC", 6) == 0);
    CHECK_STR(out->id, "s:a");
    CHECK(fr_harness_metric(h, "bytes") == 6);
    char big[2048];
    memset(big, 'x', sizeof big);
    rec.payload.data = big;
    rec.payload.size = sizeof big;
    CHECK(fr_harness_push(h, &rec) == FR_REJECT);
    CHECK_CONTAINS(fr_harness_reason(h), "2048 bytes is more than max_size");
    fr_harness_free(h);

    /* From 1.1, the plugin reads its enum `case` by index (fr_config_enum). */
    if (minor >= 1) {
        const char *const lower[] = {"case", "lower", NULL};
        h = fr_harness_new(path, lower, &why);
        REQUIRE_VOID(h);
        CHECK(fr_harness_start(h) == FR_OK);
        rec.payload.data = "AbC";
        rec.payload.size = 3;
        CHECK(fr_harness_push(h, &rec) == FR_OK);
        REQUIRE_VOID(fr_harness_output_count(h) == 1);
        out = fr_harness_output(h, 0);
        CHECK(out->payload.size == 3 && memcmp(out->payload.data, "abc", 3) == 0);
        fr_harness_free(h);
    }

    /* From 1.2, init reports a value it cannot take as a configuration error. */
    if (minor >= 2) {
        const char *const bang[] = {"prefix", "!", NULL};
        h = fr_harness_new(path, bang, &why);
        REQUIRE_VOID(h);
        CHECK(fr_harness_start(h) == FR_FATAL);
        CHECK_CONTAINS(fr_harness_reason(h), "\"!\" is reserved");
        fr_harness_free(h);
    }

    /* Its schema is the engine's to check, as for any plugin. */
    const char *const bad[] = {"max_size", "huge", NULL};
    CHECK(fr_harness_new(path, bad, &why) == NULL);
    CHECK_CONTAINS(why, "max_size");
    free(why);
}

static void refused(const char *name, const char *want)
{
    char path[1024];
    fixture_path(path, sizeof path, name);
    loader *l = loader_new();
    err[0] = '\0';
    CHECK(loader_open_file(l, path, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, path); /* names the file */
    CHECK_CONTAINS(err, want);
    loader_free(l);

    /* The harness (what a plugin author's test uses) says the same. */
    char *why = NULL;
    CHECK(fr_harness_new(path, NULL, &why) == NULL);
    CHECK_CONTAINS(why, want);
    free(why);
}

/* `flowrun plugins` with every fixture on the plugin path. */
static void cli_lists_and_refuses(void)
{
    const char *bin = getenv("FLOWRUN_BIN");
    REQUIRE_VOID(bin);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "FLOWRUN_PLUGIN_PATH='%s' '%s' plugins 2>&1", FIXTURES, bin);
    FILE *f = popen(cmd, "r");
    REQUIRE_VOID(f);
    static char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    CHECK_INT(pclose(f), 0);
    char line[256];
    char name[64];
    snprintf(name, sizeof name, "compat-%d-0", FR_ABI_MAJOR);
    /* The columns of cli_plugins.c, as for a built-in plugin. */
    snprintf(line, sizeof line, "\n%-18s %d.%-4d upper-cases bytes (ABI fixture)\n", name,
             FR_ABI_MAJOR, 0);
    CHECK_CONTAINS(text, line);
    snprintf(line, sizeof line, "next-minor.so: built for plugin ABI %d.%d, newer than",
             FR_ABI_MAJOR, FR_ABI_MINOR + 1);
    CHECK_CONTAINS(text, line);
    snprintf(line, sizeof line, "next-major.so: built for plugin ABI %d.%d, this flowrun has",
             FR_ABI_MAJOR + 1, FR_ABI_MINOR);
    CHECK_CONTAINS(text, line);
    CHECK_CONTAINS(text, "size-lies.so: descriptor size");
}

int main(void)
{
    for (unsigned m = 0; m <= FR_ABI_MINOR; m++)
        compat_runs(m);

    char want[256];
    snprintf(want, sizeof want, "built for plugin ABI %d.%d, newer than this flowrun's ABI %d.%d",
             FR_ABI_MAJOR, FR_ABI_MINOR + 1, FR_ABI_MAJOR, FR_ABI_MINOR);
    refused("next-minor", want);
    snprintf(want, sizeof want, "built for plugin ABI %d.%d, this flowrun has ABI %d.%d",
             FR_ABI_MAJOR + 1, FR_ABI_MINOR, FR_ABI_MAJOR, FR_ABI_MINOR);
    refused("next-major", want);
    snprintf(want, sizeof want, "does not match ABI %d.0's %zu bytes", FR_ABI_MAJOR,
             loader_descriptor_size(0));
    refused("size-lies", want);

    cli_lists_and_refuses();
    return check_exit();
}
