/*
 * test_sink_stage — the sink stage csv-sink and parquet-sink share
 * (plugins/lib/partfile), through the harness: the width a file gets and
 * the REJECT of a record that differs, atomicity before flush and after a
 * stop, disk full (RLIMIT_FSIZE) and unwritable destinations, the three
 * modes, rolling by rows and by age (counted from a row's upload when it
 * carries one), the manifest's ids (an id is never
 * committed twice) and a manifest that cannot be written.
 */
#include <dirent.h>
#include <flowrun/harness.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../../support/check.h"

static char root[256];

/* dir/name, in a static ring so a few can be used at once. */
static const char *at(const char *name)
{
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 512, "%s/%s", root, name);
    return p;
}

static fr_harness *sink(const char *plugin, const char *path, const char *const *extra)
{
    const char *config[32] = {"path", path};
    size_t n = 2;
    for (; extra && extra[n - 2]; n++)
        config[n] = extra[n - 2];
    config[n] = NULL;
    char *err = NULL;
    fr_harness *h = fr_harness_new(plugin, config, &err);
    if (!h)
        fprintf(stderr, "fr_harness_new(%s): %s\n", plugin, err);
    free(err);
    return h;
}

/* Pushes a record "src:<id>" with key "k<id>" and width features id+0.5. */
static fr_status push(fr_harness *h, unsigned id, uint32_t width)
{
    float f[256];
    for (uint32_t i = 0; i < width && i < 256; i++)
        f[i] = (float)id + 0.5f + (float)i;
    char ids[32], key[32];
    snprintf(ids, sizeof ids, "src:%u", id);
    snprintf(key, sizeof key, "k%u", id);
    fr_record rec = {.id = ids,
                     .key = key,
                     .label = "L",
                     .payload = {.kind = FR_KIND_TENSOR,
                                 .rank = 1,
                                 .dims = {width},
                                 .data = f,
                                 .size = width * sizeof(float)}};
    return fr_harness_push(h, &rec);
}

/* The PID of a process that has exited: a killed run's. */
static long dead_pid(void)
{
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    waitpid(child, NULL, 0); /* its PID now names no process */
    return (long)child;
}

/* dir/name in a static ring. */
static const char *at2(const char *dir, const char *name)
{
    static char paths[4][1024];
    static int next;
    char *p = paths[next++ % 4];
    int n = snprintf(p, 1024, "%s/%s", dir, name);
    if (n < 0 || n >= 1024) {
        fprintf(stderr, "test path too long: %s/%s\n", dir, name);
        abort();
    }
    return p;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* A manifest without its run token ("run":"...", a random per run). */
static const char *without_run(const char *text)
{
    static char out[1 << 16];
    const char *run = text ? strstr(text, "\"run\":\"") : NULL;
    const char *end = run ? strstr(run + 7, "\",") : NULL;
    if (!end)
        return text;
    snprintf(out, sizeof out, "%.*s%s", (int)(run - text), text, end + 2);
    return out;
}

static int count_lines(const char *text)
{
    int n = 0;
    for (const char *p = text; p && (p = strstr(p, "\r\n")); p += 2)
        n++;
    return n;
}

/* The names in dir, sorted, joined by spaces ("" when empty). */
static const char *listing(const char *dir)
{
    static char out[4096];
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
            if (*out)
                strcat(out, " ");
            strncat(out, names[i]->d_name, sizeof out - strlen(out) - 2);
        }
        free(names[i]);
    }
    if (n >= 0)
        free(names);
    return out;
}

static void remove_tree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static const char *fresh(const char *name)
{
    const char *d = at(name);
    remove_tree(d);
    mkdir(d, 0755);
    return d;
}

/* ---- width -------------------------------------------------------------- */

