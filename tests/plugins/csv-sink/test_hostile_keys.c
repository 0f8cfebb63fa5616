/*
 * csv-sink with keys and labels that are not UTF-8 (S3 keys and file names
 * are any bytes): the file stays UTF-8 — such bytes are written as U+FFFD —
 * so strict readers (DuckDB's read_csv, Python's csv with utf-8) read it.
 */
#include <flowrun/harness.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

int main(void)
{
    char dir[] = "/tmp/csv-hostile-XXXXXX", path[64], text[4096] = "";
    REQUIRE(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/out.csv", dir);
    const char *config[] = {"path", path, NULL};
    fr_harness *h = fr_harness_new("csv-sink", config, NULL);
    REQUIRE(h && fr_harness_start(h) == FR_OK);
    static const char *const keys[][2] = {
        {"bad\xff\xfe key", "label\xc3"},
        {"over\xc0\xaflong,\"q\"", "ok"},
        {"Pêche/水果.jpg", "fine"},
    };
    float x = 0.5f;
    for (int i = 0; i < 3; i++) {
        fr_record rec = {.id = keys[i][0], .key = keys[i][0], .label = keys[i][1]};
        rec.payload = (fr_payload){
            .kind = FR_KIND_TENSOR, .rank = 1, .dims = {1}, .data = &x, .size = sizeof x};
        CHECK_INT(fr_harness_push(h, &rec), FR_OK);
    }
    CHECK_INT(fr_harness_flush(h), FR_OK);
    fr_harness_free(h);
    FILE *f = fopen(path, "rb");
    REQUIRE(f != NULL);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    CHECK_CONTAINS(text, "bad\xef\xbf\xbd\xef\xbf\xbd key,label\xef\xbf\xbd,");
    CHECK_CONTAINS(text, "\"over\xef\xbf\xbd\xef\xbf\xbdlong,\"\"q\"\"\",ok,");
    CHECK_CONTAINS(text, "Pêche/水果.jpg,fine,");
    CHECK(strchr(text, '\xff') == NULL && strchr(text, '\xc0') == NULL);
    unlink(path);
    rmdir(dir);
    return check_exit();
}
