/*
 * cli_new_plugin.c — `flowrun new-plugin NAME [--dir DIR]`: writes the
 * skeleton of a third-party stage plugin (descriptor, config table,
 * callbacks, a harness test and a CMakeLists.txt using find_package(flowrun))
 * that builds against the installed SDK and passes its test unchanged.
 *
 * The templates below hold @NAME@ (the plugin name, e.g. "my-stage") and
 * @ID@ (the same as a C identifier, "my_stage").  tests/engine/sdk builds
 * and runs what they produce.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "runtime.h"

/* <NAME>.c: the descriptor, the schema table and the callbacks. */
static const char template_plugin[] =
    "/*\n"
    " * @NAME@ - a flowrun stage plugin (written by `flowrun new-plugin`).\n"
    " *\n"
    " * As generated it forwards byte records unchanged (zero-copy) and REJECTs\n"
    " * those larger than max_size (or forwards and counts them, too_large:\n"
    " * forward): replace the body of @ID@_process with what\n"
    " * your stage does.  The plugin author's guide is docs/plugins.md in\n"
    " * flowrun's sources; the ABI is <flowrun/plugin.h>.\n"
    " */\n"
    "#include <flowrun/plugin.h>\n"
    "#include <stdlib.h>\n"
    "\n"
    "/* The configuration keys: the engine validates the pipeline file against\n"
    " * this table, applies the defaults, and `flowrun describe @NAME@` shows it. */\n"
    "static const fr_param @ID@_params[] = {\n"
    "    /* key, type, default (NULL: required), min, max, choices, description */\n"
    "    {\"max_size\", FR_PARAM_SIZE, \"64MiB\", 1, FR_NO_MAX, NULL,\n"
    "     \"records with a larger payload are too large\"},\n"
    "    {\"too_large\", FR_PARAM_ENUM, \"reject\", 0, 0, \"reject|forward\",\n"
    "     \"a too large record is rejected (dead letter with the reason) or forwarded\"},\n"
    "    {NULL},\n"
    "};\n"
    "/* too_large's choices in their order: fr_config_enum() returns the index. */\n"
    "enum { TOO_LARGE_REJECT, TOO_LARGE_FORWARD };\n"
    "\n"
    "/* One instance's state.  With `replicas: N` each instance has its own and\n"
    " * all callbacks of an instance run on that instance's thread. */\n"
    "typedef struct @ID@ {\n"
    "    int64_t max_size;\n"
    "    int forward_too_large;\n"
    "} @ID@;\n"
    "\n"
    "static fr_status @ID@_init(fr_stage *st, void **state)\n"
    "{\n"
    "    @ID@ *s = calloc(1, sizeof *s);\n"
    "    if (!s)\n"
    "        return fr_fail(st, FR_FATAL, \"out of memory\");\n"
    "    s->max_size = fr_config_int(st, \"max_size\");\n"
    "    s->forward_too_large = fr_config_enum(st, \"too_large\") == TOO_LARGE_FORWARD;\n"
    "    *state = s;\n"
    "    return FR_OK;\n"
    "}\n"
    "\n"
    "/* One record in (borrowed for the call); emit zero or more records. */\n"
    "static fr_status @ID@_process(void *state, fr_stage *st, const fr_record *in)\n"
    "{\n"
    "    @ID@ *s = state;\n"
    "    if ((int64_t)in->payload.size > s->max_size) {\n"
    "        fr_metric_add(st, \"too_large\", 1);\n"
    "        if (!s->forward_too_large)\n"
    "            return fr_fail(st, FR_REJECT, \"payload of %zu bytes is larger than max_size "
    "%lld\",\n"
    "                           in->payload.size, (long long)s->max_size);\n"
    "    }\n"
    "    fr_record out = *in; /* strings are copied by fr_emit */\n"
    "    /* Forward the payload without copying: fr_emit takes this reference. */\n"
    "    out.payload.buffer = in->payload.buffer ? fr_buffer_ref(st, in->payload.buffer) : NULL;\n"
    "    fr_metric_add(st, \"forwarded\", 1);\n"
    "    return fr_emit(st, &out); /* FR_OK, or FR_STOP when the run is stopping */\n"
    "}\n"
    "\n"
    "/* End of stream: emit what is held (nothing here). */\n"
    "static fr_status @ID@_flush(void *state, fr_stage *st)\n"
    "{\n"
    "    (void)state;\n"
    "    (void)st;\n"
    "    return FR_OK;\n"
    "}\n"
    "\n"
    "static void @ID@_fini(void *state, fr_stage *st)\n"
    "{\n"
    "    (void)st;\n"
    "    free(state);\n"
    "}\n"
    "\n"
    "FR_PLUGIN_EXPORT const fr_plugin flowrun_plugin = {\n"
    "    FR_PLUGIN_HEADER,\n"
    "    .name = \"@NAME@\", /* must match the file name, @NAME@.so */\n"
    "    .summary = \"Forward byte records no larger than max_size (a new-plugin skeleton)\",\n"
    "    .version = \"0.1\",\n"
    "    .input = \"bytes/*\",\n"
    "    .output = \"bytes/*\",\n"
    "    .params = @ID@_params,\n"
    "    .init = @ID@_init,\n"
    "    .process = @ID@_process,\n"
    "    .flush = @ID@_flush,\n"
    "    .fini = @ID@_fini,\n"
    "};\n";

