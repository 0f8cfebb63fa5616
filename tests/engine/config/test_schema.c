/* schema_apply, the scalar parsers, did-you-mean and schema_check_table. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "diag.h"
#include "schema.h"

static const fr_param resize_params[] = {
    {"width", FR_PARAM_INT, "224", 1, 4096, NULL, "output width"},
    {"filter", FR_PARAM_ENUM, "bilinear", 0, 0, "nearest|bilinear|bicubic", "resampling"},
    {"model", FR_PARAM_PATH, NULL, 0, 0, NULL, "model file"},
    {"buffer", FR_PARAM_SIZE, "64MiB", 4096, 1 << 30, NULL, "buffer size"},
    {"timeout", FR_PARAM_DURATION, "30s", 10, 3600000, NULL, "timeout"},
    {"verbose", FR_PARAM_BOOL, "off", 0, 0, NULL, "chatty"},
    {"ratio", FR_PARAM_FLOAT, "0.5", 0, 1, NULL, "a ratio"},
    {"label", FR_PARAM_STRING, "", 0, 0, NULL, "optional"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static int64_t size_of(const char *text)
{
    int64_t v = -1;
    char err[128] = "";
    if (schema_parse_size(text, &v, err, sizeof err) < 0)
        return -1;
    return v;
}

static int64_t ms_of(const char *text)
{
    int64_t v = -1;
    char err[128] = "";
    if (schema_parse_duration(text, &v, err, sizeof err) < 0)
        return -1;
    return v;
}

static void test_sizes(void)
{
    CHECK_INT(size_of("4096"), 4096);
    CHECK_INT(size_of("0"), 0);
    CHECK_INT(size_of("64KiB"), 65536);
    CHECK_INT(size_of("64MiB"), 64ll << 20);
    CHECK_INT(size_of("1GiB"), 1ll << 30);
    CHECK_INT(size_of("1GB"), 1000000000ll);
    CHECK_INT(size_of("10kB"), 10000);
    CHECK_INT(size_of("2TiB"), 2ll << 40);
    CHECK_INT(size_of("1.5GiB"), 3ll << 29);
    CHECK_INT(size_of("64 mib"), 64ll << 20);
    CHECK_INT(size_of("100B"), 100);
    CHECK_INT(size_of("10k"), -1); /* 1000 or 1024? refused */
    CHECK_INT(size_of("-1"), -1);
    CHECK_INT(size_of("1.5B"), -1);
    CHECK_INT(size_of(""), -1);
    CHECK_INT(size_of("MiB"), -1);
    CHECK_INT(size_of("9999999TiB"), -1);
    CHECK_INT(size_of("99999999999999999999"), -1);
    int64_t v;
    char err[128];
    CHECK_INT(schema_parse_size("10k", &v, err, sizeof err), -1);
    CHECK_STR(err, "expected a size like 4096, 64KiB, 64MiB or 1GB");
}

static void test_durations(void)
{
    CHECK_INT(ms_of("250ms"), 250);
    CHECK_INT(ms_of("30s"), 30000);
    CHECK_INT(ms_of("5m"), 300000);
    CHECK_INT(ms_of("2min"), 120000);
    CHECK_INT(ms_of("1h"), 3600000);
    CHECK_INT(ms_of("1.5s"), 1500);
    CHECK_INT(ms_of("30"), 30000);
    CHECK_INT(ms_of("1.5"), 1500);
    CHECK_INT(ms_of("0"), 0);
    CHECK_INT(ms_of("1h30m"), 5400000);
    CHECK_INT(ms_of("1m30s500ms"), 90500);
    CHECK_INT(ms_of("10x"), -1);
    CHECK_INT(ms_of("0.5ms"), -1);
    CHECK_INT(ms_of("0.0001"), -1);
    CHECK_INT(ms_of(""), -1);
    CHECK_INT(ms_of("s"), -1);
    CHECK_INT(ms_of("-1s"), -1);
    CHECK_INT(ms_of("5 m"), -1);
    int64_t v;
    char err[128];
    CHECK_INT(schema_parse_duration("soon", &v, err, sizeof err), -1);
    CHECK_STR(err, "expected a duration like 250ms, 30s, 5m or 1h");
}

