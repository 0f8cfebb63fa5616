/* The pipeline file: shape, engine keys, ${ENV}, and every error message
 * with its file:line:col, all errors of a file in one run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "diag.h"
#include "envsubst.h"
#include "schema.h"

#ifndef FIXTURES
#error "FIXTURES must name tests/engine/config/fixtures"
#endif

/* What a load left: its messages (the caller frees them; d is freed) and
 * the pipeline p into *out, or freed when out is NULL. */
static char *loaded(config_pipeline *p, diag *d, config_pipeline **out)
{
    char *msgs = diag_join(d);
    diag_free(d);
    if (out)
        *out = p;
    else
        config_free(p);
    return msgs;
}

/* Loads FIXTURES/name and returns its messages (caller frees) and the
 * pipeline (NULL allowed) in *out. */
static char *load_fixture(const char *name, config_pipeline **out, char *path, size_t path_size)
{
    snprintf(path, path_size, "%s/%s", FIXTURES, name);
    diag *d = diag_new();
    return loaded(config_load(path, d), d, out);
}

/* Loads yaml from a string as "pipelines/x.yaml": its messages. */
static char *load_string(const char *yaml, config_pipeline **out)
{
    diag *d = diag_new();
    return loaded(config_load_string(yaml, "pipelines/x.yaml", d), d, out);
}