/* test_<ID>.c: its harness test. */
static const char template_test[] =
    "/*\n"
    " * @NAME@'s test through flowrun's plugin harness: the .so is loaded by the\n"
    " * real loader and its configuration checked by the real schema code.\n"
    " *\n"
    " *     test-@NAME@ PATH/TO/@NAME@.so\n"
    " */\n"
    "#include <flowrun/harness.h>\n"
    "#include <stdio.h>\n"
    "#include <stdlib.h>\n"
    "#include <string.h>\n"
    "\n"
    "static int failures;\n"
    "\n"
    "#define EXPECT(cond)                                                                          "
    "     \\\n"
    "    do {                                                                                      "
    "     \\\n"
    "        if (!(cond)) {                                                                        "
    "     \\\n"
    "            fprintf(stderr, \"%s:%d: expected %s\\n\", __FILE__, __LINE__, #cond);            "
    "        \\\n"
    "            failures++;                                                                       "
    "     \\\n"
    "        }                                                                                     "
    "     \\\n"
    "    } while (0)\n"
    "\n"
    "static fr_record bytes(const char *key, const char *data)\n"
    "{\n"
    "    fr_record rec = {.id = key, .key = key, .label = \"\"};\n"
    "    rec.payload = (fr_payload){.kind = FR_KIND_BYTES, .media = \"*\", .data = (void *)data,\n"
    "                               .size = strlen(data)};\n"
    "    return rec;\n"
    "}\n"
    "\n"
    "int main(int argc, char **argv)\n"
    "{\n"
    "    if (argc != 2) {\n"
    "        fprintf(stderr, \"usage: %s @NAME@.so\\n\", argv[0]);\n"
    "        return 2;\n"
    "    }\n"
    "    const char *const config[] = {\"max_size\", \"8\", NULL};\n"
    "    char *err = NULL;\n"
    "    fr_harness *h = fr_harness_new(argv[1], config, &err);\n"
    "    if (!h) {\n"
    "        fprintf(stderr, \"cannot load %s: %s\\n\", argv[1], err ? err : \"?\");\n"
    "        free(err);\n"
    "        return 1;\n"
    "    }\n"
    "    EXPECT(fr_harness_start(h) == FR_OK);\n"
    "\n"
    "    fr_record small = bytes(\"small\", \"hello\");\n"
    "    EXPECT(fr_harness_push(h, &small) == FR_OK);\n"
    "    EXPECT(fr_harness_output_count(h) == 1);\n"
    "    const fr_record *out = fr_harness_output(h, 0);\n"
    "    EXPECT(strcmp(out->key, \"small\") == 0);\n"
    "    EXPECT(out->payload.size == 5 && memcmp(out->payload.data, \"hello\", 5) == 0);\n"
    "\n"
    "    fr_record large = bytes(\"large\", \"far too long\");\n"
    "    EXPECT(fr_harness_push(h, &large) == FR_REJECT);\n"
    "    EXPECT(strstr(fr_harness_reason(h), \"larger than max_size 8\") != NULL);\n"
    "\n"
    "    EXPECT(fr_harness_flush(h) == FR_OK);\n"
    "    EXPECT(fr_harness_metric(h, \"forwarded\") == 1);\n"
    "    EXPECT(fr_harness_metric(h, \"too_large\") == 1);\n"
    "    fr_harness_free(h);\n"
    "\n"
    "    /* too_large: forward passes it on, still counted. */\n"
    "    const char *const forward[] = {\"max_size\", \"8\", \"too_large\", \"forward\", NULL};\n"
    "    h = fr_harness_new(argv[1], forward, &err);\n"
    "    EXPECT(h != NULL);\n"
    "    if (h) {\n"
    "        EXPECT(fr_harness_start(h) == FR_OK);\n"
    "        EXPECT(fr_harness_push(h, &large) == FR_OK);\n"
    "        EXPECT(fr_harness_output_count(h) == 1);\n"
    "        EXPECT(fr_harness_metric(h, \"too_large\") == 1);\n"
    "        fr_harness_free(h);\n"
    "    }\n"
    "\n"
    "    /* A bad value is refused by the engine, naming the key. */\n"
    "    const char *const bad[] = {\"max_size\", \"lots\", NULL};\n"
    "    EXPECT(fr_harness_new(argv[1], bad, &err) == NULL);\n"
    "    EXPECT(err && strstr(err, \"max_size\"));\n"
    "    free(err);\n"
    "\n"
    "    if (failures)\n"
    "        fprintf(stderr, \"%d check(s) failed\\n\", failures);\n"
    "    else\n"
    "        printf(\"@NAME@: all checks passed\\n\");\n"
    "    return failures ? 1 : 0;\n"
    "}\n";