static void test_scalars(void)
{
    int b = -1;
    char err[128];
    const char *yes[] = {"true", "yes", "on", "TRUE", "Yes"};
    const char *no[] = {"false", "no", "off", "Off"};
    for (size_t i = 0; i < 5; i++) {
        b = -1;
        CHECK_INT(schema_parse_bool(yes[i], &b, err, sizeof err), 0);
        CHECK_INT(b, 1);
    }
    for (size_t i = 0; i < 4; i++) {
        b = -1;
        CHECK_INT(schema_parse_bool(no[i], &b, err, sizeof err), 0);
        CHECK_INT(b, 0);
    }
    CHECK_INT(schema_parse_bool("1", &b, err, sizeof err), -1);
    CHECK_INT(schema_parse_bool("maybe", &b, err, sizeof err), -1);

    int64_t i = 0;
    CHECK_INT(schema_parse_int("42", &i, err, sizeof err), 0);
    CHECK_INT(i, 42);
    CHECK_INT(schema_parse_int("-7", &i, err, sizeof err), 0);
    CHECK_INT(i, -7);
    CHECK_INT(schema_parse_int("4.2", &i, err, sizeof err), -1);
    CHECK_STR(err, "expected an integer");
    CHECK_INT(schema_parse_int("", &i, err, sizeof err), -1);
    CHECK_INT(schema_parse_int("0x10", &i, err, sizeof err), -1);
    CHECK_INT(schema_parse_int("99999999999999999999", &i, err, sizeof err), -1);

    double f = 0;
    CHECK_INT(schema_parse_double("0.25", &f, err, sizeof err), 0);
    CHECK(f == 0.25);
    CHECK_INT(schema_parse_double("nan", &f, err, sizeof err), -1);
    CHECK_INT(schema_parse_double("1e999", &f, err, sizeof err), -1);
    CHECK_INT(schema_parse_double("abc", &f, err, sizeof err), -1);
}

static void test_did_you_mean(void)
{
    const char *keys[] = {"width", "filter", "model", "buffer", "timeout"};
    CHECK_STR(schema_did_you_mean("fliter", keys, 5), "filter");
    CHECK_STR(schema_did_you_mean("widht", keys, 5), "width");
    CHECK_STR(schema_did_you_mean("modle", keys, 5), "model");
    CHECK_STR(schema_did_you_mean("buffer_size", (const char *[]){"buffer_sizes"}, 1),
              "buffer_sizes");
    CHECK(schema_did_you_mean("zzz", keys, 5) == NULL);
    CHECK(schema_did_you_mean("colour", keys, 5) == NULL);
    CHECK(schema_did_you_mean("x", keys, 0) == NULL);
}

/* A value outside an enum's choices: file:line:col, stage, key, the choices
 * and the value; without a file or stage, the plugin names the prefix. */
static void test_enum_error_names_position_stage_key(void)
{
    schema_entry e[] = {
        {.key = "filter", .value = "cubic", .line = 12, .col = 5, .key_line = 12, .key_col = 5},
        {.key = "model", .value = "m.onnx", .line = 13, .col = 12}};
    schema_origin o = {.file = "pipelines/x.yaml", .stage = "resize", .plugin = "resize-224"};
    diag *d = diag_new();
    CHECK(schema_apply(resize_params, e, 2, &o, d) == NULL);
    CHECK_INT(diag_error_count(d), 1);
    CHECK_STR(diag_message(d, 0), "pipelines/x.yaml:12:5: stage \"resize\": key \"filter\": "
                                  "expected one of nearest|bilinear|bicubic, got \"cubic\"");
    diag_free(d);

    /* no file: no position; no stage: the plugin names the prefix */
    schema_origin o2 = {.file = NULL, .stage = NULL, .plugin = "resize-224"};
    d = diag_new();
    CHECK(schema_apply(resize_params, e, 2, &o2, d) == NULL);
    CHECK_STR(diag_message(d, 0), "plugin \"resize-224\": key \"filter\": "
                                  "expected one of nearest|bilinear|bicubic, got \"cubic\"");
    diag_free(d);
}