static void test_first_record_fixes_width(void)
{
    const char *dir = fresh("width");
    char path[600];
    snprintf(path, sizeof path, "%s/w.csv", dir);
    fr_harness *h = sink("csv-sink", path, NULL);
    CHECK_INT(fr_harness_start(h), FR_OK);
    CHECK_INT(push(h, 1, 3), FR_OK);
    CHECK_INT(push(h, 2, 4), FR_REJECT);
    CHECK_STR(fr_harness_reason(h), "record src:2: 4 features, the output has 3");
    CHECK_INT(push(h, 3, 3), FR_OK);
    CHECK_INT(fr_harness_flush(h), FR_OK);
    CHECK_INT(fr_harness_commit_count(h), 2);
    fr_harness_free(h);
    const char *text = slurp(path);
    CHECK_INT(count_lines(text), 3);
    CHECK(text && strncmp(text, "key,label,c0,c1,c2\r\nk1,L,1.5,2.5,3.5\r\nk3,", 40) == 0);
}

static void test_declared_width_and_parquet_reject(void)
{
    const char *dir = fresh("declared");
    char path[600];
    snprintf(path, sizeof path, "%s/d.csv", dir);
    fr_harness *h = sink("csv-sink", path, NULL);
    fr_harness_set_input_type(h, "tensor/f32[5]");
    CHECK_INT(fr_harness_start(h), FR_OK);
    CHECK_INT(push(h, 1, 3), FR_REJECT);
    CHECK_CONTAINS(fr_harness_reason(h), "3 features, the output has 5");
    CHECK_INT(fr_harness_flush(h), FR_OK); /* an empty table with its header */
    fr_harness_free(h);
    CHECK_STR(slurp(path), "key,label,c0,c1,c2,c3,c4\r\n");

    snprintf(path, sizeof path, "%s/d.parquet", dir);
    h = sink("parquet-sink", path, NULL);
    CHECK_INT(fr_harness_start(h), FR_OK);
    CHECK_INT(push(h, 1, 2), FR_OK);
    CHECK_INT(push(h, 2, 7), FR_REJECT);
    CHECK_STR(fr_harness_reason(h), "record src:2: 7 features, the output has 2");
    CHECK_INT(fr_harness_flush(h), FR_OK);
    CHECK_INT(fr_harness_commit_count(h), 1);
    fr_harness_free(h);
    struct stat sb;
    CHECK(stat(path, &sb) == 0 && sb.st_size > 100);
}

/* ---- atomicity ---------------------------------------------------------- */

static void test_nothing_final_before_flush(void)
{
    const char *dir = fresh("atomic");
    char path[600], tmp[600];
    snprintf(path, sizeof path, "%s/a.parquet", dir);
    snprintf(tmp, sizeof tmp, ".a.parquet.tmp-%ld", (long)getpid());
    fr_harness *h = sink("parquet-sink", path, NULL);
    CHECK_INT(fr_harness_start(h), FR_OK);
    for (unsigned i = 0; i < 50; i++)
        CHECK_INT(push(h, i, 8), FR_OK);
    CHECK_STR(listing(dir), tmp); /* only the hidden temporary file */
    CHECK_INT(fr_harness_commit_count(h), 0);
    fr_harness_free(h); /* a stop: fini without flush */
    CHECK_STR(listing(dir), "");

    /* Parts of a batch run wait, sealed under hidden names, for the run's
     * end: a stop publishes none of them and leaves nothing behind. */
    snprintf(path, sizeof path, "%s/parts", dir);
    const char *roll[] = {"max_rows", "4", NULL};
    h = sink("csv-sink", path, roll);
    CHECK_INT(fr_harness_start(h), FR_OK);
    for (unsigned i = 0; i < 10; i++)
        CHECK_INT(push(h, i, 2), FR_OK);
    CHECK_INT(fr_harness_commit_count(h), 0);
    snprintf(tmp, sizeof tmp,
             ".part-00000.csv.tmp-%ld .part-00001.csv.tmp-%ld .part-00002.csv.tmp-%ld",
             (long)getpid(), (long)getpid(), (long)getpid());
    CHECK_STR(listing(path), tmp);
    fr_harness_free(h);
    CHECK_STR(listing(path), "");

    /* At the end they are published, the manifest last, and acknowledged. */
    h = sink("csv-sink", path, roll);
    CHECK_INT(fr_harness_start(h), FR_OK);
    for (unsigned i = 0; i < 10; i++)
        CHECK_INT(push(h, i, 2), FR_OK);
    CHECK_INT(fr_harness_flush(h), FR_OK);
    CHECK_INT(fr_harness_commit_count(h), 10);
    fr_harness_free(h);
    CHECK_STR(listing(path), "_manifest.json part-00000.csv part-00001.csv part-00002.csv");

    /* A rolling output (max_age): every roll is a commit and stays. */
    snprintf(path, sizeof path, "%s/rolling", dir);
    const char *age[] = {"max_rows", "4", "max_age", "1h", NULL};
    h = sink("csv-sink", path, age);
    CHECK_INT(fr_harness_start(h), FR_OK);
    for (unsigned i = 0; i < 10; i++)
        CHECK_INT(push(h, i, 2), FR_OK);
    CHECK_INT(fr_harness_commit_count(h), 8);
    fr_harness_free(h);
    CHECK_STR(listing(path), "_manifest.json part-00000.csv part-00001.csv");
}

