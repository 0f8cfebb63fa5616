/* pq-hostile-keys FILE — writes rows whose keys and labels are not UTF-8
 * (bytes an S3 key or a file name may hold) for hostile_keys.mjs to read
 * back with DuckDB, which refuses a whole file over one such value. */
#include <stdio.h>

#include "parquet.h"

static int write_file(void *ctx, const void *data, size_t n, char *err, size_t err_size)
{
    (void)err, (void)err_size;
    return !n || fwrite(data, 1, n, ctx) == n ? 0 : -1; /* the writer may pass NULL, 0 */
}

int main(int argc, char **argv)
{
    static const char *const rows[][2] = {
        {"", ""}, /* empty first: the statistics compared with no bytes (found by tests/fuzz) */
        {"bad\xff\xfe key", "label\xc3"},              /* stray bytes, a cut sequence */
        {"over\xc0\xaflong", "sur\xed\xa0\x80rogate"}, /* overlong '/', a surrogate */
        {"Pêche/水果.jpg", "ok"},                      /* valid: kept as it is */
        {"ctl\x01\x1b[31m", "tab\there"},              /* control bytes are valid UTF-8 */
    };
    char err[256];
    FILE *f = argc == 2 ? fopen(argv[1], "wb") : NULL;
    pq_options opt = {.width = 1};
    pq_writer *w = f ? pq_writer_open(&opt, write_file, f, err, sizeof err) : NULL;
    float x = 1;
    int ok = w != NULL;
    for (size_t i = 0; ok && i < sizeof rows / sizeof *rows; i++)
        ok = pq_writer_add_row(w, rows[i][0], rows[i][1], &x, 0, err, sizeof err) == 0;
    ok = ok && pq_writer_close(w, err, sizeof err) == 0;
    pq_writer_free(w);
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok)
        fprintf(stderr, "pq-hostile-keys: %s\n", w ? err : "usage: pq-hostile-keys FILE");
    return ok ? 0 : 1;
}
