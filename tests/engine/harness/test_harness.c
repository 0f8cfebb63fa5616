/*
 * The plugin harness (include/flowrun/harness.h): plugins loaded through
 * the real loader and schema checks, records pushed in, the exact records,
 * rejects, commits and errors read back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "flowrun/harness.h"

static fr_record bytes_record(const char *id, const char *key, const void *data, size_t size)
{
    fr_record rec = {.id = id, .key = key, .label = "fruit"};
    rec.payload.kind = FR_KIND_BYTES;
    strcpy(rec.payload.media, "jpeg");
    rec.payload.data = (void *)data;
    rec.payload.size = size;
    return rec;
}

static void passthrough_forwards_exactly(void)
{
    const char *config[] = {"reject_every", "2", NULL};
    char *err = NULL;
    fr_harness *h = fr_harness_new("passthrough", config, &err);
    REQUIRE_VOID(h);
    REQUIRE_VOID(fr_harness_start(h) == FR_OK);
    fr_attr attrs[] = {{"etag", "e1"}};
    fr_record one = bytes_record("src:rec-000001", "rec-000001", "abc", 3);
    one.attrs = attrs;
    one.n_attrs = 1;
    one.model_version = 7;
    CHECK_INT(fr_harness_push(h, &one), FR_OK);
    fr_record two = bytes_record("src:rec-000002", "rec-000002", "x", 1);
    CHECK_INT(fr_harness_push(h, &two), FR_REJECT);
    CHECK_STR(fr_harness_reason(h), "record 2 rejected on purpose");
    CHECK_INT(fr_harness_output_count(h), 1);
    const fr_record *out = fr_harness_output(h, 0);
    REQUIRE_VOID(out);
    CHECK_STR(out->id, "src:rec-000001");
    CHECK_STR(out->key, "rec-000001");
    CHECK_STR(out->label, "fruit");
    CHECK_INT(out->model_version, 7);
    CHECK_STR(fr_record_attr(out, "etag"), "e1");
    CHECK_STR(out->payload.media, "jpeg");
    CHECK_INT(out->payload.size, 3);
    CHECK(memcmp(out->payload.data, "abc", 3) == 0);
    CHECK_INT(fr_harness_flush(h), FR_OK);
    fr_harness_free(h);
}

static void bad_config_is_refused_like_validate(void)
{
    const char *config[] = {"reject_evry", "2", "retry_times", "lots", NULL};
    char *err = NULL;
    CHECK(fr_harness_new("passthrough", config, &err) == NULL);
    CHECK_CONTAINS(err, "unknown key \"reject_evry\" (did you mean \"reject_every\"?)");
    CHECK_CONTAINS(err, "key \"retry_times\": expected an integer");
    free(err);
    err = NULL;
    CHECK(fr_harness_new("no-such-plugin", NULL, &err) == NULL);
    CHECK_CONTAINS(err, "no plugin \"no-such-plugin\"");
    free(err);
}

static void source_and_sink(void)
{
    char dir[] = "/tmp/flowrun-harness-XXXXXX";
    REQUIRE_VOID(mkdtemp(dir));
    char path[256], out_path[256];
    snprintf(path, sizeof path, "%s/Banana", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/Banana/1_100.jpg", dir);
    FILE *f = fopen(path, "w");
    REQUIRE_VOID(f);
    fputs("jpegdata", f);
    fclose(f);

    const char *config[] = {"path", dir, NULL};
    fr_harness *src = fr_harness_new("dir-source", config, NULL);
    REQUIRE_VOID(src);
    REQUIRE_VOID(fr_harness_start(src) == FR_OK);
    CHECK_INT(fr_harness_total(src), 1);
    CHECK_INT(fr_harness_produce(src), FR_DONE);
    REQUIRE_VOID(fr_harness_output_count(src) == 1);
    const fr_record *rec = fr_harness_output(src, 0);
    CHECK_STR(rec->key, "Banana/1_100.jpg");
    CHECK_STR(rec->label, "Banana");
    struct stat st;
    REQUIRE_VOID(stat(path, &st) == 0);
    char id[256];
    snprintf(id, sizeof id, "dir-source:Banana/1_100.jpg@8-%lld",
             (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec);
    CHECK_STR(rec->id, id); /* stamped by the engine: stage, key, version */
    CHECK_STR(rec->payload.media, "jpeg");
    CHECK_INT(rec->payload.size, 8);

    /* The sink commits only at the end of the stream, after its rename. */
    snprintf(out_path, sizeof out_path, "%s/out.jsonl", dir);
    const char *sink_config[] = {"path", out_path, NULL};
    fr_harness *sink = fr_harness_new("capture-sink", sink_config, NULL);
    REQUIRE_VOID(sink);
    REQUIRE_VOID(fr_harness_start(sink) == FR_OK);
    CHECK_INT(fr_harness_push(sink, rec), FR_OK);
    CHECK_INT(fr_harness_commit_count(sink), 0);
    CHECK(access(out_path, F_OK) != 0);
    CHECK_INT(fr_harness_flush(sink), FR_OK);
    CHECK_INT(fr_harness_commit_count(sink), 1);
    CHECK_STR(fr_harness_commit(sink, 0), id);
    CHECK(access(out_path, F_OK) == 0);
    fr_harness_free(sink);
    fr_harness_free(src);
    unlink(out_path);
    unlink(path);
    snprintf(path, sizeof path, "%s/Banana", dir);
    rmdir(path);
    rmdir(dir);
}

