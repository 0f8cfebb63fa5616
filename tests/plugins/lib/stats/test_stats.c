/*
 * test_stats.c — the stats library's own invariants: merged states equal a
 * single pass, model files round-trip bit for bit and reject damage, the
 * spill gives back what went in.  Each check is also fed a deliberate bug.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "stats.h"

enum { ROWS = 2500, DIM = 24, K = 5 };

static char err[512];
static float data[ROWS][DIM];

/* Correlated columns with a large mean (a hard case for naive sums). */
static void make_data(void)
{
    unsigned s = 12345;
    for (int r = 0; r < ROWS; r++) {
        float common = 0;
        for (int j = 0; j < DIM; j++) {
            s = s * 1103515245u + 12345u;
            float u = (float)((s >> 8) & 0xffff) / 65536.0f - 0.5f;
            common = j == 0 ? u : common;
            data[r][j] = 1000.0f + (float)j + u + common * (float)j / DIM;
        }
    }
}

static stats_moments *moments_of(int from, int to)
{
    stats_moments *m = stats_moments_new(DIM, 1, err, sizeof err);
    for (int r = from; m && r < to; r++)
        stats_moments_add(m, data[r]);
    return m;
}

/* Largest covariance difference relative to the largest entry. */
static double cov_distance(stats_moments *a, stats_moments *b)
{
    static double ca[DIM * DIM], cb[DIM * DIM];
    double top = 0, diff = 0;
    if (stats_moments_cov(a, ca, err, sizeof err) < 0 ||
        stats_moments_cov(b, cb, err, sizeof err) < 0)
        return INFINITY;
    for (int i = 0; i < DIM * DIM; i++) {
        top = fmax(top, fabs(ca[i]));
        diff = fmax(diff, fabs(ca[i] - cb[i]));
    }
    return diff / top;
}

/* Merges `parts` consecutive partial states; drop_row: a deliberate bug. */
static stats_moments *merged(int parts, int drop_row)
{
    stats_moments *all = stats_moments_new(DIM, 1, err, sizeof err);
    for (int p = 0; all && p < parts; p++) {
        stats_moments *part =
            moments_of(ROWS * p / parts + (p == 1 && drop_row), ROWS * (p + 1) / parts);
        CHECK(part && stats_moments_merge(all, part, err, sizeof err) == 0);
        stats_moments_free(part);
    }
    return all;
}

static void test_merge(void)
{
    stats_moments *single = moments_of(0, ROWS);
    if (!single) {
        CHECK(single);
        return;
    }
    for (int parts = 2; parts <= 5; parts += 3) {
        stats_moments *m = merged(parts, 0), *bug = merged(parts, 1);
        CHECK_INT(stats_moments_count(m), ROWS);
        /* Everything is double: merging changes only the summation order
         * (~1e-15 relative); a lost row of 2,500 moves the covariance by
         * ~4e-4. */
        CHECK(cov_distance(m, single) < 1e-10);
        CHECK(cov_distance(bug, single) > 1e-5); /* a lost row is seen */
        stats_moments_free(bug);
        stats_moments_free(m);
    }
    stats_moments *other = stats_moments_new(DIM + 1, 1, err, sizeof err);
    CHECK(stats_moments_merge(single, other, err, sizeof err) < 0);
    CHECK_CONTAINS(err, "merging statistics");
    stats_moments_free(other);
    stats_moments_free(single);
}

/* Flips one bit of the file at offset. */
static void damage(const char *path, long offset)
{
    FILE *f = fopen(path, "r+b");
    if (!f)
        return;
    fseek(f, offset, SEEK_SET);
    int c = fgetc(f);
    fseek(f, offset, SEEK_SET);
    fputc(c ^ 1, f);
    fclose(f);
}

/* Saves m (and its PCA), loads it back and checks the loaded model gives
 * bit-identical scores; then that damage to the file is refused. */