/* A temporary file of a killed run (its process is gone) is removed by the
 * next open; a running process's, and any other file, stay. */
static void test_leftovers_of_killed_runs(void)
{
    const char *dir = fresh("leftovers");
    long child = dead_pid();
    char path[600], name[700], file[800];
    snprintf(path, sizeof path, "%s/s.csv", dir);
    snprintf(name, sizeof name, ".s.csv.tmp-%ld", (long)getpid());
    spit(at2(dir, name), "running");
    snprintf(name, sizeof name, ".s.csv.tmp-%ld", child);
    spit(at2(dir, name), "killed");
    spit(at2(dir, ".other.csv.tmp-1"), "not ours");
    spit(at2(dir, "s.csv.tmp-1"), "not ours either");
    const char *over[] = {"mode", "overwrite", NULL};
    fr_harness *h = sink("csv-sink", path, over);
    CHECK_INT(fr_harness_start(h), FR_OK);
    fr_harness_free(h);
    snprintf(file, sizeof file, ".other.csv.tmp-1 .s.csv.tmp-%ld s.csv.tmp-1", (long)getpid());
    CHECK_STR(listing(dir), file);

    /* The same in a parts directory. */
    snprintf(path, sizeof path, "%s/parts", dir);
    mkdir(path, 0755);
    snprintf(name, sizeof name, ".part-00000.csv.tmp-%ld", child);
    spit(at2(path, name), "killed");
    snprintf(name, sizeof name, "._manifest.json.tmp-%ld", child);
    spit(at2(path, name), "killed");
    spit(at2(path, "notes.txt"), "the user's");
    const char *parts[] = {"max_rows", "2", NULL};
    h = sink("csv-sink", path, parts);
    CHECK_INT(fr_harness_start(h), FR_OK);
    fr_harness_free(h);
    CHECK_STR(listing(path), "notes.txt");
}

/* ---- bad destinations ----------------------------------------------------- */

static void test_disk_full(void)
{
    const char *dir = fresh("full");
    struct rlimit old, small = {.rlim_cur = 64 << 10};
    getrlimit(RLIMIT_FSIZE, &old);
    small.rlim_max = old.rlim_max;
    signal(SIGXFSZ, SIG_IGN); /* as the engine does: write() then fails with EFBIG */
    static const char *const plugins[] = {"csv-sink", "parquet-sink"};
    for (int p = 0; p < 2; p++) {
        /* Many rows: the failure comes from process; few rows: from flush. */
        for (int many = 0; many < 2; many++) {
            char path[600];
            snprintf(path, sizeof path, "%s/full-%d-%d.out", dir, p, many);
            const char *opts[] = {"compression", "none", NULL};
            fr_harness *h = sink(plugins[p], path, p ? opts : NULL);
            CHECK_INT(fr_harness_start(h), FR_OK);
            setrlimit(RLIMIT_FSIZE, &small);
            fr_status rc = FR_OK;
            for (unsigned i = 0; rc == FR_OK && i < (many ? 4000u : 100u); i++)
                rc = push(h, i, 200);
            if (rc == FR_OK)
                rc = fr_harness_flush(h);
            setrlimit(RLIMIT_FSIZE, &old);
            CHECK_INT(rc, FR_FATAL);
            CHECK_CONTAINS(fr_harness_reason(h), "File too large");
            CHECK_CONTAINS(fr_harness_reason(h), ".tmp-");
            CHECK_INT(fr_harness_commit_count(h), 0);
            fr_harness_free(h);
            CHECK_STR(listing(dir), "");
        }
    }
}

