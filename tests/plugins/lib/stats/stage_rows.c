/*
 * stage_rows.c — pushes the rows of a float32 matrix file through a stage
 * plugin (online-scaler, incremental-pca) with the real loader and harness,
 * and writes what came out, for the plugins' Python tests.
 *
 *   test-stats-stage-rows PLUGIN ROWS DIM IN OUT META [key=value ...]
 *
 * Row r is sent as id "src:r", key "k/r", label "L<r mod 3>".  OUT gets the
 * output payloads in order (float32); META one line per output record,
 * "id key label model_version", then "emitted_before_flush N",
 * "checkpointed N" (ids declared with fr_checkpoint), "rows_reloaded N",
 * "duplicates_skipped N" and "report <json>" for the stage's "pca" report,
 * if any.
 *
 * A crash and its rerun (durable runs), through the environment:
 *   STAGE_ROWS_STATE=DIR      the stage's state directory (kept)
 *   STAGE_ROWS_RESUME=1       the run resumes an interrupted one (fr_run_kind)
 *   STAGE_ROWS_FROM=K         push rows K.. only (a source skipping held keys)
 *   STAGE_ROWS_KILL_AFTER=N   SIGKILL this process after pushing N rows
 */
#include <flowrun/harness.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, const char *why)
{
    fprintf(stderr, "stage-rows: %s: %s\n", what, why);
    return 1;
}

/* key=value arguments as the harness's NULL-terminated pair list. */
static const char **config_pairs(int argc, char **argv)
{
    const char **pairs = calloc((size_t)argc * 2 + 1, sizeof *pairs);
    for (int i = 0; pairs && i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq)
            return NULL;
        *eq = '\0';
        pairs[2 * i] = argv[i];
        pairs[2 * i + 1] = eq + 1;
    }
    return pairs;
}

/* Row r carries r % 3 attributes: "row" (r) and "note" (a comma, a quote
 * and a newline); the outputs must carry the same. */
#define NOTE "a, \"b\"\nc"

static int attrs_as_pushed(const fr_record *r)
{
    size_t row = (size_t)atol(r->key + 2);
    char want[32];
    snprintf(want, sizeof want, "%zu", row);
    if (r->n_attrs != row % 3)
        return 0;
    for (uint32_t a = 0; a < r->n_attrs; a++)
        if (strcmp(r->attrs[a].name, a ? "note" : "row") != 0 ||
            strcmp(r->attrs[a].value, a ? NOTE : want) != 0)
            return 0;
    return 1;
}

static size_t env_size(const char *name, size_t otherwise)
{
    const char *v = getenv(name);
    return v && *v ? (size_t)atol(v) : otherwise;
}

static int push_rows(fr_harness *h, const float *x, size_t n, uint32_t d)
{
    char id[32], key[32], label[8];
    size_t kill_after = env_size("STAGE_ROWS_KILL_AFTER", SIZE_MAX), pushed = 0;
    for (size_t r = env_size("STAGE_ROWS_FROM", 0); r < n; r++) {
        if (pushed++ == kill_after)
            raise(SIGKILL); /* a crash: no flush, no fini */
        snprintf(id, sizeof id, "src:%zu", r);
        snprintf(key, sizeof key, "k/%zu", r);
        snprintf(label, sizeof label, "L%zu", r % 3);
        char row[32];
        snprintf(row, sizeof row, "%zu", r);
        fr_attr attrs[2] = {{"row", row}, {"note", NOTE}};
        fr_record rec = {.id = id,
                         .attrs = attrs,
                         .n_attrs = (uint32_t)(r % 3),
                         .key = key,
                         .label = label,
                         .payload = {.kind = FR_KIND_TENSOR,
                                     .rank = 1,
                                     .dims = {d},
                                     .data = (void *)(x + r * d),
                                     .size = d * sizeof(float)}};
        if (fr_harness_push(h, &rec) != FR_OK)
            return fail("push", fr_harness_reason(h));
    }
    return 0;
}

static int write_outputs(fr_harness *h, size_t before_flush, const char *out, const char *meta)
{
    FILE *fo = fopen(out, "wb"), *fm = fopen(meta, "w");
    int rc = fo && fm ? 0 : fail(out, "cannot write");
    for (size_t i = 0; !rc && i < fr_harness_output_count(h); i++) {
        const fr_record *r = fr_harness_output(h, i);
        if (!attrs_as_pushed(r))
            rc = fail(r->key, "attributes differ from the input record's");
        fwrite(r->payload.data, 1, r->payload.size, fo);
        fprintf(fm, "%s %s %s %llu\n", r->id, r->key, r->label,
                (unsigned long long)r->model_version);
    }
    if (fm) {
        const char *report = fr_harness_report(h, "pca");
        fprintf(fm, "emitted_before_flush %zu\n", before_flush);
        fprintf(fm, "checkpointed %zu\n", fr_harness_checkpoint_count(h));
        fprintf(fm, "rows_reloaded %.0f\n", fr_harness_metric(h, "rows_reloaded"));
        fprintf(fm, "duplicates_skipped %.0f\n", fr_harness_metric(h, "duplicates_skipped"));
        fprintf(fm, "rows_seen_again %.0f\n", fr_harness_metric(h, "rows_seen_again"));
        if (report)
            fprintf(fm, "report %s\n", report);
    }
    if ((fo && fclose(fo) != 0) || (fm && fclose(fm) != 0))
        rc = fail(out, "cannot write");
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 7)
        return fail("usage", "PLUGIN ROWS DIM IN OUT META [key=value ...]");
    size_t n = (size_t)atol(argv[2]);
    uint32_t d = (uint32_t)atoi(argv[3]);
    float *x = malloc(n * d * sizeof(float));
    FILE *f = fopen(argv[4], "rb");
    if (!x || !f || fread(x, sizeof(float), n * d, f) != n * d)
        return fail(argv[4], "cannot read the rows");
    fclose(f);
    const char **config = config_pairs(argc - 7, argv + 7);
    char *err = NULL, type[64];
    fr_harness *h = config ? fr_harness_new(argv[1], config, &err) : NULL;
    if (!h)
        return fail(argv[1], err ? err : "bad key=value");
    if (getenv("STAGE_ROWS_STATE"))
        fr_harness_set_state_dir(h, getenv("STAGE_ROWS_STATE"));
    if (getenv("STAGE_ROWS_RESUME"))
        fr_harness_set_run_kind(h, FR_RUN_RESUME);
    snprintf(type, sizeof type, "tensor/f32[%u]", d);
    fr_harness_set_input_type(h, type);
    int rc = fr_harness_start(h) != FR_OK ? fail("init", fr_harness_reason(h)) : 0;
    rc = rc ? rc : push_rows(h, x, n, d);
    size_t before_flush = fr_harness_output_count(h);
    if (!rc && fr_harness_flush(h) != FR_OK)
        rc = fail("flush", fr_harness_reason(h));
    rc = rc ? rc : write_outputs(h, before_flush, argv[5], argv[6]);
    fr_harness_free(h);
    free(config);
    free(x);
    return rc;
}