static void test_envsubst(void)
{
    char err[256] = "";
    setenv("FR_A", "alpha", 1);
    setenv("FR_EMPTY", "", 1);
    unsetenv("FR_UNSET");
    struct {
        const char *in, *out;
    } ok[] = {
        {"${FR_A}", "alpha"},
        {"x/${FR_A}/y", "x/alpha/y"},
        {"${FR_A:-d}", "alpha"},
        {"${FR_UNSET:-dflt}", "dflt"},
        {"${FR_EMPTY:-dflt}", "dflt"},
        {"${FR_EMPTY}", ""},
        {"${FR_UNSET:-}", ""},
        {"${FR_UNSET:-${FR_A}/x}", "alpha/x"},
        {"costs $$5", "costs $5"},
        {"$${FR_A}", "${FR_A}"},
        {"$HOME and a$", "$HOME and a$"},
        {"no vars", "no vars"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char *s = envsubst_expand(ok[i].in, err, sizeof err);
        CHECK_STR(s, ok[i].out);
        free(s);
    }
    CHECK(envsubst_expand("${FR_UNSET}", err, sizeof err) == NULL);
    CHECK_STR(err, "undefined environment variable \"FR_UNSET\" (set it, or write "
                   "${FR_UNSET:-default})");
    CHECK(envsubst_expand("a ${FR_A", err, sizeof err) == NULL);
    CHECK_STR(err, "unterminated \"${\"");
    CHECK(envsubst_expand("${1A}", err, sizeof err) == NULL);
    CHECK_STR(err, "bad variable reference \"${1A}\" (expected ${NAME} or ${NAME:-default})");
    CHECK(envsubst_expand("${FR_A-x}", err, sizeof err) == NULL);
    CHECK(envsubst_expand("${}", err, sizeof err) == NULL);
}

static void test_good_file(void)
{
    char path[1024];
    setenv("FLOWRUN_TEST_DATA", "/data/fruits", 1);
    unsetenv("FLOWRUN_TEST_HOME");
    unsetenv("FLOWRUN_TEST_MODEL");
    config_pipeline *p = NULL;
    char *msgs = load_fixture("good.yaml", &p, path, sizeof path);
    CHECK_STR(msgs, "");
    free(msgs);
    REQUIRE_VOID(p);
    CHECK_STR(p->file, path);
    CHECK_STR(p->name, "fruits");
    CHECK_STR(p->dead_letters, "out/fruits.dead.jsonl");
    REQUIRE_VOID(p->n_plugin_path == 2);
    CHECK_STR(p->plugin_path[0], "build/plugins");
    CHECK_STR(p->plugin_path[1], "/opt/plugins");
    REQUIRE_VOID(p->n_nodes == 2);
    CHECK_STR(p->nodes[0].name, "ingest");
    CHECK_STR(p->nodes[0].endpoint, "tcp://10.0.0.2:7100");
    CHECK_INT(p->nodes[0].line, 6);
    CHECK_INT(p->nodes[0].col, 3);
    CHECK_STR(p->nodes[1].endpoint, "ipc:///run/flowrun/gpu1");
    REQUIRE_VOID(p->n_stages == 6);
    const char *order[] = {"images", "decode", "resize", "embed", "join", "price"};
    for (size_t i = 0; i < 6; i++)
        CHECK_STR(p->stages[i].name, order[i]);

    const config_stage *images = config_find_stage(p, "images");
    REQUIRE_VOID(images);
    CHECK_INT(images->line, 9);
    CHECK_INT(images->col, 3);
    CHECK_STR(images->plugin.name, "dir-source");
    CHECK_INT(images->plugin.line, 10);
    CHECK_INT(images->plugin.col, 13);
    CHECK_INT(images->n_inputs, 0);
    CHECK_STR(images->node.name, "ingest");
    CHECK_INT(images->replicas, 1);
    CHECK_INT(images->retries, 3);
    CHECK_INT(images->retry_backoff_ms, 100);
    REQUIRE_VOID(images->n_entries == 1);
    CHECK_STR(images->entries[0].key, "path");
    CHECK_STR(images->entries[0].value, "/data/fruits/Training");
    CHECK_INT(images->entries[0].key_line, 11);
    CHECK_INT(images->entries[0].key_col, 5);
    CHECK_INT(images->entries[0].line, 11);
    CHECK_INT(images->entries[0].col, 11);

    const config_stage *decode = config_find_stage(p, "decode");
    REQUIRE_VOID(decode && decode->n_inputs == 1);
    CHECK_STR(decode->inputs[0].name, "images");
    CHECK_INT(decode->inputs[0].line, 13);
    CHECK_INT(decode->inputs[0].col, 43);
    CHECK(decode->node.name == NULL);

    const config_stage *embed = config_find_stage(p, "embed");
    REQUIRE_VOID(embed);
    CHECK_INT(embed->replicas, 2);
    CHECK_INT(embed->retries, 5);
    CHECK_INT(embed->retry_backoff_ms, 1500);
    CHECK_STR(embed->node.name, "gpu1");
    REQUIRE_VOID(embed->n_entries == 1);
    CHECK_STR(embed->entries[0].key, "model");
    CHECK_STR(embed->entries[0].value, "models/r50.onnx");

    const config_stage *join = config_find_stage(p, "join");
    REQUIRE_VOID(join && join->n_inputs == 2);
    CHECK_STR(join->inputs[0].name, "embed");
    CHECK_STR(join->inputs[1].name, "resize");

    const config_stage *price = config_find_stage(p, "price");
    REQUIRE_VOID(price && price->n_entries == 4);
    CHECK_STR(price->entries[0].value, "costs $5");
    CHECK_STR(price->entries[1].key, "empty");
    CHECK_STR(price->entries[1].value, "");
    CHECK(price->entries[2].value == NULL);
    CHECK_STR(price->entries[2].value_kind, "a list");
    CHECK(price->entries[3].value == NULL);
    CHECK_STR(price->entries[3].value_kind, "no value");
    CHECK(config_find_stage(p, "nope") == NULL);
    config_free(p);

    /* the same file with the variables set: the values follow */
    setenv("FLOWRUN_TEST_HOME", "/home/me", 1);
    setenv("FLOWRUN_TEST_MODEL", "/m/r.onnx", 1);
    msgs = load_fixture("good.yaml", &p, path, sizeof path);
    CHECK_STR(msgs, "");
    free(msgs);
    REQUIRE_VOID(p);
    CHECK_STR(p->plugin_path[1], "/home/me/plugins");
    CHECK_STR(config_find_stage(p, "embed")->entries[0].value, "/m/r.onnx");
    config_free(p);
}

/* Every error of errors.yaml comes out of one run, in file order per part. */
static void test_all_errors_in_one_run(void)
{
    char path[1024], expected[16384];
    unsetenv("FLOWRUN_TEST_UNSET_VAR");
    config_pipeline *p = NULL;
    char *msgs = load_fixture("errors.yaml", &p, path, sizeof path);
    const char *f = path;
    snprintf(expected, sizeof expected,
             "%s:2:1: unknown top-level key \"stagez\" (did you mean \"stages\"?)\n"
             "%s:8:11: stage \"images\": key \"path\": undefined environment variable "
             "\"FLOWRUN_TEST_UNSET_VAR\" (set it, or write ${FLOWRUN_TEST_UNSET_VAR:-default})\n"
             "%s:9:5: stage \"images\": key \"replicas\": expected an integer from 1 to 256, "
             "got \"0\"\n"
             "%s:10:3: stage name \"Decode\" must match [a-z0-9_-]+\n"
             "%s:16:5: stage \"embed\": duplicate key \"inputs\" (first at line 14)\n"
             "%s:13:3: stage \"embed\": missing required key \"plugin\"\n"
             "%s:15:11: stage \"embed\": key \"node\": unknown node \"gpu2\" (did you mean "
             "\"gpu1\"?)\n"
             "%s:19:5: stage \"sink\": key \"retry_backoff\": expected a duration like 250ms, "
             "30s, 5m or 1h, got \"soon\"\n"
             "%s:20:5: stage \"sink\": key \"retries\": expected an integer, got a list",
             f, f, f, f, f, f, f, f, f);
    CHECK_STR(msgs, expected);
    free(msgs);
    /* what could be read is still there for later checks */
    CHECK(p != NULL);
    if (p) {
        CHECK_INT(p->n_stages, 4);
        CHECK_STR(p->name, "broken");
    }
    config_free(p);
}

/* YAML positions reach the plugin's schema: a bad value is reported at the
 * value's line:col, an unknown key at the key's, with a suggestion. */
static void test_schema_errors_carry_yaml_positions(void)
{
    static const fr_param resize_params[] = {
        {"filter", FR_PARAM_ENUM, "bilinear", 0, 0, "nearest|bilinear|bicubic", "resampling"},
        {NULL, 0, NULL, 0, 0, NULL, NULL},
    };
    char path[1024];
    config_pipeline *p = NULL;
    char *msgs = load_fixture("x.yaml", &p, path, sizeof path);
    CHECK_STR(msgs, "");
    free(msgs);
    REQUIRE_VOID(p);
    /* the same text from memory, named pipelines/x.yaml: messages that do
     * not depend on where the build tree is */
    FILE *fp = fopen(path, "rb");
    REQUIRE_VOID(fp);
    char text[4096];
    size_t n = fread(text, 1, sizeof text - 1, fp);
    text[n] = '\0';
    fclose(fp);
    config_free(p);
    msgs = load_string(text, &p);
    CHECK_STR(msgs, "");
    free(msgs);
    REQUIRE_VOID(p);

    const config_stage *st = config_find_stage(p, "resize");
    REQUIRE_VOID(st);
    schema_origin o = {.file = p->file,
                       .stage = st->name,
                       .plugin = st->plugin.name,
                       .line = st->line,
                       .col = st->col};
    diag *d = diag_new();
    CHECK(schema_apply(resize_params, st->entries, st->n_entries, &o, d) == NULL);
    msgs = diag_join(d);
    CHECK_STR(msgs, "pipelines/x.yaml:12:5: stage \"resize\": key \"filter\": expected one of "
                    "nearest|bilinear|bicubic, got \"cubic\"\n"
                    "pipelines/x.yaml:13:5: stage \"resize\": unknown key \"fliter\" (did you mean "
                    "\"filter\"?)");
    free(msgs);
    diag_free(d);
    config_free(p);
}

static void test_syntax_and_missing(void)
{
    char path[1024], expected[2048];
    config_pipeline *p = (config_pipeline *)1;
    char *msgs = load_fixture("syntax.yaml", &p, path, sizeof path);
    CHECK(p == NULL);
    snprintf(expected, sizeof expected,
             "%s:5:9: YAML syntax error: did not find expected ',' or ']' (while parsing a flow "
             "sequence at line 4)",
             path);
    CHECK_STR(msgs, expected);
    free(msgs);

    p = (config_pipeline *)1;
    msgs = load_fixture("no-such-file.yaml", &p, path, sizeof path);
    CHECK(p == NULL);
    snprintf(expected, sizeof expected,
             "%s: cannot read the pipeline file: No such file or directory", path);
    CHECK_STR(msgs, expected);
    free(msgs);

    /* a block mapping indented wrongly */
    msgs = load_string("stages:\n  a:\n    plugin: x\n   b: 1\n", &p);
    CHECK(p == NULL);
    CHECK_STR(msgs, "pipelines/x.yaml:4:4: YAML syntax error: did not find expected key (while "
                    "parsing a block mapping at line 2)");
    free(msgs);

    msgs = load_string("", &p);
    CHECK(p == NULL);
    CHECK_STR(msgs, "pipelines/x.yaml: empty file: a pipeline needs at least stages:");
    free(msgs);

    msgs = load_string("- a\n- b\n", &p);
    CHECK(p == NULL);
    CHECK_STR(msgs, "pipelines/x.yaml:1:1: expected a mapping with stages:, got a list");
    free(msgs);

    msgs = load_string("stages: {a: {plugin: p}}\n---\nstages: {}\n", &p);
    CHECK(p == NULL);
    CHECK_STR(msgs,
              "pipelines/x.yaml:2:1: a second YAML document: a pipeline file holds exactly one");
    free(msgs);

    /* an alias to itself cannot become a tree */
    msgs = load_string("stages: &a {x: *a}\n", &p);
    CHECK(p == NULL);
    CHECK_CONTAINS(msgs, "pipelines/x.yaml:");
    free(msgs);
}

static void test_structure_errors(void)
{
    config_pipeline *p = NULL;
    char *msgs;

    msgs = load_string("name: x\nname: y\nstages: {a: {plugin: p}}\n", &p);
    CHECK_STR(msgs, "pipelines/x.yaml:2:1: duplicate key \"name\" (first at line 1)");
    free(msgs);
    CHECK(p && strcmp(p->name, "x") == 0);
    config_free(p);

    msgs = load_string("stages:\n  a: {plugin: p}\n  a: {plugin: q}\n", NULL);
    CHECK_STR(msgs, "pipelines/x.yaml:3:3: stages: duplicate key \"a\" (first at line 2)");
    free(msgs);

    msgs = load_string("name: x\n", NULL);
    CHECK_STR(msgs, "pipelines/x.yaml:1:1: missing required key \"stages\"");
    free(msgs);

    msgs = load_string("stages: {}\n", NULL);
    CHECK_STR(msgs, "pipelines/x.yaml:1:9: key \"stages\": no stages");
    free(msgs);

    msgs = load_string("stages: [a, b]\n", NULL);
    CHECK_STR(
        msgs,
        "pipelines/x.yaml:1:9: key \"stages\": expected a mapping of stage names, got a list");
    free(msgs);

    msgs = load_string("stages:\n  a: dir-source\n  b: {plugin: [x]}\n  c: {plugin: }\n", NULL);
    CHECK_STR(msgs, "pipelines/x.yaml:2:6: stage \"a\": expected a mapping with plugin: and the "
                    "plugin's keys, got a string\n"
                    "pipelines/x.yaml:3:15: stage \"b\": key \"plugin\": expected a plugin name, "
                    "got a list\n"
                    "pipelines/x.yaml:4:15: stage \"c\": key \"plugin\": expected a plugin name, "
                    "got no value");
    free(msgs);

    msgs = load_string("stages:\n  my.stage: {plugin: p}\n  ok_1-b: {plugin: p}\n", NULL);
    CHECK_STR(msgs, "pipelines/x.yaml:2:3: stage name \"my.stage\" must match [a-z0-9_-]+");
    free(msgs);

    msgs = load_string("stages:\n  a: {plugin: p, replicas: 257}\n  b: {plugin: p, replicas: two}\n"
                       "  c: {plugin: p, replicas: 256, retries: -1}\n",
                       NULL);
    CHECK_STR(msgs, "pipelines/x.yaml:2:18: stage \"a\": key \"replicas\": expected an integer "
                    "from 1 to 256, got \"257\"\n"
                    "pipelines/x.yaml:3:18: stage \"b\": key \"replicas\": expected an integer, "
                    "got \"two\"\n"
                    "pipelines/x.yaml:4:33: stage \"c\": key \"retries\": expected an integer from "
                    "0 to 1000, got \"-1\"");
    free(msgs);

    msgs = load_string("stages:\n  a: {plugin: p, inputs: {x: 1}}\n  b: {plugin: p, inputs: [a, "
                       "[c]]}\n",
                       &p);
    CHECK_STR(msgs, "pipelines/x.yaml:2:26: stage \"a\": key \"inputs\": expected a stage name or "
                    "a list of them, got a mapping\n"
                    "pipelines/x.yaml:3:30: stage \"b\": key \"inputs\": expected a stage name or "
                    "a list of them, got a list");
    free(msgs);
    CHECK(p && p->stages[1].n_inputs == 1);
    config_free(p);

    msgs = load_string("stages:\n  a: {plugin: p, node: here}\n", NULL);
    CHECK_STR(msgs, "pipelines/x.yaml:2:24: stage \"a\": key \"node\": unknown node \"here\" (the "
                    "file has no nodes:)");
    free(msgs);

    msgs = load_string("nodes:\n  n1: {endpoint: \"http://x\"}\n  n2: {endpiont: \"tcp://a:1\"}\n"
                       "  N3: {endpoint: \"ipc:///x\"}\n  n4: tcp://a:1\n"
                       "stages:\n  a: {plugin: p, node: n1}\n",
                       NULL);
    CHECK_STR(msgs, "pipelines/x.yaml:2:18: node \"n1\": key \"endpoint\": expected "
                    "tcp://host:port or ipc://path, got \"http://x\"\n"
                    "pipelines/x.yaml:3:8: node \"n2\": unknown key \"endpiont\" (did you mean "
                    "\"endpoint\"?)\n"
                    "pipelines/x.yaml:3:3: node \"n2\": missing required key \"endpoint\"\n"
                    "pipelines/x.yaml:4:3: node name \"N3\" must match [a-z0-9_-]+\n"
                    "pipelines/x.yaml:5:7: node \"n4\": expected a mapping {endpoint: ...}, got a "
                    "string");
    free(msgs);

    msgs = load_string("nodes: [a]\nstages: {a: {plugin: p}}\nplugin_path: {a: b}\n"
                       "name: [x]\ndead_letters: ${FR_UNSET}\n",
                       NULL);
    CHECK_STR(msgs, "pipelines/x.yaml:1:8: key \"nodes\": expected a mapping of node names to "
                    "{endpoint: ...}, got a list\n"
                    "pipelines/x.yaml:3:14: key \"plugin_path\": expected a directory or a list "
                    "of them, got a mapping\n"
                    "pipelines/x.yaml:4:7: key \"name\": expected a pipeline name, got a list\n"
                    "pipelines/x.yaml:5:15: key \"dead_letters\": undefined environment variable "
                    "\"FR_UNSET\" (set it, or write ${FR_UNSET:-default})");
    free(msgs);

    msgs = load_string("stages: {a: {plugin: p}}\n? [k]\n: v\n", NULL);
    CHECK_STR(msgs, "pipelines/x.yaml:2:3: expected a key, got a list");
    free(msgs);
}

static void test_defaults(void)
{
    config_pipeline *p = NULL;
    diag *d = diag_new();
    p = config_load_string("stages: {a: {plugin: p, inputs: b, retry_backoff: 2}}\n",
                           "dir/my-pipe.yaml", d);
    CHECK_INT(diag_count(d), 0);
    REQUIRE_VOID(p);
    CHECK_STR(p->name, "my-pipe");
    CHECK_STR(p->dead_letters, "my-pipe.dead.jsonl");
    CHECK_INT(p->n_plugin_path, 0);
    CHECK_INT(p->n_nodes, 0);
    CHECK_INT(p->stages[0].retry_backoff_ms, 2000);
    CHECK_STR(p->stages[0].inputs[0].name, "b");
    config_free(p);

    p = config_load_string("name: n\nstages: {a: {plugin: p}}\nplugin_path: /x\n", NULL, d);
    REQUIRE_VOID(p);
    CHECK_INT(diag_count(d), 0);
    CHECK_STR(p->dead_letters, "n.dead.jsonl");
    CHECK_INT(p->n_plugin_path, 1);
    CHECK_STR(p->plugin_path[0], "/x");
    config_free(p);

    /* without a file: messages carry no position */
    p = config_load_string("stages: {a: {plugin: p, replicas: 0}}\n", NULL, d);
    char *msgs = diag_join(d);
    CHECK_STR(msgs, "stage \"a\": key \"replicas\": expected an integer from 1 to 256, got \"0\"");
    free(msgs);
    config_free(p);
    diag_free(d);
}

int main(void)
{
    test_envsubst();
    test_good_file();
    test_all_errors_in_one_run();
    test_schema_errors_carry_yaml_positions();
    test_syntax_and_missing();
    test_structure_errors();
    test_defaults();
    return check_exit();
}