static void test_save_load(const char *dir)
{
    static float before[ROWS * K], after[ROWS * K], scratch[ROWS * DIM];
    char path[512];
    snprintf(path, sizeof path, "%s/model.stats", dir);
    stats_moments *m = moments_of(0, ROWS), *back = NULL;
    stats_pca p = {0}, q = {0};
    uint64_t version = 0;
    CHECK(m && stats_pca_fit(&p, m, K, err, sizeof err) == 0);
    stats_pca_transform(&p, 1, &data[0][0], ROWS, before, scratch);
    CHECK(stats_save(path, m, &p, 7, err, sizeof err) == 0);
    CHECK(stats_load(path, &back, &q, &version, err, sizeof err) == 0);
    if (back && q.k == K) {
        CHECK_INT(version, 7);
        CHECK_INT(stats_moments_count(back), ROWS);
        CHECK(cov_distance(back, m) == 0);
        stats_pca_transform(&q, 1, &data[0][0], ROWS, after, scratch);
        CHECK(memcmp(before, after, sizeof before) == 0);
        q.components[0] += 1e-6f; /* the check sees a one-ulp-scale change */
        stats_pca_transform(&q, 1, &data[0][0], ROWS, after, scratch);
        CHECK(memcmp(before, after, sizeof before) != 0);
    }
    stats_moments_free(back);
    back = NULL;

    struct stat st;
    stat(path, &st);
    damage(path, st.st_size / 2);
    CHECK(stats_load(path, &back, &q, &version, err, sizeof err) < 0);
    CHECK_CONTAINS(err, "checksum mismatch");
    CHECK(truncate(path, st.st_size - 3) == 0);
    CHECK(stats_load(path, &back, &q, &version, err, sizeof err) < 0);
    CHECK_CONTAINS(err, "truncated");
    damage(path, 0);
    CHECK(stats_load(path, &back, &q, &version, err, sizeof err) < 0);
    CHECK_CONTAINS(err, "not a flowrun statistics file");
    CHECK(back == NULL);
    stats_pca_clear(&q);
    stats_pca_clear(&p);
    stats_moments_free(m);
}

/* Rows and strings come back in order, NULL as "", across two reads; a
 * reset forgets them.  The file has no name in dir while in use, so dir
 * can be removed under it. */
static void test_spill(const char *dir)
{
    stats_spill *s = stats_spill_open(dir, DIM, err, sizeof err);
    stats_spill_block blk;
    static const fr_attr attrs[] = {{"row", "a, \"b\"\nc"}, {"empty", ""}};
    char id[32];
    if (!s) {
        CHECK(s);
        return;
    }
    for (int r = 0; r < 300; r++) {
        snprintf(id, sizeof id, "src:%d", r);
        CHECK(stats_spill_append(s, data[r], id, r % 2 ? "key" : NULL, "", attrs, r % 3, err,
                                 sizeof err) == 0);
    }
    CHECK(rmdir(dir) == 0); /* the file in use has no name: dir is empty */
    CHECK(stats_spill_rewind(s, err, sizeof err) == 0);
    int total = 0;
    long n;
    while ((n = stats_spill_read(s, 128, &blk, err, sizeof err)) > 0) {
        for (long i = 0; i < n; i++, total++) {
            snprintf(id, sizeof id, "src:%d", total);
            CHECK_STR(blk.strings[3 * i], id);
            CHECK_STR(blk.strings[3 * i + 1], total % 2 ? "key" : "");
            CHECK(blk.attr_first[i + 1] - blk.attr_first[i] == (uint32_t)(total % 3));
            for (uint32_t a = blk.attr_first[i]; a < blk.attr_first[i + 1]; a++) {
                CHECK_STR(blk.attrs[a].name, attrs[a - blk.attr_first[i]].name);
                CHECK_STR(blk.attrs[a].value, attrs[a - blk.attr_first[i]].value);
            }
            CHECK(memcmp(blk.rows + i * DIM, data[total], sizeof data[0]) == 0);
        }
    }
    CHECK_INT(n, 0);
    CHECK_INT(total, 300);
    CHECK(stats_spill_reset(s, err, sizeof err) == 0);
    CHECK(stats_spill_append(s, data[9], "again", "", "", NULL, 0, err, sizeof err) == 0);
    CHECK(stats_spill_rewind(s, err, sizeof err) == 0);
    CHECK_INT(stats_spill_read(s, 128, &blk, err, sizeof err), 1);
    CHECK_STR(blk.strings[0], "again");
    stats_spill_close(s);
}

int main(void)
{
    char dir[] = "/tmp/test-stats.XXXXXX", spill_dir[600];
    if (!mkdtemp(dir))
        return 2;
    snprintf(spill_dir, sizeof spill_dir, "%s/spill", dir);
    mkdir(spill_dir, 0700);
    make_data();
    test_merge();
    test_save_load(dir);
    test_spill(spill_dir);
    char path[512];
    snprintf(path, sizeof path, "%s/model.stats", dir);
    unlink(path);
    CHECK(rmdir(dir) == 0);
    return check_exit();
}