/* CMakeLists.txt: find_package(flowrun), the plugin, the test. */
static const char template_cmake[] =
    "# @NAME@: a flowrun stage plugin, built against an installed flowrun:\n"
    "#\n"
    "#   cmake -S . -B build -DCMAKE_PREFIX_PATH=<flowrun's install prefix>\n"
    "#   cmake --build build && ctest --test-dir build\n"
    "#   FLOWRUN_PLUGIN_PATH=$PWD/build flowrun describe @NAME@\n"
    "cmake_minimum_required(VERSION 3.20)\n"
    "project(@NAME@ LANGUAGES C)\n"
    "\n"
    "find_package(flowrun 0.1 REQUIRED)\n"
    "\n"
    "# @NAME@.so; `cmake --install` puts it in lib/flowrun/plugins.\n"
    "flowrun_add_plugin(@NAME@ SOURCES @NAME@.c)\n"
    "\n"
    "enable_testing()\n"
    "add_executable(test-@NAME@ test_@ID@.c)\n"
    "target_link_libraries(test-@NAME@ PRIVATE flowrun::harness)\n"
    "add_test(NAME @NAME@ COMMAND test-@NAME@ $<TARGET_FILE:@NAME@>)\n";

/* [a-z][a-z0-9-]*, at most 64 characters: a file name, a C identifier once
 * '-' becomes '_', and what the loader accepts. */
static int new_plugin_valid_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64 || name[0] < 'a' || name[0] > 'z' || name[n - 1] == '-')
        return 0;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
            return 0;
    return 1;
}

/* Writes template into dir/file with @NAME@ and @ID@ replaced; never
 * overwrites an existing file.  Returns 0, or -1 with the reason printed. */