static void test_unwritable(void)
{
    const char *dir = fresh("unwritable");
    char path[600], file[600];
    /* A missing folder is made, parents included, as for dead letters. */
    snprintf(path, sizeof path, "%s/missing/deeper/out.csv", dir);
    fr_harness *h = sink("csv-sink", path, NULL);
    CHECK_INT(fr_harness_start(h), FR_OK);
    fr_harness_free(h);
    snprintf(path, sizeof path, "%s/missing", dir);
    CHECK_STR(listing(path), "deeper");

    /* A file where the folder should be cannot be written in. */
    snprintf(file, sizeof file, "%s/a-file", dir);
    spit(file, "x");
    snprintf(path, sizeof path, "%s/a-file/out.csv", dir);
    h = sink("csv-sink", path, NULL);
    CHECK_INT(fr_harness_start(h), FR_FATAL);
    CHECK_CONTAINS(fr_harness_reason(h), "cannot write in ");
    CHECK_CONTAINS(fr_harness_reason(h), "/a-file: Not a directory");
    fr_harness_free(h);

    snprintf(path, sizeof path, "%s/a-file/parts", dir);
    const char *roll[] = {"max_rows", "10", NULL};
    h = sink("parquet-sink", path, roll);
    CHECK_INT(fr_harness_start(h), FR_FATAL);
    CHECK_CONTAINS(fr_harness_reason(h), "a-file/parts: Not a directory");
    fr_harness_free(h);
    CHECK_STR(listing(dir), "a-file missing");
}

/* ---- modes ---------------------------------------------------------------- */

static void test_modes_on_a_file(void)
{
    const char *dir = fresh("modes");
    char path[600];
    snprintf(path, sizeof path, "%s/m.csv", dir);
    spit(path, "old\r\n");
    fr_harness *h = sink("csv-sink", path, NULL);
    CHECK_INT(fr_harness_start(h), FR_FATAL);
    CHECK_CONTAINS(fr_harness_reason(h), "m.csv already exists (mode: error");
    fr_harness_free(h);
    CHECK_STR(slurp(path), "old\r\n");

    const char *over[] = {"mode", "overwrite", NULL};
    h = sink("csv-sink", path, over);
    CHECK_INT(fr_harness_start(h), FR_OK);
    CHECK_INT(push(h, 7, 1), FR_OK);
    CHECK_STR(slurp(path), "old\r\n"); /* replaced only at the commit */
    CHECK_INT(fr_harness_flush(h), FR_OK);
    fr_harness_free(h);
    CHECK_STR(slurp(path), "key,label,c0\r\nk7,L,7.5\r\n");
}