static void test_all_errors(void)
{
    schema_entry e[] = {
        {.key = "fliter", .value = "bilinear", .line = 3, .col = 13, .key_line = 3, .key_col = 5},
        {.key = "width", .value = "5000", .line = 4, .col = 12, .key_line = 4, .key_col = 5},
        {.key = "buffer", .value = "10k", .line = 5, .col = 13, .key_line = 5, .key_col = 5},
        {.key = "timeout", .value = "2h", .line = 6, .col = 14, .key_line = 6, .key_col = 5},
        {.key = "verbose", .value = NULL, .value_kind = "a list", .line = 7, .col = 14},
        {.key = "ratio", .value = "1.5", .line = 8, .col = 12},
        {.key = "width", .value = "10", .line = 9, .col = 12, .key_line = 9, .key_col = 5},
        {.key = "buffer", .value = "1KiB", .line = 5, .col = 13, .key_line = 5, .key_col = 5},
        {.key = "zzz", .value = "1", .line = 10, .col = 10, .key_line = 10, .key_col = 5},
    };
    schema_origin o = {
        .file = "p.yaml", .stage = "resize", .plugin = "resize-224", .line = 2, .col = 3};
    diag *d = diag_new();
    CHECK(schema_apply(resize_params, e, 6, &o, d) == NULL);
    CHECK_INT(diag_error_count(d), 7);
    CHECK_STR(diag_message(d, 0),
              "p.yaml:3:5: stage \"resize\": unknown key \"fliter\" (did you mean \"filter\"?)");
    CHECK_STR(diag_message(d, 1),
              "p.yaml:4:5: stage \"resize\": key \"width\": expected an integer from 1 to 4096, "
              "got \"5000\"");
    CHECK_STR(diag_message(d, 2),
              "p.yaml:5:5: stage \"resize\": key \"buffer\": expected a size like 4096, 64KiB, "
              "64MiB or 1GB, got \"10k\"");
    CHECK_STR(diag_message(d, 3), "p.yaml:6:5: stage \"resize\": key \"timeout\": expected a "
                                  "duration from 10ms to 1h, got \"2h\"");
    CHECK_STR(diag_message(d, 4),
              "p.yaml:7:14: stage \"resize\": key \"verbose\": expected true or false, got a list");
    CHECK_STR(diag_message(d, 5), "p.yaml:8:12: stage \"resize\": key \"ratio\": expected a "
                                  "number from 0 to 1, got \"1.5\"");
    CHECK_STR(diag_message(d, 6), "p.yaml:2:3: stage \"resize\": missing required key \"model\"");
    diag_free(d);

    d = diag_new();
    CHECK(schema_apply(resize_params, e + 6, 3, &o, d) == NULL);
    CHECK_INT(diag_error_count(d), 3);
    CHECK_STR(diag_message(d, 0), "p.yaml:5:5: stage \"resize\": key \"buffer\": expected a "
                                  "size from 4KiB to 1GiB, got \"1KiB\"");
    CHECK_STR(diag_message(d, 1), "p.yaml:10:5: stage \"resize\": unknown key \"zzz\"");
    CHECK_STR(diag_message(d, 2), "p.yaml:2:3: stage \"resize\": missing required key \"model\"");
    char *all = diag_join(d);
    CHECK_STR(all, "p.yaml:5:5: stage \"resize\": key \"buffer\": expected a size from 4KiB to "
                   "1GiB, got \"1KiB\"\np.yaml:10:5: stage \"resize\": unknown key \"zzz\"\n"
                   "p.yaml:2:3: stage \"resize\": missing required key \"model\"");
    free(all);
    diag_free(d);

    /* a key given twice (the harness can pass that) */
    schema_entry twice[] = {{.key = "model", .value = "a", .key_line = 3, .key_col = 5},
                            {.key = "model", .value = "b", .key_line = 4, .key_col = 5}};
    d = diag_new();
    CHECK(schema_apply(resize_params, twice, 2, &o, d) == NULL);
    CHECK_STR(diag_message(d, 0),
              "p.yaml:4:5: stage \"resize\": duplicate key \"model\" (first at line 3)");
    diag_free(d);
}

static void test_defaults(void)
{
    schema_entry e[] = {{.key = "model", .value = "/m/resnet.onnx"},
                        {.key = "timeout", .value = "1.5s"},
                        {.key = "verbose", .value = "yes"}};
    schema_origin o = {.plugin = "resize-224"};
    diag *d = diag_new();
    schema_values *v = schema_apply(resize_params, e, 3, &o, d);
    CHECK(v != NULL);
    CHECK_INT(diag_count(d), 0);
    if (!v) {
        diag_free(d);
        return;
    }
    int found = -1;
    CHECK_INT(schema_int(v, "width", &found), 224);
    CHECK_INT(found, 1);
    CHECK_STR(schema_string(v, "filter", NULL), "bilinear");
    CHECK_STR(schema_string(v, "model", NULL), "/m/resnet.onnx");
    CHECK_INT(schema_int(v, "buffer", NULL), 64ll << 20);
    CHECK_INT(schema_int(v, "timeout", NULL), 1500);
    CHECK_STR(schema_string(v, "timeout", NULL), "1.5s");
    CHECK_INT(schema_bool(v, "verbose", NULL), 1);
    CHECK(schema_double(v, "ratio", NULL) == 0.5);
    CHECK_STR(schema_string(v, "label", &found), "");
    CHECK_INT(found, 1);
    CHECK_STR(schema_string(v, "nope", &found), "");
    CHECK_INT(found, 0);
    CHECK_INT(schema_int(v, "nope", &found), 0);
    CHECK_INT(found, 0);
    schema_values_free(v);

    /* a plugin without params takes no keys */
    v = schema_apply(NULL, NULL, 0, &o, d);
    CHECK(v != NULL);
    schema_values_free(v);
    diag_free(d);
}

