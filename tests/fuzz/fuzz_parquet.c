/* fuzz-parquet: the Parquet writer fed rows whose keys and labels are any
 * bytes (S3 keys and file names come from outside) and whose features are
 * any floats (NaN, infinities, denormals), with the layout, codec and page
 * sizes the input picks.  The file written is read back structurally: the
 * magic at both ends, a footer length that fits, and the row count. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parquet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct sink {
    uint8_t *bytes;
    size_t len, cap;
} sink;

static int sink_write(void *ctx, const void *data, size_t n, char *err, size_t err_size)
{
    (void)err, (void)err_size;
    sink *s = ctx;
    if (!n)
        return 0;
    if (s->len + n > s->cap) {
        size_t cap = 2 * (s->len + n);
        uint8_t *b = realloc(s->bytes, cap);
        if (!b)
            return -1;
        s->bytes = b;
        s->cap = cap;
    }
    memcpy(s->bytes + s->len, data, n);
    s->len += n;
    return 0;
}

/* The next NUL-free string of up to 255 bytes from the input. */
static char *take_string(const uint8_t **p, const uint8_t *end, char *buf)
{
    size_t n = *p < end ? **p : 0;
    *p += *p < end;
    size_t k = 0;
    while (k < n && *p < end) {
        uint8_t b = *(*p)++;
        buf[k++] = (char)(b ? b : 1);
    }
    buf[k] = '\0';
    return buf;
}

static void check_file(const sink *s)
{
    if (s->len < 12 || memcmp(s->bytes, "PAR1", 4) || memcmp(s->bytes + s->len - 4, "PAR1", 4))
        abort();
    uint32_t footer;
    memcpy(&footer, s->bytes + s->len - 8, 4);
    if (footer == 0 || footer > s->len - 12)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    pq_options opt = {.width = 1u + data[0] % 16,
                      .layout = data[1] & 1 ? PQ_LAYOUT_LIST : PQ_LAYOUT_COLUMNS,
                      .codec = (pq_codec)(data[2] % 3),
                      .model_version = data[3] & 1,
                      .page_bytes = data[3] & 2 ? 64 : 0,
                      .row_group_bytes = data[3] & 4 ? 256 : 0};
    sink s = {0};
    char err[256], key[256], label[256];
    pq_writer *w = pq_writer_open(&opt, sink_write, &s, err, sizeof err);
    if (!w)
        abort();
    const uint8_t *p = data + 4, *end = data + size;
    float features[16];
    uint64_t rows = 0;
    while (p < end) {
        take_string(&p, end, key);
        take_string(&p, end, label);
        memset(features, 0, sizeof features);
        size_t n = (size_t)(end - p) < opt.width * 4 ? (size_t)(end - p) : opt.width * 4;
        memcpy(features, p, n);
        p += n;
        if (pq_writer_add_row(w, key, label, features, rows, err, sizeof err) != 0)
            abort();
        rows++;
    }
    if (pq_writer_rows(w) != rows || pq_writer_close(w, err, sizeof err) != 0)
        abort();
    pq_writer_free(w);
    check_file(&s);
    free(s.bytes);
    return 0;
}