static void test_append_parts_and_ids(void)
{
    const char *dir = fresh("append");
    char path[600], part[700];
    snprintf(path, sizeof path, "%s/parts", dir);
    const char *first[] = {"max_rows", "2", NULL};
    fr_harness *h = sink("csv-sink", path, first);
    CHECK_INT(fr_harness_start(h), FR_OK);
    for (unsigned i = 0; i < 3; i++)
        CHECK_INT(push(h, i, 1), FR_OK);
    CHECK_INT(fr_harness_flush(h), FR_OK);
    CHECK_STR(fr_harness_report(h, "parts"),
              "[{\"file\":\"part-00000.csv\",\"rows\":2,\"bytes\":34},\n"
              "{\"file\":\"part-00001.csv\",\"rows\":1,\"bytes\":24}]");
    fr_harness_free(h);
    snprintf(part, sizeof part, "%s/_manifest.json", path);
    CHECK_STR(
        without_run(slurp(part)),
        "{\"parts\":[\n"
        "{\"file\":\"part-00000.csv\",\"rows\":2,\"bytes\":34,\"ids\":[\"src:0\",\"src:1\"]},\n"
        "{\"file\":\"part-00001.csv\",\"rows\":1,\"bytes\":24,\"ids\":[\"src:2\"]}\n"
        "]}\n");

    /* mode error refuses a directory that holds parts. */
    h = sink("csv-sink", path, first);
    CHECK_INT(fr_harness_start(h), FR_FATAL);
    CHECK_CONTAINS(fr_harness_reason(h), "(mode: error; use overwrite or append-parts)");
    fr_harness_free(h);

    /* A restarted run: src:1 and src:2 were committed, src:3.. are new; a
     * part published without its manifest line (a crash in between) and a
     * temporary file of the crashed run are removed. */
    snprintf(part, sizeof part, "%s/part-00002.csv", path);
    spit(part, "key,label,c0\r\nk3,L,3.5\r\n");
    snprintf(part, sizeof part, "%s/.part-00003.csv.tmp-%ld", path, dead_pid());
    spit(part, "key,label,c0\r\nk4,L,");
    const char *again[] = {"max_rows", "2", "mode", "append-parts", NULL};
    h = sink("csv-sink", path, again);
    CHECK_INT(fr_harness_start(h), FR_OK);
    CHECK_STR(listing(path), "_manifest.json part-00000.csv part-00001.csv");
    for (unsigned i = 1; i < 6; i++)
        CHECK_INT(push(h, i, 1), FR_OK);
    CHECK_INT(fr_harness_commit_count(h), 2); /* src:1, src:2 at once; the rest at the end */
    CHECK_STR(fr_harness_commit(h, 0), "src:1");
    CHECK_STR(fr_harness_commit(h, 1), "src:2");
    CHECK_INT(fr_harness_metric(h, "duplicates_skipped"), 2);
    CHECK_INT(fr_harness_flush(h), FR_OK);
    CHECK_INT(fr_harness_commit_count(h), 5);
    CHECK_STR(fr_harness_commit(h, 4), "src:5");
    fr_harness_free(h);
    CHECK_STR(listing(path), "_manifest.json part-00000.csv part-00001.csv part-00002.csv "
                             "part-00003.csv");
    snprintf(part, sizeof part, "%s/part-00002.csv", path);
    CHECK_STR(slurp(part), "key,label,c0\r\nk3,L,3.5\r\nk4,L,4.5\r\n");
    snprintf(part, sizeof part, "%s/_manifest.json", path);
    const char *m = slurp(part);
    CHECK_CONTAINS(m, "\"ids\":[\"src:3\",\"src:4\"]},\n{\"file\":\"part-00003.csv\",\"rows\":1,"
                      "\"bytes\":24,\"ids\":[\"src:5\"]}\n]}\n");

    /* overwrite keeps the old output until the new one is committed: a
     * stopped run leaves it as it was. */
    const char *before = "_manifest.json part-00000.csv part-00001.csv part-00002.csv "
                         "part-00003.csv";
    const char *over[] = {"max_rows", "2", "mode", "overwrite", NULL};
    h = sink("csv-sink", path, over);
    CHECK_INT(fr_harness_start(h), FR_OK);
    CHECK_INT(push(h, 9, 1), FR_OK);
    CHECK_INT(push(h, 10, 1), FR_OK);
    fr_harness_free(h);
    CHECK_STR(listing(path), before);
    CHECK_CONTAINS(slurp(part), "\"ids\":[\"src:5\"]");

    /* Committed, the new parts (numbered after the old ones, so no name is
     * shared) and their manifest replace it. */
    h = sink("csv-sink", path, over);
    CHECK_INT(fr_harness_start(h), FR_OK);
    CHECK_STR(listing(path), before);
    CHECK_INT(push(h, 9, 1), FR_OK);
    CHECK_INT(fr_harness_flush(h), FR_OK);
    CHECK_INT(fr_harness_commit_count(h), 1);
    fr_harness_free(h);
    CHECK_STR(listing(path), "_manifest.json part-00004.csv");
    CHECK_STR(without_run(slurp(part)),
              "{\"parts\":[\n{\"file\":\"part-00004.csv\",\"rows\":1,\"bytes\":24,"
              "\"ids\":[\"src:9\"]}\n]}\n");
}

/* A resumed run (the same state directory: the same run token) continues
 * what it committed before its crash, whatever the mode: its ids are
 * acknowledged, not written again, and its parts are not replaced; a fresh
 * run replaces them in overwrite mode, also on the same state directory. */