static void test_check_table(void)
{
    char err[256] = "";
    CHECK_INT(schema_check_table(resize_params, err, sizeof err), 0);
    CHECK_INT(schema_check_table(NULL, err, sizeof err), 0);

#define BAD_TABLE(expected, ...)                                                                   \
    do {                                                                                           \
        const fr_param t_[] = {__VA_ARGS__, {NULL, 0, NULL, 0, 0, NULL, NULL}};                    \
        err[0] = '\0';                                                                             \
        CHECK_INT(schema_check_table(t_, err, sizeof err), -1);                                    \
        CHECK_STR(err, expected);                                                                  \
    } while (0)

    BAD_TABLE("key \"n\": default \"x\": expected an integer",
              {"n", FR_PARAM_INT, "x", 0, 0, NULL, ""});
    BAD_TABLE("key \"n\": default \"0\": expected an integer from 1 to 8",
              {"n", FR_PARAM_INT, "0", 1, 8, NULL, ""});
    BAD_TABLE("key \"f\": default \"cubic\": expected one of a|b",
              {"f", FR_PARAM_ENUM, "cubic", 0, 0, "a|b", ""});
    BAD_TABLE("key \"f\": enum needs choices like \"a|b\", got \"(null)\"",
              {"f", FR_PARAM_ENUM, NULL, 0, 0, NULL, ""});
    BAD_TABLE("key \"f\": enum needs choices like \"a|b\", got \"a||b\"",
              {"f", FR_PARAM_ENUM, NULL, 0, 0, "a||b", ""});
    BAD_TABLE("key \"replicas\": reserved for the engine",
              {"replicas", FR_PARAM_INT, "1", 0, 0, NULL, ""});
    BAD_TABLE("key \"a\": declared twice", {"a", FR_PARAM_STRING, "", 0, 0, NULL, ""},
              {"a", FR_PARAM_INT, "1", 0, 0, NULL, ""});
    BAD_TABLE("key \"Bad-Key\": must match [a-z][a-z0-9_]*",
              {"Bad-Key", FR_PARAM_STRING, "", 0, 0, NULL, ""});
    BAD_TABLE("key \"n\": min 5 is above max 1", {"n", FR_PARAM_INT, NULL, 5, 1, NULL, ""});
    BAD_TABLE("key \"s\": bounds on a string", {"s", FR_PARAM_STRING, NULL, 1, 2, NULL, ""});
    BAD_TABLE("key \"t\": unknown type 99", {"t", (fr_param_type)99, NULL, 0, 0, NULL, ""});
    CHECK_STR(schema_type_name(FR_PARAM_DURATION), "duration");
    CHECK_STR(schema_type_name(FR_PARAM_SIZE), "size");
    CHECK_STR(schema_type_name(FR_PARAM_INPUT_FILE), "input file");

    /* An input file's condition names another key and, for an enum, one of its values. */
    const fr_param conditional[] = {
        {"fit", FR_PARAM_ENUM, "batch", 0, 0, "batch|none", ""},
        {"model", FR_PARAM_INPUT_FILE, "", 0, 0, "fit=none", ""},
        {"weights", FR_PARAM_INPUT_FILE, NULL, 0, 0, NULL, ""},
        {NULL, 0, NULL, 0, 0, NULL, NULL},
    };
    CHECK_INT(schema_check_table(conditional, err, sizeof err), 0);
#define BAD_CONDITION(choices)                                                                     \
    "key \"model\": an input file's condition must be \"key=value\" naming another key and one "   \
    "of its values, got \"" choices "\""
    BAD_TABLE(BAD_CONDITION("fit=never"), {"fit", FR_PARAM_ENUM, "batch", 0, 0, "batch|none", ""},
              {"model", FR_PARAM_INPUT_FILE, "", 0, 0, "fit=never", ""});
    BAD_TABLE(BAD_CONDITION("fti=none"), {"fit", FR_PARAM_ENUM, "batch", 0, 0, "batch|none", ""},
              {"model", FR_PARAM_INPUT_FILE, "", 0, 0, "fti=none", ""});
    BAD_TABLE(BAD_CONDITION("none"), {"model", FR_PARAM_INPUT_FILE, "", 0, 0, "none", ""});
    BAD_TABLE(BAD_CONDITION("model=x"), {"model", FR_PARAM_INPUT_FILE, "", 0, 0, "model=x", ""});
#undef BAD_CONDITION
}

