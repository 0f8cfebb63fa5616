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
    CHECK_STR(rec->id, "dir-source:Banana/1_100.jpg");
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
    CHECK_STR(fr_harness_commit(sink, 0), "dir-source:Banana/1_100.jpg");
    CHECK(access(out_path, F_OK) == 0);
    fr_harness_free(sink);
    fr_harness_free(src);
    unlink(out_path);
    unlink(path);
    snprintf(path, sizeof path, "%s/Banana", dir);
    rmdir(path);
    rmdir(dir);
}

int main(void)
{
    passthrough_forwards_exactly();
    bad_config_is_refused_like_validate();
    source_and_sink();
    return check_exit();
}