static void test_resumed_run_keeps_its_commits(void)
{
    const char *dir = fresh("resume");
    char path[600], state[600], manifest[700];
    snprintf(path, sizeof path, "%s/parts", dir);
    snprintf(state, sizeof state, "%s/state", dir);
    snprintf(manifest, sizeof manifest, "%s/_manifest.json", path);
    const char *over[] = {"max_rows", "2", "mode", "overwrite", NULL};
    for (unsigned attempt = 0; attempt < 2; attempt++) {
        fr_harness *h = sink("csv-sink", path, over);
        fr_harness_set_state_dir(h, state);
        fr_harness_set_run_kind(h, attempt ? FR_RUN_RESUME : FR_RUN_FRESH);
        CHECK_INT(fr_harness_start(h), FR_OK);
        for (unsigned i = 0; i < 3 + attempt; i++)
            CHECK_INT(push(h, i, 1), FR_OK);
        CHECK_INT(fr_harness_commit_count(h), attempt ? 3 : 0); /* src:0..2 from the manifest */
        CHECK_INT(fr_harness_metric(h, "duplicates_skipped"), attempt ? 3 : 0);
        CHECK_INT(fr_harness_flush(h), FR_OK);
        CHECK_INT(fr_harness_commit_count(h), 3 + attempt);
        fr_harness_free(h);
    }
    CHECK_STR(listing(path), "_manifest.json part-00000.csv part-00001.csv part-00002.csv");
    CHECK_CONTAINS(slurp(manifest), "{\"run\":\"");
    CHECK_CONTAINS(slurp(manifest), "\"ids\":[\"src:3\"]}\n]}\n");

    fr_harness *h = sink("csv-sink", path, over); /* fresh, on the same state directory */
    fr_harness_set_state_dir(h, state);
    CHECK_INT(fr_harness_start(h), FR_OK);
    CHECK_INT(push(h, 0, 1), FR_OK);
    CHECK_INT(fr_harness_metric(h, "duplicates_skipped"), 0);
    CHECK_INT(fr_harness_flush(h), FR_OK);
    fr_harness_free(h);
    CHECK_STR(listing(path), "_manifest.json part-00003.csv");
}

/* The same for a single file: the state directory records what this run
 * published; a rerun acknowledges its ids and keeps the file (even when it
 * sees no row at all: its records may all be done), refuses to add rows to
 * it, and a new run replaces it. */
static void test_resumed_run_keeps_its_single_file(void)
{
    const char *dir = fresh("resume-file");
    char path[600], state[600];
    snprintf(path, sizeof path, "%s/f.csv", dir);
    snprintf(state, sizeof state, "%s/state", dir);
    const char *over[] = {"mode", "overwrite", NULL};
    const char *whole = "key,label,c0\r\nk0,L,0.5\r\nk1,L,1.5\r\n";
    for (unsigned attempt = 0; attempt < 3; attempt++) {
        fr_harness *h = sink("csv-sink", path, over);
        fr_harness_set_state_dir(h, state);
        fr_harness_set_run_kind(h, attempt ? FR_RUN_RESUME : FR_RUN_FRESH);
        CHECK_INT(fr_harness_start(h), FR_OK);
        for (unsigned i = 0; attempt < 2 && i < 2; i++)
            CHECK_INT(push(h, i, 1), FR_OK);
        CHECK_INT(fr_harness_metric(h, "duplicates_skipped"), attempt == 1 ? 2 : 0);
        CHECK_INT(fr_harness_flush(h), FR_OK);
        CHECK_INT(fr_harness_commit_count(h), attempt < 2 ? 2 : 0);
        fr_harness_free(h);
        CHECK_STR(slurp(path), whole);
    }
    fr_harness *h = sink("csv-sink", path, over);
    fr_harness_set_state_dir(h, state);
    fr_harness_set_run_kind(h, FR_RUN_RESUME);
    CHECK_INT(fr_harness_start(h), FR_OK);
    CHECK_INT(push(h, 7, 1), FR_FATAL);
    CHECK_CONTAINS(fr_harness_reason(h), "f.csv was published by this run before it was "
                                         "interrupted");
    fr_harness_free(h);
    CHECK_STR(slurp(path), whole);

    snprintf(state, sizeof state, "%s/state-of-a-new-run", dir);
    h = sink("csv-sink", path, over);
    fr_harness_set_state_dir(h, state);
    CHECK_INT(fr_harness_start(h), FR_OK);
    CHECK_INT(push(h, 7, 1), FR_OK);
    CHECK_INT(fr_harness_flush(h), FR_OK);
    fr_harness_free(h);
    CHECK_STR(slurp(path), "key,label,c0\r\nk7,L,7.5\r\n");
}