/* ABI 1.1: an ENUM's value by its index in the choices; -1 for other types
 * and for an optional ENUM left empty. */
static void test_enum_index(void)
{
    static const fr_param t[] = {
        {"filter", FR_PARAM_ENUM, "bilinear", 0, 0, "nearest|bilinear|bicubic", ""},
        {"edge", FR_PARAM_ENUM, "", 0, 0, "clamp|wrap", ""},
        {"width", FR_PARAM_INT, "224", 1, 4096, NULL, ""},
        {NULL, 0, NULL, 0, 0, NULL, NULL},
    };
    schema_entry given[] = {{.key = "filter", .value = "bicubic"}};
    schema_origin o = {.plugin = "p"};
    diag *d = diag_new();
    schema_values *v = schema_apply(t, given, 1, &o, d);
    schema_values *dflt = schema_apply(t, NULL, 0, &o, d);
    REQUIRE_VOID(v && dflt);
    int found = 0;
    CHECK_INT(schema_enum(v, "filter", &found), 2);
    CHECK_INT(found, 1);
    CHECK_INT(schema_enum(dflt, "filter", NULL), 1);
    CHECK_INT(schema_enum(v, "edge", NULL), -1);
    CHECK_INT(schema_enum(v, "width", NULL), -1);
    CHECK_INT(schema_enum(v, "nope", &found), -1);
    CHECK_INT(found, 0);
    CHECK(schema_param_is_enum(t, "filter") && !schema_param_is_enum(t, "width") &&
          !schema_param_is_enum(t, "nope"));
    schema_values_free(v);
    schema_values_free(dflt);
    diag_free(d);
}

/* FR_NO_MIN / FR_NO_MAX leave a side open, in checks and in the text;
 * min == max == 0 is still "unbounded" (ABI 1.0). */
static void test_open_bounds(void)
{
    static const fr_param t[] = {
        {"at_least", FR_PARAM_INT, "1", 1, FR_NO_MAX, NULL, ""},
        {"at_most", FR_PARAM_DURATION, "1s", FR_NO_MIN, 10000, NULL, ""},
        {"legacy", FR_PARAM_INT, "-5", 0, 0, NULL, ""},
        {"both", FR_PARAM_FLOAT, "0", FR_NO_MIN, FR_NO_MAX, NULL, ""},
        {NULL, 0, NULL, 0, 0, NULL, NULL},
    };
    char text[80];
    schema_bounds_text(&t[0], text, sizeof text);
    CHECK_STR(text, "at least 1");
    schema_bounds_text(&t[1], text, sizeof text);
    CHECK_STR(text, "at most 10s");
    schema_bounds_text(&t[2], text, sizeof text);
    CHECK_STR(text, "");
    schema_bounds_text(&t[3], text, sizeof text);
    CHECK_STR(text, "");
    CHECK_INT(schema_check_table(t, text, sizeof text), 0);

    schema_entry ok[] = {{.key = "at_least", .value = "9223372036854775807"},
                         {.key = "at_most", .value = "0s"},
                         {.key = "legacy", .value = "-9223372036854775807"},
                         {.key = "both", .value = "-1e300"}};
    schema_entry bad[] = {{.key = "at_least", .value = "0", .line = 2, .col = 3},
                          {.key = "at_most", .value = "11s", .line = 3, .col = 3}};
    schema_origin o = {.file = "p.yaml", .stage = "s"};
    diag *d = diag_new();
    schema_values *v = schema_apply(t, ok, 4, &o, d);
    CHECK(v != NULL);
    CHECK_INT(diag_count(d), 0);
    schema_values_free(v);
    CHECK(schema_apply(t, bad, 2, &o, d) == NULL);
    CHECK_INT(diag_error_count(d), 2);
    CHECK_STR(
        diag_message(d, 0),
        "p.yaml:2:3: stage \"s\": key \"at_least\": expected an integer at least 1, got \"0\"");
    CHECK_STR(
        diag_message(d, 1),
        "p.yaml:3:3: stage \"s\": key \"at_most\": expected a duration at most 10s, got \"11s\"");
    diag_free(d);
}

int main(void)
{
    test_enum_index();
    test_open_bounds();
    test_sizes();
    test_durations();
    test_scalars();
    test_did_you_mean();
    test_enum_error_names_position_stage_key();
    test_all_errors();
    test_defaults();
    test_check_table();
    return check_exit();
}