/* Durable runs (ABI 1.1): the ledger's answers reach the source base, the
 * fingerprinted file and the state directory reach the stage. */
static void durable_calls(void)
{
    char dir[] = "/tmp/flowrun-harness-XXXXXX", path[256], version[64];
    REQUIRE_VOID(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/a.bin", dir);
    FILE *f = fopen(path, "w");
    REQUIRE_VOID(f);
    fputs("12345", f);
    fclose(f);
    struct stat st;
    REQUIRE_VOID(stat(path, &st) == 0);
    snprintf(version, sizeof version, "5-%lld",
             (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec);

    const char *config[] = {"path", dir, NULL};
    for (int changed = 0; changed < 2; changed++) {
        fr_harness *h = fr_harness_new("dir-source", config, NULL);
        REQUIRE_VOID(h);
        fr_harness_set_key_state(h, "a.bin", changed ? "4-1" : version, FR_KEY_DONE);
        REQUIRE_VOID(fr_harness_start(h) == FR_OK);
        CHECK_INT(fr_harness_total(h), changed); /* done: skipped; another version: read */
        CHECK_INT(fr_harness_produce(h), FR_DONE);
        CHECK_INT(fr_harness_output_count(h), changed);
        fr_harness_free(h);
    }

    const char *pass_config[] = {"file", path, NULL};
    fr_harness *h = fr_harness_new("passthrough", pass_config, NULL);
    REQUIRE_VOID(h);
    char state[300];
    snprintf(state, sizeof state, "%s/state/pass/0", dir);
    fr_harness_set_state_dir(h, state);
    REQUIRE_VOID(fr_harness_start(h) == FR_OK);
    CHECK_CONTAINS(fr_harness_fingerprint(h, "file"), "5:"); /* size:hash */
    CHECK_STR(fr_harness_state_dir(h), state);
    CHECK(access(state, W_OK) == 0); /* made before init */
    fr_harness_free(h);

    const char *missing[] = {"file", "/nonexistent/model.bin", NULL};
    h = fr_harness_new("passthrough", missing, NULL);
    REQUIRE_VOID(h);
    CHECK_INT(fr_harness_start(h), FR_FATAL);
    CHECK_CONTAINS(fr_harness_reason(h), "/nonexistent/model.bin");
    fr_harness_free(h);

    /* A resumed run's sink keeps the lines it has and acknowledges them. */
    char out[300];
    snprintf(out, sizeof out, "%s/out.jsonl", dir);
    f = fopen(out, "w");
    REQUIRE_VOID(f);
    fputs("{\"key\":\"k\",\"id\":\"gen:k\"}\n", f);
    fclose(f);
    const char *sink_config[] = {"path", out, NULL};
    h = fr_harness_new("capture-sink", sink_config, NULL);
    REQUIRE_VOID(h);
    fr_harness_set_run_kind(h, FR_RUN_RESUME);
    REQUIRE_VOID(fr_harness_start(h) == FR_OK);
    fr_record again = bytes_record("gen:k", "k", "x", 1);
    CHECK_INT(fr_harness_push(h, &again), FR_OK);
    CHECK_INT(fr_harness_flush(h), FR_OK);
    CHECK_INT(fr_harness_commit_count(h), 1);
    fr_harness_free(h);
    f = fopen(out, "r");
    REQUIRE_VOID(f);
    int lines = 0;
    for (int c; (c = fgetc(f)) != EOF;)
        lines += c == '\n';
    fclose(f);
    CHECK_INT(lines, 1); /* not written twice */

    unlink(out);
    unlink(path);
    snprintf(path, sizeof path, "%s/state/pass/0", dir);
    rmdir(path);
    snprintf(path, sizeof path, "%s/state/pass", dir);
    rmdir(path);
    snprintf(path, sizeof path, "%s/state", dir);
    rmdir(path);
    rmdir(dir);
}

int main(void)
{
    passthrough_forwards_exactly();
    bad_config_is_refused_like_validate();
    source_and_sink();
    durable_calls();
    return check_exit();
}