static void test_ids_with_json_characters(void)
{
    const char *dir = fresh("jsonids");
    char path[600], manifest[700];
    snprintf(path, sizeof path, "%s/parts", dir);
    static const char *const ids[] = {"s:a \"quoted\" \\ id", "s:new\nline\ttab", "s:Früchte/日本"};
    for (int run = 0; run < 2; run++) {
        const char *opts[] = {"max_rows", "5", "mode", "append-parts", NULL};
        fr_harness *h = sink("csv-sink", path, opts);
        CHECK_INT(fr_harness_start(h), FR_OK);
        for (int i = 0; i < 3; i++) {
            float f = 1;
            fr_record rec = {
                .id = ids[i],
                .key = "k",
                .label = "",
                .payload = {.kind = FR_KIND_TENSOR, .rank = 1, .dims = {1}, .data = &f, .size = 4}};
            CHECK_INT(fr_harness_push(h, &rec), FR_OK);
        }
        CHECK_INT(fr_harness_flush(h), FR_OK);
        CHECK_INT(fr_harness_commit_count(h), 3);
        CHECK_INT(fr_harness_metric(h, "duplicates_skipped"), run ? 3 : 0);
        fr_harness_free(h);
    }
    snprintf(manifest, sizeof manifest, "%s/_manifest.json", path);
    CHECK_CONTAINS(slurp(manifest), "\"ids\":[\"s:a \\\"quoted\\\" \\\\ id\",\"s:new\\u000aline"
                                    "\\u0009tab\",\"s:Früchte/日本\"]}\n]}\n");
    CHECK_STR(listing(path), "_manifest.json part-00000.csv");
}

static void test_duplicate_in_open_part(void)
{
    const char *dir = fresh("dup");
    char path[600];
    snprintf(path, sizeof path, "%s/d.csv", dir);
    fr_harness *h = sink("csv-sink", path, NULL);
    CHECK_INT(fr_harness_start(h), FR_OK);
    CHECK_INT(push(h, 1, 1), FR_OK);
    CHECK_INT(push(h, 1, 1), FR_OK);
    CHECK_INT(fr_harness_metric(h, "duplicates_skipped"), 1);
    CHECK_INT(fr_harness_flush(h), FR_OK);
    CHECK_INT(fr_harness_commit_count(h), 1);
    fr_harness_free(h);
    CHECK_STR(slurp(path), "key,label,c0\r\nk1,L,1.5\r\n");
}

static void test_manifest_write_failure(void)
{
    const char *dir = fresh("manifestfail");
    char path[600], blocker[700];
    snprintf(path, sizeof path, "%s/parts", dir);
    mkdir(path, 0755);
    /* The manifest's temporary name is taken by a directory: its write fails. */
    snprintf(blocker, sizeof blocker, "%s/._manifest.json.tmp-%ld", path, (long)getpid());
    mkdir(blocker, 0755);
    const char *opts[] = {"max_rows", "2", NULL};
    fr_harness *h = sink("csv-sink", path, opts);
    CHECK_INT(fr_harness_start(h), FR_OK);
    CHECK_INT(push(h, 1, 1), FR_OK);
    CHECK_INT(push(h, 2, 1), FR_OK);
    CHECK_INT(push(h, 3, 1), FR_OK);
    CHECK_INT(fr_harness_flush(h), FR_FATAL);
    CHECK_CONTAINS(fr_harness_reason(h), "_manifest.json.tmp-");
    CHECK_CONTAINS(fr_harness_reason(h), "Is a directory");
    CHECK_INT(fr_harness_commit_count(h), 0);
    fr_harness_free(h);
    rmdir(blocker);
    CHECK_STR(listing(path), ""); /* the parts were taken back */
}

/* ---- rolling by age --------------------------------------------------------- */