static int new_plugin_write(const char *dir, const char *file, const char *template,
                            const char *name, const char *id)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        cli_say(FR_LOG_ERROR, "new-plugin", "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        cli_say(FR_LOG_ERROR, "new-plugin", "%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    for (const char *p = template; *p;) {
        if (!strncmp(p, "@NAME@", 6)) {
            fputs(name, f);
            p += 6;
        } else if (!strncmp(p, "@ID@", 4)) {
            fputs(id, f);
            p += 4;
        } else {
            fputc(*p++, f);
        }
    }
    int failed = ferror(f);
    if (fclose(f) != 0 || failed) {
        cli_say(FR_LOG_ERROR, "new-plugin", "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    printf("  %s\n", path);
    return 0;
}

/* mkdir -p: dir and its missing parents.  Returns 0 or -1 with errno. */
int cli_mkdirs(const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *c = path + 1; *c; c++) {
        if (*c != '/')
            continue;
        *c = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return -1;
        *c = '/';
    }
    return mkdir(path, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

int cli_new_plugin(int argc, char **argv)
{
    static const char usage[] =
        "usage: flowrun new-plugin NAME [--dir DIR]\n"
        "\n"
        "Writes the skeleton of a stage plugin NAME into DIR (default ./NAME):\n"
        "  NAME.c          the descriptor, config table and callbacks (a transform that\n"
        "                  forwards byte records no larger than max_size, zero-copy)\n"
        "  test_NAME.c     its test through flowrun's plugin harness\n"
        "  CMakeLists.txt  builds NAME.so and the test against the installed flowrun\n"
        "                  (find_package(flowrun))\n"
        "It builds and passes its test as written:\n"
        "  cmake -S DIR -B DIR/build -DCMAKE_PREFIX_PATH=<flowrun prefix>\n"
        "  cmake --build DIR/build && ctest --test-dir DIR/build\n"
        "NAME is [a-z][a-z0-9-]*; the .so must keep that name.  Existing files are\n"
        "never overwritten.\n";
    if (cli_wants_help(argc, argv, usage))
        return EXIT_DELIVERED;
    const char *name = NULL, *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
            dir = argv[++i];
        } else if (!strncmp(argv[i], "--dir=", 6)) {
            dir = argv[i] + 6;
        } else if (argv[i][0] != '-' && !name) {
            name = argv[i];
        } else {
            cli_say(FR_LOG_ERROR, "new-plugin", "unexpected argument '%s'", argv[i]);
            cli_usage_error(usage);
            return EXIT_USAGE;
        }
    }
    if (!name) {
        cli_usage_error(usage);
        return EXIT_USAGE;
    }
    if (!new_plugin_valid_name(name)) {
        cli_say(FR_LOG_ERROR, "new-plugin",
                "name \"%s\": expected [a-z][a-z0-9-]* (at most 64, not "
                "ending in '-'), e.g. \"my-filter\"",
                name);
        return EXIT_USAGE;
    }
    if (!dir)
        dir = name;
    if (cli_mkdirs(dir) != 0) {
        cli_say(FR_LOG_ERROR, "new-plugin", "cannot create directory %s: %s", dir, strerror(errno));
        return EXIT_USAGE;
    }
    char id[72], c_file[96], test_file[96];
    snprintf(id, sizeof id, "%s", name);
    for (char *c = id; *c; c++)
        if (*c == '-')
            *c = '_';
    snprintf(c_file, sizeof c_file, "%s.c", name);
    snprintf(test_file, sizeof test_file, "test_%s.c", id);
    const char *const files[] = {c_file, test_file, "CMakeLists.txt"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        if (lstat(path, &st) == 0) {
            cli_say(FR_LOG_ERROR, "new-plugin", "%s exists; nothing written", path);
            return EXIT_USAGE;
        }
    }
    printf("flowrun: writing plugin %s:\n", name);
    if (new_plugin_write(dir, c_file, template_plugin, name, id) ||
        new_plugin_write(dir, test_file, template_test, name, id) ||
        new_plugin_write(dir, "CMakeLists.txt", template_cmake, name, id))
        return EXIT_USAGE;
    printf("build and test it against the installed flowrun:\n"
           "  cmake -S %s -B %s/build -DCMAKE_PREFIX_PATH=<flowrun prefix>\n"
           "  cmake --build %s/build && ctest --test-dir %s/build\n",
           dir, dir, dir, dir);
    return EXIT_DELIVERED;
}