static void wait_ms(int64_t ms) /* the event under test is the clock advancing */
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    do
        clock_gettime(CLOCK_MONOTONIC, &b);
    while ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < ms);
}

/* A started csv-sink writing parts into <fresh name>/parts (path) with
 * max_age. */
static fr_harness *rolling_sink(const char *name, const char *max_age, char *path, size_t size)
{
    snprintf(path, size, "%s/parts", fresh(name));
    const char *opts[] = {"max_age", max_age, NULL};
    fr_harness *h = sink("csv-sink", path, opts);
    CHECK_INT(fr_harness_start(h), FR_OK);
    return h;
}

static void test_max_age(void)
{
    char path[600];
    fr_harness *h = rolling_sink("age", "300ms", path, sizeof path);
    CHECK_INT(push(h, 0, 1), FR_OK);
    CHECK_INT(fr_harness_commit_count(h), 0);
    wait_ms(350);
    CHECK_INT(push(h, 1, 1), FR_OK); /* the part is old: it goes with this row */
    CHECK_INT(fr_harness_commit_count(h), 2);
    CHECK_INT(push(h, 2, 1), FR_OK); /* a new part, young */
    CHECK_INT(fr_harness_commit_count(h), 2);
    CHECK_INT(fr_harness_flush(h), FR_OK);
    CHECK_INT(fr_harness_commit_count(h), 3);
    fr_harness_free(h);
    CHECK_STR(listing(path), "_manifest.json part-00000.csv part-00001.csv");
}

/* Pushes record id (width 1) uploaded `ago_ms` before now (its
 * "uploaded_ms" attribute, as the source base sets it). */
static fr_status push_uploaded(fr_harness *h, unsigned id, int64_t ago_ms)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    char ids[32], uploaded[32];
    snprintf(ids, sizeof ids, "src:%u", id);
    snprintf(uploaded, sizeof uploaded, "%lld",
             (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000 - ago_ms);
    const fr_attr attrs[] = {{"version", "v1"}, {"uploaded_ms", uploaded}};
    float f = (float)id;
    fr_record rec = {
        .id = ids,
        .key = ids,
        .label = "L",
        .attrs = attrs,
        .n_attrs = 2,
        .payload = {.kind = FR_KIND_TENSOR, .rank = 1, .dims = {1}, .data = &f, .size = sizeof f}};
    return fr_harness_push(h, &rec);
}

static void test_max_age_counts_from_the_upload(void)
{
    char path[600];
    fr_harness *h = rolling_sink("upload-age", "1h", path, sizeof path);
    /* Uploaded just now: its part waits for the hour. */
    CHECK_INT(push_uploaded(h, 0, 0), FR_OK);
    CHECK_INT(fr_harness_commit_count(h), 0);
    /* Uploaded two hours ago (a backlog, a multipart upload's start): the
     * part (both rows) is due already, published at once (no publish was
     * measured yet, so it need not stay open for one). */
    CHECK_INT(push_uploaded(h, 1, 7200000), FR_OK);
    CHECK_INT(fr_harness_commit_count(h), 2);
    CHECK_INT(push(h, 2, 1), FR_OK); /* no upload time: the part's max_age only */
    CHECK_INT(fr_harness_commit_count(h), 2);
    CHECK_INT(fr_harness_flush(h), FR_OK);
    CHECK_INT(fr_harness_commit_count(h), 3);
    fr_harness_free(h);
    CHECK_STR(listing(path), "_manifest.json part-00000.csv part-00001.csv");
}

int main(void)
{
    snprintf(root, sizeof root, "%s/sink-stage-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    test_first_record_fixes_width();
    test_declared_width_and_parquet_reject();
    test_nothing_final_before_flush();
    test_leftovers_of_killed_runs();
    test_disk_full();
    test_unwritable();
    test_modes_on_a_file();
    test_append_parts_and_ids();
    test_resumed_run_keeps_its_commits();
    test_resumed_run_keeps_its_single_file();
    test_ids_with_json_characters();
    test_duplicate_in_open_part();
    test_manifest_write_failure();
    test_max_age();
    test_max_age_counts_from_the_upload();
    remove_tree(root);
    return check_exit();
}
